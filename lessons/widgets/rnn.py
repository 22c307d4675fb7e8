"""Streamlit helpers and Plotly figures for the recurrent-networks lesson
(lessons/rnn.py). All numbers come from lib/rnn.py."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from lessons.widgets import charts, common
from lib import rnn, urlstate

KIND_NAMES = {"rnn": "vanilla RNN", "lstm": "LSTM", "gru": "GRU"}
UNROLL_MAX_CHARS = 40
BRACKETS_MAX_CHARS = 80
CLIP_NORMS = [0.1, 1.0, 5.0, 25.0]
COLOURS = dict(zip(["rnn", "lstm", "gru", "last value", "truth"], px.colors.qualitative.Safe))


@st.cache_resource(show_spinner="Training a small LSTM to count brackets (once for the whole class)…")
def depth_lstm() -> rnn.DepthLSTM:
    """Shared and read-only: only ever run under torch.no_grad."""
    return rnn.train_depth_lstm()


def _tick_labels(chars) -> list[str]:
    """Unique per-step labels so repeated characters get their own row."""
    return [f"{t + 1}: {ch!r}" if ch.isspace() else f"{t + 1}: {ch}" for t, ch in enumerate(chars)]


def unroll_step_slider(length: int) -> int:
    """The step to explain, 1..length: kept inside the text when the text gets shorter."""
    if length == 1:
        return 1  # a slider needs two ends
    if st.session_state.get("rnn_unroll_step", 1) > length:
        st.session_state["rnn_unroll_step"] = length
    return st.slider("Step to explain", 1, length, key="rnn_unroll_step")


MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|$<>~])")


def step_equation(text: str, step: int) -> None:
    """Which character step `step` (1-based) reads, and its equation with the step numbers filled in."""
    shown = MARKDOWN_SPECIALS.sub(r"\\\1", repr(text[step - 1]))  # the character as text, never as markup
    st.markdown(f"Step {step} reads **{shown}**. Each row of the table is one hidden unit of this equation, "
                "with its real numbers:")
    st.latex(rf"h_{{{step}}} = \tanh\left(W_x\,x_{{{step}}} + W_h\,h_{{{step - 1}}} + b\right)")


def hidden_heatmap(run: rnn.TextUnroll) -> go.Figure:
    return charts.heatmap(run.hidden, [f"h{u}" for u in range(run.hidden.shape[1])], _tick_labels(run.chars),
                          "diverging", zrange=(-1, 1), colorbar_title="h",  # tanh's range
                          title="Hidden state after each character (same weights at every step)",
                          x_title="hidden unit", y_title="step: character", height=max(300, 22 * len(run.chars) + 120))


def equation_table(run: rnn.TextUnroll, step: int) -> pd.DataFrame:
    h_prev = run.hidden[step - 1] if step > 0 else np.zeros(run.hidden.shape[1])
    return pd.DataFrame({"h_{t-1}": h_prev, "W_x·x_t": run.input_terms[step], "W_h·h_{t-1}": run.recurrent_terms[step],
                         "b": run.weights["bias"],
                         "sum": run.input_terms[step] + run.recurrent_terms[step] + run.weights["bias"],
                         "h_t = tanh(sum)": run.hidden[step]}, index=[f"unit {u}" for u in range(len(h_prev))])


def gradient_figure(norms: dict[str, np.ndarray], scale: float) -> go.Figure:
    fig = go.Figure([go.Scatter(x=np.arange(1, len(v) + 1), y=v, name=KIND_NAMES[k], mode="lines+markers",
                                line={"color": COLOURS[k]}) for k, v in norms.items()])
    fig.update_layout(title=f"‖∂L/∂h_t‖ with the loss at the last step (recurrent weight scale {scale})",
                      xaxis_title="time step t", yaxis_title="gradient norm (log scale)", yaxis_type="log",
                      yaxis_exponentformat="power")
    return fig


def _times(ratio: float) -> str:
    return f"{ratio:,.0f}" if ratio >= 1000 else f"{ratio:.3g}"


def clipping_caption(reports: dict[str, rnn.GradientReport], max_norm: float) -> str:
    """What clipping at `max_norm` did to each model's whole gradient."""
    parts = [f"the {KIND_NAMES[k]}'s gradient shrinks {_times(r.weight_grad_norm / r.clipped_grad_norm)}×"
             if r.weight_grad_norm > max_norm else f"the {KIND_NAMES[k]}'s is left alone"
             for k, r in reports.items()]
    return (f"Clipping at {max_norm:g} rescales the whole gradient g to g·min(1, {max_norm:g}/‖g‖) before the "
            f"update: {', '.join(parts)}. The direction is kept and only the step is shorter, so the curve above "
            "(how the gradient spreads over time) does not change.")


