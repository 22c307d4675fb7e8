"""Checkpoint: a tiny GPT trained from scratch. Answers come from lib.tiny_gpt, lib.parameters
(the page's parameter count), lib.attention (the causal mask) and lib.sampling (the
distribution the page's generation loop draws from); the predict question builds and
evaluates an untrained tiny GPT."""
from __future__ import annotations

import math
import random

import pandas as pd
import torch

from lib import attention, parameters, sampling, tiny_gpt
from lib.checkpoints import Question, Reveal
from lib.checkpoints.build import concept, predict

SOLUTION_GROUPS = {  # group -> its formula for a GPT-2 with width E, L layers, V characters, context T
    "token embeddings": "V·E", "position embeddings": "T·E", "attention": "L·(4E² + 4E)",
    "feed-forward": "L·(8E² + 5E)", "layer norms": "L·4E", "final norm": "2E"}


def _parameter_count(rng: random.Random) -> Question:
    config = tiny_gpt.TinyGPTConfig(n_layer=rng.randint(1, 4), n_head=rng.choice([1, 2, 4]),
                                   n_embd=rng.choice([32, 64, 128, 192]), block_size=rng.choice([16, 32, 64, 128]))
    vocab = rng.randint(40, 120)
    breakdown = parameters.count_parameters(config.gpt2_config(vocab).to_dict(), "GPT2LMHeadModel")
    parts = breakdown.by_group()
    terms = "; ".join(f"{group} {formula} = {parts[group]:,}" for group, formula in SOLUTION_GROUPS.items())
    return Question(
        f"A character-level GPT-2 with a vocabulary of V = {vocab} characters, width n_embd = E = {config.n_embd}, "
        f"n_layer = L = {config.n_layer}, n_head = {config.n_head} and block_size = T = {config.block_size}; "
        "the LM head is tied to the token embedding. How many parameters does it have?",
        breakdown.total,
        f"{terms}. n_head only splits E between the heads and the tied LM head reuses V·E, so neither adds any. "
        f"Total **{breakdown.total:,}**.")


def _why_causal(rng: random.Random) -> Question:
    block = rng.choice([16, 32, 64, 128])
    allowed = int(attention.causal_mask(block).sum())
    return concept(
        rng, f"During training the tiny GPT reads windows of T = {block} characters and predicts the next "
        "character at every position at once. Why does its attention need the causal mask?",
        "So position i cannot look at character i + 1, the very thing it must predict",
        {"To save memory: half of the attention matrix is never stored":
         f"The full T×T = {block * block:,} scores are still computed; the mask only sets "
         f"{block * block - allowed:,} of them to −∞ before the softmax.",
         "Only for generation: in training every position may see the whole window":
         "Then training would be trivial (copy the next character) and the model would learn nothing it can "
         "use when generating, where the future does not exist yet.",
         "So that it reads the text from right to left":
         "It reads left to right; the mask just stops each position from peeking ahead."},
        f"Row i of the mask allows keys 1…i: {allowed:,} of the {block * block:,} entries. With the future hidden, "
        f"all {block} positions of the window are {block} honest next-character predictions, trained in one "
        "forward pass.")


def _temperature(rng: random.Random) -> Question:
    logits = torch.tensor(sorted((round(rng.uniform(-1.0, 3.0), 1) for _ in range(5)), reverse=True),
                          dtype=torch.float64)
    low, high = rng.choice([(0.5, 1.5), (0.7, 2.0), (1.0, 2.0)])
    cold, hot = sampling.distribution(logits, low), sampling.distribution(logits, high)
    return concept(
        rng, f"The tiny GPT samples the next character with temperature {low:g}, then with {high:g}. What does "
        "the higher temperature do to the probabilities it draws from?",
        "It flattens them: the most likely character keeps its place but loses probability to the others",
        {"It sharpens them: the most likely character becomes even more likely":
         f"That is a temperature below 1. Here the top character goes from {float(cold.max()):.2f} at "
         f"{low:g} to {float(hot.max()):.2f} at {high:g}.",
         "It changes which character is most likely":
         "Dividing every logit by the same positive number keeps their order: the favourite stays the favourite.",
         "Nothing: temperature only matters with top-k":
         "Temperature divides the logits before the softmax whether or not top-k is on."},
        f"softmax(z / T): a larger T shrinks the gaps between logits. The top character's probability: "
        f"{float(cold.max()):.3f} at T = {low:g}, **{float(hot.max()):.3f}** at T = {high:g}; the samples get more "
        "varied, and more often wrong.")


LOSS_FATES = ("About ln V: every character about equally likely", "About the unigram baseline: it already knows "
              "which characters are common", "Near 0: it predicts the text almost perfectly",
              "Far above ln V: random weights make confident wrong guesses")


def _untrained_loss(rng: random.Random) -> Question:
    config = tiny_gpt.TinyGPTConfig(n_layer=rng.randint(1, 4), n_embd=rng.choice([64, 128, 192]),
                                   block_size=rng.choice([32, 64]), seed=rng.randrange(1000))
    return predict(
        f"The lesson's tiny GPT (n_layer = {config.n_layer}, n_embd = {config.n_embd}, block_size = "
        f"{config.block_size}, seed {config.seed}) is built on the bundled Python-docs corpus and **not trained "
        "at all**. What is its validation loss (cross-entropy per character)?",
        LOSS_FATES,
        "GPT-2 initialises its weights with small random numbers (standard deviation 0.02), so before training "
        "every logit is close to 0 and the softmax is close to uniform over the V characters.",
        reveal_untrained_loss, config)


def loss_fate(loss: float, vocab: int, unigram: float) -> str:
    targets = dict(zip(LOSS_FATES, (math.log(vocab), unigram, 0.0, 2 * math.log(vocab))))
    return min(targets, key=lambda fate: abs(loss - targets[fate]))


def reveal_untrained_loss(config: tiny_gpt.TinyGPTConfig) -> Reveal:
    with torch.random.fork_rng(devices=[]):  # new_run seeds torch: keep the session's generator
        run, _, val = tiny_gpt.new_run(tiny_gpt.bundled_corpus(), config)
    loss = tiny_gpt.validation_loss(run.model, val, config)
    vocab = run.tokenizer.vocab_size
    return Reveal(
        loss_fate(loss, vocab, run.baseline),
        f"Built and evaluated just now: validation loss **{loss:.3f}** nats; ln V = ln {vocab} = "
        f"{math.log(vocab):.3f}; the unigram baseline {run.baseline:.3f}. Training is what brings it down.",
        pd.DataFrame({"": ["untrained tiny GPT", "ln V (uniform)", "unigram baseline"],
                      "nats per character": [round(loss, 3), round(math.log(vocab), 3), round(run.baseline, 3)]}))


def questions(rng: random.Random) -> list[Question]:
    return [_parameter_count(rng), _why_causal(rng), _temperature(rng), _untrained_loss(rng)]
