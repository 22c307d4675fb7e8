"""Streamlit and Plotly helpers for the tokenizers lesson: the shared, cached
tokenizers, token chips, and the lesson's charts. All tokenizer logic lives in
lib/tokenization.py and lib/tokenization_algorithms.py."""
from __future__ import annotations

import json
import threading
import time

import pandas as pd
import plotly.express as px
import streamlit as st

from lessons.widgets import charts, common
from lib import model_registry, prose, tokenization, urlstate
from lib import tokenization_algorithms as algorithms
from lib.markup import code_span
from lib.tokenization import Encoding, TokenizerView

SAMPLES = json.loads((prose.LESSON_DIR / "tokenizers" / "samples.json").read_text(encoding="utf-8"))
PALETTE = px.colors.qualitative.Safe  # colour-blind-safe qualitative colours
DEFAULT_TEXT = "Tokenizers find 'unbelievable' words unbelievably easy: 12345 apples, naïve café, 猫!"
CORPUS_SOURCES = ["Python's documentation (bundled)", "Paste text", "Upload a text file"]
MAX_MERGES = 20  # merges the BPE step-through computes

# --- settings shared by link, and teacher presets ------------------------------------

SHARED = {
    "text": urlstate.Text("tokenizers_text", DEFAULT_TEXT),
    "hub": urlstate.Text("tokenizers_hub_id", "", max_chars=100),
    "corpus": urlstate.Text("tokenizers_bpe_corpus", algorithms.SAMPLE_BPE_CORPUS),
    "merge": urlstate.Int("tokenizers_bpe_step", 1, 1, MAX_MERGES),
    "words": urlstate.Text("tokenizers_words", "Tokenization is unbelievably useful"),
    "phrase": urlstate.Text("tokenizers_phrase", "unbelievable tokenization", max_chars=200),
    "source": urlstate.Choice("tokenizers_corpus_source", CORPUS_SOURCES[0], CORPUS_SOURCES),
    "algo": urlstate.Choice("tokenizers_algorithm", tokenization.TRAIN_ALGORITHMS[0], tokenization.TRAIN_ALGORITHMS),
    "vocab": urlstate.Int("tokenizers_vocab_size", 2_000, 300, 30_000),
}
PRESETS = {
    "Rare words fall apart": {"text": "Antidisestablishmentarianism is unbelievably rare; cats are not.",
                              "words": "antidisestablishmentarianism unbelievably cats",
                              "phrase": "antidisestablishmentarianism"},
    "Numbers, emoji and other scripts": {"text": "In 2024, 1234567 people paid $19.99 for 🤖🎉 — 東京 and Straße too."},
    "Python code": {"text": "def tokenize(text):\n    return text.split()  # four spaces of indent",
                    "algo": "BPE", "vocab": 1_000},
}


def merge_number(merges: int) -> int:
    """The BPE merge the student steps to. A link may ask for a merge past this
    corpus's last one: the last one is shown instead."""
    if merges == 1:  # a slider needs two ends
        return 1
    if st.session_state.get("tokenizers_bpe_step", 1) > merges:
        st.session_state["tokenizers_bpe_step"] = merges
    return st.slider("Merge number", 1, merges, key="tokenizers_bpe_step")


@st.cache_resource(show_spinner="Loading the bundled tokenizers (once for the whole class)…")
def bundled_tokenizers() -> tuple[list[TokenizerView], list[str]]:
    return tokenization.load_all()


@st.cache_resource(max_entries=4, show_spinner="Fetching the tokenizer from the Hub…")
def _hub_tokenizer(hub_id: str) -> TokenizerView:
    return tokenization.load_hub_tokenizer(hub_id)


def hub_tokenizer(hub_id: str) -> TokenizerView | None:
    """The Hub tokenizer the student typed, or None with the reason shown."""
    if not hub_id.strip():
        return None
    try:
        return _hub_tokenizer(hub_id.strip())
    except model_registry.ModelUnavailable as err:
        st.warning(str(err), icon=":material/cloud_off:")
        return None


def bundled(key: str) -> TokenizerView | None:
    """One bundled tokenizer for a step-through, or None with the reason shown
    (on a server without its package and without the Hub)."""
    try:
        return tokenization.load(key)
    except model_registry.ModelUnavailable as err:
        st.warning(str(err), icon=":material/cloud_off:")
        return None


def capped(text: str, limit: int, what: str) -> str:
    """`text` cut to `limit` characters, saying so when it was cut."""
    kept, was_cut = tokenization.cap_text(text, limit)
    if was_cut:
        st.warning(f"The {what} has {len(text):,} characters; Glassbox uses the first {limit:,}.")
    return kept


