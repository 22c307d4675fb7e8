"""Widgets of "The Transformer, whole": the block walk of a real model, the toy
encoder–decoder with its three attention kinds, and the two pretraining
objectives. Logic lives in lib/transformer*.py; heatmaps come from charts.py."""
from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons.widgets import charts, common, trained
from lib import device_policy, tiny_gpt, transformer, urlstate
from lib import transformer_pretraining as pretraining
from lib import transformer_seq2seq as seq2seq

DEFAULT_SENTENCE = "Your cat is a lovely cat"
BLOCK_MODELS = {"minilm": "MiniLM (post-norm BERT encoder)", "smollm2-135m": "SmolLM2-135M (pre-norm Llama decoder)"}
MAX_STEPS_SHOWN = 30
MAX_HEATMAP_HEIGHT = 560  # a 64-token sentence would otherwise need 1,900 px
SHARED = {
    "text": urlstate.Text("transformer_text", DEFAULT_SENTENCE, 400),
    "model": urlstate.Choice("transformer_model", "minilm", list(BLOCK_MODELS)),
    "step": urlstate.Int("transformer_step", 1, 1, MAX_STEPS_SHOWN),
    "head": urlstate.Int("transformer_head", 1, 1, 64),
    "src": urlstate.Text("transformer_source", seq2seq.COURSE_PAIRS[0][0], 120),
    "layer": urlstate.Int("transformer_cross_layer", 2, 1, 8),
    "xhead": urlstate.Choice("transformer_cross_head", "average", ["average", 1, 2, 3, 4, 5, 6, 7, 8]),
    "mask": urlstate.Text("transformer_mask_text", pretraining.COURSE_MASKED, 120),
    "psteps": urlstate.Int("transformer_pretrain_steps", pretraining.PretrainConfig.max_steps, 50, 2000),
}
PRESETS = {
    "Course sentence, step by step": {},
    "Word order: cross-attention crosses": {"src": "The cat chased the black mouse", "layer": 2},
    "Causal decoder block (SmolLM2)": {"model": "smollm2-135m", "step": 11},  # its softmax step
}
OWN_RUN = "transformer_own_translator"
PRETRAINED = "transformer_pretrained"


def axis_labels(tokens: list[str]) -> list[str]:
    """Numbered labels with <s>, </s> and byte-level markers readable (Plotly would take <s> for a tag)."""
    return charts.numbered([html.escape(t.replace("Ġ", "␣").replace("▁", "␣").replace("Ċ", "⏎")) for t in tokens])


# --- 1. the block walk --------------------------------------------------------------

@st.cache_data(max_entries=8, show_spinner="Walking layer 0 of the model…")
def block_walk(_loaded, model_key: str, text: str) -> transformer.BlockWalk:
    """Cached per (model, text); `_loaded` is not hashed, `model_key` names it."""
    return transformer.walk(_loaded, text)


def step_matrix(step: transformer.Step, head: int) -> tuple[np.ndarray, tuple[str, str]]:
    """The 2-D slice a heatmap shows: one head of a per-head tensor; a mask as 1 (may look) / 0 (−∞)."""
    values = step.values[min(head, step.values.shape[0] - 1)] if step.per_head else step.values
    axes = step.axes[1:] if step.per_head else step.axes
    if step.name == "Mask":
        values = np.isfinite(values).astype(float)
    return values, axes


def step_figure(walk: transformer.BlockWalk, index: int, head: int, height: int | None = None) -> go.Figure:
    step = walk.steps[index]
    values, (y_axis, x_axis) = step_matrix(step, head)
    labels = axis_labels(walk.tokens)
    square = x_axis == "key"
    if step.name == "Mask":
        kind, zrange, colorbar = "sequential", (0, 1), "1 = may look"
    elif step.name == "Softmax":
        kind, zrange, colorbar = "sequential", (0, 1), "weight"
    else:
        kind, zrange, colorbar = "diverging", None, "value"
    head_text = f", head {head + 1}" if step.per_head else ""
    rows = len(labels)
    fig = charts.heatmap(values, labels if square else None, labels, kind, zrange=zrange,
                         title=f"Step {index + 1}: {step.name}{head_text} — {values.shape[0]}×{values.shape[1]}",
                         x_title=x_axis, y_title=y_axis, colorbar_title=colorbar,
                         cell_text=".2f" if square and rows <= 8 else None,
                         height=height or min(MAX_HEATMAP_HEIGHT, max(320, 26 * rows + 120)))
    return fig


