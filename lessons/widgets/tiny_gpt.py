"""The tiny-GPT lesson's widgets: corpus and configuration, live training, and
the generation loop step by step. The model and its training live in lib/tiny_gpt.py."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons.widgets import charts, common, trained
from lib import parameters, tiny_gpt, urlstate

# Settings shared by link (the own-text corpus is not: it needs thousands of characters).
SHARED = {
    "layers": urlstate.Int("gpt_layers", 2, 1, 4),
    "heads": urlstate.Choice("gpt_heads", 4, [1, 2, 4, 8]),
    "width": urlstate.Choice("gpt_embd", 128, [32, 64, 128, 192]),
    "context": urlstate.Choice("gpt_block", 64, [16, 32, 64, 128]),
    "steps": urlstate.Int("gpt_steps", 600, 50, 1500),
    "lr": urlstate.Choice("gpt_lr", 3e-3, [1e-3, 3e-3, 1e-2]),
    "every": urlstate.Choice("gpt_every", 100, [25, 50, 100, 200]),
    "seed": urlstate.Int("gpt_seed", 0, 0, 10_000),
    "prompt": urlstate.Text("gpt_prompt", "The ", 60),
    "temp": urlstate.Float("gpt_temperature", 0.8, 0.0, 2.0),
    "topk": urlstate.Int("gpt_topk", 0, 0, 20),
    "topp": urlstate.Float("gpt_top_p", 1.0, 0.05, 1.0),
}
PRESETS = {
    "Quick demo: 1 layer, 200 steps": {"layers": 1, "heads": 2, "width": 64, "context": 32, "steps": 200,
                                       "every": 50},
    "Greedy decoding (temperature 0)": {"temp": 0.0},
    "Hot sampling: temperature 1.5, top-k 5": {"temp": 1.5, "topk": 5},
}
RUN_KEY = "gpt_run"


def gpt2_small() -> parameters.Breakdown:
    """GPT-2 small as the parameters lesson counts it, shown as a metric."""
    full = parameters.count_known("gpt2")
    st.metric("GPT-2 small, the course's configuration (counted by the parameters lesson)", f"{full.total:,}",
              help=tiny_gpt.describe(full.architecture))
    return full


def corpus_and_config(full: parameters.Breakdown) -> tuple[str, tiny_gpt.TinyGPTConfig]:
    """The corpus and the model's configuration; stops the page on text that cannot be trained on."""
    source = st.radio("Corpus", ["Python's documentation (bundled)", "My own text"], horizontal=True,
                      key="gpt_source")
    text = tiny_gpt.bundled_corpus() if source.startswith("Python") else st.text_area(
        "Paste at least a few thousand characters", height=160, max_chars=tiny_gpt.MAX_CORPUS_CHARS, key="gpt_text")
    c1, c2, c3, c4 = st.columns(4)
    config = tiny_gpt.TinyGPTConfig(
        n_layer=c1.slider("Layers (n_layer)", 1, 4, key="gpt_layers"),
        n_head=c2.select_slider("Heads (n_head)", SHARED["heads"].options, key="gpt_heads"),
        n_embd=c3.select_slider("Width (n_embd)", SHARED["width"].options, key="gpt_embd"),
        block_size=c4.select_slider("Context (block_size)", SHARED["context"].options, key="gpt_block"),
        max_steps=c1.slider("Training steps", 50, 1500, step=50, key="gpt_steps"),
        learning_rate=c2.select_slider("Learning rate", SHARED["lr"].options, key="gpt_lr"),
        eval_every=c3.select_slider("Sample every N steps", SHARED["every"].options, key="gpt_every"),
        seed=c4.number_input("Seed", 0, 10_000, key="gpt_seed"),
    )
    try:
        corpus = tiny_gpt.prepare_corpus(text, config.block_size)
    except tiny_gpt.CorpusError as err:
        st.warning(str(err))
        st.stop()
    vocab = tiny_gpt.CharTokenizer.from_text(corpus).vocab_size
    try:
        breakdown = parameters.count_parameters(config.gpt2_config(vocab).to_dict(), "GPT2LMHeadModel")
    except parameters.InvalidConfig as err:
        st.error(str(err))
        st.stop()
    st.write(f"**{len(corpus):,} characters**, a vocabulary of **{vocab} characters**, and a model of "
             f"**{breakdown.total:,} parameters** — {full.total / breakdown.total:,.0f}× smaller than GPT-2 small.")
    st.dataframe(breakdown.table()[["group", "exact", "formula", "share"]], hide_index=True, width="stretch")
    return corpus, config


