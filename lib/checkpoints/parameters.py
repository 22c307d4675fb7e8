"""Checkpoint: where the parameters are. Every answer comes from lib.parameters; the predict
question counts a real model's tensors on the meta device, as the lesson does."""
from __future__ import annotations

import random

import pandas as pd

from lib import parameters
from lib.checkpoints import Question, Reveal
from lib.checkpoints.build import concept, predict

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


def _builder_terms(hidden: int, heads: int = 8, vocab: int = 32_000, tied: bool = True) -> dict[str, int]:
    arch = parameters.builder_architecture("decoder", layers=12, hidden=hidden, heads=heads, ffn=4 * hidden,
                                           vocab=vocab, context=1024, tied=tied)
    return {t.group: t.value for t in parameters.formula_terms(arch)}


def _double_hidden(rng: random.Random) -> Question:
    hidden = rng.choice([256, 512, 768])
    small, big = _builder_terms(hidden), _builder_terms(2 * hidden)
    growth = {group: big[group] / small[group] for group in ("attention", "feed-forward", "token embeddings")}
    return concept(
        rng, f"A 12-layer GPT-2-style decoder (F = 4·H, a 32,000-token vocabulary) is widened from H = {hidden} to "
        f"H = {2 * hidden}. What happens to its parameters?",
        "The H×H matrices in the layers about quadruple; embeddings, biases and norms only double",
        {"Every part quadruples: parameters grow with H²":
         f"Only the matrices that are H on both sides do. The token embeddings are V×H: they grow "
         f"{growth['token embeddings']:.2f}×, like every bias and norm.",
         "Every part doubles: parameters grow with H":
         f"The attention and feed-forward matrices have H on both sides (H×H, H×4H): they grow "
         f"{growth['attention']:.2f}× and {growth['feed-forward']:.2f}×.",
         "Nothing changes: more width only splits each head further":
         "Splitting into heads changes nothing, but widening does: every matrix that reads or writes the hidden "
         "state gets bigger."},
        f"The lesson's formulas: attention ×{growth['attention']:.3f}, feed-forward ×{growth['feed-forward']:.3f} "
        f"(4·H² and 8·H² terms, plus biases that only double), token embeddings ×{growth['token embeddings']:.0f} "
        f"(V·H). Total {sum(small.values()):,} → {sum(big.values()):,}.")


def _more_heads(rng: random.Random) -> Question:
    hidden = rng.choice([512, 768, 1024])
    few, many = rng.choice([(4, 8), (8, 16), (4, 16)])
    before, after = _builder_terms(hidden, few)["attention"], _builder_terms(hidden, many)["attention"]
    return concept(
        rng, f"A 12-layer decoder with H = {hidden} goes from {few} to {many} attention heads, all else equal. "
        "What happens to its attention parameters?",
        "Nothing: the heads split the same H×H projections into narrower slices",
        {f"They grow {many // few}×: each head has its own Q, K and V":
         f"Each head does have its own Q, K and V, but of width H/A: {many} heads of {hidden // many} "
         f"cost what {few} heads of {hidden // few} do.",
         f"They shrink {many // few}×: each head gets narrower":
         "The heads get narrower but there are more of them: the total width stays H.",
         "They grow a little: one extra bias per head":
         "The biases are H wide whatever the number of heads; no per-head bias is added."},
        f"With d_k = H/A the Q, K, V and output projections stay H×H: 12 × (4·H² + 4·H) = **{after:,}** with "
        f"{many} heads, exactly as with {few} ({before:,}). More heads look at more relations, for free.")


def _tied_head(rng: random.Random) -> Question:
    key = rng.choice(["gpt2", "SmolLM2-135M"])
    breakdown = parameters.count_known(key)
    config = parameters.shipped_config(key)
    saved = breakdown.naive_total - breakdown.total
    name = parameters.KNOWN_BY_KEY[key].title
    return concept(
        rng, f"{name} ties its output layer (the LM head) to its token-embedding table. What does that do to its "
        "parameter count?",
        "The LM head reuses the embedding matrix, so V·H parameters are counted once instead of twice",
        {"It doubles the embedding table, once for reading and once for writing":
         "Untied models do have two V×H tables; tying is what removes the second one.",
         "Nothing: tying only makes training faster":
         f"It changes the count: an untied {name} would need {saved:,} more parameters.",
         "It removes the embedding table: tokens are read by the LM head instead":
         "The table stays; it is only reused, transposed, to score every token of the vocabulary at the output."},
        f"V·H = {config['vocab_size']:,} × {config.get('n_embd') or config.get('hidden_size')} = **{saved:,}** "
        f"parameters are shared: counting every tensor gives {breakdown.naive_total:,}, counting the tied one once "
        f"{breakdown.total:,}.")


PART_GROUPS = {"the embeddings": parameters.EMBEDDING_GROUPS, "attention": ["attention", "cross-attention"],
               "feed-forward": ["feed-forward"], "layer norms": ["layer norms", "final norm", "embedding norm"]}
PREDICT_MODELS = ["all-MiniLM-L6-v2", "bert-base-uncased", "gpt2", "SmolLM2-135M", "albert-base-v2",
                  "distilbert-base-uncased", "t5-small"]


def _biggest_part(rng: random.Random) -> Question:
    key = rng.choice(PREDICT_MODELS)
    name = parameters.KNOWN_BY_KEY[key].title
    return predict(
        f"Which part of **{name}** holds the most parameters? (The lesson counts every tensor of the real model, "
        "built from its config on PyTorch's meta device.)",
        tuple(PART_GROUPS),
        "Each layer holds about 4·H² attention and 8·H² feed-forward weights (F = 4·H); the embedding table "
        "holds V·H. Many layers make the feed-forward blocks win; a big vocabulary with few, narrow layers "
        "makes the embeddings win.",
        reveal_biggest_part, key)


def part_sizes(breakdown: parameters.Breakdown) -> dict[str, int]:
    groups = breakdown.by_group()
    norms = set(PART_GROUPS["layer norms"])
    return {part: int(sum(groups.get(g, 0) for g in members if part == "layer norms" or g not in norms))
            for part, members in PART_GROUPS.items()}


def reveal_biggest_part(key: str) -> Reveal:
    breakdown = parameters.count_parameters(key)
    sizes = part_sizes(breakdown)
    biggest = max(sizes, key=sizes.get)
    return Reveal(
        biggest,
        f"Built just now on the meta device: {parameters.KNOWN_BY_KEY[key].title} has {breakdown.total:,} "
        f"parameters, **{biggest}** {sizes[biggest]:,} of them ({sizes[biggest] / breakdown.total:.0%}).",
        pd.DataFrame({"part": list(sizes), "parameters": list(sizes.values()),
                      "share": [round(n / breakdown.total, 3) for n in sizes.values()]}))


def questions(rng: random.Random) -> list[Question]:
    return [_attention_block(rng), _double_hidden(rng), _more_heads(rng), _tied_head(rng), _biggest_part(rng)]