def steps_table(walk: transformer.BlockWalk) -> pd.DataFrame:
    return pd.DataFrame([{"step": i + 1, "name": s.name, "formula": s.formula,
                          "shape": " × ".join(str(n) for n in s.values.shape), "axes": " × ".join(s.axes),
                          "min": float(np.nanmin(np.where(np.isfinite(s.values), s.values, np.nan))),
                          "max": float(np.nanmax(np.where(np.isfinite(s.values), s.values, np.nan)))}
                         for i, s in enumerate(walk.steps)]).set_index("step")


@common.fragment
def block_walk_section() -> transformer.BlockWalk | None:
    """The lesson's first screen: the step's tensor, large, with the sentence, model and step beside it."""
    st.markdown("**One sentence, through the first block of a real model, one operation at a time.** "
                "Drag *Step through the block* and watch the rows change as attention mixes the tokens.")
    figure, controls = st.columns([5, 2])
    text = controls.text_input("Sentence", max_chars=400, key="transformer_text")
    model_key = controls.radio("Block", list(BLOCK_MODELS), format_func=BLOCK_MODELS.get, key="transformer_model")
    if not text.strip():
        figure.warning("Type a sentence to walk it through the block.")
        return None
    loaded = common.load_model(model_key, "encoder" if model_key == "minilm" else "decoder")
    walk = block_walk(loaded, model_key, text)
    count = len(walk.steps)
    if st.session_state["transformer_step"] > count:
        st.session_state["transformer_step"] = count
    step = controls.slider("Step through the block", 1, count, key="transformer_step",
                           help="Each step is one operation of layer 0, computed with the model's own weights.")
    current = walk.steps[step - 1]
    head = 0
    if current.per_head:
        heads = current.values.shape[0]
        if st.session_state["transformer_head"] > heads:
            st.session_state["transformer_head"] = heads
        head = controls.slider("Head", 1, heads, key="transformer_head") - 1
    controls.markdown(f"**{current.name}** · `{current.formula}`" + (f" — {current.note}" if current.note else ""))
    figure.plotly_chart(step_figure(walk, step - 1, head), width="stretch", key="transformer_step_chart")
    if walk.truncated_from:
        st.caption(f"The sentence has {walk.truncated_from} tokens; the walk keeps the first "
                   f"{transformer.MAX_WALK_TOKENS}.")
    st.caption(f"{walk.kind}: the walk's output equals the model's own hidden_states[1] to within "
               f"**{walk.max_difference:.1e}** (largest difference over all {walk.steps[-1].values.size:,} numbers).")
    return walk


def all_steps(walk: transformer.BlockWalk) -> None:
    """Every step at once, as a table and as small heatmaps."""
    st.dataframe(steps_table(walk), width="stretch", key="transformer_steps_table")
    with st.expander("Every step drawn", icon=":material/grid_view:"):
        # On demand: a browser on a classroom laptop takes seconds to draw this many heatmaps at once,
        # and would draw them on every visit even with the expander closed.
        if st.toggle(f"Draw all {len(walk.steps)} steps", key="transformer_draw_all"):
            for index in range(len(walk.steps)):
                st.plotly_chart(step_figure(walk, index, 0, height=300), width="stretch",
                                key=f"transformer_all_{index}")


# --- 2. the toy encoder–decoder ---------------------------------------------------

def class_translator() -> seq2seq.Run:
    with st.spinner("Training the toy translator for this server (once; about half a minute)…"):
        return seq2seq.class_copy()


def translator() -> tuple[seq2seq.Run, str]:
    own = trained.kept(OWN_RUN, "toy translator")
    if own is not None and own.history and st.radio(
            "Translate with", ["my own run", "the class's trained copy"], horizontal=True,
            key="transformer_which_run") == "my own run":
        return own, "your own run"
    return class_translator(), "the class's copy"


def loss_chart(run: seq2seq.Run) -> go.Figure:
    steps = [p.step for p in run.history]
    evals = [p for p in run.history if p.exact_match is not None]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=steps, y=[p.loss for p in run.history], name="training loss (teacher forcing)"))
    fig.add_trace(go.Scatter(x=[p.step for p in evals], y=[p.exact_match for p in evals], yaxis="y2",
                             name="held-out exact match", mode="lines+markers"))
    fig.update_layout(title="Loss and held-out exact match", xaxis_title="step", yaxis_title="cross-entropy",
                      yaxis2=dict(title="exact match", overlaying="y", side="right", range=[0, 1]), height=340,
                      legend=dict(orientation="h", y=-0.25))
    return fig


