"""Charts and live views for the fine-tuning and tiny-GPT lessons."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lib import finetune as ft


def loss_chart(logs: list[ft.Log], title: str = "Training and validation loss") -> go.Figure:
    steps = [l for l in logs if l.train_loss is not None]
    evals = [l for l in logs if l.val_loss is not None]
    fig = go.Figure()
    fig.add_scatter(x=[l.epoch for l in steps], y=[l.train_loss for l in steps], name="train loss (per step)",
                    mode="lines", line={"color": "#3b6fb6"})
    fig.add_scatter(x=[l.epoch for l in evals], y=[l.val_loss for l in evals], name="validation loss",
                    mode="lines+markers", line={"color": "#e69f00", "width": 3})
    fig.add_scatter(x=[l.epoch for l in evals], y=[l.val_accuracy for l in evals], name="validation accuracy",
                    mode="lines+markers", yaxis="y2", line={"color": "#009e73", "dash": "dot"})
    fig.update_layout(title=title, xaxis_title="epoch", yaxis_title="cross-entropy loss",
                      yaxis2={"title": "accuracy", "overlaying": "y", "side": "right", "range": [0, 1]},
                      legend={"orientation": "h", "y": -0.25}, height=380)
    return fig


def confusion_chart(confusion: np.ndarray, label_names: list[str]) -> go.Figure:
    fig = go.Figure(go.Heatmap(z=confusion, x=label_names, y=label_names, colorscale="Blues",
                               text=confusion, texttemplate="%{text}", showscale=False))
    fig.update_layout(title="Confusion matrix (test set)", xaxis_title="predicted", yaxis_title="true",
                      yaxis={"autorange": "reversed"}, height=340)
    return fig


def pr_chart(y_true, scores, positive: str) -> go.Figure:
    precision, recall = ft.precision_recall_curve(y_true, scores)
    fig = go.Figure(go.Scatter(x=recall, y=precision, mode="lines", line={"color": "#3b6fb6"}))
    fig.update_layout(title=f"Precision-recall curve for '{positive}'", xaxis_title="recall",
                      yaxis_title="precision", xaxis_range=[0, 1.02], yaxis_range=[0, 1.02], height=340)
    return fig


def attention_pair(before: tuple[list[str], np.ndarray], after: tuple[list[str], np.ndarray]) -> None:
    left, right = st.columns(2)
    for column, (tokens, weights), label in ((left, before, "before"), (right, after, "after")):
        fig = go.Figure(go.Heatmap(z=weights, x=tokens, y=tokens, colorscale="Viridis", zmin=0,
                                   colorbar={"title": "weight"}))
        fig.update_layout(title=f"Last layer, mean over heads — {label} fine-tuning", height=420,
                          xaxis_title="attended-to token", yaxis_title="query token",
                          yaxis={"autorange": "reversed"})
        column.plotly_chart(fig, width="stretch")


def metrics_row(metrics: dict, baseline: dict | None = None) -> None:
    cols = st.columns(4)
    for col, name in zip(cols, ["accuracy", "precision", "recall", "f1"]):
        delta = None if baseline is None else f"{metrics[name] - baseline[name]:+.1%} vs zero-shot"
        col.metric(name.upper() if name == "f1" else name.capitalize(), f"{metrics[name]:.1%}", delta)


def sweep_chart(table: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for epochs, rows in table.groupby("epochs"):
        fig.add_scatter(x=rows["learning rate"], y=rows["validation accuracy"], mode="lines+markers",
                        name=f"{epochs} epoch(s)")
    fig.update_layout(title="Sweep: validation accuracy by learning rate", xaxis_type="log",
                      xaxis_title="learning rate (log scale)", yaxis_title="validation accuracy", height=360)
    return fig


def gpt_loss_chart(run) -> go.Figure:
    """Train/validation loss of a tiny-GPT run against its unigram baseline."""
    history = pd.DataFrame([vars(p) for p in run.history])
    evals = history.dropna(subset=["val_loss"])
    fig = go.Figure()
    fig.add_scatter(x=history["step"], y=history["train_loss"], name="train loss", mode="lines",
                    line={"color": "#3b6fb6"})
    fig.add_scatter(x=evals["step"], y=evals["val_loss"], name="validation loss", mode="lines+markers",
                    line={"color": "#e69f00", "width": 3})
    fig.add_hline(y=run.baseline, line_dash="dash", annotation_text=f"unigram baseline {run.baseline:.2f}")
    fig.update_layout(title="Next-character cross-entropy (nats)", xaxis_title="step", yaxis_title="loss",
                      height=360)
    return fig
