"""Charts and live views for the fine-tuning and tiny-GPT lessons."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons.widgets import charts, common, trained
from lib import finetuning as ft
from lib import hub, model_loading, model_registry, parameters, urlstate

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


def first_screen() -> None:
    """The lesson's opening picture: a fine-tuning run's curves and its test-set confusion matrix,
    the student's own run once they have trained, a recorded run of this lesson's code before."""
    st.markdown("**A pretrained MiniLM learning to tell positive reviews from negative ones.** Left: the loss "
                "falling and the accuracy rising while it trains; right: what it gets right and wrong on reviews "
                "it never saw. Press **Fine-tune** in section 3 to train your own, with your settings.")
    result = st.session_state.get("ft_result")
    if result:
        names = result["test"].label_names
        logs, confusion = result["run"].logs, ft.classification_metrics(
            result["test"].labels, result["probs"].argmax(1), len(names))["confusion"]
        note = "**Your run**, trained in this session (section 3)."
    else:
        run = ft.recorded_run()
        logs, confusion, names = run.logs, run.confusion, run.label_names
        note = (f"**Recorded run**, not yours: this lesson's code fine-tuned {model_registry.REGISTRY[run.base].title} "
                f"with the default settings on the {run.train_size} bundled training reviews "
                f"({run.recorded}; scripts/record_finetuning.py). Your own run replaces it.")
    curves, matrix = st.columns([3, 2])
    curves.plotly_chart(loss_chart(logs), width="stretch", key="ft_first_curves")
    matrix.plotly_chart(confusion_chart(confusion, names), width="stretch", key="ft_first_confusion")
    accuracy = np.trace(confusion) / confusion.sum()
    st.caption(f"{note} Test accuracy {accuracy:.1%} ({np.trace(confusion)} of {confusion.sum()} reviews).")


def fine_tune(base: str, train_set: ft.Dataset, val_set: ft.Dataset, test_set: ft.Dataset,
              cfg: ft.TrainConfig) -> None:
    """Section 3: train live. The model is kept before its first step and the run is noted in the
    session, so a Stop (which ends this script mid-run) leaves both for finish_run()."""
    st.session_state.pop("ft_result", None)
    with training_slot():
        model = ft.new_classifier(base, train_set.label_names, common.device(), cfg.seed)
        trained.keep("finetune_model", model)  # the pipelines lesson offers it for sentiment analysis
        run = ft.TrainingRun(cfg)
        st.session_state[RUNNING] = {"run": run, "test": test_set, "base": base, "train_size": len(train_set)}
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
                                         "base": pending["base"], "train_size": pending["train_size"]}
    del st.session_state[RUNNING]
    if "ft_result" in st.session_state:
        st.rerun()  # the first screen, drawn before training, shows this run now


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
                      yaxis2={"title": "accuracy", "overlaying": "y", "side": "right", "range": [0, 1.05],
                              "tickmode": "linear", "tick0": 0, "dtick": 0.25, "showgrid": False},
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



# --- save, reload, share ---------------------------------------------------------------

SAVED = "ft_saved"  # {"folder": the session's save_pretrained folder, "files": its listing}


def save_section(result: dict, finetuned: model_loading.Loaded) -> None:
    """save_pretrained into a folder of this session, its files and model card, the reload with
    identical predictions, the zip download, and push_to_hub (code; run only with a token and the Hub)."""
    if st.button("Save with save_pretrained", icon=":material/save:", key="ft_save"):
        test = result["test"]
        metrics = ft.classification_metrics(test.labels, result["probs"].argmax(1), len(test.label_names))
        card = ft.model_card(result["base"], test.label_names, result["run"].config,
                             "the data set picked in the Glassbox fine-tuning lesson", result["train_size"], metrics,
                             len(test))
        folder = Path(tempfile.mkdtemp(prefix="glassbox-saved-"))
        with st.spinner("Writing the folder…"):
            st.session_state[SAVED] = {"folder": folder, "files": ft.save_model(finetuned, folder, card)}
    saved = st.session_state.get(SAVED)
    if not saved or not Path(saved["folder"]).exists():
        return
    folder = Path(saved["folder"])
    table = pd.DataFrame(saved["files"])
    table["size"] = [f"{b / 2**20:,.1f} MB" if b > 2**20 else f"{b / 2**10:,.1f} KB" for b in table.pop("bytes")]
    st.dataframe(table[["file", "size", "holds"]], hide_index=True, width="stretch")
    with st.expander("The model card (README.md)", icon=":material/badge:"):
        st.code((folder / "README.md").read_text(encoding="utf-8"), language="markdown", wrap_lines=True)
    reloaded = model_loading.load_folder(folder, device=finetuned.device)
    texts = result["test"].texts[:5]
    before, after = ft.identical_predictions(finetuned, reloaded, texts)
    names = result["test"].label_names
    st.dataframe(pd.DataFrame({"text": texts, **{f"logit {n} (in memory)": before[:, i] for i, n in enumerate(names)},
                               **{f"logit {n} (reloaded)": after[:, i] for i, n in enumerate(names)}}),
                 hide_index=True, width="stretch")
    difference = float(np.abs(before - after).max())
    st.caption(f"Reloaded with `from_pretrained` from the folder: the largest difference between the two models' "
               f"log-probabilities on these {len(texts)} texts is {difference:g}.")
    st.download_button("Download the folder (zip)", lambda: ft.zip_folder(folder), file_name="finetuned-model.zip",
                       mime="application/zip", icon=":material/download:", key="ft_download")
    common.show_code(ft.PUSH_CODE.format(repo="your-name/glassbox-sentiment", folder="finetuned-model"),
                     label="Share it on the Hub: push_to_hub")
    push_form(folder)


def push_form(folder: Path) -> None:
    if not common.hub_enabled():
        st.caption("The HuggingFace Hub is not reachable from this server (or the sidebar keeps models offline), "
                   "so push_to_hub is shown as code only.")
        return
    with st.form("ft_push"):
        repo = st.text_input("Hub repository (your-name/model-name)", key="ft_push_repo")
        token = st.text_input("Write token (not stored)", type="password", key="ft_push_token")
        if st.form_submit_button("Push to the Hub") and repo and token:
            try:
                st.success(f"Uploaded: {ft.push_to_hub(folder, hub.validate_hub_id(repo), token)}")
            except Exception as err:  # noqa: BLE001 - a refused token, a taken name, the network
                st.error(f"The upload failed ({type(err).__name__}: {str(err)[:200]}).")


# --- making it smaller --------------------------------------------------------------------

SPARSITIES = (0.3, 0.5, 0.7, 0.9)


def smaller_section(result: dict, finetuned: model_loading.Loaded) -> None:
    """int8 dynamic quantisation and magnitude pruning of the fine-tuned model, measured live on the CPU."""
    test = result["test"]
    rows_key = "ft_smaller_rows"
    if st.button("Measure int8 and pruned copies", icon=":material/compress:", key="ft_smaller"):
        rows = st.session_state[rows_key] = []
        common.live_run(ft.smaller_models(finetuned, test, SPARSITIES, max_length=result["run"].config.max_length),
                        2 + len(SPARSITIES), "Measuring", lambda i, row: rows.append(row))
    rows = st.session_state.get(rows_key)
    if not rows:
        return
    table = pd.DataFrame(rows)
    st.dataframe(table.round(3), hide_index=True, width="stretch")
    st.plotly_chart(smaller_chart(table), width="stretch")
    base, int8 = rows[0], rows[1]
    latency = next(c for c in table.columns if c.startswith("latency"))
    st.caption(f"int8: {base['size (MB)'] / int8['size (MB)']:.1f}× smaller on disk, {base[latency] / int8[latency]:.2f}× "
               f"the speed, accuracy {int8['test accuracy'] - base['test accuracy']:+.1%}. Pruned copies keep their "
               "dense size on disk (zeros still take 4 bytes); compressed, the zeros pay off.")


def smaller_chart(table: pd.DataFrame) -> go.Figure:
    latency = next(c for c in table.columns if c.startswith("latency"))
    fig = go.Figure()
    fig.add_bar(x=table["model"], y=table["size (MB)"], name="size on disk (MB)", marker_color="#3b6fb6")
    fig.add_bar(x=table["model"], y=table["zlib-compressed (MB)"], name="compressed (MB)", marker_color="#56b4e9")
    fig.add_scatter(x=table["model"], y=table["test accuracy"], name="test accuracy", yaxis="y2",
                    mode="lines+markers", line={"color": "#009e73", "width": 3})
    fig.add_scatter(x=table["model"], y=table[latency] / table[latency].iloc[0], name="latency vs float32", yaxis="y2",
                    mode="lines+markers", line={"color": "#e69f00", "dash": "dot"})
    fig.update_layout(title="Smaller models: size, accuracy and latency", yaxis_title="MB", barmode="group",
                      yaxis2={"title": "accuracy / latency ratio", "overlaying": "y", "side": "right", "rangemode": "tozero"},
                      legend={"orientation": "h", "y": -0.25}, height=400)
    return fig


MEMORY_BATCH, MEMORY_TOKENS = 8, 32  # small enough for four steps in seconds: bf16 is slow on most CPUs


def memory_section(finetuned: model_loading.Loaded, test: ft.Dataset) -> None:
    """Activation memory and step time with and without bf16 autocast and gradient checkpointing."""
    batch_size, max_length = MEMORY_BATCH, MEMORY_TOKENS
    rows_key = "ft_memory_rows"
    if st.button(f"Measure one training step (batch {batch_size}, {max_length} tokens) four ways",
                 icon=":material/memory:", key="ft_memory"):
        rows = st.session_state[rows_key] = []
        common.live_run(ft.memory_settings(finetuned, test.texts[:batch_size], test.labels[:batch_size], max_length),
                        4, "Training steps", lambda i, row: rows.append(row))
    rows = st.session_state.get(rows_key)
    if not rows:
        return
    config = finetuned.model.config
    table = pd.DataFrame(rows)
    full, checkpointed = (ft.activation_formula_bytes(config, batch_size, max_length) / 2**20,
                          ft.checkpointing_formula_bytes(config, batch_size, max_length) / 2**20)
    table["formula (MB; bf16 rows: half)"] = [full, checkpointed, full / 2, checkpointed / 2]
    st.dataframe(table.round(2), hide_index=True, width="stretch")
    plain, saved = rows[0]["saved activations (MB)"], rows[1]["saved activations (MB)"]
    st.caption(f"Gradient checkpointing kept {saved / plain:.0%} of the activations ({plain:.1f} → {saved:.1f} MB) "
               f"and the step took {rows[1]['step time (s)'] / rows[0]['step time (s)']:.2f}× as long: each layer "
               "is run forward again during backward.")