def train_translator_live() -> None:
    if st.button("Train a fresh one live", icon=":material/play_arrow:", key="transformer_train_translator"):
        run = seq2seq.new_run()
        trained.keep(OWN_RUN, run)  # kept first, so a stopped run keeps what it learned
        chart, status = st.empty(), st.empty()

        def draw(i, progress):
            if progress.exact_match is not None:
                chart.plotly_chart(loss_chart(run), width="stretch", key=f"transformer_live_{i}")
                status.caption(f"step {progress.step}: loss {progress.loss:.3f}, held-out exact match "
                               f"{progress.exact_match:.0%}, {progress.seconds:.1f} s")

        with device_policy.cpu_threads("cpu"):
            common.live_run(seq2seq.train(run), run.config.max_steps, "Training the translator", draw)
    own = trained.kept(OWN_RUN, "toy translator")
    if own is not None and own.history:
        st.plotly_chart(loss_chart(own), width="stretch", key="transformer_own_chart")


def cross_matrix(translation: seq2seq.Translation, layer: int, head) -> np.ndarray:
    return seq2seq.cross_weights(translation, layer, None if head == "average" else head - 1)


def attention_figures(translation: seq2seq.Translation, layer: int, head) -> list[go.Figure]:
    """Encoder self-attention, decoder masked self-attention and cross-attention, one layer, side by side."""
    attn = translation.attentions

    def pick(weights):
        weights = weights[0]
        return (weights.mean(0) if head == "average" else weights[head - 1]).numpy()

    source = axis_labels(translation.source)
    read = axis_labels(translation.target[:-1])
    produced = axis_labels(translation.target[1:])
    decoder = pick(attn.decoder[layer])[: len(read), : len(read)].copy()
    decoder[np.triu_indices(len(read), 1)] = np.nan  # masked: the future is not there to look at
    common_height = min(MAX_HEATMAP_HEIGHT, 30 * max(len(source), len(read)) + 150)
    return charts.side_by_side([
        charts.heatmap(pick(attn.encoder[layer]), source, source, zrange=(0, 1), title="Encoder self-attention",
                       x_title="English key", y_title="English query", cell_text=".2f", height=common_height,
                       colorbar_title="weight", showscale=False, line_chars=charts.LINE_CHARS["third"]),
        charts.heatmap(decoder, read, read, zrange=(0, 1), title="Decoder masked self-attention",
                       x_title="French key", y_title="French query", cell_text=".2f",
                       height=common_height, colorbar_title="weight", showscale=False,
                       line_chars=charts.LINE_CHARS["third"]),
        charts.heatmap(cross_matrix(translation, layer, head), source, produced, zrange=(0, 1),
                       title="Cross-attention (target × source)", x_title="English key",
                       y_title="French word produced", cell_text=".2f", height=common_height,
                       colorbar_title="weight", showscale=False, line_chars=charts.LINE_CHARS["third"]),
    ])


def alignment_caption(translation: seq2seq.Translation, matrix: np.ndarray) -> None:
    try:
        pair = seq2seq.translate_words(translation.source[:-1])
    except ValueError:
        st.caption("This sentence is outside the toy's grammar, so there is no true alignment to compare.")
        return
    produced = translation.target[1:-1] if translation.target[-1] == seq2seq.EOS else translation.target[1:]
    if list(produced) != list(pair.target):
        st.caption(f"The toy's French differs from the grammar's (*{' '.join(pair.target)}*), so the alignment "
                   "is not compared word by word.")
        return
    peaks = matrix[: len(pair.target)].argmax(-1)
    hits = [f"{fr} → {translation.source[p]}" + ("" if p == a else f" (true: {translation.source[a]})")
            for fr, p, a in zip(pair.target, peaks, pair.alignment)]
    agree = sum(int(p == a) for p, a in zip(peaks, pair.alignment))
    st.caption(f"Strongest cross-attention per French word: {'; '.join(hits)}. {agree} of {len(pair.target)} "
               "follow the true alignment the sentence generator knows.")


