"""Parameters checkpoint: 50 seeds, every answer recomputed here with torch modules, not lib.parameters."""
import re

import pytest
import torch
from torch import nn

from lib import checkpoints

SEEDS = range(50)


def numbers(text: str) -> list[int]:
    return [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", text)]


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def layer_counts(hidden: int, heads: int, ffn: int) -> tuple[int, int]:
    with torch.device("meta"):
        attention = count(nn.MultiheadAttention(hidden, heads))
        feed_forward = count(nn.Sequential(nn.Linear(hidden, ffn), nn.Linear(ffn, hidden)))
    return attention, feed_forward


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_match_torch(seed):
    attention_q, ffn_q, embed_q, memory_q, biggest_q = checkpoints.questions("parameters", seed)
    hidden, heads = numbers(attention_q.prompt)[:2]
    assert attention_q.answer == layer_counts(hidden, heads, 1)[0]
    hidden, ffn = numbers(ffn_q.prompt)[:2]
    assert ffn_q.answer == layer_counts(hidden, 1, ffn)[1]
    vocab, hidden = numbers(embed_q.prompt)[:2]
    with torch.device("meta"):
        assert embed_q.answer == count(nn.Embedding(vocab, hidden))
    total = max(numbers(memory_q.prompt))
    bytes_per = {"fp32": 4, "bf16": 2, "int8": 1}[re.search(r"in (fp32|bf16|int8)\?", memory_q.prompt).group(1)]
    assert memory_q.answer == pytest.approx(total * bytes_per / 1024**3)
    layers, hidden, vocab = numbers(" ".join(re.search(r"L = (\d+).*H = (\d+).*a ([\d,]+)-token", biggest_q.prompt).groups()))
    attention, feed_forward = layer_counts(hidden, 4, 4 * hidden)
    parts = {"token embeddings": vocab * hidden, "attention": layers * attention, "feed-forward": layers * feed_forward}
    assert biggest_q.answer == max(parts, key=parts.get)


def test_the_memory_question_states_the_count_transformers_gives():
    from transformers import GPT2Config, GPT2LMHeadModel

    memory_q = next(q for seed in SEEDS for q in checkpoints.questions("parameters", seed)
                    if "GPT-2 small" in q.prompt)
    with torch.device("meta"):
        gpt2 = GPT2LMHeadModel(GPT2Config())
    assert max(numbers(memory_q.prompt)) == gpt2.num_parameters()