def train_button(corpus: str, config: tiny_gpt.TinyGPTConfig) -> None:
    """Train from scratch with the loss chart and samples drawn as it learns."""
    if not st.button("Train from scratch", type="primary", icon=":material/play_arrow:", key="gpt_train"):
        return
    run, train_data, val_data = tiny_gpt.new_run(corpus, config, common.device())
    trained.keep(RUN_KEY, run)  # kept before training, so a stopped run keeps what it learned
    chart, sample_box, lens_box = st.empty(), st.empty(), st.empty()
    drawn = [0]  # snapshots already drawn

    def draw(i, progress):
        if progress.val_loss is not None:
            chart.plotly_chart(loss_chart(run), width="stretch", key=f"gpt_live_{i}")
            sample_box.code(progress.sample, language=None)
        if len(run.snapshots) > drawn[0]:
            drawn[0] = len(run.snapshots)
            lens_box.plotly_chart(snapshot_lens_chart(run.snapshots[-1]), width="stretch", key=f"gpt_lens_{i}")

    common.live_run(tiny_gpt.train(run, train_data, val_data, snapshots=True), config.max_steps, "Training", draw)


def trained_run():
    """This student's run, once it has trained at least one step."""
    run = trained.kept(RUN_KEY, "tiny GPT")
    return run if run and run.history else None


def training_result(run) -> None:
    st.plotly_chart(loss_chart(run), width="stretch", key="gpt_final_chart")
    evals = [p for p in run.history if p.val_loss is not None]
    if not evals:
        return
    last = evals[-1]
    verdict = "below" if last.val_loss < run.baseline else "not yet below"
    st.write(f"After {last.step} steps the validation loss is **{last.val_loss:.3f}**, {verdict} the unigram "
             f"baseline of **{run.baseline:.3f}**.")
    with st.expander("Samples during training"):
        for p in evals:
            st.markdown(f"**step {p.step}** (validation loss {p.val_loss:.2f})")
            st.code(p.sample, language=None)


def watch_it_learn(run) -> None:
    """Scrub through the snapshots kept while training: the logit lens, one head's map and the embeddings."""
    if len(run.snapshots) < 2:
        st.info("Train again to keep snapshots of the model while it learns.")
        return
    steps = [s.step for s in run.snapshots]
    st.session_state.setdefault("gpt_snapshot", steps[-1])
    if st.session_state["gpt_snapshot"] not in steps:  # a new run has other steps
        st.session_state["gpt_snapshot"] = steps[-1]
    step = st.select_slider("Training step", steps, key="gpt_snapshot",
                            help="Step 0 is the untrained model, with random weights.")
    snap = run.snapshots[steps.index(step)]
    st.plotly_chart(snapshot_lens_chart(snap), width="stretch", key="gpt_snapshot_lens")
    left, right = st.columns(2)
    with left:
        c1, c2 = st.columns(2)
        layer = c1.selectbox("Layer", range(1, snap.attentions.shape[0] + 1), key="gpt_snap_layer")
        head = c2.selectbox("Head", range(snap.attentions.shape[1]), key="gpt_snap_head")
        labels = charts.numbered([shown_char(c) for c in snap.prompt])
        st.plotly_chart(charts.heatmap(snap.attentions[layer - 1, head], labels, labels, zrange=(0, 1),
                                       title=f"Layer {layer} head {head}: where each character looks (step {step})",
                                       x_title="looks at (key)", y_title="character (query)",
                                       colorbar_title="attention", height=420),
                        width="stretch", key="gpt_snapshot_attention")
    with right:
        st.plotly_chart(embedding_chart(run, snap), width="stretch", key="gpt_snapshot_embeddings")