def decoding_tables(model, translation: seq2seq.Translation) -> None:
    """Teacher forcing (training) and token-by-token greedy decoding (inference), side by side."""
    produced = [w for w in translation.target[1:] if w != seq2seq.EOS]
    left, right = st.columns(2)
    with left:
        st.markdown("**Teacher forcing** (training): the decoder reads the right answer so far, all positions "
                    "in one pass.")
        try:
            reference = list(seq2seq.translate_words(translation.source[:-1]).target)
            label = "the grammar's French"
        except ValueError:
            reference, label = produced, "the toy's own output"
        predicted, _ = seq2seq.teacher_forced(model, translation.source[:-1], reference)
        st.dataframe(pd.DataFrame({"decoder input": [seq2seq.BOS, *reference],
                                   "must predict": [*reference, seq2seq.EOS], "model predicts": predicted}),
                     hide_index=True, key="transformer_teacher_table")
        st.caption(f"Decoder input: {label}.")
    with right:
        st.markdown("**Step by step** (inference): one token at a time, each fed back in, until `</s>`.")
        st.dataframe(pd.DataFrame([{"step": i + 1, "decoder has read": " ".join(s.prefix), "chooses": s.chosen,
                                    "p": round(s.probabilities[0], 3),
                                    "runner-up": f"{s.candidates[1]} ({s.probabilities[1]:.3f})"}
                                   for i, s in enumerate(translation.steps)]), hide_index=True,
                     key="transformer_greedy_table")


@common.fragment
def translator_section() -> None:
    run, which = translator()
    model = run.model
    final = next((p.exact_match for p in reversed(run.history) if p.exact_match is not None), None)
    st.caption(f"A toy trained here on generated sentences ({which}): {seq2seq.parameter_count(model):,} "
               f"parameters, {len(run.corpus.train):,} training pairs, {run.history[-1].step if run.history else 0} "
               f"steps; held-out exact match {final:.0%} on {len(run.corpus.held_out)} sentences it never saw."
               if final is not None else f"A toy trained here on generated sentences ({which}), not trained yet.")
    cols = st.columns([3, 1, 1])
    text = cols[0].text_input("English sentence (toy vocabulary)", max_chars=120, key="transformer_source")
    layers = model.config.num_decoder_layers
    if st.session_state["transformer_cross_layer"] > layers:
        st.session_state["transformer_cross_layer"] = layers
    layer = cols[1].number_input("Layer", 1, layers, key="transformer_cross_layer") - 1
    head_options = ["average", *range(1, model.config.num_attention_heads + 1)]
    if st.session_state["transformer_cross_head"] not in head_options:
        st.session_state["transformer_cross_head"] = "average"
    head = cols[2].selectbox("Head", head_options, key="transformer_cross_head")
    try:
        translation = seq2seq.translate(model, text)
    except ValueError as err:
        st.warning(f"{err}. The toy knows: {', '.join(w for w in seq2seq.SOURCE_VOCAB.words[3:])}.")
        return
    french = " ".join(w for w in translation.target[1:] if w != seq2seq.EOS)
    st.markdown(f"**{text}** → **{french.capitalize()}**")
    for col, fig, name in zip(st.columns(3), attention_figures(translation, layer, head),
                              ["encoder", "decoder", "cross"]):
        col.plotly_chart(fig, width="stretch", key=f"transformer_{name}_attention")
    st.caption("Colour: attention weight from 0 (dark violet) to 1 (yellow); every row sums to 1. Blank cells in "
               "the decoder are masked: a French word cannot look at words not yet written.")
    alignment_caption(translation, cross_matrix(translation, layer, head))
    decoding_tables(model, translation)


def hub_translation() -> None:
    if not common.hub_enabled():
        st.caption("With the Hub on (sidebar), the same cross-attention of a real translator, "
                   "Helsinki-NLP/opus-mt-en-fr, appears here for the course's two sentences.")
        return
    if not st.button("Translate the course's sentences with opus-mt-en-fr", key="transformer_hub_mt"):
        return
    loaded = common.load_model("opus-mt-en-fr", "seq2seq")
    for i, (english, _) in enumerate(seq2seq.COURSE_PAIRS):
        real = seq2seq.hub_cross_attention(loaded, english)
        st.plotly_chart(charts.heatmap(real["cross"], axis_labels(real["source"]), axis_labels(real["target"]),
                                       zrange=(0, 1), title=f"opus-mt cross-attention: {real['text']}",
                                       x_title="English token", y_title="French token produced",
                                       colorbar_title="weight", cell_text=".2f"),
                        width="stretch", key=f"transformer_hub_cross_{i}")


# --- 3. pretraining objectives ---------------------------------------------------------