def show_encoding(view: TokenizerView, encoding: Encoding) -> None:
    """A tokenizer's name (a Hub id can come from a link) and the student's decoded text go into
    Markdown only as code spans."""
    st.markdown(f"**{code_span(view.name)}** · {view.algorithm} · vocabulary {view.vocab_size:,}")
    st.html(tokenization.CHIP_CSS + tokenization.chips_html(encoding))
    trip = "exact" if encoding.round_trips else f"changed → {code_span(encoding.decoded[:80])}"
    st.caption(f"{encoding.num_tokens:,} tokens ({len(encoding.added_specials)} special tokens added, "
               f"{encoding.num_unknown} unknown) · {encoding.chars_per_token:.2f} characters per token · "
               f"round trip: {trip}")


def gap_sentence(names: list[str], sample: str, ratio: float) -> str:
    bold = [f"**{code_span(name)}**" for name in names]
    who = bold[0] if len(bold) == 1 else ", ".join(bold[:-1]) + " and " + bold[-1]
    return (f"The widest gap: {who} {'needs' if len(names) == 1 else 'need'} **{ratio:g}×** as many tokens for "
            f"the {sample} sentence as for the English one.")


def unknown_note(costs: pd.DataFrame) -> str | None:
    """Which tokenizers replaced parts of the samples by unknown tokens: their
    low counts there mean lost text, not efficiency."""
    lost = costs[costs["unknown"] > 0]
    if lost.empty:
        return None
    parts = [f"**{code_span(name)}**: " + ", ".join(f"{n} of {t} for {sample}" for sample, t, n in zip(
        rows["sample"], rows["tokens"], rows["unknown"])) for name, rows in lost.groupby("tokenizer", sort=False)]
    return ("Unknown tokens in the samples: " + "; ".join(parts) + ". A short count there is not efficiency: "
            "the model never sees what an unknown token replaced.")


def tokens_chart(summary: pd.DataFrame):
    fig = px.bar(summary, x="tokenizer", y="tokens", color="algorithm", text="tokens",
                 color_discrete_sequence=PALETTE, title="Tokens needed for your text")
    fig.update_layout(xaxis_title="Tokenizer", yaxis_title="Tokens (special tokens included)")
    return fig


def language_chart(costs: pd.DataFrame):
    fig = px.bar(costs, x="sample", y="tokens", color="tokenizer", barmode="group",
                 color_discrete_sequence=PALETTE, title="The same sentence costs different numbers of tokens")
    fig.update_layout(xaxis_title="Sample", yaxis_title="Tokens (without special tokens)")
    return fig


def pair_counts_chart(step, top: int = 15):
    tied = {f"{a} + {b}" for a, b in step.tied}
    chosen = f"{step.pair[0]} + {step.pair[1]}"
    counts = step.pair_counts.head(top).assign(chosen=lambda df: df["pair"].map(
        lambda pair: "merged" if pair == chosen else "as frequent, lost the tie" if pair in tied else "not yet"))
    fig = px.bar(counts, x="pair", y="count", color="chosen", title="Pair counts before this merge",
                 color_discrete_map={"merged": PALETTE[0], "as frequent, lost the tie": PALETTE[1],
                                     "not yet": "#bbbbbb"})
    fig.update_layout(xaxis_title="Neighbouring pair", yaxis_title="Occurrences in the corpus")
    return fig


def embedding_heatmap(rows, labels: list[str], dims: int = 64):
    return charts.heatmap(rows[:, :dims], y=[f"{i}: {label}" for i, label in enumerate(labels)], kind="diverging",
                          title=f"Embedding rows for your tokens (first {dims} of {rows.shape[1]} dimensions)",
                          x_title="Hidden dimension", y_title="Position: token", height=max(300, 22 * len(labels) + 120))


def download_trained(trained: dict) -> None:
    st.download_button("Download tokenizer.json", trained["json"], file_name="tokenizer.json",
                       mime="application/json", icon=":material/download:", key="tokenizers_download")


# --- sections of the "How the algorithms work" and "Train your own" tabs ---------------

def bpe_section() -> None:
    corpus = capped(st.text_area("A tiny corpus", key="tokenizers_bpe_corpus"),
                    algorithms.MAX_BPE_CORPUS_CHARS, "tiny corpus")
    steps = algorithms.bpe_merge_steps(corpus, num_merges=MAX_MERGES)
    if steps:
        merge_step(steps)
    else:
        st.warning("The corpus needs at least one word of two or more characters to merge anything.")


@common.fragment
def merge_step(steps: list[algorithms.MergeStep]) -> None:
    number = merge_number(len(steps))
    step = steps[number - 1]
    st.markdown(algorithms.merge_sentence(number, step))
    left, right = st.columns([3, 2])
    left.plotly_chart(pair_counts_chart(step), width="stretch")
    right.dataframe(step.words, hide_index=True, width="stretch")


