"""Streamlit and Plotly helpers for the attention lesson: labelled heatmaps,
tables and cached real-model runs. The maths lives in lib/attention.py and
lib/attention_models.py."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lib import attention as att
from lib import attention_models, bertviz_offline, models, ui, urlstate

SIMILARITY_COLOURS = {"high positive (same direction)": "#0072B2", "positive (similar)": "#56B4E9",
                      "zero (perpendicular)": "#999999", "negative (opposite)": "#E69F00"}


def fast_figure(spec: dict) -> go.Figure:
    """A Figure from a plain spec without plotly's per-property validation and
    without its default template (Streamlit's theme styles the chart anyway):
    both cost ~10x more than the page's own maths for these small charts.
    tests/test_attention.py builds every spec with validation on, so a typo
    still fails there."""
    spec["layout"].setdefault("template", {})
    return go.Figure(spec, _validate=False)


def heatmap_spec(matrix, x_labels: list[str], y_labels: list[str], title: str, x_title: str,
                 y_title: str, diverging: bool = False, annotate: bool = True) -> dict:
    """A labelled heatmap; rows read top to bottom like the matrix on paper.
    -inf (masked) cells are shown empty and labelled "masked"."""
    values = np.asarray(matrix, dtype=float)
    finite = np.isfinite(values)
    trace = dict(type="heatmap", z=np.where(finite, values, np.nan), x=x_labels, y=y_labels,
                 colorscale="RdBu" if diverging else "Viridis",
                 hovertemplate=f"{y_title}: %{{y}}<br>{x_title}: %{{x}}<br>value: %{{z:.4f}}<extra></extra>")
    if diverging:
        trace["zmid"] = 0
    if annotate and values.size <= 400:
        trace.update(text=np.where(finite, np.char.mod("%.2f", np.nan_to_num(values)), "masked"),
                     texttemplate="%{text}")
    return dict(data=[trace], layout=dict(
        title=dict(text=title), margin=dict(l=10, r=10, t=50, b=10),
        height=max(260, 28 * len(y_labels) + 120),
        xaxis=dict(title=dict(text=x_title), type="category"),
        yaxis=dict(title=dict(text=y_title), type="category", autorange="reversed")))


def heatmap(*args, **kwargs) -> go.Figure:
    return fast_figure(heatmap_spec(*args, **kwargs))


def numbered(labels: list[str]) -> list[str]:
    """Unique axis labels: 'cat' twice becomes '2 cat' and '6 cat'."""
    return [f"{i + 1} {label}" for i, label in enumerate(labels)]


def weights_table(weights, labels: list[str]) -> pd.DataFrame:
    """The softmax matrix with a 'row sum' column (always 1)."""
    table = pd.DataFrame(np.asarray(weights, dtype=float), index=labels, columns=labels)
    table["row sum"] = table.sum(axis=1)
    return table


def dot_product_figure(reference, rows: list[dict]) -> go.Figure:
    fig = go.Figure()
    vectors = [{"vector": "v_ref", "x": reference[0], "y": reference[1],
                "similarity": None}] + rows
    for row in vectors:
        colour = SIMILARITY_COLOURS.get(row["similarity"], "#000000")
        label = row["vector"] if row["similarity"] is None else f"{row['vector']} · v_ref = {row['dot']:g}"
        fig.add_trace(go.Scatter(x=[0, row["x"]], y=[0, row["y"]], mode="lines+markers+text",
                                 line=dict(color=colour, width=4 if row["similarity"] is None else 2),
                                 text=["", row["vector"]], textposition="top center", name=label))
    span = max(5.0, *(abs(v) for r in vectors for v in (r["x"], r["y"]))) + 1
    fig.update_layout(title="Vectors in 2-D, coloured by their dot product with v_ref",
                      xaxis=dict(title="x", range=[-span, span], zeroline=True),
                      yaxis=dict(title="y", range=[-span, span], scaleanchor="x"), height=420)
    return fig


def probability_bars(step: attention_models.GenerationStep, title: str) -> go.Figure:
    colours = ["#0072B2" if c == step.token else "#BBBBBB" for c in step.candidates]
    labels = [repr(c) for c in step.candidates]
    fig = go.Figure(go.Bar(x=step.probabilities, y=labels, orientation="h", marker_color=colours,
                           text=[f"{p:.1%}" for p in step.probabilities], textposition="auto"))
    fig.update_layout(title=title, xaxis_title="probability of being the next token",
                      yaxis_title="candidate token", yaxis_autorange="reversed", height=380,
                      xaxis_range=[0, 1])
    return fig


@st.cache_data(max_entries=4, show_spinner="Running the model with output_attentions=True…")
def real_attention(_loaded, model_key: str, text: str) -> attention_models.ModelAttention:
    """Cached per (model, device, text); `_loaded` is not hashed, `model_key` names it."""
    return attention_models.model_attention(_loaded, text)


@st.cache_data(max_entries=4, show_spinner="Drawing bertviz…")
def bertviz_page(view: str, attentions: np.ndarray, tokens: tuple[str, ...]) -> bertviz_offline.BertvizPage:
    return bertviz_offline.render(view, attentions, list(tokens))


# --- settings shared by link, and teacher presets ------------------------------------

AVERAGE = "average over heads"
MAX_LAYERS, MAX_HEADS = 64, 64  # a link is checked against these; the page then fits it to the model
SENTENCE_CHARS = 400
VECTORS = {"ref": att.REFERENCE_VECTOR, **att.COURSE_VECTORS}
SHARED = {
    **{f"{name}{axis}": urlstate.Float(f"attention_{name}_{axis}", value, -1000.0, 1000.0)
       for name, vector in VECTORS.items() for axis, value in zip("xy", vector)},
    "s": urlstate.Text("attention_sentence", att.DEFAULT_SENTENCE, SENTENCE_CHARS),
    "dm": urlstate.Choice("attention_d_model", 8, [4, 8, 16, 32, 64, 512]),
    "dk": urlstate.Choice("attention_d_k", 4, [2, 4, 8, 16, 64]),
    "seed": urlstate.Int("attention_seed", 0, 0, 10_000),
    "scale": urlstate.Bool("attention_scale", True),
    "causal": urlstate.Bool("attention_causal", False),
    "heads": urlstate.Choice("attention_heads", 2, [1, 2, 4]),
    "pelen": urlstate.Int("attention_pe_len", 50, 8, 128),
    "pedim": urlstate.Choice("attention_pe_dim", 64, [16, 32, 64, 128, 512]),
    "enc": urlstate.Choice("attention_encoder_model", models.OFFLINE_DEFAULT["encoder"], lambda: ui.model_choices("encoder")),
    "dec": urlstate.Choice("attention_decoder_model", models.OFFLINE_DEFAULT["decoder"], lambda: ui.model_choices("decoder")),
    "role": urlstate.Choice("attention_role", "encoder", ["encoder", "decoder"]),
    "text": urlstate.Text("attention_real_text", att.DEFAULT_SENTENCE),
    **{f"{prefix}layer": urlstate.Int(f"attention_layer_{role}", 1, 1, MAX_LAYERS)
       for prefix, role in (("", "encoder"), ("d", "decoder"))},
    **{f"{prefix}head": urlstate.Choice(f"attention_head_{role}", AVERAGE, [AVERAGE, *range(1, MAX_HEADS + 1)])
       for prefix, role in (("", "encoder"), ("d", "decoder"))},
    "prompt": urlstate.Text("attention_prompt", "The cat chased the mouse and"),
    "sample": urlstate.Bool("attention_sampling", False),
    "temp": urlstate.Float("attention_temperature", 0.8, 0.1, 2.0),
    "topk": urlstate.Int("attention_top_k", 20, 0, 100),
    "new": urlstate.Int("attention_new_tokens", 10, 1, 30),
    "gseed": urlstate.Int("attention_gen_seed", 0, 0, 10_000),
}
PRONOUN = "The animal didn't cross the street because it was too tired."
# Heads of the bundled MiniLM picked by looking (tests/test_page_attention.py checks them): layer 4 head 2
# puts most of "it"'s weight on "animal"; layer 3 head 10 sends the second "cat" to the first. Toy seed 44
# gives the second "cat" its largest weights on both copies of "cat".
PRESETS = {
    "Pronoun resolution": {"s": PRONOUN, "text": PRONOUN, "layer": 4, "head": 2},
    "Repeated word": {"seed": 44, "layer": 3, "head": 10},
    "Causal vs bidirectional": {"causal": True, "role": "decoder"},
}


def fit_to_model(role: str, num_layers: int, num_heads: int) -> None:
    """A link or preset may name a layer or head this model lacks (a link made with a bigger Hub
    model): show the nearest one instead, and say so."""
    layer_key, head_key = f"attention_layer_{role}", f"attention_head_{role}"
    layer, head = st.session_state[layer_key], st.session_state[head_key]
    if layer > num_layers or (head != AVERAGE and head > num_heads):
        st.session_state[layer_key] = min(layer, num_layers)
        st.session_state[head_key] = head if head == AVERAGE else min(head, num_heads)
        st.caption(f"This model has {num_layers} layers of {num_heads} heads: the link's layer and head were "
                   "moved to the nearest ones it has.")
