"""Streamlit and Plotly helpers for the tokenizers lesson: the shared, cached
tokenizers, token chips, and the lesson's charts. All tokenizer logic lives in
lib/tokenization.py and lib/tokenizer_algorithms.py."""
from __future__ import annotations

import json

import pandas as pd
import plotly.express as px
import streamlit as st

from lib import models, tokenization, ui
from lib.tokenization import Encoding, TokenizerView

SAMPLES = json.loads((ui.LESSON_DIR / "tokenizers" / "samples.json").read_text(encoding="utf-8"))
PALETTE = px.colors.qualitative.Safe  # colour-blind-safe qualitative colours


@st.cache_resource(show_spinner="Loading seven tokenizers (once for the whole class)…")
def bundled_tokenizers() -> list[TokenizerView]:
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
    except models.ModelUnavailable as err:
        st.warning(str(err), icon=":material/cloud_off:")
        return None


def capped(text: str, limit: int, what: str) -> str:
    """`text` cut to `limit` characters, saying so when it was cut."""
    kept, was_cut = tokenization.cap_text(text, limit)
    if was_cut:
        st.warning(f"The {what} has {len(text):,} characters; Glassbox uses the first {limit:,}.")
    return kept


def show_encoding(view: TokenizerView, encoding: Encoding) -> None:
    st.markdown(f"**{view.name}** · {view.algorithm} · vocabulary {view.vocab_size:,}")
    st.html(tokenization.CHIP_CSS + tokenization.chips_html(encoding))
    trip = "exact" if encoding.round_trips else f"changed → `{encoding.decoded[:80]}`"
    st.caption(f"{encoding.num_tokens:,} tokens ({len(encoding.specials)} special, {encoding.num_unknown} "
               f"unknown) · {encoding.chars_per_token:.2f} characters per token · round trip: {trip}")


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
    counts = step.pair_counts.head(top).assign(
        chosen=lambda df: df["pair"].eq(f"{step.pair[0]} + {step.pair[1]}").map({True: "merged", False: "not yet"}))
    fig = px.bar(counts, x="pair", y="count", color="chosen", title="Pair counts before this merge",
                 color_discrete_map={"merged": PALETTE[0], "not yet": "#bbbbbb"})
    fig.update_layout(xaxis_title="Neighbouring pair", yaxis_title="Occurrences in the corpus")
    return fig


def embedding_heatmap(rows, labels: list[str], dims: int = 64):
    fig = px.imshow(rows[:, :dims], y=[f"{i}: {label}" for i, label in enumerate(labels)], aspect="auto",
                    color_continuous_scale="RdBu", color_continuous_midpoint=0.0,
                    title=f"Embedding rows for your tokens (first {dims} of {rows.shape[1]} dimensions)")
    fig.update_layout(xaxis_title="Hidden dimension", yaxis_title="Position: token",
                      height=max(300, 22 * len(labels) + 120))
    return fig


def download_trained(trained: dict) -> None:
    st.download_button("Download tokenizer.json", trained["json"], file_name="tokenizer.json",
                       mime="application/json", icon=":material/download:", key="tokenizers_download")
