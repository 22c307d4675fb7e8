"""Checkpoint: fine-tuning a pretrained model. Every answer comes from lib.finetuning; the predict
question runs the lesson's zero-shot baseline on MiniLM."""
from __future__ import annotations

import functools
import random

import pandas as pd

from lib import finetuning as ft
from lib import model_loading, parameters
from lib.checkpoints import Question, Reveal
from lib.checkpoints.build import concept, predict

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


def _confusion(rng: random.Random) -> tuple[dict[str, int], str, dict]:
    """A decent binary classifier's test-set counts, their markdown table and lib's metrics for them."""
    counts = {"tn": rng.randint(20, 60), "fp": rng.randint(2, 15), "fn": rng.randint(2, 15), "tp": rng.randint(20, 60)}
    y_true = [0] * (counts["tn"] + counts["fp"]) + [1] * (counts["fn"] + counts["tp"])
    y_pred = [0] * counts["tn"] + [1] * counts["fp"] + [0] * counts["fn"] + [1] * counts["tp"]
    table = ("\n\n| true ↓ / predicted → | negative | positive |\n|---|---|---|\n"
             f"| **negative** | {counts['tn']} | {counts['fp']} |\n"
             f"| **positive** | {counts['fn']} | {counts['tp']} |\n\n")
    return counts, table, ft.classification_metrics(y_true, y_pred, num_labels=2)


def _which_metric(rng: random.Random) -> Question:
    c, table, metrics = _confusion(rng)
    name = rng.choice(["precision", "recall"])
    asks = {"precision": "Of the reviews the model **called** positive, what share really are positive?",
            "recall": "Of the reviews that **really are** positive, what share did the model find?"}
    wrong = {"precision": "Precision divides by what the model *called* positive (TP + FP): "
                          f"{c['tp']} / ({c['tp']} + {c['fp']}) = {metrics['precision']:.3f}.",
             "recall": "Recall divides by what *really is* positive (TP + FN): "
                       f"{c['tp']} / ({c['tp']} + {c['fn']}) = {metrics['recall']:.3f}.",
             "accuracy": "Accuracy counts every correct prediction of either class over all reviews: "
                         f"({c['tn']} + {c['tp']}) / {sum(c.values())} = {metrics['accuracy']:.3f}.",
             "F1": "F1 is the harmonic mean of precision and recall, not a share of reviews: "
                   f"{metrics['f1']:.3f}."}
    right = wrong.pop(name)
    return concept(
        rng, f"The fine-tuned model's confusion matrix on the test set:{table}{asks[name]} Which metric is that?",
        name, wrong, f"**{name.capitalize()}**. {right}")


def _accuracy_on_skewed_data(rng: random.Random) -> Question:
    negatives, positives = rng.choice([(90, 10), (95, 5), (80, 20), (97, 3)])
    metrics = ft.classification_metrics([0] * negatives + [1] * positives, [0] * (negatives + positives), 2)
    return concept(
        rng, f"A test set has {negatives} negative and {positives} positive reviews. A model that answers "
        f"*negative* for every review scores accuracy {metrics['accuracy']:.0%}. What does that say about it?",
        f"Nothing good: it never finds a positive review (recall {metrics['recall']:.0%}); accuracy hides it "
        "because negatives are so common",
        {"It is a good model: most of its answers are right":
         f"Its answers are right only because {negatives}% of the reviews are negative; it has learned nothing "
         "about sentiment.",
         "It overfits: it learned the training set by heart":
         "Overfitting shows as a gap between training and validation scores; answering one class everywhere is "
         "the opposite, a model that learned too little.",
         f"Its precision for *positive* is {metrics['accuracy']:.0%} too":
         "It never says *positive*, so precision for *positive* has no predictions to count (reported as 0)."},
        f"Accuracy = {negatives} / {negatives + positives} = **{metrics['accuracy']:.2f}**, recall of *positive* "
        f"= 0 / {positives} = **{metrics['recall']:.0f}**. On unbalanced data, look at precision, recall and F1 "
        "(the lesson reports all of them) and at the confusion matrix, never at accuracy alone.")


def _zero_shot_miss(rng: random.Random) -> Question:
    test = ft.bundled_reviews()["test"]
    right = _zero_shot_right()
    missed = [i for i, ok in enumerate(right) if not ok]
    chosen = [rng.choice(missed), *rng.sample([i for i, ok in enumerate(right) if ok], 3)]
    rng.shuffle(chosen)
    return predict(
        "Before any fine-tuning, the lesson's zero-shot baseline labels each review by its MiniLM vector's "
        f"cosine with “{ft.LABEL_DESCRIPTIONS['positive']}” and “{ft.LABEL_DESCRIPTIONS['negative']}”. "
        "Exactly one of these test reviews gets the wrong label. Which one?",
        tuple(test.texts[i] for i in chosen),
        "The baseline only sees how close a review's meaning is to two generic sentences: mixed reviews, "
        "sarcasm and reviews that describe the product more than they judge it are what fool it. Fine-tuning "
        "learns the task from labelled examples instead.",
        reveal_zero_shot_miss, tuple(chosen))


@functools.lru_cache(maxsize=1)
def _zero_shot_right() -> tuple[bool, ...]:
    """Whether the zero-shot baseline labels each bundled test review right (one pass over the set)."""
    test = ft.bundled_reviews()["test"]
    predicted = ft.zero_shot_predict(_encoder(), test.texts, test.label_names)
    return tuple(bool(p == y) for p, y in zip(predicted.tolist(), test.labels))


def reveal_zero_shot_miss(chosen: tuple[int, ...]) -> Reveal:
    test = ft.bundled_reviews()["test"]
    texts = [test.texts[i] for i in chosen]
    predicted = ft.zero_shot_predict(_encoder(), texts, test.label_names).tolist()
    names = test.label_names
    missed = [(text, names[p]) for i, text, p in zip(chosen, texts, predicted) if p != test.labels[i]]
    said = "; ".join(f"it called “{text}” *{label}*" for text, label in missed)
    return Reveal(
        missed[0][0] if missed else "",  # drawn with exactly one miss in the whole-set pass
        f"MiniLM, run just now: {len(chosen) - len(missed)} of {len(chosen)} right; {said or 'no miss'}.",
        pd.DataFrame({"review": texts, "true label": [names[test.labels[i]] for i in chosen],
                      "zero-shot label": [names[p] for p in predicted]}))


def _encoder() -> model_loading.Loaded:
    """The class's shared MiniLM on the CPU (the copy the lessons use)."""
    return model_loading.shared("minilm", "encoder", "cpu")


def questions(rng: random.Random) -> list[Question]:
    return [_frozen_head(rng), _which_metric(rng), _accuracy_on_skewed_data(rng), _zero_shot_miss(rng)]
