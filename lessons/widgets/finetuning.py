"""Charts and live views for the fine-tuning and tiny-GPT lessons."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons.widgets import charts, common, trained
from lib import finetuning as ft
from lib import model_loading, model_registry, parameters, urlstate

# --- settings shared by link ---------------------------------------------------------

LEARNING_RATES, BATCH_SIZES, MAX_LENGTHS = [1e-5, 3e-5, 5e-5, 1e-4, 2e-4, 5e-4], [4, 8, 16, 32], [32, 64, 128, 256]
SCHEDULES = ["linear", "cosine", "constant"]
ATTENTION_SENTENCE = "The battery died after a day, but support replaced it at once."
RUNNING = "ft_running"  # the run being trained, so that one a Stop ends part-way is still evaluated
SHARED = {
    "model": urlstate.Choice("ft_base", "minilm", lambda: common.model_choices("encoder")),
    "lr": urlstate.Choice("ft_lr", 1e-4, LEARNING_RATES),
    "batch": urlstate.Choice("ft_bs", 16, BATCH_SIZES),
    "epochs": urlstate.Int("ft_epochs", 3, 1, 6),
    "maxlen": urlstate.Choice("ft_maxlen", 64, MAX_LENGTHS),
    "warmup": urlstate.Float("ft_warmup", 0.1, 0.0, 0.5),
    "schedule": urlstate.Choice("ft_schedule", "linear", SCHEDULES),
    "patience": urlstate.Int("ft_patience", 1, 0, 5),
    "seed": urlstate.Int("ft_seed", 0, 0, 10_000),
    "freeze": urlstate.Bool("ft_freeze", False),
    "n": urlstate.Int("ft_limit", len(ft.bundled_reviews()["train"]), 1, ft.MAX_UPLOAD_ROWS),
    "text": urlstate.Text("ft_attention_text", ATTENTION_SENTENCE, 300),
}
PRESETS = {
    "Quick demo: 100 reviews, 1 epoch": {"n": 100, "epochs": 1},
    "Frozen encoder: train only the head": {"freeze": True, "lr": 5e-4, "patience": 0},
    "Tiny learning rate: 1e-5": {"lr": 1e-5, "patience": 0},
}


training_slot = trained.training_slot  # a sweep needs a slot as much as a run


@st.cache_data(max_entries=4, show_spinner="Reading the data set from the Hub (once for the class)…")
def hub_reviews(key: str) -> dict[str, ft.Dataset]:
    return ft.hub_reviews(key)


def training_plan(base: str, num_examples: int, num_labels: int, cfg: ft.TrainConfig) -> None:
    """What the chosen settings mean before anything trains: steps and trainable parameters."""
    per_epoch, total, warmup = ft.training_steps(num_examples, cfg.batch_size, cfg.epochs, cfg.warmup_ratio)
    steps, epochs_col, warm, trained = st.columns(4)
    steps.metric("Steps per epoch", per_epoch, help=f"⌈{num_examples} examples / batch size {cfg.batch_size}⌉")
    epochs_col.metric("Optimiser steps", total, help=f"{per_epoch} steps per epoch × {cfg.epochs} epoch(s)")
    warm.metric("Warm-up steps", warmup, help=f"{cfg.warmup_ratio:.0%} of {total} steps")
    try:
        head, everything = ft.parameter_counts(base, num_labels)
    except (parameters.InvalidConfig, model_registry.ModelUnavailable) as err:
        trained.caption(f"Trainable parameters: not counted ({err})")
        return
    trained.metric("Trainable parameters", f"{head if cfg.freeze_encoder else everything:,}",
                   help=f"Encoder frozen: only the new head's {head:,}. Otherwise all {everything:,} "
                        "(counted on the meta device, no weights loaded).")


def fine_tune(base: str, train_set: ft.Dataset, val_set: ft.Dataset, test_set: ft.Dataset,
              cfg: ft.TrainConfig) -> None:
    """Section 3: train live. The model is kept before its first step and the run is noted in the
    session, so a Stop (which ends this script mid-run) leaves both for finish_run()."""
    st.session_state.pop("ft_result", None)
    with training_slot():
        model = ft.new_classifier(base, train_set.label_names, common.device())
        trained.keep("finetune_model", model)  # the pipelines lesson offers it for sentiment analysis
        run = ft.TrainingRun(cfg)
        st.session_state[RUNNING] = {"run": run, "test": test_set, "base": base}
        chart = st.empty()
        total = ft.training_steps(len(train_set), cfg.batch_size, cfg.epochs, cfg.warmup_ratio)[1] + cfg.epochs

        def draw(i, log):
            if log.val_loss is not None or i % 5 == 0:
                chart.plotly_chart(loss_chart(run.logs), width="stretch", key=f"ft_live_{i}")

        common.live_run(ft.train(model, train_set, val_set, cfg, run), total, "Fine-tuning", draw)  # + evals


def finish_run() -> None:
    """Evaluate the run noted in the session, finished or stopped part-way, on its test set
    and against the zero-shot baseline; nothing to do when no run is pending."""
    pending = st.session_state.get(RUNNING)
    if pending is None:
        return
    run, test = pending["run"], pending["test"]
    model = trained.kept("finetune_model", "fine-tuned model")
    if model is not None and not run.steps_done:
        st.info("Stopped before the first training step: there is nothing to evaluate.")
    elif model is not None:
        with st.spinner("Evaluating on the test set and the zero-shot baseline…"):
            probs = ft.predict_proba(model, test.texts, run.config.max_length)
            encoder = common.load_model("minilm", "encoder")
            baseline = ft.zero_shot_predict(encoder, test.texts, test.label_names)
        st.session_state["ft_result"] = {"run": run, "probs": probs, "baseline": baseline, "test": test,
                                         "base": pending["base"]}
    del st.session_state[RUNNING]


def run_notes(run: ft.TrainingRun) -> None:
    """How the run ended, when it ended before its last planned step."""
    if not run.finished:
        st.warning(f"Stopped at step {run.steps_done} of {run.total_steps}: the curves end there, and the "
                   "model evaluated below is the one trained until then.", icon=":material/stop_circle:")
    elif run.stopped_early:
        st.info("Early stopping: the validation loss stopped improving, so the best epoch's weights were kept.")


def loss_chart(logs: list[ft.Log], title: str = "Loss and accuracy while training") -> go.Figure:
    steps = [l for l in logs if l.train_loss is not None]
    evals = [l for l in logs if l.val_loss is not None]
    fig = go.Figure()
    fig.add_scatter(x=[l.epoch for l in steps], y=[l.train_loss for l in steps], name="train loss (per step)",
                    mode="lines", line={"color": "#3b6fb6"})
    fig.add_scatter(x=[l.epoch for l in evals], y=[l.val_loss for l in evals], name="validation loss",
                    mode="lines+markers", line={"color": "#e69f00", "width": 3})
    fig.add_scatter(x=[l.epoch for l in steps], y=[l.train_accuracy for l in steps], name="train accuracy (per batch)",
                    mode="lines", yaxis="y2", line={"color": "#56b4e9", "width": 1}, opacity=0.6)
    fig.add_scatter(x=[l.epoch for l in evals], y=[l.val_accuracy for l in evals], name="validation accuracy",
                    mode="lines+markers", yaxis="y2", line={"color": "#009e73", "dash": "dot"})
    fig.update_layout(title=title, xaxis_title="epoch", yaxis_title="cross-entropy loss",
                      yaxis2={"title": "accuracy", "overlaying": "y", "side": "right", "range": [0, 1]},
                      legend={"orientation": "h", "y": -0.25}, height=380)
    return fig


def confusion_chart(confusion: np.ndarray, label_names: list[str]) -> go.Figure:
    return charts.heatmap(confusion, label_names, label_names, title="Confusion matrix (test set)",
                          x_title="predicted", y_title="true", height=340, cell_text="d", showscale=False,
                          hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>")


def pr_chart(y_true, scores, positive: str) -> go.Figure:
    precision, recall = ft.precision_recall_curve(y_true, scores)
    fig = go.Figure(go.Scatter(x=recall, y=precision, mode="lines", line={"color": "#3b6fb6"}))
    fig.update_layout(title=f"Precision-recall curve for '{positive}'", xaxis_title="recall",
                      yaxis_title="precision", xaxis_range=[0, 1.02], yaxis_range=[0, 1.02], height=340)
    return fig


def attention_pair(before: tuple[list[str], np.ndarray], after: tuple[list[str], np.ndarray]) -> None:
    left, right = st.columns(2)
    for column, (tokens, weights), label in ((left, before, "before"), (right, after, "after")):
        column.plotly_chart(charts.heatmap(weights, tokens, tokens, zrange=(0, 1), colorbar_title="weight",
                                           title=f"Last layer, mean over heads — {label} fine-tuning",
                                           x_title="attended-to token", y_title="query token", height=420),
                            width="stretch")


def evaluation(result: dict) -> None:
    """Section 4: the test set's metrics against zero-shot, the charts and the mistakes.
    Everything comes from the run's own test set, whatever data the page shows now."""
    test, probs = result["test"], result["probs"]
    names, predicted = test.label_names, probs.argmax(1)
    metrics = ft.classification_metrics(test.labels, predicted, len(names))
    zero_shot = ft.classification_metrics(test.labels, result["baseline"], len(names))
    metrics_row(metrics, zero_shot)
    described = "; ".join(f"*{name}*: “{text}”" for name, text in zip(names, ft.zero_shot_descriptions(names)))
    st.caption(f"On the {len(test)} test examples. Zero-shot baseline (no training, nearest description in "
               f"embedding space: {described}): accuracy {zero_shot['accuracy']:.1%}.")
    left, right = st.columns(2)
    left.plotly_chart(confusion_chart(metrics["confusion"], names), width="stretch")
    if len(names) == 2:
        right.plotly_chart(pr_chart(test.labels, probs[:, 1], names[1]), width="stretch")
    wrong = np.flatnonzero(predicted != np.array(test.labels))
    if not len(wrong):
        st.info(f"It gets all {len(test)} test examples right.", icon=":material/task_alt:")
        return
    st.subheader(f"The {len(wrong)} test examples it gets wrong")
    st.dataframe(pd.DataFrame({"text": [test.texts[i] for i in wrong],
                               "true": [names[test.labels[i]] for i in wrong],
                               "predicted": [names[predicted[i]] for i in wrong],
                               "confidence": probs[wrong].max(1).round(3)}), hide_index=True, width="stretch")