def wordpiece_section() -> None:
    words = capped(st.text_input("Words to cut", key="tokenizers_words"), 500, "word list")
    wordpiece = bundled("wordpiece")
    if wordpiece:
        with wordpiece.lock:
            walkthrough = algorithms.wordpiece_walkthrough(wordpiece.tokenizer, words, wordpiece.vocab)
        st.dataframe(walkthrough, hide_index=True, width="stretch", key="tokenizers_wordpiece")


def sentencepiece_section() -> None:
    phrase = capped(st.text_input("A phrase", key="tokenizers_phrase"), 200, "phrase")
    unigram = bundled("unigram")
    if unigram and phrase.strip():
        st.markdown(f"SentencePiece sees: {code_span(algorithms.metaspace(phrase))}")
        show_encoding(unigram, unigram.encode(phrase))
        st.dataframe(unigram.segmentations(phrase), hide_index=True, width="stretch", key="tokenizers_nbest")


def corpus_input() -> str:
    """The training corpus the student chose (bundled, pasted or uploaded), capped."""
    source = st.radio("Corpus", CORPUS_SOURCES, horizontal=True, key="tokenizers_corpus_source")
    corpus = ""
    if source == CORPUS_SOURCES[0]:
        corpus = tokenization.bundled_corpus()
    elif source == CORPUS_SOURCES[1]:
        corpus = st.text_area("Corpus", height=150, key="tokenizers_corpus_text")
    elif upload := st.file_uploader("A UTF-8 text file", type=["txt", "md", "py", "csv", "json"],
                                    key="tokenizers_upload"):
        try:
            corpus = tokenization.decode_upload(upload.getvalue())
        except ValueError as err:
            st.error(str(err))
    return capped(corpus, tokenization.MAX_CORPUS_CHARS, "corpus")


def train_with_progress(corpus: str, algorithm: str, vocab_size: int) -> tuple[object | None, float]:
    """Train in a worker thread while a progress bar follows the trainer: first
    the share of lines read, then the seconds spent learning the vocabulary.
    None (with the reason in the status box) if the trainer fails."""
    progress, outcome = tokenization.TrainingProgress(lines=0), {}

    def work():
        try:
            outcome["tokenizer"] = tokenization.train(corpus, algorithm, vocab_size, progress)
        except Exception as err:  # noqa: BLE001 - shown to the student below
            outcome["error"] = err

    started, worker = time.perf_counter(), threading.Thread(target=work, daemon=True)
    with st.status(f"Training {algorithm} on {len(corpus):,} characters…", expanded=True) as status:
        bar = st.progress(0.0, text="Starting…")
        worker.start()
        while worker.is_alive():
            worker.join(0.1)
            if progress.fraction < 1:
                bar.progress(progress.fraction, text=f"Reading the corpus: {progress.read:,} of "
                                                     f"{progress.lines:,} lines")
            else:
                bar.progress(1.0, text=f"All {progress.lines:,} lines read; learning the vocabulary… "
                                       f"{time.perf_counter() - started:.1f} s")
        seconds = time.perf_counter() - started
        if "error" in outcome:
            status.update(label=f"Training failed: {outcome['error']}", state="error")
        else:
            status.update(label=f"Trained in {seconds:.1f} s", state="complete", expanded=False)
    return outcome.get("tokenizer"), seconds


def train_section(text: str, trained: dict | None) -> None:
    corpus = corpus_input()
    algorithm = st.radio("Algorithm", tokenization.TRAIN_ALGORITHMS, horizontal=True, key="tokenizers_algorithm")
    vocab_size = st.slider("Vocabulary size", 300, 30_000, step=100, key="tokenizers_vocab_size")
    if not corpus.strip():
        st.info("Choose a corpus with some text to train on.")
    elif st.button("Train my tokenizer", type="primary", key="tokenizers_train"):
        tokenizer, seconds = train_with_progress(corpus, algorithm, vocab_size)
        if tokenizer is None:
            return
        st.session_state["tokenizers_trained"] = {
            "json": tokenizer.to_str(), "seconds": seconds, "characters": len(corpus), "requested": vocab_size,
            "view": tokenization.trained_view(tokenizer.to_str(), algorithm)}
        st.rerun()
    if trained:
        show_trained(trained, text)


def show_trained(trained: dict, text: str) -> None:
    view = trained["view"]
    st.success(f"Your {view.algorithm} tokenizer: {view.vocab_size:,} tokens, trained on "
               f"{trained['characters']:,} characters in {trained['seconds']:.1f} s. It now appears in "
               "the comparisons on the other tabs.")
    if view.vocab_size < trained["requested"]:
        st.info(f"You asked for {trained['requested']:,} tokens, but this corpus only supports "
                f"{view.vocab_size:,}: the trainer ran out of pairs or pieces worth adding.")
    if text.strip():
        show_encoding(view, view.encode(text))
    download_trained(trained)
