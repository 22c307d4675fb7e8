"""Checkpoint: fine-tuning a pretrained model. Every answer comes from lib.finetuning."""
from __future__ import annotations

import random

from lib import finetuning as ft
from lib import parameters
from lib.checkpoints import Question

ENCODERS = {"minilm": "MiniLM-L6", "bert-base-uncased": "BERT-base", "bert-large-uncased": "BERT-large"}


def _frozen_head(rng: random.Random) -> Question:
    base, labels = rng.choice(list(ENCODERS)), rng.randint(2, 6)
    hidden = parameters.shipped_config(ft.BASE_CONFIGS.get(base, base))["hidden_size"]
    head, everything = ft.parameter_counts(base, labels)
    return Question(
        f"You fine-tune {ENCODERS[base]} (hidden size H = {hidden}) for a task with K = {labels} classes and "
        "freeze the encoder. How many parameters does the optimiser update?",
        head,
        f"Only the new head trains: one linear layer from the pooled [CLS] vector (H numbers) to K logits, "
        f"H·K weights + K biases = {hidden}·{labels} + {labels} = **{head:,}**. The other "
        f"{everything - head:,} parameters keep their pretrained values (full fine-tuning updates all "
        f"{everything:,}).")


def _optimiser_steps(rng: random.Random) -> Question:
    examples, batch, epochs = rng.randint(40, 600), rng.choice([4, 8, 16, 32]), rng.randint(1, 6)
    per_epoch, total, _ = ft.training_steps(examples, batch, epochs, warmup_ratio=0.0)
    return Question(
        f"A training set of {examples} reviews, batch size {batch}, {epochs} epoch{'s' * (epochs > 1)}. "
        "How many optimiser steps "
        "does training take? (The last batch of an epoch may be smaller than the others.)",
        total,
        f"One step per batch: ⌈{examples} / {batch}⌉ = {per_epoch} steps per epoch, × {epochs} = "
        f"**{total}** steps.")


def _confusion(rng: random.Random) -> tuple[dict[str, int], str, dict]:
    """A decent binary classifier's test-set counts, their markdown table and lib's metrics for them."""
    counts = {"tn": rng.randint(20, 60), "fp": rng.randint(2, 15), "fn": rng.randint(2, 15), "tp": rng.randint(20, 60)}
    y_true = [0] * (counts["tn"] + counts["fp"]) + [1] * (counts["fn"] + counts["tp"])
    y_pred = [0] * counts["tn"] + [1] * counts["fp"] + [0] * counts["fn"] + [1] * counts["tp"]
    table = ("\n\n| true ↓ / predicted → | negative | positive |\n|---|---|---|\n"
             f"| **negative** | {counts['tn']} | {counts['fp']} |\n"
             f"| **positive** | {counts['fn']} | {counts['tp']} |\n\n")
    return counts, table, ft.classification_metrics(y_true, y_pred, num_labels=2)


def _accuracy(rng: random.Random) -> Question:
    c, table, metrics = _confusion(rng)
    total = sum(c.values())
    return Question(
        f"The fine-tuned model's confusion matrix on the test set:{table}What is its accuracy? "
        "(a decimal between 0 and 1, to 2 decimals)",
        metrics["accuracy"],
        f"Correct predictions are on the diagonal: ({c['tn']} + {c['tp']}) / {total} = "
        f"**{metrics['accuracy']:.3f}**.",
        tolerance=0.01)


def _precision_or_recall(rng: random.Random) -> Question:
    c, table, metrics = _confusion(rng)
    name = rng.choice(["precision", "recall"])
    if name == "precision":
        how = (f"of the {c['tp'] + c['fp']} reviews it called positive, {c['tp']} are: "
               f"{c['tp']} / ({c['tp']} + {c['fp']})")
    else:
        how = (f"of the {c['tp'] + c['fn']} reviews that are positive, it found {c['tp']}: "
               f"{c['tp']} / ({c['tp']} + {c['fn']})")
    return Question(
        f"The fine-tuned model's confusion matrix on the test set:{table}What is its {name} for the class "
        "*positive*? (a decimal between 0 and 1, to 2 decimals)",
        metrics[name],
        f"{name.capitalize()} of *positive*: {how} = **{metrics[name]:.3f}**.",
        tolerance=0.01)


def questions(rng: random.Random) -> list[Question]:
    return [make(rng) for make in (_frozen_head, _optimiser_steps, _accuracy, _precision_or_recall)]
