"""Checkpoint: HuggingFace pipelines. Every answer comes from lib.pipelines: the
task catalogue, the three steps a pipeline hides run on the bundled MiniLM, its
post-processing applied to given logits, and (predict) the offline zero-shot classifier run live."""
from __future__ import annotations

import functools
import math
import random

import pandas as pd
import torch

from lib import model_loading, pipelines
from lib.checkpoints import Question, Reveal
from lib.checkpoints.build import concept, predict

SUBJECTS = ["The river bank", "My tokenizer", "Paris", "The unbelievable goalkeeper", "A transformer",
            "Every student"]
VERBS = ["flooded", "explains", "welcomed", "saved", "summarises", "enjoyed"]
OBJECTS = ["the village.", "its embeddings.", "twelve visitors.", "a penalty kick!", "the lecture notes.",
           "backpropagation."]
LABEL_SETS = [("NEGATIVE", "POSITIVE"), ("sport", "politics", "cooking"), ("billing", "bug", "feature request"),
              ("anger", "joy", "sadness", "surprise")]


def _encoder() -> model_loading.Loaded:
    """The class's shared MiniLM on the CPU (the copy the lessons use)."""
    return model_loading.shared("minilm", "encoder", "cpu")


def _sentence(rng: random.Random) -> str:
    return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"


def _softmax(rng: random.Random) -> Question:
    labels = rng.choice(LABEL_SETS)
    logits = [round(rng.uniform(-3, 4), 1) for _ in labels]
    while max(logits) in sorted(logits)[:-1]:  # one clear winner
        logits[rng.randrange(len(logits))] = round(rng.uniform(-3, 4), 1)
    top = pipelines.top_outputs(torch.tensor(logits, dtype=torch.float64), lambda i: labels[i], top_k=1)[0]
    shown = ", ".join(f"{label} {logit}" for label, logit in zip(labels, logits))
    exps = ", ".join(f"e^{logit} = {math.exp(logit):.3f}" for logit in logits)
    total = sum(math.exp(logit) for logit in logits)
    return Question(
        f"Step 2 of a text-classification pipeline gives the logits {shown}. Step 3 turns them into "
        "probabilities with a softmax and reports the top label. What probability does it report? (to 2 decimals)",
        top["probability"],
        f"Softmax: exponentiate each logit and divide by the sum. {exps}; the sum is {total:.3f}. The top label "
        f"is **{top['output']}** with e^{top['logit']:g} / {total:.3f} = **{top['probability']:.2f}**.",
        tolerance=0.025)


def _task_for_use_case(rng: random.Random) -> Question:
    with_pipeline = [t for t in pipelines.TASKS if t.has_pipeline]  # transformers 5 dropped a few names
    task = rng.choice(with_pipeline)
    others = rng.sample([t for t in with_pipeline if t != task], 3)
    return concept(
        rng, f"Which `pipeline(...)` task fits this job: *{task.use_case}*", task.key,
        {other.key: f"`{other.key}` ({other.title}) is for another job: *{other.use_case}*" for other in others},
        f"**{task.key}** ({task.title}): `{task.code.splitlines()[0]}` — the playground above runs it.")


def _hidden_state_shape(rng: random.Random, sentence: str, hood: dict, vocab_size: int) -> Question:
    batch, tokens, hidden = hood["raw_shape"]  # last_hidden_state
    answer = f"({batch}, {tokens}, {hidden})"
    return concept(
        rng, f"Step 2: the feature-extraction pipeline runs MiniLM on “{sentence}” ({tokens} input ids, hidden size "
        f"{hidden}). What shape is the `{hood['raw_name']}` it returns?", answer,
        {f"({batch}, {hidden})": "One vector for the whole sentence only appears in step 3, when the pipeline "
         "averages over the tokens; the model itself returns a vector per token.",
         f"({batch}, {tokens - 2}, {hidden})": "`[CLS]` and `[SEP]` are input ids like any other: the model returns "
         "a vector for them too.",
         f"({batch}, {tokens}, {vocab_size})": f"A score for each of the {vocab_size:,} vocabulary words needs a "
         "language-model head; feature extraction reads the hidden states before any head."},
        f"One {hidden}-number vector per input id, `[CLS]` and `[SEP]` included, for a batch of one: "
        f"**{answer}**.")


ZERO_SHOT = [("The match went to penalties after a goalless draw.", ("sport", "politics", "cooking")),
             ("Parliament voted on the new budget last night.", ("sport", "politics", "cooking")),
             ("Whisk the eggs with the sugar until pale and fluffy.", ("sport", "politics", "cooking")),
             ("My invoice shows a charge I never made.", ("billing", "bug", "feature request")),
             ("The app crashes every time I open the settings.", ("billing", "bug", "feature request")),
             ("It would be great if I could export my notes as PDF.", ("billing", "bug", "feature request")),
             ("They cancelled my flight again, without a word of apology!", ("anger", "joy", "sadness", "surprise")),
             ("We won! I still cannot stop smiling.", ("anger", "joy", "sadness", "surprise")),
             ("The river burst its banks and flooded the town.", ("weather", "finance", "sport")),
             ("Shares fell sharply after the bank's results.", ("weather", "finance", "sport"))]
ZERO_SHOT_MARGIN = 0.02  # the top label must beat the next by this much in cosine


@functools.lru_cache(maxsize=len(ZERO_SHOT))
def _zero_shot_margin(text: str, labels: tuple[str, ...]) -> float:
    ranked = pipelines.zero_shot_by_similarity(_encoder(), text, list(labels))
    return ranked[0]["score"] - ranked[1]["score"]


def _zero_shot(rng: random.Random) -> Question:
    while True:
        text, labels = rng.choice(ZERO_SHOT)
        if _zero_shot_margin(text, labels) >= ZERO_SHOT_MARGIN:
            break
    return predict(
        f"The playground's offline zero-shot classifier compares MiniLM's vector of the text with the vector of "
        f"“This text is about <label>.” for each label. Which label does it put first for “{text}”?",
        labels,
        "Zero-shot classification by similarity needs no training on the labels: it trusts that the text and the "
        "right label's sentence mean similar things. A small encoder usually gets clear cases right and can be "
        "fooled by a word that belongs to another label.",
        reveal_zero_shot, text, labels)


def reveal_zero_shot(text: str, labels: tuple[str, ...]) -> Reveal:
    ranked = pipelines.zero_shot_by_similarity(_encoder(), text, list(labels))
    return Reveal(
        ranked[0]["label"],
        f"MiniLM, run just now: **{ranked[0]['label']}** scores a cosine of {ranked[0]['score']:.3f}, ahead of "
        f"{ranked[1]['label']} ({ranked[1]['score']:.3f}).",
        pd.DataFrame({"label": [r["label"] for r in ranked], "cosine": [round(r["score"], 3) for r in ranked]}))


def questions(rng: random.Random) -> list[Question]:
    use_case, sentence = _task_for_use_case(rng), _sentence(rng)
    encoder = _encoder()
    hood = pipelines.under_the_hood(encoder, sentence)
    return [use_case, _hidden_state_shape(rng, sentence, hood, len(encoder.tokenizer)), _softmax(rng),
            _zero_shot(rng)]
