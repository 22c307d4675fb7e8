"""Heatmaps for every lesson, with one colour convention (Plotly only).

- SEQUENTIAL, viridis, for values that grow from a floor: weights, probabilities, counts,
  magnitudes, activations that cannot go negative. It is perceptually uniform, readable with
  every common colour blindness and in grayscale print, and it is the scale the theme gives
  Streamlit's own charts (chartSequentialColors in .streamlit/config.toml).
- DIVERGING, ColorBrewer's RdBu reversed (blue negative, white zero, red positive), for signed
  values. Its range is always centred on 0 and symmetric (zmin = -zmax), so white means zero
  and equal shades mean equal sizes on both sides. Blue against red has no green in it, so it
  stays two-sided for red-green colour-blind students.
- GRAYSCALE, black to white, for pictures shown as pixels (photos, the 8×8 digits): brightness
  is the value, as in the picture itself.
- OVERLAY, the sequential scale with its low end see-through, for importance drawn over a
  picture (Grad-CAM, saliency).

A two-class probability, such as the neural network's decision boundary, uses DIVERGING over
0..1: its neutral value is the 0.5 threshold, so the range stays symmetric around it.
"""
from __future__ import annotations

import math
import textwrap

import numpy as np
import plotly.colors
import plotly.graph_objects as go

SEQUENTIAL = plotly.colors.make_colorscale(plotly.colors.sequential.Viridis)
DIVERGING = plotly.colors.make_colorscale(plotly.colors.diverging.RdBu_r)
GRAYSCALE = [[0.0, "rgb(0,0,0)"], [1.0, "rgb(255,255,255)"]]


def _see_through(scale: list, opacities: dict[float, float]) -> list:
    """`scale` sampled at each position, with that position's opacity."""
    colours = plotly.colors.sample_colorscale(scale, list(opacities))
    return [[position, "rgba({:.0f},{:.0f},{:.0f},{})".format(*plotly.colors.unlabel_rgb(colour), opacity)]
            for (position, opacity), colour in zip(opacities.items(), colours)]


OVERLAY = _see_through(SEQUENTIAL, {0.0: 0, 0.25: 0.3, 0.5: 0.5, 0.75: 0.65, 1.0: 0.8})
SCALES = {"sequential": SEQUENTIAL, "diverging": DIVERGING, "image": GRAYSCALE, "overlay": OVERLAY}
MAX_CELL_TEXT = 400  # beyond this many cells the written numbers overlap into noise
MAX_HEIGHT = 640  # a long sequence's rows get thinner rather than the chart taller than a screen
# Characters per line of a chart's title and axis titles, by the share of the main column the chart
# has. Plotly never wraps text: a longer line runs past the chart's edge and is cut off. Measured
# at the largest type, classroom mode at 1280×720 (about 9.3 px a character, a main column of 790 px).
LINE_CHARS = {"full": 70, "half": 34, "third": 22}
TITLE_LINE_PX = 24  # the top margin grows by this for every extra line of title


def numbered(labels: list[str]) -> list[str]:
    """Unique axis labels: 'cat' twice becomes '2 cat' and '6 cat' (a category axis merges repeats)."""
    return [f"{i + 1} {label}" for i, label in enumerate(labels)]


def distinct(labels: list[str]) -> list[str]:
    """The labels as they are when none repeats, else numbered()."""
    return list(labels) if len(set(labels)) == len(labels) else numbered(labels)


def wrapped(text: str, chars: int) -> str:
    """`text` broken at spaces into lines of at most `chars` characters, for a Plotly title."""
    return "<br>".join(textwrap.wrap(text, chars, break_on_hyphens=False)) or text


def extra_title_px(title: str) -> int:
    """The room a wrapped title's lines after its first take: add it to the top margin and to the
    figure's height. Taken from the plot instead, a heatmap's rows get too thin for their labels
    and Plotly leaves every other one out."""
    return TITLE_LINE_PX * title.count("<br>")


def side_by_side(figures: list[go.Figure]) -> list[go.Figure]:
    """Figures for one row of columns, their plots lined up: each gets the tallest top margin among
    them (a title wrapped to two lines in one column would push only its own plot down), and grows
    by what it gains, so its plot keeps its size. Every figure must have its height set."""
    top = max(figure.layout.margin.t or 0 for figure in figures)
    for figure in figures:
        figure.update_layout(height=figure.layout.height + top - (figure.layout.margin.t or 0), margin_t=top)
    return figures


def colour_range(z, kind: str, zrange: tuple[float, float] | None = None) -> tuple[float, float]:
    """The values the colours span: `zrange` if given, else the data's finite range; for the
    diverging kind always (-a, a), with a = max |z| by default."""
    if zrange is not None:
        low, high = float(zrange[0]), float(zrange[1])
        if kind == "diverging" and low != -high:
            raise ValueError(f"a diverging scale is centred on 0: its range must be (-a, a), not {zrange}")
        return low, high
    values = np.asarray(z, dtype=float)
    finite = values[np.isfinite(values)]
    if kind == "diverging":
        limit = float(np.abs(finite).max()) if finite.size else 0.0
        return -(limit or 1.0), limit or 1.0
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)


