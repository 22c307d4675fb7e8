"""Checkpoint: attention. Every answer comes from lib.attention, the code behind the lesson's toy."""
from __future__ import annotations

import math
import random

from lib import attention as att
from lib.checkpoints import Question

SENTENCES = ["Your cat is a lovely cat", "The cat chased the mouse", "I love my cat and my cat loves me",
             "We sat on the bank of the river", "The animal was too tired"]
D_MODEL, D_K = [4, 8, 16], [2, 4, 8]  # options of the lesson's sliders
CLEAR_MARGIN = 0.05  # scores shown to 3 decimals: the winner must not hinge on rounding
TWO_DECIMALS = 0.006  # an answer "to 2 decimals" is right within ±0.006


def _two_decimals(answer: float) -> float:
    """The relative tolerance that accepts `answer` rounded to 2 decimals (|answer| ≥ 0.1)."""
    return TWO_DECIMALS / abs(answer)


def _dot_product(rng: random.Random) -> Question:
    reference, vector = [(rng.randint(1, 5) * rng.choice((-1, 1)), rng.randint(-5, 5)) for _ in range(2)]
    (row,) = att.dot_products(reference, {"v": vector})
    dot = int(row["dot"])
    return Question(
        f"v_ref = [{reference[0]}, {reference[1]}] and v = [{vector[0]}, {vector[1]}]: what is the dot product "
        "v_ref · v?",
        dot,
        f"Multiply coordinate by coordinate and add: {reference[0]}·{vector[0]} + {reference[1]}·{vector[1]} "
        f"= **{dot}**. In the lesson's words: *{row['similarity']}*.")


def _toy_row(rng: random.Random) -> tuple[str, int, int, int, int, att.AttentionSteps]:
    """A toy sentence, its settings and a query row whose top key word wins by a clear margin."""
    while True:
        sentence, d_model, d_k = rng.choice(SENTENCES), rng.choice(D_MODEL), rng.choice(D_K)
        seed = rng.randrange(1000)
        steps = att.toy_steps(sentence, d_model, d_k, seed)
        words = att.split_words(sentence)
        row = rng.randrange(len(words))
        best = {}
        for word, score in zip(words, steps.scores[row].tolist()):
            best[word.lower()] = max(score, best.get(word.lower(), -math.inf))
        top, second = sorted(best.values(), reverse=True)[:2]
        if top - second >= CLEAR_MARGIN:
            return sentence, d_model, d_k, seed, row, steps


def _scores_text(words: list[str], scores: list[float]) -> str:
    return ", ".join(f"`{i + 1} {word}` {score:.3f}" for i, (word, score) in enumerate(zip(words, scores)))


def _setup_text(sentence: str, d_model: int, d_k: int, seed: int, row: int, steps: att.AttentionSteps) -> str:
    words = att.split_words(sentence)
    return (f"The lesson's toy for *{sentence}* (d_model = {d_model}, d_k = {d_k}, seed = {seed}, no mask) "
            f"gives the query `{row + 1} {words[row]}` these scores Q·Kᵀ, one per key: "
            f"{_scores_text(words, steps.scores[row].tolist())}.")


def _most_weight(rng: random.Random) -> Question:
    sentence, d_model, d_k, seed, row, steps = _toy_row(rng)
    words = att.split_words(sentence)
    weights = steps.weights[row].tolist()
    winner = words[int(steps.weights[row].argmax())].lower()
    options = tuple(dict.fromkeys(word.lower() for word in words))
    shared = [f"`{i + 1} {w}`" for i, w in enumerate(words) if w.lower() == winner]
    repeated = (f" The word appears {len(shared)} times ({', '.join(shared)}) with the same embedding and no "
                "positional encoding, so each copy gets the same weight." if len(shared) > 1 else "")
    return Question(
        f"{_setup_text(sentence, d_model, d_k, seed, row, steps)} "
        "Which word gets the most attention weight in this row?",
        winner,
        f"÷ √d_k divides every score by the same √{d_k}, and softmax keeps the order, so the largest score gets "
        f"the largest weight: the weights are {_scores_text(words, weights)}. The answer is **{winner}**.{repeated}",
        options=options)


def _softmax_weight(rng: random.Random) -> Question:
    while True:
        sentence, d_model, d_k, seed, row, steps = _toy_row(rng)
        key = rng.randrange(len(steps.weights))
        weight = float(steps.weights[row, key])
        if weight >= 0.1:
            break
    words = att.split_words(sentence)
    scaled = steps.scaled[row].tolist()
    exps = [math.exp(s) for s in scaled]
    return Question(
        f"{_setup_text(sentence, d_model, d_k, seed, row, steps)} "
        f"After ÷ √d_k and softmax, what weight does the query give to key `{key + 1} {words[key]}` "
        "(to 2 decimals)?",
        weight,
        f"Divide each score by √{d_k} = {math.sqrt(d_k):.3f}: {_scores_text(words, scaled)}. Softmax: "
        f"e^{scaled[key]:.3f} / (sum of e^s over the row) = {exps[key]:.3f} / {sum(exps):.3f} = **{weight:.2f}**. "
        "The row's weights sum to 1.",
        tolerance=_two_decimals(weight))


def _causal_zeros(rng: random.Random) -> Question:
    tokens = rng.randint(3, 40)
    zeros = int((~att.causal_mask(tokens)).sum())
    return Question(
        f"A decoder reads a prompt of {tokens} tokens with the causal mask. How many of the attention weights in "
        "one head's square weight matrix are forced to 0?",
        zeros,
        f"Token i may look at keys 1…i only, so everything above the diagonal is masked: "
        f"({tokens} × {tokens} − {tokens}) / 2 = {tokens}·{tokens - 1}/2 = **{zeros}** of the {tokens * tokens} "
        "weights.")


def _positional_encoding(rng: random.Random) -> Question:
    while True:
        d_model, position = rng.choice([4, 8, 16, 32]), rng.randint(1, 60)
        dimension = rng.randrange(d_model)
        value = float(att.positional_encoding(position + 1, d_model)[position, dimension])
        if abs(value) >= 0.1:
            break
    pair = dimension // 2
    wave = "sin" if dimension % 2 == 0 else "cos"
    angle = position / 10000 ** (2 * pair / d_model)
    return Question(
        f"Sinusoidal positional encoding with d_model = {d_model}: what is PE[pos = {position}, dimension = "
        f"{dimension}] (to 2 decimals, angles in radians)?",
        value,
        f"Dimension {dimension} is {'even' if wave == 'sin' else 'odd'}, so it uses {wave} with i = {pair}: "
        f"{wave}({position} / 10000^(2·{pair}/{d_model})) = {wave}({angle:.4f}) = **{value:.2f}**. Each pair of "
        "dimensions turns at its own speed, so every position gets its own pattern.",
        tolerance=_two_decimals(value))


def questions(rng: random.Random) -> list[Question]:
    return [make(rng) for make in (_dot_product, _most_weight, _softmax_weight, _causal_zeros,
                                   _positional_encoding)]
