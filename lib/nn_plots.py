"""Plotly figures for the neural-network lesson. Colour-blind-safe: the two
classes differ in colour (blue/orange) and in marker shape."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lib import nn

CLASS_STYLE = {0: dict(color="#1f77b4", symbol="circle"), 1: dict(color="#ff7f0e", symbol="x")}


def activation_figure(hidden_act: str, z: float) -> go.Figure:
    zs = np.linspace(-5, 5, 401)
    fig = go.Figure()
    fig.add_scatter(x=zs, y=nn.activate(hidden_act, zs), name=f"{hidden_act}(z)", line=dict(width=3))
    fig.add_scatter(x=zs, y=nn.activation_grad(hidden_act, zs), name=f"{hidden_act}′(z) (slope)",
                    line=dict(dash="dash"))
    fig.add_scatter(x=[z], y=[float(nn.activate(hidden_act, z))], mode="markers", name="this neuron",
                    marker=dict(size=14, color="black"))
    fig.update_layout(title=f"{hidden_act} and its derivative", xaxis_title="z = w·x + b",
                      yaxis_title="output", height=340, margin=dict(t=50, b=40))
    return fig


def _points(fig: go.Figure, X, y, row=None, col=None, showlegend=True) -> None:
    for label, style in CLASS_STYLE.items():
        mask = y == label
        fig.add_scatter(x=X[mask, 0], y=X[mask, 1], mode="markers", name=f"class {label}",
                        marker=dict(size=6, line=dict(width=1, color="white"), **style),
                        showlegend=showlegend, row=row, col=col)


def boundary_figure(axis, prob, X, y, title: str) -> go.Figure:
    fig = go.Figure()
    fig.add_contour(x=axis, y=axis, z=prob, colorscale="RdBu_r", zmin=0, zmax=1, opacity=0.75,
                    contours=dict(start=0, end=1, size=0.1), colorbar=dict(title="P(class 1)"))
    _points(fig, X, y)
    fig.update_layout(title=title, xaxis_title="x₁", yaxis_title="x₂", height=460,
                      legend=dict(orientation="h", y=-0.15), margin=dict(t=50))
    fig.update_yaxes(scaleanchor="x")
    return fig


def units_figure(axis, layer_states, layer: int) -> go.Figure:
    """Each unit of hidden layer `layer`: its activation over the input plane."""
    units = layer_states.shape[0]
    cols = min(units, 4)
    rows = -(-units // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[f"unit {u + 1}" for u in range(units)],
                        horizontal_spacing=0.04, vertical_spacing=0.12)
    low, high = float(layer_states.min()), float(layer_states.max())  # one scale for every unit
    for u in range(units):
        fig.add_heatmap(x=axis, y=axis, z=layer_states[u], colorscale="Cividis", zmin=low, zmax=high,
                        showscale=u == 0, colorbar=dict(title="activation"), row=u // cols + 1, col=u % cols + 1)
    fig.update_layout(title=f"What each unit of hidden layer {layer + 1} responds to",
                      height=220 * rows + 100, margin=dict(t=80))
    fig.update_xaxes(showticklabels=False, title=dict(text="x₁", standoff=0))
    fig.update_yaxes(showticklabels=False, title=dict(text="x₂", standoff=0))
    return fig


def loss_figure(history: list[nn.Step], title: str = "Loss while training") -> go.Figure:
    steps = [s.step for s in history]
    fig = go.Figure()
    fig.add_scatter(x=steps, y=[s.train_loss for s in history], name="training loss")
    fig.add_scatter(x=steps, y=[s.val_loss for s in history], name="validation loss", line=dict(dash="dash"))
    fig.update_layout(title=title, xaxis_title="step", yaxis_title="cross-entropy loss", height=340,
                      margin=dict(t=50))
    return fig


def fit_figure(runs: dict[str, list[nn.Step]]) -> go.Figure:
    """Training vs validation loss for several networks on the same data."""
    fig = make_subplots(rows=1, cols=len(runs), subplot_titles=list(runs), shared_yaxes=True)
    for col, history in enumerate(runs.values(), start=1):
        steps = [s.step for s in history]
        fig.add_scatter(x=steps, y=[s.train_loss for s in history], name="training loss",
                        line=dict(color="#1f77b4"), showlegend=col == 1, row=1, col=col)
        fig.add_scatter(x=steps, y=[s.val_loss for s in history], name="validation loss",
                        line=dict(color="#ff7f0e", dash="dash"), showlegend=col == 1, row=1, col=col)
        fig.update_xaxes(title_text="step", row=1, col=col)
    fig.update_yaxes(title_text="cross-entropy loss")
    fig.update_layout(title="Underfitting and overfitting: the same data, three network sizes", height=380,
                      margin=dict(t=80))
    return fig


def digits_figure(images, labels, predictions) -> go.Figure:
    """A row of 8×8 digit images titled with the network's guess."""
    n = len(images)
    titles = [f"{'✓' if p == t else '✗'} guess {p} (is {t})" for p, t in zip(predictions, labels)]
    fig = make_subplots(rows=1, cols=n, subplot_titles=titles, horizontal_spacing=0.02)
    for i, image in enumerate(images):
        fig.add_heatmap(z=np.asarray(image).reshape(8, 8)[::-1], colorscale="gray_r", showscale=False,
                        row=1, col=i + 1)
    fig.update_xaxes(visible=False)  # pixel grids: the axes carry nothing to read
    fig.update_yaxes(visible=False, scaleanchor="x")
    fig.update_layout(title="Validation digits and the network's guesses", height=220, margin=dict(t=80),
                      font=dict(size=11))
    return fig
