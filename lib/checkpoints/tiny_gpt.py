"""Checkpoint: a tiny GPT trained from scratch. Answers come from lib.tiny_gpt, lib.parameters
(the page's parameter count), lib.attention (the causal mask) and lib.sampling (the
distribution the page's generation loop draws from)."""
from __future__ import annotations

import random

import torch

from lib import attention, parameters, sampling, tiny_gpt
from lib.checkpoints import Question

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


def _uniform_loss(rng: random.Random) -> Question:
    vocab = rng.randint(30, 200)
    no_text = torch.tensor([], dtype=torch.long)  # the unigram baseline with no counts: every character alike
    loss = tiny_gpt.unigram_baseline(no_text, torch.arange(vocab), vocab)
    return Question(
        f"Before it has learned anything, a model gives each of its {vocab} characters the same probability. "
        "What is its cross-entropy per character, in nats? (to 2 decimals)",
        loss,
        f"Every character gets p = 1/{vocab}, so the loss is −ln(1/{vocab}) = ln {vocab} = **{loss:.3f}** nats. "
        "A freshly initialised GPT starts close to this; the page's unigram baseline is lower because it "
        "knows which characters are common.",
        tolerance=0.005)


def _causal_mask(rng: random.Random) -> Question:
    block = rng.choice([4, 8, 16, 32, 64, 128])
    allowed = int(attention.causal_mask(block).sum())
    if rng.random() < 0.5:
        return Question(
            f"With block_size T = {block}, how many entries of one head's T×T attention matrix may be non-zero "
            "under the causal mask?",
            allowed,
            f"Position i sees itself and the i positions before it: 1 + 2 + … + T = T(T+1)/2 = "
            f"{block}·{block + 1}/2 = **{allowed:,}**.")
    hidden = block * block - allowed
    return Question(
        f"With block_size T = {block}, how many entries of one head's T×T attention matrix does the causal mask "
        "hide (set to −∞ before the softmax)?",
        hidden,
        f"Everything above the diagonal, the future: T² − T(T+1)/2 = T(T−1)/2 = {block}·{block - 1}/2 "
        f"= **{hidden:,}**.")


def _sampling(rng: random.Random) -> Question:
    chars = rng.sample("etaonrsh", 4)
    logits = sorted({round(rng.uniform(-1.0, 3.0), 1) for _ in range(8)}, reverse=True)[:4]
    while len(logits) < 4:  # draws may repeat
        logits.append(round(logits[-1] - 0.5, 1))
    temperature, top_k = rng.choice([0.5, 0.8, 1.0, 1.5, 2.0]), rng.choice([0, 2, 3])
    probs = sampling.distribution(torch.tensor(logits, dtype=torch.float64), temperature, top_k or None)
    shown = ", ".join(f"'{c}': {z}" for c, z in zip(chars, logits))
    kept = logits[:top_k] if top_k else logits
    cut = (f"top-k = {top_k} keeps only the {top_k} highest logits; " if top_k else "top-k is off; ")
    terms = " + ".join(f"e^({z}/{temperature})" for z in kept)
    return Question(
        f"The tiny GPT's logits for the next character are {shown} (every other character is far lower: "
        f"ignore them). Sampling with temperature {temperature} and "
        f"{f'top-k = {top_k}' if top_k else 'no top-k'}: what is the probability of '{chars[0]}'? (to 3 decimals)",
        float(probs[0]),
        f"{cut}softmax of the logits divided by the temperature: e^({logits[0]}/{temperature}) / ({terms}) "
        f"= **{float(probs[0]):.3f}**.",
        tolerance=0.005)


def questions(rng: random.Random) -> list[Question]:
    return [make(rng) for make in (_parameter_count, _uniform_loss, _causal_mask, _sampling)]
