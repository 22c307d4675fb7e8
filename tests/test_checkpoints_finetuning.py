"""Fine-tuning checkpoint: 50 seeds, every answer recomputed here with torch and scikit-learn, and the
zero-shot predict question with MiniLM's mean-pooled vectors computed here, not lib.finetuning."""
import re

import pytest
import torch
from checkpoint_kinds import assert_well_taught, predict_on_page, the_predict_question
from minilm_reference import mean_pooled
from sklearn import metrics as skm
from torch import nn

from lib import checkpoints
from lib import finetuning as ft

SEEDS = range(50)


def numbers(text: str) -> list[int]:
    return [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", text)]


def labels_from_table(prompt: str) -> tuple[list[int], list[int]]:
    """y_true, y_pred from the prompt's confusion matrix (rows true, columns predicted)."""
    (tn, fp), (fn, tp) = (map(int, row) for row in re.findall(r"\| \*\*\w+\*\* \| (\d+) \| (\d+) \|", prompt))
    return [0] * (tn + fp) + [1] * (fn + tp), [0] * tn + [1] * fp + [0] * fn + [1] * tp


@pytest.fixture(scope="module")
def sets():
    return [checkpoints.questions("finetuning", seed) for seed in SEEDS]


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_match_torch_and_scikit_learn(seed, sets):
    assert_well_taught(sets[seed])
    head_q, metric_q, skewed_q, _ = sets[seed]
    hidden, labels = map(int, re.search(r"H = (\d+)\).*K = (\d+) classes", head_q.prompt).groups())
    with torch.device("meta"):
        assert head_q.answer == sum(p.numel() for p in nn.Linear(hidden, labels).parameters())

    y_true, y_pred = labels_from_table(metric_q.prompt)
    called = "model **called** positive" in metric_q.prompt
    assert metric_q.answer == ("precision" if called else "recall")
    score = skm.precision_score if called else skm.recall_score
    assert f"{score(y_true, y_pred):.3f}" in metric_q.solution

    negatives, positives = numbers(skewed_q.prompt)[:2]
    y_true, y_pred = [0] * negatives + [1] * positives, [0] * (negatives + positives)
    assert f"accuracy {skm.accuracy_score(y_true, y_pred):.0%}" in skewed_q.prompt
    assert skm.recall_score(y_true, y_pred) == 0 and skewed_q.answer.startswith("Nothing good")


def zero_shot_miss(question, minilm) -> str:
    """The review MiniLM's mean-pooled vectors, computed here, put closer to the wrong description."""
    test = ft.bundled_reviews()["test"]
    descriptions = [ft.LABEL_DESCRIPTIONS[name] for name in test.label_names]
    pooled = mean_pooled(minilm, [*question.options, *descriptions])
    predicted = (pooled[:4] @ pooled[4:].T).argmax(-1).tolist()
    truth = [test.labels[test.texts.index(text)] for text in question.options]
    (missed,) = [text for text, p, y in zip(question.options, predicted, truth) if p != y]
    return missed


@pytest.mark.parametrize("seed", [0, 2])
def test_the_predict_question_runs_the_zero_shot_baseline(seed, sets, minilm):
    question = the_predict_question(sets[seed])
    assert question.reveal().answer == zero_shot_miss(question, minilm)


def test_the_page_runs_the_predict_question(open_page, minilm):
    questions = checkpoints.questions("finetuning", 1)
    at = open_page("finetuning")
    _, revealed = predict_on_page(at, "finetuning", questions)
    assert revealed == zero_shot_miss(the_predict_question(questions), minilm)


def test_the_head_question_states_the_real_models_trainable_count():
    """MiniLM's frozen-encoder count is what the real bundled model trains."""
    from lib import finetuning as ft

    head_q = next(q for seed in SEEDS for q in checkpoints.questions("finetuning", seed)[:1] if "MiniLM" in q.prompt)
    labels = int(re.search(r"K = (\d+)", head_q.prompt).group(1))
    model = ft.new_classifier("minilm", [str(i) for i in range(labels)]).model
    for p in model.bert.parameters():
        p.requires_grad = False
    assert head_q.answer == sum(p.numel() for p in model.parameters() if p.requires_grad)