def format_cells(z, spec: str) -> np.ndarray:
    """Each value written with the format `spec` (".2f", "d"); -inf (a masked score) reads
    "masked" and NaN (no value) nothing."""
    values = np.asarray(z)

    def write(value) -> str:
        if value == -math.inf:
            return "masked"
        return "" if isinstance(value, float) and math.isnan(value) else format(value, spec)

    return np.array([write(v) for v in values.ravel().tolist()], dtype=object).reshape(values.shape)


def heatmap_trace(z, x=None, y=None, kind: str = "sequential", *, zrange: tuple[float, float] | None = None,
                  cell_text: str | np.ndarray | None = None, colorbar_title: str | None = None,
                  colorbar: dict | None = None, hovertemplate: str | None = None, showscale: bool = True,
                  max_cell_text: int = MAX_CELL_TEXT, **properties) -> dict:
    """A heatmap trace (Plotly's plain dict form) coloured by the convention for `kind`:
    "sequential", "diverging", "image" or "overlay" (see the module docstring).

    zrange: the values the colours span (probabilities (0, 1), tanh (-1, 1)); by default the
    data's, symmetric around 0 for "diverging". cell_text: a format spec such as ".2f" writes
    each value in its cell, an array of strings writes those; grids over max_cell_text cells
    get none (raise it for short labels in a wide figure). colorbar: further colour-bar settings, such as its place in a subplot grid.
    properties: any other heatmap attribute, in full form (textfont=dict(size=16)).
    Non-finite cells are left empty. fig.add_trace accepts the result, in subplots too."""
    values = np.asarray(z)
    if not np.issubdtype(values.dtype, np.floating):
        values = values.astype(float)
    low, high = colour_range(values, kind, zrange)
    trace = dict(type="heatmap", z=np.where(np.isfinite(values), values, np.nan), colorscale=SCALES[kind],
                 zmin=low, zmax=high, showscale=showscale, **({} if x is None else {"x": x}),
                 **({} if y is None else {"y": y}))
    if colorbar_title is not None or colorbar:
        trace["colorbar"] = {**(colorbar or {}),
                             **({} if colorbar_title is None else {"title": {"text": colorbar_title}})}
    if hovertemplate is not None:
        trace["hovertemplate"] = hovertemplate
    if cell_text is not None and values.size <= max_cell_text:
        trace["text"] = format_cells(z, cell_text) if isinstance(cell_text, str) else cell_text
        trace["texttemplate"] = "%{text}"
    return {**trace, **properties}


def heatmap(z, x=None, y=None, kind: str = "sequential", *, title: str, x_title: str, y_title: str,
            height: int | None = None, hovertemplate: str | None = None, line_chars: int = LINE_CHARS["full"],
            **trace_options) -> go.Figure:
    """A labelled one-heatmap figure; rows read top to bottom like the matrix on paper. Labels
    make a category axis (numbers as labels stay apart and in order). The height grows with
    the rows up to MAX_HEIGHT unless given, plus the room of a title wrapped to more lines; the
    hover names both axes and the value. The titles wrap at `line_chars` characters (LINE_CHARS
    for a chart in a column).
    trace_options: those of heatmap_trace.

    The figure is built without Plotly's per-property validation and default template, which
    cost several times this function's own work on the lessons' small charts (about 5 ms
    against 1 ms for 8×8); Streamlit's theme styles it anyway, and tests/test_charts.py
    validates what it builds."""
    value_name = trace_options.get("colorbar_title") or "value"
    trace = heatmap_trace(z, x, y, kind, **trace_options, hovertemplate=hovertemplate or (
        f"{y_title}: %{{y}}<br>{x_title}: %{{x}}<br>{value_name}: %{{z:.4~g}}<extra></extra>"))
    rows = len(y) if y is not None else np.shape(z)[0]
    title = wrapped(title, line_chars)
    extra = extra_title_px(title)
    layout = dict(title=dict(text=title), margin=dict(l=10, r=10, t=50 + extra, b=10), template={},
                  height=(height or default_height(rows)) + extra, xaxis=_axis(wrapped(x_title, line_chars), x),
                  yaxis={**_axis(wrapped(y_title, line_chars), y), "autorange": "reversed"})
    return go.Figure(dict(data=[trace], layout=layout), _validate=False)


def default_height(rows: int) -> int:
    """A heatmap's height for this many rows: 28 px a row plus room for the title and axes,
    at least 260 px and at most MAX_HEIGHT."""
    return min(MAX_HEIGHT, max(260, 28 * rows + 120))


def _axis(title: str, labels) -> dict:
    return dict(title=dict(text=title), **({} if labels is None else {"type": "category"}))
