"""Embeddings checkpoint: 50 seeds, every answer recomputed here with the tokenizer, numpy and
MiniLM's own forward pass, not lib.embeddings."""
import functools
import re

import numpy as np
import pytest
import torch

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
    shape_q, cosine_q, bank_q, search_q = sets[seed]
    bank, sentence_vector = reference

    (sentence,) = quoted(shape_q.prompt)
    ids = minilm.tokenizer(sentence)["input_ids"]
    assert shape_q.answer == len(ids) * minilm.model.config.hidden_size
    assert f"splits into {len(ids) - 2} word pieces" in shape_q.prompt

    a, b = ([int(n) for n in v.split(",")] for v in re.findall(r"= \[([-\d, ]+)\]", cosine_q.prompt))
    assert cosine_q.answer == pytest.approx(cosine(a, b), abs=1e-6)
    assert cosine_q.check(f"{cosine(a, b):.2f}") and not cosine_q.check(f"{cosine(a, b) + 0.02:.2f}")

    (target,) = quoted(bank_q.prompt)
    assert bank_q.answer == max(bank_q.options, key=lambda s: cosine(bank(target), bank(s)))

    (query,) = quoted(search_q.prompt)
    corpus = embeddings.bundled_sentences()
    scores = [sentence_vector(query) @ sentence_vector(s) for s in corpus]
    assert search_q.answer == corpus[int(np.argmax(scores))]
    assert search_q.answer in search_q.options and len(set(search_q.options)) == 4
