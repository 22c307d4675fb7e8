"""Fine-tuning checkpoint: 50 seeds, every answer recomputed here with torch and scikit-learn, not lib.finetuning."""
import re

import pytest
import torch
from sklearn import metrics as skm
from torch import nn
from torch.utils.data import DataLoader

from lib import checkpoints

SEEDS = range(50)


def numbers(text: str) -> list[int]:
    return [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", text)]


def labels_from_table(prompt: str) -> tuple[list[int], list[int]]:
    """y_true, y_pred from the prompt's confusion matrix (rows true, columns predicted)."""
    (tn, fp), (fn, tp) = (map(int, row) for row in re.findall(r"\| \*\*\w+\*\* \| (\d+) \| (\d+) \|", prompt))
    return [0] * (tn + fp) + [1] * (fn + tp), [0] * tn + [1] * fp + [0] * fn + [1] * tp


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_match_torch_and_scikit_learn(seed):
    head_q, steps_q, accuracy_q, metric_q = checkpoints.questions("finetuning", seed)
    hidden, labels = map(int, re.search(r"H = (\d+)\).*K = (\d+) classes", head_q.prompt).groups())
    with torch.device("meta"):
        assert head_q.answer == sum(p.numel() for p in nn.Linear(hidden, labels).parameters())
    examples, batch, epochs = numbers(steps_q.prompt)[:3]
    assert steps_q.answer == len(DataLoader(range(examples), batch_size=batch)) * epochs
    y_true, y_pred = labels_from_table(accuracy_q.prompt)
    assert accuracy_q.answer == pytest.approx(skm.accuracy_score(y_true, y_pred))
    y_true, y_pred = labels_from_table(metric_q.prompt)
    score = skm.precision_score if "its precision" in metric_q.prompt else skm.recall_score
    assert metric_q.answer == pytest.approx(score(y_true, y_pred))


def test_two_decimals_are_accepted_and_a_wrong_metric_is_not():
    for seed in SEEDS:
        _, _, accuracy_q, metric_q = checkpoints.questions("finetuning", seed)
        for question in (accuracy_q, metric_q):
            assert question.check(f"{question.answer:.2f}")
            assert not question.check(f"{question.answer - 0.05:.2f}")


def test_the_head_question_states_the_real_models_trainable_count():
    """MiniLM's frozen-encoder count is what the real bundled model trains."""
    from lib import finetuning as ft

    head_q = next(q for seed in SEEDS for q in checkpoints.questions("finetuning", seed)[:1] if "MiniLM" in q.prompt)
    labels = int(re.search(r"K = (\d+)", head_q.prompt).group(1))
    model = ft.new_classifier("minilm", [str(i) for i in range(labels)]).model
    for p in model.bert.parameters():
        p.requires_grad = False
    assert head_q.answer == sum(p.numel() for p in model.parameters() if p.requires_grad)
