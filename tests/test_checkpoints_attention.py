"""Attention checkpoint: 50 seeds, every answer recomputed here with float64 torch, math and
MiniLM's own forward pass (transformers' attention outputs), not lib.attention."""
import re

import pytest
import torch
from checkpoint_kinds import assert_well_taught, predict_on_page, the_predict_question

from lib import attention, checkpoints

SEEDS = range(50)


@pytest.fixture(scope="module")
def sets():
    return [checkpoints.questions("attention", seed) for seed in SEEDS]


def toy_weights(sentence: str, seed: int) -> torch.Tensor:
    """The lesson's toy (d_model 8, d_k 4, no positions) written out: softmax(XW_Q (XW_K)ᵀ / √d_k)."""
    x = attention.word_embeddings(attention.split_words(sentence), 8, seed)  # (seq, 8): the toy's input
    proj = attention.random_projections(8, 4, seed)
    q, k = x @ proj.w_q, x @ proj.w_k
    return torch.softmax(q @ k.T / 2.0, dim=-1)


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_match_an_independent_computation(seed, sets):
    assert_well_taught(sets[seed])
    dot_q, scale_q, causal_q, bag_q, _ = sets[seed]

    reference, vector = (torch.tensor([float(n) for n in v.split(",")], dtype=torch.float64)
                         for v in re.findall(r"= \[(-?\d+, -?\d+)\]", dot_q.prompt))
    assert dot_q.answer == int(torch.dot(reference, vector))

    assert scale_q.answer.startswith("Dot products grow with d_k")

    tokens, query = map(int, re.search(r"reads (\d+) tokens .* may token (\d+)", causal_q.prompt).groups())
    allowed = [j + 1 for j in range(tokens) if j <= query - 1]
    assert causal_q.answer == f"Tokens 1 to {allowed[-1]}: itself and every token before it" and allowed[-1] == query

    assert bag_q.answer.startswith("The same weights, only reordered")


@pytest.mark.parametrize("d_k", [16, 128])
def test_dot_products_spread_with_d_k(d_k):
    """The fact the √d_k question teaches: q·k of unit-variance components has variance d_k."""
    q, k = torch.randn(2, 4000, d_k, generator=torch.Generator().manual_seed(d_k), dtype=torch.float64)
    assert (q * k).sum(-1).var().item() == pytest.approx(d_k, rel=0.15)
    assert (q * k).sum(-1).div(d_k**0.5).var().item() == pytest.approx(1, rel=0.15)


def test_the_toy_sees_a_bag_of_words():
    """The fact the bag-of-words question teaches, written out: shuffle the words, the weights follow."""
    words = "the cat chased the mouse".split()
    order = [4, 2, 0, 3, 1]
    original = toy_weights(" ".join(words), 7)
    shuffled = toy_weights(" ".join(words[i] for i in order), 7)
    index = torch.tensor(order)
    assert torch.allclose(shuffled, original[index][:, index], atol=1e-12)


def where_it_looks(question, minilm) -> tuple[list[str], torch.Tensor]:
    """MiniLM run here on the question's sentence: its tokens, and the attention row of "it" in
    the question's layer and head."""
    sentence = re.search(r"reads \*(.+?)\*\. In layer", question.prompt).group(1)
    layer, head = (int(n) - 1 for n in re.search(r"layer (\d+), head (\d+)", question.prompt).groups())
    encoded = minilm.tokenizer(sentence, return_tensors="pt")
    tokens = minilm.tokenizer.convert_ids_to_tokens(encoded["input_ids"][0])
    with torch.no_grad():
        row = minilm.model(**encoded, output_attentions=True).attentions[layer][0, head, tokens.index("it")]
    return tokens, row


@pytest.mark.parametrize("seed", [0, 2])
def test_the_predict_question_runs_minilm(seed, sets, minilm):
    question = the_predict_question(sets[seed])
    tokens, row = where_it_looks(question, minilm)
    reveal = question.reveal()
    assert reveal.answer in question.options and reveal.answer == tokens[int(row.argmax())]
    assert f"{row.max().item():.2f}" in reveal.explanation


def test_the_page_runs_the_predict_question(open_page, minilm):
    questions = checkpoints.questions("attention", 1)
    tokens, row = where_it_looks(the_predict_question(questions), minilm)
    at = open_page("attention")
    _, revealed = predict_on_page(at, "attention", questions)
    assert revealed == tokens[int(row.argmax())]