def gates_figure(trace: rnn.GateTrace, text: str) -> go.Figure:
    gate = dict(kind="sequential", zrange=(0, 1), colorbar_title="gate")  # a sigmoid's range
    panels = [("input gate i_t", trace.gates["input"], gate), ("forget gate f_t", trace.gates["forget"], gate),
              ("output gate o_t", trace.gates["output"], gate),
              ("cell state c_t", trace.cell, dict(kind="diverging", colorbar_title="c"))]
    fig = make_subplots(rows=len(panels), cols=1, shared_xaxes=True, subplot_titles=[p[0] for p in panels],
                        vertical_spacing=0.06)
    labels = _tick_labels(text)
    for row, (name, values, colours) in enumerate(panels, start=1):
        fig.add_trace(charts.heatmap_trace(values.T, labels, [f"unit {u}" for u in range(values.shape[1])], name=name,
                                           colorbar={"len": 1 / len(panels), "y": 1 - (row - 0.5) / len(panels)},
                                           **colours), row=row, col=1)
    fig.update_xaxes(visible=False)  # the panels share the last panel's x axis
    fig.update_xaxes(visible=True, title_text="step: character", row=len(panels), col=1)
    fig.update_yaxes(title_text="cell unit")
    fig.update_layout(title="Inside the trained LSTM: gates (0 = closed, 1 = open) and cell state", height=900)
    return fig


def counter_caption(trace: rnn.GateTrace, text: str) -> str:
    """Which cell unit follows the bracket depth, or why there is no depth to follow."""
    depth = rnn.true_depth(text)
    if depth.min() == depth.max():
        return (f"The bracket depth stays at {depth[0]:g} all through this text, so there is no depth for a cell "
                "unit to follow: type brackets that open and close, such as (()(x)).")
    return f"Cell unit {trace.counter_unit} follows the depth with correlation {trace.counter_correlation:.3f}."


def depth_figure(trace: rnn.GateTrace, text: str) -> go.Figure:
    labels = _tick_labels(text)
    counter = trace.cell[:, trace.counter_unit]
    fig = go.Figure([go.Scatter(x=labels, y=rnn.true_depth(text), name="true depth", line={"color": COLOURS["truth"]}),
                     go.Scatter(x=labels, y=trace.prediction, name="LSTM's prediction", line={"color": COLOURS["lstm"]}),
                     go.Scatter(x=labels, y=counter, name=f"cell unit {trace.counter_unit}", yaxis="y2",
                                line={"dash": "dot", "color": COLOURS["gru"]})])
    fig.update_layout(title="Bracket depth, the prediction, and the cell unit that counts",
                      xaxis_title="step: character", yaxis_title="depth",
                      yaxis2={"title": "cell state", "overlaying": "y", "side": "right"})
    return fig


def loss_figure(history: list[dict], baseline: float) -> go.Figure:
    frame = pd.DataFrame(history)
    fig = go.Figure([go.Scatter(x=frame["step"], y=frame["train_loss"], name="training loss", mode="lines+markers"),
                     go.Scatter(x=frame["step"], y=frame["val_loss"], name="validation loss", mode="lines+markers")])
    fig.add_hline(y=baseline, line_dash="dash", annotation_text=f"unigram baseline {baseline:.3f}")
    fig.update_layout(title="Character model: cross-entropy while training", xaxis_title="training step",
                      yaxis_title="loss (nats per character)")
    return fig


