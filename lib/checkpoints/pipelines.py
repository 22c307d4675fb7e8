"""Checkpoint: HuggingFace pipelines. Every answer comes from lib.pipelines: the
task catalogue, the three steps a pipeline hides run on the bundled MiniLM, and
its post-processing applied to given logits."""
from __future__ import annotations

import math
import random

import torch

from lib import model_loading, pipelines
from lib.checkpoints import Question

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


def _task_for_use_case(rng: random.Random) -> Question:
    with_pipeline = [t for t in pipelines.TASKS if t.has_pipeline]  # transformers 5 dropped a few names
    task = rng.choice(with_pipeline)
    options = [task.key, *rng.sample([t.key for t in with_pipeline if t != task], 3)]
    rng.shuffle(options)
    return Question(
        f"Which `pipeline(...)` task fits this job: *{task.use_case}*",
        task.key,
        f"**{task.key}** ({task.title}): `{task.code.splitlines()[0]}` — the playground above runs it.",
        options=tuple(options))


def _sentence(rng: random.Random) -> str:
    return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"


def _input_ids(sentence: str, hood: dict) -> Question:
    shown = " · ".join(f"`{t}`" for t in hood["tokens"])
    return Question(
        f"Step 1 of a pipeline on the bundled MiniLM: its tokenizer turns “{sentence}” into `input_ids`. "
        "How many ids, special tokens included?",
        len(hood["input_ids"]),
        f"The WordPiece tokenizer lower-cases the text, splits off punctuation, cuts rare words into `##` pieces "
        f"and adds `[CLS]` at the start and `[SEP]` at the end: {shown} → **{len(hood['input_ids'])}** ids "
        f"({', '.join(map(str, hood['input_ids']))}).")


def _hidden_state_shape(rng: random.Random, sentence: str, hood: dict, vocab_size: int) -> Question:
    batch, tokens, hidden = hood["raw_shape"]  # last_hidden_state
    options = [f"({batch}, {tokens}, {hidden})", f"({batch}, {hidden})", f"({batch}, {tokens - 2}, {hidden})",
               f"({batch}, {tokens}, {vocab_size})"]
    answer = options[0]
    rng.shuffle(options)
    return Question(
        f"Step 2: the feature-extraction pipeline runs MiniLM on “{sentence}” ({tokens} input ids, hidden size "
        f"{hidden}). What shape is the `{hood['raw_name']}` it returns?",
        answer,
        f"One {hidden}-number vector per input id, `[CLS]` and `[SEP]` included, for a batch of one: "
        f"**{answer}**. A single sentence vector ({batch}, {hidden}) only appears in step 3 (mean over tokens), "
        f"and a score per vocabulary word ({vocab_size:,}) needs a language-model head, which "
        "feature extraction does not use.", options=tuple(options))


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


def questions(rng: random.Random) -> list[Question]:
    use_case, sentence = _task_for_use_case(rng), _sentence(rng)
    encoder = _encoder()
    hood = pipelines.under_the_hood(encoder, sentence)
    return [use_case, _input_ids(sentence, hood), _hidden_state_shape(rng, sentence, hood, len(encoder.tokenizer)),
            _softmax(rng)]
