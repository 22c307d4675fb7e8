"""Tiny-GPT checkpoint: 50 seeds, every answer recomputed here with torch modules, numpy and math; the
predict question's untrained model rebuilt with transformers and its loss computed here."""
import re

import numpy as np
import pytest
import torch
from checkpoint_kinds import assert_well_taught, predict_on_page, the_predict_question
from torch import nn

from lib import checkpoints, tiny_gpt
from lib.checkpoints import tiny_gpt as gpt_checkpoint

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


@pytest.fixture(scope="module")
def sets():
    return [checkpoints.questions("tiny_gpt", seed) for seed in SEEDS]


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_match_torch_and_numpy(seed, sets):
    assert_well_taught(sets[seed])
    count_q, mask_q, temperature_q, _ = sets[seed]
    vocab, width, layers, context = map(int, re.search(
        r"V = (\d+) .*E = (\d+), n_layer = L = (\d+), .*T = (\d+);", count_q.prompt).groups())
    with torch.device("meta"):
        assert count_q.answer == sum(p.numel() for p in hand_built_gpt2(vocab, width, layers, context).parameters())

    block = int(re.search(r"T = (\d+) characters", mask_q.prompt).group(1))
    assert f"{int(np.tri(block).sum()):,} of the {block * block:,}" in mask_q.solution
    assert mask_q.answer.startswith("So position i cannot look at character i + 1")

    low, high = map(float, re.search(r"temperature (\S+), then with (\S+)\.", temperature_q.prompt).groups())
    assert low < high and temperature_q.answer.startswith("It flattens them")


def test_a_higher_temperature_flattens_and_keeps_the_order():
    logits = np.array([2.5, 1.0, 0.3, -0.7])
    cold, hot = softmax(logits / 0.5), softmax(logits / 2.0)
    assert hot.max() < cold.max() and hot.argmax() == cold.argmax() == 0


def untrained_fate(question) -> str:
    """The untrained model rebuilt with transformers, its loss on the validation text's first windows."""
    from transformers import GPT2Config, GPT2LMHeadModel

    layers, width, block, seed = map(int, re.search(
        r"n_layer = (\d+), n_embd = (\d+), block_size = (\d+), seed (\d+)", question.prompt).groups())
    text = tiny_gpt.bundled_corpus()
    chars = sorted(set(text))
    ids = torch.tensor([chars.index(c) for c in text])
    cut = int(len(ids) * 0.9)
    train, val = ids[:cut], ids[cut:]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = GPT2LMHeadModel(GPT2Config(vocab_size=len(chars), n_positions=block, n_embd=width, n_layer=layers,
                                           n_head=4)).eval()
    windows = val[: 16 * (block + 1)].reshape(16, block + 1)  # (16, block + 1)
    with torch.no_grad():
        logits = model(input_ids=windows[:, :-1]).logits  # (16, block, vocab)
    loss = nn.functional.cross_entropy(logits.flatten(0, 1), windows[:, 1:].flatten()).item()
    counts = torch.bincount(train, minlength=len(chars)).double() + 1
    unigram = float(-torch.log(counts / counts.sum())[val].mean())
    return gpt_checkpoint.loss_fate(loss, len(chars), unigram)


@pytest.mark.parametrize("seed", [0])
def test_the_predict_question_builds_an_untrained_gpt(seed, sets):
    question = the_predict_question(sets[seed])
    assert question.reveal().answer == untrained_fate(question) == gpt_checkpoint.LOSS_FATES[0]


def test_the_page_runs_the_predict_question(open_page):
    questions = checkpoints.questions("tiny_gpt", 1)
    at = open_page("tiny_gpt")
    _, revealed = predict_on_page(at, "tiny_gpt", questions)
    assert revealed == untrained_fate(the_predict_question(questions))


def test_the_parameter_question_matches_a_real_gpt2():
    from transformers import GPT2Config, GPT2LMHeadModel

    count_q = checkpoints.questions("tiny_gpt", 3)[0]
    vocab, width, layers, heads, context = map(int, re.search(
        r"V = (\d+) .*E = (\d+), n_layer = L = (\d+), n_head = (\d+) .*T = (\d+);", count_q.prompt).groups())
    with torch.device("meta"):
        model = GPT2LMHeadModel(GPT2Config(vocab_size=vocab, n_embd=width, n_layer=layers, n_head=heads,
                                           n_positions=context))
    assert count_q.answer == model.num_parameters()