def forecast_figure(report: rnn.ForecastReport) -> go.Figure:
    x = np.arange(len(report.truth))
    fig = go.Figure([go.Scatter(x=x, y=report.truth, name="truth", line={"color": "black", "width": 3})])
    for name, values in report.predictions.items():
        fig.add_trace(go.Scatter(x=x, y=values, name=KIND_NAMES.get(name, name),
                                 line={"color": COLOURS[name], "dash": "dot" if name == "last value" else "solid"}))
    fig.update_layout(title=f"One-step-ahead forecasts on the held-out 20% (after {report.step} steps)",
                      xaxis_title="test time step", yaxis_title="value")
    return fig


def timing_figure(rows: list[dict]) -> go.Figure:
    fig = px.line(pd.DataFrame(rows), x="seq_len", y="ms", color="layer", markers=True, log_x=True, log_y=True,
                  color_discrete_sequence=px.colors.qualitative.Safe,
                  title="One forward pass: LSTM (sequential) vs Transformer encoder layer (parallel)",
                  labels={"seq_len": "sequence length (tokens)", "ms": "time per forward pass (ms)"})
    return fig


# --- 4a. the character model ----------------------------------------------------------------

SOURCES = ["Python's help texts (bundled)", "Type your own text", "Upload a .txt file"]
PROMPT_MAX_CHARS = 200


@st.cache_data(show_spinner=False)
def bundled_text() -> str:
    return rnn.bundled_corpus()


def corpus_text(source: str) -> str | None:
    """The chosen training text; None (with a message) when there is none yet.
    Raises rnn.CorpusError for an upload that is not text."""
    if source == SOURCES[0]:
        return bundled_text()
    if source == SOURCES[1]:
        return st.text_area("Your training text", key="rnn_char_text", height=150)
    upload = st.file_uploader("A plain-text file", key="rnn_char_upload")
    if upload is None:
        st.info("Choose a file to train on.")
        return None
    return rnn.decode_upload(upload.getvalue())


def char_model_section() -> None:
    source = st.radio("Training text", SOURCES, key="rnn_char_source", horizontal=True)
    try:
        text = corpus_text(source)
    except rnn.CorpusError as err:
        st.error(str(err))
        text = None
    left, middle, right = st.columns(3)
    kind = left.selectbox("Cell", ["lstm", "gru"], format_func=KIND_NAMES.get, key="rnn_char_kind")
    budget = middle.slider("Time budget (s)", 5, 120, key="rnn_char_budget")
    steps = right.slider("Maximum steps", 10, 3000, step=10, key="rnn_char_steps")
    seq_len = (common.shared_value(SHARED["seq"]) if common.classroom()
               else left.slider("Sequence length (characters)", 16, 128, key="rnn_char_seq_len"))
    temperature = middle.slider("Sampling temperature", 0.1, 2.0, step=0.1, key="rnn_char_temperature")
    prompt = right.text_input("Sample prompt", key="rnn_char_prompt", max_chars=PROMPT_MAX_CHARS)
    if st.button("Train the character model", key="rnn_char_train", type="primary") and text is not None:
        try:
            corpus = rnn.build_corpus(text, seq_len)
        except rnn.CorpusError as err:
            st.error(str(err))
        else:
            train_char_model(corpus, kind, steps, budget, seq_len, temperature, prompt)
    show_char_results(temperature, prompt)