def masks_figure(length: int, words: list[str]) -> list[go.Figure]:
    labels = axis_labels(words[:length])
    return charts.side_by_side([
        charts.heatmap(mask, labels, labels, zrange=(0, 1), title=f"{name}: who may look at whom",
                       x_title="key (looked at)", y_title="query (looking)", colorbar_title="1 = may look",
                       showscale=False, height=340, line_chars=charts.LINE_CHARS["half"])
        for name, mask in pretraining.attention_masks(length).items()])


def pretraining_chart(runs: pretraining.Pretrained) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[p.step for p in runs.bert.history], y=[p.loss for p in runs.bert.history],
                             name="tiny BERT: masked-LM loss (per masked word)"))
    fig.add_trace(go.Scatter(x=[p.step for p in runs.gpt.history], y=[p.train_loss for p in runs.gpt.history],
                             name="tiny GPT: next-character loss"))
    fig.update_layout(title="Training loss, same text and budget", xaxis_title="step", yaxis_title="cross-entropy",
                      height=320, legend=dict(orientation="h", y=-0.3))
    return fig


def train_pretraining(steps: int) -> None:
    if not st.button("Train both (same text, same budget)", icon=":material/play_arrow:",
                     key="transformer_train_pretraining"):
        return
    config = pretraining.PretrainConfig(max_steps=steps)
    text = pretraining.pretraining_text(config.seed)
    bert = pretraining.new_bert(text, config)
    gpt, train_data, val_data = tiny_gpt.new_run(text, config.gpt_config())
    runs = pretraining.Pretrained(bert, gpt)
    trained.keep(PRETRAINED, runs)
    chart = st.empty()

    def draw(i, _):
        if i % config.eval_every == 0 or i == steps:
            chart.plotly_chart(pretraining_chart(runs), width="stretch", key=f"transformer_pre_live_{i}")

    with device_policy.cpu_threads("cpu"):
        both = zip(pretraining.train_bert(bert), tiny_gpt.train(gpt, train_data, val_data, prompt="the cat "))
        common.live_run(both, steps, "Training the tiny BERT and the tiny GPT", draw)


def pretraining_results(mask_text: str) -> None:
    runs = trained.kept(PRETRAINED, "tiny BERT and tiny GPT")
    if runs is None or not runs.bert.history:
        st.info("Press *Train both* to see what each model predicts.", icon=":material/info:")
        return
    st.plotly_chart(pretraining_chart(runs), width="stretch", key="transformer_pre_chart")
    accuracy = pretraining.masked_accuracy(runs.bert)
    st.caption(f"Held-out masked words restored: tiny BERT **{accuracy['model']:.0%}**, unigram baseline "
               f"(always '{accuracy['unigram word']}') {accuracy['unigram']:.0%}, after {runs.bert.history[-1].step} steps.")
    left, right = st.columns(2)
    with left:
        st.markdown("**Tiny BERT fills the blank** (it sees both sides)")
        unknown = pretraining.unknown_words(runs.bert, mask_text)
        if unknown:
            st.caption(f"Never seen in its text, read as [UNK]: {', '.join(unknown)}.")
        try:
            st.dataframe(pd.DataFrame(pretraining.fill_mask(runs.bert, mask_text)), hide_index=True,
                         key="transformer_fill_table")
        except ValueError as err:
            st.warning(str(err))
    with right:
        st.markdown("**Tiny GPT continues** (it sees only the left)")
        prompt = mask_text.split("[MASK]")[0].lower() or "the "
        steps = list(tiny_gpt.generate(runs.gpt, prompt, 60, temperature=0.0))
        st.code(prompt + "".join(s.token for s in steps), language=None)


def hub_fill_mask(mask_text: str) -> None:
    if not common.hub_enabled():
        st.caption("With the Hub on (sidebar), real bert-base-uncased fills the same blank here.")
        return
    if st.button("Fill the mask with bert-base-uncased", key="transformer_hub_bert"):
        loaded = common.load_model("bert-base-uncased", "masked_lm")
        try:
            st.dataframe(pd.DataFrame(pretraining.hub_fill_mask(loaded, mask_text)), hide_index=True)
        except ValueError as err:
            st.warning(str(err))


def nsp_table(loaded) -> None:
    with loaded.lock:
        pair = pretraining.nsp_input(loaded.tokenizer)
    st.dataframe(pd.DataFrame(pair).T.astype(str), key="transformer_nsp_table")