def shown_char(char: str) -> str:
    """A character as a label: a space as ␣, a newline as \\n."""
    return "␣" if char == " " else repr(char)[1:-1]


def snapshot_lens_chart(snap) -> go.Figure:
    """The logit lens of a snapshot: rows = embeddings then each layer, columns = the fixed prompt."""
    rows = ["embeddings"] + [f"layer {i}" for i in range(1, len(snap.lens_top))]
    shown = [[shown_char(c) for c in row] for row in snap.lens_top]
    return charts.heatmap(snap.lens_probs, charts.numbered([shown_char(c) for c in snap.prompt]), rows,
                          zrange=(0, 1), cell_text=shown, colorbar_title="probability",
                          title=f"Step {snap.step}: the next character each layer would predict (logit lens)",
                          x_title="character just read", y_title="layer", height=max(260, 48 * len(rows) + 120),
                          textfont=dict(size=13))


CLASS_COLOURS = {"vowel": "#d55e00", "consonant": "#999999", "digit": "#0072b2", "punctuation": "#009e73",
                 "space or newline": "#cc79a7", "other": "#e69f00"}


def embedding_chart(run, snap) -> go.Figure:
    """The token embeddings on their two principal axes, coloured by kind of character."""
    fig = go.Figure()
    chars = run.tokenizer.chars
    for kind, colour in CLASS_COLOURS.items():
        members = [i for i, c in enumerate(chars) if tiny_gpt.char_class(c) == kind]
        if members:
            fig.add_scatter(x=snap.embedding_xy[members, 0], y=snap.embedding_xy[members, 1], name=kind,
                            mode="markers+text", text=[shown_char(chars[i]) for i in members],
                            textposition="top center", marker=dict(color=colour, size=8))
    share = sum(snap.explained)
    fig.update_layout(title=f"Character embeddings, step {snap.step} ({share:.0%} of their variance shown)",
                      xaxis_title="principal axis 1", yaxis_title="principal axis 2", height=480,
                      legend=dict(orientation="h", y=-0.2))
    return fig


def generation_loop(run) -> None:
    """Generate from the student's prompt and look at any step's candidates."""
    c1, c2, c3, c4 = st.columns(4)
    prompt = c1.text_input("Prompt", max_chars=60, key="gpt_prompt")
    temperature = c2.slider("Temperature (0 = greedy)", 0.0, 2.0, step=0.1, key="gpt_temperature")
    top_k = c3.slider("Top-k (0 = off)", 0, 20, key="gpt_topk")
    top_p = c4.slider("Top-p (1 = off)", 0.05, 1.0, step=0.05, key="gpt_top_p")
    steps = list(tiny_gpt.generate(run, prompt, 40, temperature, top_k or None, top_p, seed=0))
    st.code(prompt + "".join(s.token for s in steps), language=None)
    pick = st.slider("Look at step", 1, len(steps), 1, key="gpt_step")
    st.plotly_chart(step_chart(steps[pick - 1], pick), width="stretch")


def loss_chart(run) -> go.Figure:
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


def step_chart(step, number: int) -> go.Figure:
    fig = go.Figure(go.Bar(x=[repr(t) for t in step.candidates], y=step.probabilities, marker_color="#3b6fb6"))
    fig.update_layout(title=f"Step {number}: the five most likely next characters (chosen: {step.token!r})",
                      xaxis_title="candidate character", yaxis_title="probability", height=320)
    return fig
