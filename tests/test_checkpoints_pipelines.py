"""Pipelines checkpoint: 50 seeds, every answer recomputed here, not through
lib.pipelines: the job-to-task table below, the `tokenizers` library on
MiniLM's tokenizer.json, a torch forward pass of MiniLM, a float64 softmax."""
import re
from functools import lru_cache

import numpy as np
import pytest
import torch
from tokenizers import Tokenizer

from lib import checkpoints, model_registry

SEEDS = range(50)
# What each job in the question asks for, in the test's own words.
JOBS = {"positive or negative": "sentiment-analysis", "topics you name": "zero-shot-classification",
        "people, places and organisations": "ner", "answer to a question": "question-answering",
        "missing word": "fill-mask", "Shorten": "summarization", "into French": "translation_en_to_fr",
        "Continue a story": "text-generation", "into vectors": "feature-extraction",
        "what is said": "automatic-speech-recognition", "photo": "image-classification"}


@lru_cache(maxsize=1)
def minilm_tokenizer() -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(model_registry.bundled_path("minilm") / "tokenizer.json"))
    tokenizer.no_padding()
    return tokenizer


@pytest.fixture(scope="module")
def sets():
    return [checkpoints.questions("pipelines", seed) for seed in SEEDS]


def test_the_task_fits_the_job(sets):
    for use_case_q, *_ in sets:
        expected = [task for words, task in JOBS.items() if words in use_case_q.prompt]
        assert [use_case_q.answer] == expected, use_case_q.prompt
        assert len(set(use_case_q.options)) == 4 and use_case_q.answer in use_case_q.options


def test_steps_one_and_two_match_the_tokenizer_and_a_forward_pass(sets, minilm):
    for _, ids_q, shape_q, _ in sets:
        sentence = re.search(r"“(.+?)”", ids_q.prompt).group(1)
        assert sentence in shape_q.prompt
        assert ids_q.answer == len(minilm_tokenizer().encode(sentence).ids)
        with torch.no_grad():
            states = minilm.model(**minilm.tokenizer(sentence, return_tensors="pt")).last_hidden_state
        assert shape_q.answer == str(tuple(states.shape))
        assert len(set(shape_q.options)) == 4


def test_step_three_is_a_softmax(sets):
    for *_, softmax_q in sets:
        logits = np.array([float(v) for v in re.findall(r" (-?\d+\.\d)(?=[,.])", softmax_q.prompt)])
        assert 2 <= len(logits) <= 4
        probabilities = np.exp(logits) / np.exp(logits).sum()
        assert softmax_q.answer == pytest.approx(probabilities.max(), rel=1e-9)
        assert softmax_q.check(f"{probabilities.max():.2f}")  # the rounded answer the prompt asks for