def train_char_model(corpus, kind, steps, budget, seq_len, temperature, prompt) -> None:
    if corpus.truncated:
        st.warning(f"Training on the first {rnn.MAX_CORPUS_CHARS:,} characters only.")
    state = st.session_state
    state["rnn_char_history"], state["rnn_char_corpus"] = [], corpus
    state["rnn_char_baseline"] = rnn.unigram_loss(corpus)
    state["rnn_char_every"] = eval_every = max(steps // 40, 5)
    live = st.empty()

    def on_step(i: int, report: rnn.CharReport) -> None:
        state["rnn_char_history"].append({"step": report.step, "train_loss": report.train_loss,
                                          "val_loss": report.val_loss, "seconds": report.seconds,
                                          "sample": report.sample})
        state["rnn_char_model"] = report.model
        state["rnn_char_shown"] = prompt + report.sample  # the newest model's sample, with the prompt it continues
        with live.container():
            st.plotly_chart(loss_figure(state["rnn_char_history"], state["rnn_char_baseline"]),
                            width="stretch", key=f"rnn_char_live_{i}")
            st.code(state["rnn_char_shown"], language=None)

    reports = rnn.train_char_model(corpus, kind, steps, budget, seq_len=seq_len, eval_every=eval_every,
                                   temperature=temperature, prompt=prompt, device=common.device())
    common.live_run(reports, -(-steps // eval_every), "Training the character model", on_step)
    live.empty()


def show_char_results(temperature: float, prompt: str) -> None:
    state = st.session_state
    history = state.get("rnn_char_history")
    if not history:
        return
    last, baseline = history[-1], state["rnn_char_baseline"]
    st.plotly_chart(loss_figure(history, baseline), width="stretch", key="rnn_char_loss")
    verdict = "below" if last["val_loss"] < baseline else "not yet below"
    st.markdown(f"After **{last['step']} steps** ({last['seconds']:.0f} s) the validation loss is "
                f"**{last['val_loss']:.3f}** nats/char, {verdict} the unigram baseline **{baseline:.3f}**.")
    if st.button("Generate a new sample", key="rnn_char_generate",
                 help="300 characters after the prompt, at the temperature above"):
        state["rnn_char_draws"] = state.get("rnn_char_draws", 0) + 1  # a new seed per click
        state["rnn_char_shown"] = prompt + rnn.sample(state["rnn_char_model"], state["rnn_char_corpus"], prompt,
                                                      300, temperature, seed=10_000 + state["rnn_char_draws"])
    st.code(state["rnn_char_shown"], language=None)
    with st.expander(f"Samples during training (every {state['rnn_char_every']} steps)"):
        st.dataframe(pd.DataFrame(history)[["step", "val_loss", "sample"]], hide_index=True)


# --- 4b. the forecaster ----------------------------------------------------------------------

def forecast_section() -> None:
    left, right = st.columns(2)
    series_kind = left.radio("Series", rnn.SERIES, key="rnn_fc_series", horizontal=True)
    steps = right.slider("Training steps", 20, 600, step=20, key="rnn_fc_steps")
    if st.button("Train RNN, LSTM and GRU", key="rnn_fc_train", type="primary"):
        eval_every = max(steps // 10, 10)

        def on_step(i: int, report: rnn.ForecastReport) -> None:
            st.session_state["rnn_fc_report"] = report

        reports = rnn.train_forecasters(rnn.make_series(series_kind), steps=steps, eval_every=eval_every,
                                        device=common.device())
        common.live_run(reports, -(-steps // eval_every), f"Training on the {series_kind}", on_step)
    report = st.session_state.get("rnn_fc_report")
    if report is None:
        return
    st.plotly_chart(forecast_figure(report), width="stretch", key="rnn_fc_chart")
    baseline = report.test_mse["last value"]
    st.dataframe(pd.DataFrame({"test MSE": report.test_mse,
                               "vs last value": {k: f"{v / baseline:.2f}×" for k, v in report.test_mse.items()}})
                 .rename(index=KIND_NAMES))
    st.markdown(forecast_verdict(report.test_mse))


def forecast_verdict(test_mse: dict[str, float]) -> str:
    """Which trained models beat "tomorrow = today" on the held-out part, in words."""
    baseline = test_mse["last value"]
    better = [KIND_NAMES[k] for k in rnn.KINDS if k in test_mse and test_mse[k] < baseline]
    if not better:
        return ("**No model beats \"tomorrow = today\"** on the held-out part: on a random walk none can on "
                "average; on the sine, train for more steps.")
    return f"**Beat \"tomorrow = today\":** {', '.join(better)} (a ratio below 1.00× in the table)."


# --- 5. recurrence vs attention ----------------------------------------------------------------

PAGE_LENGTHS = [16, 64, 256, 1024]


def timing_section() -> None:
    n = st.select_slider("Distance between two tokens", PAGE_LENGTHS, key="rnn_path_len")
    st.dataframe(pd.DataFrame({"steps the signal crosses": rnn.path_lengths(n)}))
    if st.button("Time one forward pass at 16…1024 tokens", key="rnn_time", type="primary"):
        with st.spinner("Timing on " + common.device().upper() + "…"):
            st.session_state["rnn_timing"] = rnn.forward_timings(PAGE_LENGTHS, device=common.device())
    rows = st.session_state.get("rnn_timing")
    if rows:
        st.plotly_chart(timing_figure(rows), width="stretch", key="rnn_timing_chart")
        table = pd.DataFrame(rows).pivot(index="seq_len", columns="layer", values="ms")
        st.dataframe(table.style.format("{:.2f} ms"))
        params = {r["layer"]: r["parameters"] for r in rows}
        st.caption("Parameters: " + ", ".join(f"{k} {v:,}" for k, v in params.items())
                   + ". Measured on this machine just now; other users share its CPU, so expect noise.")


# --- settings shared by link, and teacher presets ----------------------------------------------

SHARED = {
    "text": urlstate.Text("rnn_unroll_text", "hello world", max_chars=UNROLL_MAX_CHARS),
    "step": urlstate.Int("rnn_unroll_step", 3, 1, UNROLL_MAX_CHARS),
    "len": urlstate.Int("rnn_bptt_len", 40, 5, 100),
    "scale": urlstate.Float("rnn_bptt_scale", 0.75, 0.25, 4.0),
    "gate": urlstate.Float("rnn_bptt_gate_bias", 3.0, 0.0, 5.0),
    "clip": urlstate.Choice("rnn_bptt_clip", 1.0, CLIP_NORMS),
    "brackets": urlstate.Text("rnn_gates_text", "(()(x))((((x))))(", max_chars=BRACKETS_MAX_CHARS),
    "source": urlstate.Choice("rnn_char_source", SOURCES[0], SOURCES),
    "corpus": urlstate.Text("rnn_char_text", ""),
    "cell": urlstate.Choice("rnn_char_kind", "lstm", ["lstm", "gru"]),
    "budget": urlstate.Int("rnn_char_budget", 60, 5, 120),
    "max_steps": urlstate.Int("rnn_char_steps", 1000, 10, 3000),
    "seq": urlstate.Int("rnn_char_seq_len", 48, 16, 128),
    "temp": urlstate.Float("rnn_char_temperature", 0.8, 0.1, 2.0),
    "prompt": urlstate.Text("rnn_char_prompt", "The ", max_chars=PROMPT_MAX_CHARS),
    "series": urlstate.Choice("rnn_fc_series", rnn.SERIES[0], rnn.SERIES),
    "fc_steps": urlstate.Int("rnn_fc_steps", 300, 20, 600),
    "distance": urlstate.Choice("rnn_path_len", 256, PAGE_LENGTHS),
}
PRESETS = {
    "Vanishing gradients": {"scale": 0.5, "len": 100},
    "Exploding gradients, clipped": {"scale": 3.0, "len": 100},
    "Deeper than it was trained on": {"brackets": "(((((((((((((x)))))))))))))"},
}


@st.cache_data(show_spinner=False)
def bptt_facts() -> dict[str, str]:
    """The BPTT text's numbers, measured on the demo at its default sequence length."""
    return rnn.bptt_facts(SHARED["len"].default)
