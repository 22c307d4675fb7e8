"""Pipelines checkpoint: 50 seeds, every answer recomputed here, not through
lib.pipelines: the job-to-task table below, the `tokenizers` library on
MiniLM's tokenizer.json, a torch forward pass of MiniLM, a float64 softmax, and for
the zero-shot predict question MiniLM's mean-pooled vectors computed here."""
import re

import numpy as np
import pytest
import torch
from checkpoint_kinds import assert_well_taught, predict_on_page, the_predict_question
from minilm_reference import mean_pooled

from lib import checkpoints

SEEDS = range(50)
# What each job in the question asks for, in the test's own words.
JOBS = {"positive or negative": "sentiment-analysis", "topics you name": "zero-shot-classification",
        "people, places and organisations": "ner", "answer to a question": "question-answering",
        "missing word": "fill-mask", "Shorten": "summarization", "into French": "translation_en_to_fr",
        "Continue a story": "text-generation", "into vectors": "feature-extraction",
        "what is said": "automatic-speech-recognition", "photo": "image-classification"}


@pytest.fixture(scope="module")
def sets():
    return [checkpoints.questions("pipelines", seed) for seed in SEEDS]


def test_the_task_fits_the_job(sets):
    for use_case_q, *_ in sets:
        expected = [task for words, task in JOBS.items() if words in use_case_q.prompt]
        assert [use_case_q.answer] == expected, use_case_q.prompt
        assert len(set(use_case_q.options)) == 4 and use_case_q.answer in use_case_q.options


def test_the_kinds_and_the_feedback(sets):
    for questions in sets:
        assert_well_taught(questions)


def test_step_two_matches_a_forward_pass(sets, minilm):
    for _, shape_q, _, _ in sets:
        sentence = re.search(r"“(.+?)”", shape_q.prompt).group(1)
        with torch.no_grad():
            states = minilm.model(**minilm.tokenizer(sentence, return_tensors="pt")).last_hidden_state
        assert shape_q.answer == str(tuple(states.shape))
        assert len(set(shape_q.options)) == 4


def test_step_three_is_a_softmax(sets):
    for _, _, softmax_q, _ in sets:
        logits = np.array([float(v) for v in re.findall(r" (-?\d+\.\d)(?=[,.])", softmax_q.prompt)])
        assert 2 <= len(logits) <= 4
        probabilities = np.exp(logits) / np.exp(logits).sum()
        assert softmax_q.answer == pytest.approx(probabilities.max(), rel=1e-9)
        assert softmax_q.check(f"{probabilities.max():.2f}")  # the rounded answer the prompt asks for


def zero_shot_label(question, minilm) -> str:
    """MiniLM run here: mean-pooled, normalised vectors of the text and of each label's sentence."""
    text = re.search(r"first for “(.+?)”\?", question.prompt).group(1)
    sentences = [text] + [f"This text is about {label}." for label in question.options]
    pooled = mean_pooled(minilm, sentences)
    return question.options[int((pooled[1:] @ pooled[0]).argmax())]


@pytest.mark.parametrize("seed", [0, 2])
def test_the_predict_question_runs_the_zero_shot_classifier(seed, sets, minilm):
    question = the_predict_question(sets[seed])
    assert question.reveal().answer == zero_shot_label(question, minilm)


def test_the_page_runs_the_predict_question(open_page, minilm):
    questions = checkpoints.questions("pipelines", 1)
    at = open_page("pipelines")
    _, revealed = predict_on_page(at, "pipelines", questions)
    assert revealed == zero_shot_label(the_predict_question(questions), minilm)