def weight_change_chart(changes: dict[str, float]) -> go.Figure:
    fig = go.Figure(go.Bar(x=list(changes), y=list(changes.values()), marker_color="#3b6fb6",
                           text=[f"{v:.2%}" for v in changes.values()], textposition="outside"))
    fig.update_layout(title="How far fine-tuning moved each part of the encoder",
                      xaxis_title="part of the encoder", yaxis_title="‖after − before‖ / ‖before‖",
                      yaxis_tickformat=".1%", height=340)
    return fig


def attention_section(result: dict, sentence: str, finetuned: model_loading.Loaded) -> None:
    """Section 5: one sentence's last-layer attention in the pretrained and the fine-tuned
    encoder, and how much each layer's weights moved."""
    pretrained = common.load_model(result["base"], "encoder")
    attention_pair(ft.last_layer_attention(pretrained, sentence), ft.last_layer_attention(finetuned, sentence))
    changes = ft.weight_changes(pretrained.model, finetuned.model)
    st.plotly_chart(weight_change_chart(changes), width="stretch")
    most = max(changes, key=changes.get)
    if changes[most] == 0:
        st.caption("The encoder was frozen: its weights, and so its attention, did not change at all.")
    else:
        st.caption(f"The weights moved most in **{most}** ({changes[most]:.2%} of their size), least in "
                   f"**{min(changes, key=changes.get)}** ({min(changes.values()):.2%}). Small changes are enough: "
                   "the pretrained knowledge stays, the new head learns to read it.")


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

