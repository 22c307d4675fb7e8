"""Checkpoint: attention. Answers come from lib.attention, the code behind the lesson's toy; the
predict question runs the bundled MiniLM through lib.attention_models, as the page's real-model view does."""
from __future__ import annotations

import functools
import math
import random

import numpy as np
import pandas as pd

from lib import attention as att
from lib import attention_models, model_loading
from lib.checkpoints import Question, Reveal
from lib.checkpoints.build import concept, predict

SENTENCES = ["Your cat is a lovely cat", "The cat chased the mouse", "I love my cat and my cat loves me",
             "We sat on the bank of the river", "The animal was too tired"]
IT_SENTENCES = ["The animal didn't cross the street because it was too tired.",
                "The trophy didn't fit in the suitcase because it was too big.",
                "The cat sat on the mat because it was warm.",
                "My phone fell into the lake, so it stopped working.",
                "The river flooded the village after it rained all week.",
                "Sam dropped the glass and it broke."]
HEAD_MARGIN = 0.05  # the top key must beat the next by this much in the drawn head


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


def _why_scale(rng: random.Random) -> Question:
    d_k = rng.choice([16, 64, 128])
    return concept(
        rng, f"Attention divides the scores Q·Kᵀ by √d_k (here √{d_k} = {math.sqrt(d_k):g}) before the softmax. "
        "Why?",
        "Dot products grow with d_k; unscaled, the softmax saturates onto one key and its gradients vanish",
        {"So that each row of weights sums to 1":
         "The softmax already makes every row sum to 1, whatever the scale of the scores.",
         "To turn the dot product into a cosine similarity":
         "A cosine divides by the two vectors' lengths, which differ from key to key; √d_k is one constant for "
         "all of them.",
         "To stop a token from looking at later tokens":
         "That is the causal mask's job: it sets future scores to −∞. Scaling keeps every score finite."},
        f"With q and k of d_k independent components of variance 1, q·k has variance d_k: the spread of the "
        f"scores grows like √d_k = {math.sqrt(d_k):g}. Dividing by √d_k brings it back to about 1, so the "
        "softmax stays soft (the lesson's *scale* toggle shows the saturated rows without it).")


def _causal_keys(rng: random.Random) -> Question:
    tokens = rng.randint(6, 12)
    query = rng.randint(2, tokens - 1)
    allowed = [i + 1 for i in att.causal_mask(tokens)[query - 1].nonzero().flatten().tolist()]
    return concept(
        rng, f"A decoder reads {tokens} tokens with the causal mask. Which keys may token {query} attend to?",
        f"Tokens {allowed[0]} to {allowed[-1]}: itself and every token before it",
        {f"Only token {query - 1}, the one just before":
         "The mask hides only the future; every earlier token stays visible (one head may still focus on the "
         "previous token, but that is learned, not the mask).",
         f"All {tokens} tokens: the mask only hides padding":
         "That is the padding mask. The causal mask also hides every later token, so generation cannot peek at "
         "words it has not produced yet.",
         f"Tokens {query + 1} to {tokens}, the ones still to come":
         "That is exactly what the mask forbids: the future is set to −∞ before the softmax."},
        f"Row {query} of the causal mask allows keys {', '.join(map(str, allowed))}: "
        f"**{allowed[0]} to {allowed[-1]}**, {len(allowed)} of {tokens}. Everything right of the diagonal is "
        "set to −∞ before the softmax, so its weight is exactly 0.")


def _bag_of_words(rng: random.Random) -> Question:
    words = att.split_words(rng.choice(SENTENCES))
    order = list(range(len(words)))
    while order == sorted(order):
        rng.shuffle(order)
    gap = att.permutation_check(words, order, 8, 4, rng.randrange(1000), positions=False)
    right = "The same weights, only reordered with the words: attention alone sees a bag of words"
    return concept(
        rng, f"The lesson's toy attention, without positional encoding, reads *{' '.join(words)}* and then the "
        f"shuffled *{' '.join(words[i] for i in order)}*. How do the two attention matrices compare?", right,
        {"Completely different: word order changes what each word attends to":
         "Only if the model knows the order. Without positional encoding each word's vector is the same wherever "
         "it stands, so its scores with every other word are too.",
         "The same matrix, in the same row and column order":
         "The rows and columns follow the words: they move with the shuffle, their values do not change.",
         "All weights become equal, since only the order carried meaning":
         "Nothing makes the softmax flat; the weights still depend on which words meet, just not on where."},
        f"Shuffling rows and columns of the first matrix the same way gives the second, to within {gap:.1e}: "
        "**the same weights, reordered**. Adding the sinusoidal positional encoding to the embeddings is what "
        "lets attention tell *dog bites man* from *man bites dog*.")


def _encoder() -> model_loading.Loaded:
    """The class's shared MiniLM on the CPU (the copy the lessons use)."""
    return model_loading.shared("minilm", "encoder", "cpu")


@functools.lru_cache(maxsize=16)
def _it_rows(sentence: str) -> tuple[list[str], np.ndarray]:
    """MiniLM's tokens for `sentence` and every head's attention from "it": (layers, heads, seq)."""
    attention = attention_models.model_attention(_encoder(), sentence)
    return attention.tokens, attention.attentions[:, :, attention.tokens.index("it")]


def _key_weights(tokens: list[str], weights: np.ndarray) -> dict[str, float]:
    """A head's weight per distinct token (a repeated token counts at its best position)."""
    best = {}
    for token, weight in zip(tokens, weights.tolist()):
        best[token] = max(weight, best.get(token, 0.0))
    return best


def _it_attends(rng: random.Random) -> Question:
    sentence = rng.choice(IT_SENTENCES)
    tokens, rows = _it_rows(sentence)
    while True:  # a head whose favourite key wins clearly
        layer, head = rng.randrange(rows.shape[0]), rng.randrange(rows.shape[1])
        top, second = sorted(_key_weights(tokens, rows[layer, head]).values(), reverse=True)[:2]
        if top - second >= HEAD_MARGIN:
            break
    return predict(
        f"The bundled MiniLM reads *{sentence}*. In layer {layer + 1}, head {head + 1}, which token does "
        "**it** attend to most?",
        tuple(dict.fromkeys(tokens)),
        "Each head learns its own pattern: some link the pronoun to a noun, some look at a neighbour, and many "
        "park most of their weight on [CLS] or [SEP], a resting place when the head has nothing to add.",
        reveal_it_attends, sentence, layer, head)


def reveal_it_attends(sentence: str, layer: int, head: int) -> Reveal:
    attention = attention_models.model_attention(_encoder(), sentence)
    row = attention.attentions[layer, head, attention.tokens.index("it")]  # (seq,)
    weights = _key_weights(attention.tokens, row)
    ranked = sorted(weights.items(), key=lambda item: -item[1])
    (answer, top), (runner_up, second) = ranked[:2]
    return Reveal(
        answer,
        f"MiniLM, run just now: in layer {layer + 1}, head {head + 1}, *it* gives **{answer}** {top:.2f} of its "
        f"attention; next comes {runner_up} ({second:.2f}). The real-model heatmap above shows this head's "
        "whole matrix.",
        pd.DataFrame({"key token": [t for t, _ in ranked[:5]], "weight from 'it'": [round(w, 3) for _, w in ranked[:5]]}))


def questions(rng: random.Random) -> list[Question]:
    return [_dot_product(rng), _why_scale(rng), _causal_keys(rng), _bag_of_words(rng), _it_attends(rng)]
