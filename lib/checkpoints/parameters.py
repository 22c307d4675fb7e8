"""Checkpoint: where the parameters are. Every answer comes from lib.parameters."""
from __future__ import annotations

import random

from lib import parameters
from lib.checkpoints import Question

HIDDEN_AND_HEADS = [(256, 4), (512, 8), (768, 12), (1024, 16), (2048, 16)]


def _attention_block(rng: random.Random) -> Question:
    hidden, heads = rng.choice(HIDDEN_AND_HEADS)
    arch = parameters.builder_architecture("encoder", layers=1, hidden=hidden, heads=heads, ffn=4 * hidden,
                                       vocab=1, context=1, tied=True)
    attention = next(t for t in parameters.formula_terms(arch) if t.group == "attention")
    return Question(
        f"One self-attention block with hidden size H = {hidden} and {heads} heads, biases included: "
        "how many parameters do its Q, K, V and output projections hold?",
        attention.value,
        f"Each of Q, K, V and the output projection is an H×H matrix plus a bias of H (the {heads} heads "
        f"split H, they do not multiply it): 4·H² + 4·H = 4·{hidden}² + 4·{hidden} = **{attention.value:,}**.")


def _feed_forward(rng: random.Random) -> Question:
    hidden = rng.choice([256, 512, 768, 1024])
    ffn = hidden * rng.choice([2, 4])
    arch = parameters.builder_architecture("encoder", layers=1, hidden=hidden, heads=1, ffn=ffn,
                                       vocab=1, context=1, tied=True)
    term = next(t for t in parameters.formula_terms(arch) if t.group == "feed-forward")
    return Question(
        f"A feed-forward block maps H = {hidden} up to F = {ffn} and back down, with biases. How many parameters?",
        term.value,
        f"Two matrices H×F and F×H plus biases F and H: 2·H·F + F + H = 2·{hidden}·{ffn} + {ffn} + {hidden} "
        f"= **{term.value:,}**.")


def _embeddings(rng: random.Random) -> Question:
    vocab = rng.choice([30_522, 32_000, 50_257, 100_277])
    hidden = rng.choice([512, 768, 1024])
    arch = parameters.builder_architecture("decoder", layers=1, hidden=hidden, heads=1, ffn=1,
                                       vocab=vocab, context=1, tied=True)
    term = next(t for t in parameters.formula_terms(arch) if t.group == "token embeddings")
    return Question(
        f"A vocabulary of {vocab:,} tokens, each embedded in {hidden} dimensions: how many parameters does "
        "the token-embedding table hold? (With tied weights the output layer reuses it.)",
        term.value,
        f"One row of H numbers per token: V·H = {vocab:,} × {hidden} = **{term.value:,}**.")


def _memory(rng: random.Random) -> Question:
    name = rng.choice(["BERT-Base (2018)", "GPT-2 small (2019)", "GPT-3 175B (2020)"])
    precision = rng.choice(["fp32", "bf16", "int8"])
    total = parameters.formula_total(parameters.preset(name)[0])
    gib = total * parameters.BYTES_PER_PARAMETER[precision] / parameters.GIB
    return Question(
        f"{name.split(' (')[0]} has {total:,} parameters. How many GiB do its weights take in {precision}? "
        "(within 1%)",
        gib,
        f"{parameters.BYTES_PER_PARAMETER[precision]} bytes per parameter in {precision}: {total:,} × "
        f"{parameters.BYTES_PER_PARAMETER[precision]} / 2³⁰ = **{gib:,.2f} GiB**, before activations.",
        tolerance=0.01)


def _biggest_group(rng: random.Random) -> Question:
    layers, hidden, vocab = rng.choice([1, 2, 4, 12, 24]), rng.choice([256, 512, 768]), rng.choice([8_000, 50_257, 250_000])
    arch = parameters.builder_architecture("decoder", layers=layers, hidden=hidden, heads=4, ffn=4 * hidden,
                                       vocab=vocab, context=512, tied=True)
    terms = {t.group: t.value for t in parameters.formula_terms(arch)}
    options = ("token embeddings", "attention", "feed-forward")
    biggest = max(options, key=terms.get)
    shares = "; ".join(f"{g}: **{terms[g]:,}**" for g in options)
    return Question(
        f"A GPT-2-style decoder with L = {layers} layers, H = {hidden}, F = 4·H and a {vocab:,}-token vocabulary: "
        "which part holds the most parameters?", biggest,
        f"Token embeddings V·H, attention L·(4·H² + 4·H), feed-forward L·(2·H·F + F + H): {shares}. "
        f"The largest is **{biggest}**: layers grow with L·H², the embedding table with V·H.", options=options)


def questions(rng: random.Random) -> list[Question]:
    return [make(rng) for make in (_attention_block, _feed_forward, _embeddings, _memory, _biggest_group)]
