"""Streamlit and Plotly helpers for the attention lesson: labelled heatmaps,
tables and cached real-model runs. The maths lives in lib/attention.py and
lib/attention_models.py."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lib import attention_models, bertviz_offline

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
