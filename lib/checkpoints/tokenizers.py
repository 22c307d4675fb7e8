"""Checkpoint: tokenizers. Every answer comes from the lesson's own code: the
bundled tokenizers in lib.tokenization (run live for the predict question) and the
step-by-step algorithms in lib.tokenization_algorithms."""
from __future__ import annotations

import json
import random

import pandas as pd

from lib import prose, tokenization
from lib import tokenization_algorithms as algorithms
from lib.checkpoints import Question, Reveal
from lib.checkpoints.build import concept, predict

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
SAMPLES = json.loads((prose.LESSON_DIR / "tokenizers" / "samples.json").read_text(encoding="utf-8"))
PREDICT_TEXTS = ["東京は日本の首都です。", "私は毎朝コーヒーを飲みます。", "Der Kühlschrank ist schon wieder leer.",
                 "Привет, как у тебя дела?", "नमस्ते, आप कैसे हैं?", "In 2024, 1234567 people paid $19.99.",
                 "def forward(self, x):\n    return self.linear(x)", "Straße, café, naïve, jalapeño",
                 "The cat chased the mouse across the kitchen.", "🐈 chased 🐁 across the 🍳 kitchen!"]


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
    vocab = tokenization.load("wordpiece").vocab
    pieces, lookups = algorithms.wordpiece_greedy(word, vocab)
    first, rest = pieces[0], [p[2:] for p in pieces[1:]]
    shown = " · ".join
    wrong = {shown([first, *rest]): "Pieces after the first carry `##`: it marks a piece that continues a word, "
             "so `##ing` and the word `ing` are different tokens."}
    if len(first) > 1:
        wrong[shown([first[:-1], "##" + first[-1] + rest[0], *pieces[2:]])] = (
            f"WordPiece is greedy from the left: it takes the longest piece in its vocabulary first, and "
            f"`{first}` is there, so it never settles for `{first[:-1]}`.")
    wrong["[UNK]"] = ("`[UNK]` appears only when no piece of the vocabulary fits at some point; every letter of "
                      "this word has a piece, so it never gets there.")
    found = [lookup.candidate for lookup in lookups if lookup.found]
    return concept(
        rng, f"BERT's WordPiece tokenizer (MiniLM's {tokenization.load('wordpiece').vocab_size:,}-token "
        f"vocabulary) cuts the word `{word}`. Which pieces does it give?", shown(pieces), wrong,
        f"From the left it takes the longest piece in the vocabulary, then continues after it; pieces after the "
        f"first carry `##`. It tried {len(lookups)} candidates and kept {', '.join(f'`{c}`' for c in found)}: "
        f"**{shown(pieces)}**.")


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
    wrong = {_pair(first.pair): f"That was merge 1: after it, `{''.join(first.pair)}` is one symbol, so the pair "
             "no longer exists to be merged again."}
    for pair, count in second.pair_counts.iloc[1:3].itertuples(index=False):
        wrong.setdefault(pair, f"After merge 1 it occurs {count} times, fewer than {_pair(second.pair)} "
                         f"({second.count}): BPE always takes the most frequent pair.")
    corpus = ", ".join(f"`{word}` ×{n}" for word, n in counts.items())
    top = ", ".join(f"{p} ({n})" for p, n in second.pair_counts.head(3).itertuples(index=False))
    return concept(
        rng, f"BPE is trained on a tiny corpus of word counts: {corpus}. It starts from single characters and "
        "merges the most frequent neighbouring pair, again and again. Which pair does the **second** merge join?",
        _pair(second.pair), wrong,
        f"Merge 1: **{_pair(first.pair)}** occurs {first.count} times (each word counts as often as it appears), "
        f"so it becomes `{''.join(first.pair)}` everywhere. Counting again: {top}. Merge 2 joins "
        f"**{_pair(second.pair)}** ({second.count} times).")


def _language_cost(rng: random.Random) -> Question:
    language = rng.choice([name for name in SAMPLES["translations"] if name != SAMPLES["baseline"]])
    text, english = SAMPLES["samples"][language], SAMPLES["samples"][SAMPLES["baseline"]]
    gpt2 = tokenization.load("gpt2")
    counts = {name: gpt2.encode(t).num_text_tokens for name, t in ((language, text), ("English", english))}
    o200k = tokenization.load("o200k_base").encode(text).num_text_tokens
    return concept(
        rng, f"The same sentence in English and in {language}: *{english}* / *{text}*. GPT-2's tokenizer makes "
        f"{counts['English']} tokens of the English and {counts[language]} of the {language}. Why the difference?",
        "GPT-2's merges were learned on mostly English text, so other languages are left in smaller pieces",
        {f"{language} needs more words to say the same thing":
         "The sentences say the same thing; the difference is in how many pieces each word is cut into, which "
         "depends on what the tokenizer saw in training.",
         "Every character outside ASCII always costs one token per byte":
         f"Only when no merge covers it. o200k_base, trained on far more languages, makes {o200k} tokens of the "
         f"same {language} sentence.",
         "Tokenizers always cut non-English text into single characters":
         "They cut it into whatever pieces their merges know; a tokenizer trained on that language keeps whole "
         "words."},
        f"BPE learns its merges from its training text: frequent English words became single tokens, "
        f"{language} words mostly did not. The lesson's language table shows the same sentence costing "
        f"{counts[language] / counts['English']:.1f}× the English in GPT-2, and o200k_base ({o200k} tokens) "
        "narrowing the gap with a vocabulary trained on many languages.")


def _fewest_tokens(rng: random.Random) -> Question:
    while True:
        text, keys = rng.choice(PREDICT_TEXTS), tuple(sorted(rng.sample(sorted(tokenization.BUNDLED), 4)))
        counts = _token_counts(text, keys)
        if sorted(counts.values())[0] < sorted(counts.values())[1]:  # one clear winner
            break
    return predict(
        f"Which of these tokenizers makes the **fewest** tokens of *{text}* (special tokens such as [CLS] not "
        "counted)?",
        tuple(tokenization.load(key).name for key in keys),
        "A tokenizer makes few tokens of a text when its vocabulary holds long pieces of it: that depends on how "
        "big the vocabulary is and on what text it was trained on.",
        reveal_fewest_tokens, text, keys)


def _token_counts(text: str, keys: tuple[str, ...]) -> dict[str, int]:
    return {tokenization.load(key).name: tokenization.load(key).encode(text).num_text_tokens for key in keys}


def reveal_fewest_tokens(text: str, keys: tuple[str, ...]) -> Reveal:
    encodings = {tokenization.load(key).name: tokenization.load(key).encode(text) for key in keys}
    counts = {name: e.num_text_tokens for name, e in encodings.items()}
    fewest = min(counts, key=counts.get)
    return Reveal(
        fewest,
        f"Tokenized just now: **{fewest}** makes {counts[fewest]} tokens; the most is "
        f"{max(counts.values())} ({max(counts, key=counts.get)}).",
        pd.DataFrame({"tokenizer": list(counts), "tokens": list(counts.values()),
                      "vocabulary": [tokenization.load(key).vocab_size for key in keys],
                      "pieces": [" · ".join(tokenization.chip_label(t) for t in e.tokens if not t.added)
                                 for e in encodings.values()]}))


def questions(rng: random.Random) -> list[Question]:
    return [_gpt2_word(rng), _wordpiece(rng), _bpe_second_merge(rng), _language_cost(rng), _fewest_tokens(rng)]
