"""Attention checkpoint: 50 seeds, every answer recomputed here from the numbers the question shows,
with float64 torch and math, not lib.attention."""
import math
import re

import pytest
import torch

from lib import checkpoints

SEEDS = range(50)


def number(name: str, text: str) -> int:
    return int(re.search(rf"{name} = (-?\d+)", text).group(1))


def shown_scores(prompt: str) -> tuple[list[str], torch.Tensor]:
    """The key words and scores Q·Kᵀ a question lists as `3 word` 1.234."""
    pairs = re.findall(r"`\d+ ([^`]+)` (-?\d+\.\d{3})", prompt.split("Which")[0].split("After")[0])
    return [w for w, _ in pairs], torch.tensor([float(s) for _, s in pairs], dtype=torch.float64)


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_match_an_independent_computation(seed):
    dot_q, top_q, weight_q, causal_q, position_q = checkpoints.questions("attention", seed)

    reference, vector = (torch.tensor([float(n) for n in v.split(",")], dtype=torch.float64)
                         for v in re.findall(r"= \[(-?\d+, -?\d+)\]", dot_q.prompt))
    assert dot_q.answer == int(torch.dot(reference, vector))

    words, scores = shown_scores(top_q.prompt)
    weights = torch.softmax(scores / math.sqrt(number("d_k", top_q.prompt)), dim=0)
    assert top_q.answer == words[int(weights.argmax())].lower() and top_q.answer in top_q.options
    assert len(words) == len(top_q.prompt.split("*")[1].split())

    words, scores = shown_scores(weight_q.prompt)
    weights = torch.softmax(scores / math.sqrt(number("d_k", weight_q.prompt)), dim=0)
    key = int(re.search(r"to key `(\d+) ", weight_q.prompt).group(1)) - 1
    assert weight_q.answer == pytest.approx(float(weights[key]), abs=5e-4)  # the shown scores are rounded
    assert weight_q.check(f"{float(weights[key]):.2f}") and not weight_q.check(f"{float(weights[key]) + 0.02:.2f}")

    tokens = int(re.search(r"prompt of (\d+) tokens", causal_q.prompt).group(1))
    allowed = torch.ones(tokens, tokens).tril()
    assert causal_q.answer == int((allowed == 0).sum())

    d_model, pos, dim = number("d_model", position_q.prompt), number("pos", position_q.prompt), \
        number("dimension", position_q.prompt)
    angle = pos / 10000 ** (2 * (dim // 2) / d_model)
    assert position_q.answer == pytest.approx(math.sin(angle) if dim % 2 == 0 else math.cos(angle), abs=1e-12)
    assert position_q.check(f"{position_q.answer:.2f}")

