"""Embeddings checkpoint: 50 seeds, every answer recomputed here with the tokenizer, numpy and
MiniLM's own forward pass, not lib.embeddings."""
import functools
import re

import numpy as np
import pytest
import torch
from checkpoint_kinds import assert_well_taught, predict_on_page, the_predict_question

from lib import checkpoints, embeddings

SEEDS = range(50)


def quoted(text: str) -> list[str]:
    return re.findall(r"“([^”]+)”", text)


@pytest.fixture(scope="module")
def sets():
    return [checkpoints.questions("embeddings", seed) for seed in SEEDS]


@pytest.fixture(scope="module")
def reference(minilm):
    """MiniLM run directly: the 'bank' hidden state, and sentence-transformers' mean pooling."""
    tokenizer, model = minilm.tokenizer, minilm.model

    @functools.lru_cache(maxsize=None)
    def bank(sentence: str) -> np.ndarray:
        encoded = tokenizer(sentence, return_tensors="pt")
        with torch.no_grad():
            states = model(**encoded).last_hidden_state[0]  # (seq, hidden)
        return states[encoded["input_ids"][0].tolist().index(tokenizer.convert_tokens_to_ids("bank"))].double().numpy()

    @functools.lru_cache(maxsize=None)
    def sentence_vector(sentence: str) -> np.ndarray:
        encoded = tokenizer(sentence, return_tensors="pt")
        with torch.no_grad():
            states = model(**encoded).last_hidden_state[0].double().numpy()  # (seq, hidden)
        pooled = states.mean(axis=0)  # no padding in a batch of one: every token counts
        return pooled / np.linalg.norm(pooled)

    return bank, sentence_vector


def cosine(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_match_an_independent_computation(seed, sets, reference, minilm):
    assert_well_taught(sets[seed])
    shape_q, static_q, search_q, _ = sets[seed]
    bank, sentence_vector = reference

    (sentence,) = quoted(shape_q.prompt)
    ids = minilm.tokenizer(sentence)["input_ids"]
    assert shape_q.answer == len(ids) * minilm.model.config.hidden_size
    assert f"splits into {len(ids) - 2} word pieces" in shape_q.prompt

    river, money = quoted(static_q.prompt)
    table = minilm.model.get_input_embeddings().weight
    bank_id = minilm.tokenizer.convert_tokens_to_ids("bank")
    assert cosine(table[bank_id].detach(), table[bank_id].detach()) == pytest.approx(1.0)
    assert static_q.answer.startswith("Exactly 1") and f"{cosine(bank(river), bank(money)):.3f}" in static_q.solution

    best, query = quoted(search_q.prompt)
    corpus = embeddings.bundled_sentences()
    scores = [sentence_vector(query) @ sentence_vector(s) for s in corpus]
    assert best == corpus[int(np.argmax(scores))] and f"**{max(scores):.3f}**" in search_q.solution


def nearest_bank(question, bank) -> str:
    (target,) = quoted(question.prompt)
    assert len(question.options) == 3 and target not in question.options
    return max(question.options, key=lambda s: cosine(bank(target), bank(s)))


@pytest.mark.parametrize("seed", [0, 2])
def test_the_predict_question_runs_minilm(seed, sets, reference):
    question = the_predict_question(sets[seed])
    assert question.reveal().answer == nearest_bank(question, reference[0])


def test_the_page_runs_the_predict_question(open_page, reference):
    questions = checkpoints.questions("embeddings", 1)
    at = open_page("embeddings")
    _, revealed = predict_on_page(at, "embeddings", questions)
    assert revealed == nearest_bank(the_predict_question(questions), reference[0])
