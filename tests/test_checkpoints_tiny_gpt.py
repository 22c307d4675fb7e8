"""Tiny-GPT checkpoint: 50 seeds, every answer recomputed here with torch modules, numpy and math."""
import math
import re

import numpy as np
import pytest
import torch
from torch import nn

from lib import checkpoints

SEEDS = range(50)


def hand_built_gpt2(vocab: int, width: int, layers: int, context: int) -> nn.Module:
    """GPT-2's parameter tensors with plain torch modules (LM head tied, so absent)."""
    def block():
        return nn.ModuleList([nn.LayerNorm(width), nn.Linear(width, 3 * width), nn.Linear(width, width),
                              nn.LayerNorm(width), nn.Linear(width, 4 * width), nn.Linear(4 * width, width)])
    return nn.ModuleList([nn.Embedding(vocab, width), nn.Embedding(context, width),
                          *(block() for _ in range(layers)), nn.LayerNorm(width)])


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max())
    return e / e.sum()


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_match_torch_and_numpy(seed):
    count_q, uniform_q, mask_q, sampling_q = checkpoints.questions("tiny_gpt", seed)
    vocab, width, layers, context = map(int, re.search(
        r"V = (\d+) .*E = (\d+), n_layer = L = (\d+), .*T = (\d+);", count_q.prompt).groups())
    with torch.device("meta"):
        assert count_q.answer == sum(p.numel() for p in hand_built_gpt2(vocab, width, layers, context).parameters())

    vocab = int(re.search(r"each of its (\d+) characters", uniform_q.prompt).group(1))
    uniform = nn.functional.cross_entropy(torch.zeros(1, vocab, dtype=torch.float64), torch.tensor([0]))
    assert uniform_q.answer == pytest.approx(float(uniform)) == pytest.approx(math.log(vocab))

    block = int(re.search(r"T = (\d+),", mask_q.prompt).group(1))
    allowed = int(np.tri(block).sum())
    assert mask_q.answer == (allowed if "may be non-zero" in mask_q.prompt else block * block - allowed)

    logits = np.array([float(z) for z in re.findall(r"'\w': (-?\d+\.\d+)", sampling_q.prompt)])
    temperature = float(re.search(r"temperature (\d+\.\d+)", sampling_q.prompt).group(1))
    top_k = re.search(r"top-k = (\d+)", sampling_q.prompt)
    kept = logits[np.argsort(-logits)[: int(top_k.group(1))]] if top_k else logits
    assert len(logits) == 4 and logits[0] == logits.max()
    assert sampling_q.answer == pytest.approx(softmax(kept / temperature)[np.argmax(kept)])


def test_the_parameter_question_matches_a_real_gpt2():
    from transformers import GPT2Config, GPT2LMHeadModel

    count_q = checkpoints.questions("tiny_gpt", 3)[0]
    vocab, width, layers, heads, context = map(int, re.search(
        r"V = (\d+) .*E = (\d+), n_layer = L = (\d+), n_head = (\d+) .*T = (\d+);", count_q.prompt).groups())
    with torch.device("meta"):
        model = GPT2LMHeadModel(GPT2Config(vocab_size=vocab, n_embd=width, n_layer=layers, n_head=heads,
                                           n_positions=context))
    assert count_q.answer == model.num_parameters()
