"""Checkpoint: tokenizers. Every answer comes from the lesson's own code: the
bundled tokenizers in lib.tokenization and the step-by-step algorithms in
lib.tokenization_algorithms."""
from __future__ import annotations

import random

from lib import tokenization
from lib import tokenization_algorithms as algorithms
from lib.checkpoints import Question

GPT2_WORDS = ["unbelievable", "tokenization", "transformer", "Glassbox", "antidisestablishmentarianism", "hello",
              "photosynthesis", "naïve", "Straße", "ChatGPT", "HuggingFace", "backpropagation", "embedding",
              "Tokyo", "東京", "🤖", "café", "indistinguishable", "Mississippi", "electroencephalogram",
              "hyperparameter", "misunderstanding", "autoencoder", "neuroscience"]
# Lower-case ASCII words that BERT's vocabulary does not hold whole, so WordPiece cuts each into pieces.
WORDPIECE_WORDS = ["tokenization", "transformer", "glassbox", "photosynthesis", "chatgpt", "huggingface",
                   "backpropagation", "embedding", "supercalifragilistic", "indistinguishable", "unaffable",
                   "electroencephalogram", "overfitting", "tokenizer", "softmax", "dropout", "hyperparameter",
                   "multilingual", "preprocessing", "chatbot", "autoencoder", "rethinking"]
# The HuggingFace course's BPE example (hug, pug, pun, bun, hugs) and the BPE paper's (low, lower, newest, widest).
BPE_WORDS = ["hug", "pug", "pun", "bun", "hugs", "low", "lower", "newest", "widest", "cat", "hat", "that", "bat",
             "sit", "kit", "kitten", "mitten", "tall", "taller", "wall"]


def _pieces(encoding: tokenization.Encoding) -> str:
    return " · ".join(f"`{tokenization.chip_label(t)}`" for t in encoding.tokens)


def _gpt2_word(rng: random.Random) -> Question:
    word, spaced = rng.choice(GPT2_WORDS), rng.random() < 0.5
    gpt2 = tokenization.load("gpt2")
    asked, other = gpt2.encode(" " * spaced + word), gpt2.encode(" " * (not spaced) + word)
    where = ("in the middle of a sentence, so with the space before it" if spaced
             else "at the very start of a text, with no space before it")
    return Question(
        f"How many tokens does GPT-2's tokenizer make of the word `{word}` {where}?",
        asked.num_tokens,
        f"GPT-2 cuts it into {_pieces(asked)}: **{asked.num_tokens}** token(s) (␣ is the space, `\\xNN` a byte "
        f"that is only part of a character). {'Without' if spaced else 'With'} the space it would be "
        f"{_pieces(other)}: {other.num_tokens} token(s). Common words have a token of their own *with* the "
        "leading space, because that is how they appear mid-sentence in GPT-2's training text.")


def _wordpiece(rng: random.Random) -> Question:
    word = rng.choice(WORDPIECE_WORDS)
    pieces, lookups = algorithms.wordpiece_greedy(word, tokenization.load("wordpiece").vocab)
    first, rest = pieces[0], [p[2:] for p in pieces[1:]]
    shown = " · ".join
    shorter_first = [first[:-1], "##" + first[-1] + rest[0], *pieces[2:]] if len(first) > 1 else [word]
    options = list(dict.fromkeys([shown(pieces), shown([first, *rest]), shown(shorter_first), "[UNK]"]))
    rng.shuffle(options)
    found = [l.candidate for l in lookups if l.found]
    return Question(
        f"BERT's WordPiece tokenizer (MiniLM's {tokenization.load('wordpiece').vocab_size:,}-token vocabulary) "
        f"cuts the word `{word}`. Which pieces "
        "does it give?", shown(pieces), f"From the left it takes the longest piece in the vocabulary, then "
        f"continues after it; pieces after the first carry `##`. It tried {len(lookups)} candidates and kept "
        f"{', '.join(f'`{c}`' for c in found)}: **{shown(pieces)}**. `[UNK]` only appears when no piece fits "
        "at some point.", options=tuple(options))


def _bpe_corpus(rng: random.Random) -> tuple[dict[str, int], list[algorithms.MergeStep]]:
    """A tiny corpus whose first two merges each have one clear winner (no tie to break)."""
    while True:
        counts = {word: rng.randint(1, 9) for word in rng.sample(BPE_WORDS, rng.randint(4, 5))}
        corpus = " ".join(word for word, n in counts.items() for _ in range(n))
        steps = algorithms.bpe_merge_steps(corpus, num_merges=2)
        if len(steps) == 2 and all(len(s.pair_counts) == 1 or s.pair_counts["count"].iloc[1] < s.count
                                   for s in steps):
            return counts, steps


def _pair(pair: tuple[str, str]) -> str:
    return f"{pair[0]} + {pair[1]}"  # as the lesson's pair-count chart names it


def _bpe_second_merge(rng: random.Random) -> Question:
    counts, (first, second) = _bpe_corpus(rng)
    runners_up = second.pair_counts["pair"].iloc[1:3].tolist()
    options = list(dict.fromkeys([_pair(second.pair), _pair(first.pair), *runners_up]))
    rng.shuffle(options)
    corpus = ", ".join(f"`{word}` ×{n}" for word, n in counts.items())
    top = ", ".join(f"{p} ({n})" for p, n in second.pair_counts.head(3).itertuples(index=False))
    return Question(
        f"BPE is trained on a tiny corpus of word counts: {corpus}. It starts from single characters and merges "
        "the most frequent neighbouring pair, again and again. Which pair does the **second** merge join?",
        _pair(second.pair),
        f"Merge 1: **{_pair(first.pair)}** occurs {first.count} times (each word counts as often as it appears), "
        f"so it becomes `{''.join(first.pair)}` everywhere. Counting again: {top}. Merge 2 joins "
        f"**{_pair(second.pair)}** ({second.count} times).", options=tuple(options))


def _number_tokens(rng: random.Random) -> Question:
    digits = rng.randint(4, 12)
    number = str(rng.randint(10 ** (digits - 1), 10**digits - 1))
    cl100k, gpt2 = tokenization.load("cl100k_base").encode(number), tokenization.load("gpt2").encode(number)
    return Question(
        f"How many tokens does cl100k_base (the GPT-4 tokenizer) make of the number `{number}` "
        "(digits only, no spaces)?",
        cl100k.num_tokens,
        f"cl100k_base's pre-tokenizer cuts a run of digits into groups of at most three, from the left, and "
        f"every group of one to three digits is a token: {_pieces(cl100k)} → **{cl100k.num_tokens}** tokens "
        f"for {digits} digits. GPT-2 has no such rule and cuts it by its merges: {_pieces(gpt2)} "
        f"({gpt2.num_tokens} tokens).")


def questions(rng: random.Random) -> list[Question]:
    return [make(rng) for make in (_gpt2_word, _wordpiece, _bpe_second_merge, _number_tokens)]
