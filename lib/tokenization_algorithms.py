"""The three subword algorithms written out in plain Python, slow and visible,
so a student can step through them: BPE training merge by merge, and
WordPiece's greedy longest match. Tests check both against the HuggingFace
`tokenizers` library (the fast Rust versions) on the same inputs.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pandas as pd

from lib.markup import code_span

SAMPLE_BPE_CORPUS = ("low low low low low lower lower newest newest newest newest newest newest "
                     "widest widest widest")
MAX_BPE_CORPUS_CHARS = 5_000  # the step-through is for small corpora: it recounts every pair at each step


@dataclass(frozen=True)
class MergeStep:
    pair: tuple[str, str]
    count: int
    pair_counts: pd.DataFrame  # every adjacent pair before this merge, most frequent first
    words: pd.DataFrame  # each distinct word's segmentation after this merge
    tied: tuple[tuple[str, str], ...] = ()  # pairs as frequent as `pair` that lost the tie-break


def word_counts(corpus: str) -> Counter:
    """Words split on whitespace, as `tokenizers`' WhitespaceSplit pre-tokenizer does."""
    return Counter(corpus.split())


def count_pairs(segmented: dict[str, list[str]], counts: Counter) -> Counter:
    pairs = Counter()
    for word, symbols in segmented.items():
        for left, right in zip(symbols, symbols[1:]):
            pairs[left, right] += counts[word]
    return pairs


def merge_word(symbols: list[str], pair: tuple[str, str]) -> list[str]:
    """Replace every occurrence of `pair`, left to right, by the joined symbol."""
    merged, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            merged.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            merged.append(symbols[i])
            i += 1
    return merged


def bpe_merge_steps(corpus: str, num_merges: int) -> list[MergeStep]:
    """Train BPE by hand: start from single characters and, `num_merges` times,
    merge the most frequent adjacent pair. Ties go to the pair whose symbols
    entered the vocabulary first (characters in Unicode order, then merges in
    the order they were made), the rule `tokenizers`' BpeTrainer uses."""
    counts = word_counts(corpus)
    segmented = {word: list(word) for word in counts}
    vocab_order = {ch: i for i, ch in enumerate(sorted({ch for word in counts for ch in word}))}
    steps = []
    for _ in range(num_merges):
        pairs = count_pairs(segmented, counts)
        if not pairs:
            break
        pair = max(pairs, key=lambda p: (pairs[p], -vocab_order[p[0]], -vocab_order[p[1]]))
        vocab_order.setdefault(pair[0] + pair[1], len(vocab_order))
        segmented = {word: merge_word(symbols, pair) for word, symbols in segmented.items()}
        ranked = sorted(pairs.items(), key=lambda kv: (-kv[1], vocab_order[kv[0][0]], vocab_order[kv[0][1]]))
        steps.append(MergeStep(pair, pairs[pair],
                               pd.DataFrame([{"pair": f"{a} + {b}", "count": n} for (a, b), n in ranked]),
                               pd.DataFrame([{"word": w, "count": counts[w], "pieces": " ".join(s)}
                                             for w, s in segmented.items()]),
                               tuple(p for p, n in ranked if n == pairs[pair] and p != pair)))
    return steps


def merge_sentence(number: int, step: MergeStep) -> str:
    """What merge `number` did, in words, and why this pair when others were as frequent."""
    left, right = step.pair  # symbols of the student's corpus: code spans, so Markdown parses none of them
    sentence = (f"Merge {number}: the pair **{code_span(left)} + {code_span(right)}** occurs "
                f"**{step.count}** times, so it becomes the new symbol **{code_span(left + right)}**.")
    if step.tied:
        others = ", ".join(f"{code_span(a)} + {code_span(b)}" for a, b in step.tied)
        sentence += (f" {'The pair' if len(step.tied) == 1 else 'The pairs'} {others} "
                     f"{'occurs' if len(step.tied) == 1 else 'occur'} just as often: a tie goes to the "
                     "pair whose symbols joined the vocabulary first (single characters in Unicode order, then "
                     "merged symbols in the order they were made), as in the `tokenizers` trainer.")
    return sentence


# --- WordPiece ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Lookup:
    start: int
    candidate: str
    found: bool


def wordpiece_greedy(word: str, vocab: set[str] | dict, prefix: str = "##",
                     unk: str = "[UNK]", max_chars: int = 100) -> tuple[list[str], list[Lookup]]:
    """BERT's WordPiece: from the left, take the longest piece in the vocabulary
    (pieces after the first carry `prefix`); if nothing matches at some point,
    the whole word becomes `unk`. Returns the pieces and every lookup tried."""
    if len(word) > max_chars:
        return [unk], []
    pieces, lookups, start = [], [], 0
    while start < len(word):
        for end in range(len(word), start, -1):
            candidate = (prefix if start else "") + word[start:end]
            found = candidate in vocab
            lookups.append(Lookup(start, candidate, found))
            if found:
                pieces.append(candidate)
                start = end
                break
        else:
            return [unk], lookups
    return pieces, lookups


def wordpiece_walkthrough(tokenizer, text: str, vocab: dict | None = None) -> pd.DataFrame:
    """Each word of `text` as a `tokenizers` WordPiece tokenizer sees it (after
    its normalizer and pre-tokenizer), cut by `wordpiece_greedy` (with `vocab`,
    the tokenizer's vocabulary, when the caller has it at hand)."""
    vocab = vocab or tokenizer.get_vocab()
    normalized = tokenizer.normalizer.normalize_str(text) if tokenizer.normalizer else text
    rows = []
    for word, _span in tokenizer.pre_tokenizer.pre_tokenize_str(normalized):
        pieces, lookups = wordpiece_greedy(word, vocab)
        rows.append({"word": word, "pieces": " ".join(pieces), "lookups": len(lookups),
                     "tried": " → ".join(l.candidate + ("" if not l.found else " ✓") for l in lookups[:12])
                     + (" …" if len(lookups) > 12 else "")})
    return pd.DataFrame(rows, columns=["word", "pieces", "lookups", "tried"])


def metaspace(text: str) -> str:
    """SentencePiece's view of spaces with its default normalisation: runs of
    whitespace become one ▁ that belongs to the next word, and the text gets a
    leading ▁ so the first word looks like every other."""
    return "▁" + "▁".join(text.split())
