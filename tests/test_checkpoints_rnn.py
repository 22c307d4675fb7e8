"""RNN checkpoint: 50 seeds, every answer recomputed here from the formula,
float64 arithmetic or a plain count, not lib.rnn."""
import math
import re

import pytest

from lib import checkpoints

SEEDS = range(50)
NUMBER = r"-?\d+(?:\.\d+)?"
BLOCKS = {"RNN": 1, "LSTM": 4, "GRU": 3}  # gate blocks stacked in PyTorch's weight matrices


def named(name: str, prompt: str) -> float:
    return float(re.search(rf"{name} = ({NUMBER})", prompt).group(1))


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_match_independent_computations(seed):
    count_q, unit_q, factor_q, depth_q, path_q = checkpoints.questions("rnn", seed)

    layer = re.search(r"`nn\.(\w+)`", count_q.prompt).group(1)
    inputs, hidden = int(named("I", count_q.prompt)), int(named("H", count_q.prompt))
    assert count_q.answer == BLOCKS[layer] * (hidden * inputs + hidden * hidden + 2 * hidden)

    w_x, w_h, b = (named(n, unit_q.prompt) for n in ("w_x", "w_h", "b"))
    h = 0.0
    for x in re.search(rf"x = \(({NUMBER}), ({NUMBER}), ({NUMBER})\)", unit_q.prompt).groups():
        h = math.tanh(w_x * float(x) + w_h * h + b)
    assert unit_q.answer == pytest.approx(h, rel=1e-12) and abs(h) >= 0.05
    assert unit_q.check(f"{h:.4f}")

    scale, steps = named("s", factor_q.prompt), int(named("n", factor_q.prompt))
    assert factor_q.answer == pytest.approx(scale**steps, rel=1e-4)  # W_h is float32 in the lesson

    text = re.search(r"Reading `([()x]+)`", depth_q.prompt).group(1)
    depth, deepest = 0, 0
    for ch in text:
        depth = max(depth + {"(": 1, ")": -1, "x": 0}[ch], 0)
        deepest = max(deepest, depth)
    assert depth_q.answer == deepest

    tokens = int(re.search(r"sequence of ([\d,]+) tokens", path_q.prompt).group(1).replace(",", ""))
    assert path_q.answer == tokens - 1


def test_questions_change_with_the_seed():
    prompts = {tuple(q.prompt for q in checkpoints.questions("rnn", seed)) for seed in SEEDS}
    assert len(prompts) == len(SEEDS)
