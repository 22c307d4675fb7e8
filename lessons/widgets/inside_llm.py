"""The "Inside a language model" lesson's widgets: the logit-lens heatmap, one
token's rank across layers, switching heads and MLPs off (SmolLM2 and MiniLM),
the head scan, and generation with and without the KV cache. The logic lives
in lib/inside_llm.py."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons.widgets import charts, common
from lib import inside_llm, model_loading, urlstate

SHARED = {
    "prompt": urlstate.Text("lens_prompt", "The capital of France is", inside_llm.MAX_PROMPT_CHARS),
    "target": urlstate.Text("lens_target", " Paris", 40),
    "part": urlstate.Choice("ablate_part", "attention head", ["attention head", "whole MLP"]),
    "layer": urlstate.Int("ablate_layer", 1, 1, 200),
    "head": urlstate.Int("ablate_head", 0, 0, 200),
    "mode": urlstate.Choice("ablate_mode", "zero", ["zero", "mean"]),
    "budget": urlstate.Int("scan_seconds", 60, 5, 300),
    "tokens": urlstate.Int("kv_tokens", 32, 8, 128),
}
PRESETS = {
    "Capital of France → Paris": {"prompt": "The capital of France is", "target": " Paris"},
    "Days of the week": {"prompt": "Monday, Tuesday, Wednesday,", "target": " Thursday"},
    "Knock out the MLP of layer 1": {"part": "whole MLP", "layer": 1},
}
SCAN_KEY, KV_KEY = "inside_scan", "inside_kv"
ENCODER_SENTENCES = ("A man is playing the guitar.", "Someone plays an instrument.")


# --- models ------------------------------------------------------------------------------

CHOICE_KEY = "_inside_choice"  # the picked registry key or typed Hub id: the shared copy's name


def decoder() -> model_loading.Loaded:
    st.session_state[CHOICE_KEY] = common.model_picker("decoder", "Decoder", key="inside_model")
    return common.load_model(st.session_state[CHOICE_KEY], "decoder")


@st.cache_resource(max_entries=8, show_spinner=False)
def cached_lens(choice: str, device: str, text: str) -> inside_llm.Lens:
    """The lens for one prompt, computed once per model and prompt for the whole class (read only:
    a resource, not copied per student, since its 6 MB of last-position logits cost 40 ms to unpickle)."""
    return inside_llm.logit_lens(model_loading.shared(choice, "decoder", device), text)


@st.cache_data(max_entries=32, show_spinner=False)
def cached_change(choice: str, device: str, text: str, ablation: inside_llm.Ablation) -> inside_llm.NextTokenChange:
    return inside_llm.next_token_change(model_loading.shared(choice, "decoder", device), text, [ablation])


@st.cache_data(max_entries=32, show_spinner=False)
def cached_embedding_change(device: str, sentences: tuple[str, str], ablation: inside_llm.Ablation) -> dict:
    return inside_llm.embedding_change(model_loading.shared("minilm", "encoder", device), sentences, [ablation])


def lens(loaded: model_loading.Loaded) -> inside_llm.Lens | None:
    """The prompt box and the student's lens (None with a message for a prompt it cannot use)."""
    text = st.text_input("Prompt", max_chars=inside_llm.MAX_PROMPT_CHARS, key="lens_prompt")
    try:
        with st.spinner("Running every layer through the LM head…"):
            return cached_lens(st.session_state[CHOICE_KEY], loaded.device, text)
    except inside_llm.PromptError as err:
        st.warning(str(err))
        return None


# --- 1. the logit lens -------------------------------------------------------------------

def lens_figure(lens: inside_llm.Lens) -> go.Figure:
    """Layers (rows, embeddings at the top) × positions, each cell the top next token, coloured by its probability."""
    text = np.array(lens.top_tokens, dtype=object)  # (layers + 1, seq)
    hover = "%{y} · after %{x}<br>top next token: %{text}<br>probability %{z:.3f}<extra></extra>"
    fig = charts.heatmap(lens.top_probs, charts.numbered(lens.tokens), lens.layer_names, zrange=(0, 1),
                         title="What each layer would predict next, read through the final norm and LM head",
                         x_title="position (the token just read)", y_title="layer", cell_text=text,
                         colorbar_title="probability", hovertemplate=hover, max_cell_text=2_000,
                         textfont=dict(size=10), height=max(360, 17 * len(lens.layer_names) + 130))
    return fig


def lens_view(lens: inside_llm.Lens) -> None:
    st.plotly_chart(lens_figure(lens), width="stretch", key="lens_heatmap")
    final = lens.top_tokens[-1][-1]
    st.caption(f"Each row is one layer of the model, each column one token of your prompt, and each cell the "
               f"token the model would predict next if it stopped at that layer (colour: how sure; ␣ marks a space). "
               f"Read the "
               f"**right-hand column** from top to bottom: the bottom cell is its real answer, **{final}** — at "
               "which layer does it first appear?")


def token_track_view(loaded: model_loading.Loaded, lens: inside_llm.Lens) -> None:
    """Rank and probability of one student-picked token at the last position, layer by layer."""
    word = st.text_input("Follow this token (start it with a space for a new word)", max_chars=40,
                         key="lens_target")
    try:
        token_id = inside_llm.first_token_id(loaded, word)
    except inside_llm.PromptError as err:
        st.warning(str(err))
        return
    track = pd.DataFrame(inside_llm.token_track(lens, token_id))
    label = inside_llm.token_labels(loaded.tokenizer, [token_id])[0]
    fig = go.Figure()
    fig.add_scatter(x=track["layer"], y=track["rank"], name="rank (1 = top)", mode="lines+markers",
                    line={"color": "#3b6fb6"})
    fig.add_scatter(x=track["layer"], y=track["probability"], name="probability", mode="lines+markers",
                    yaxis="y2", line={"color": "#e69f00"})
    fig.update_layout(title=f"{label!r} at the last position, layer by layer", height=340,
                      xaxis_title="layer", yaxis=dict(title="rank (log scale, 1 at the top)", type="log",
                                                      autorange="reversed"),
                      yaxis2=dict(title="probability", overlaying="y", side="right", range=[0, 1]),
                      legend=dict(orientation="h", y=-0.35))
    st.plotly_chart(fig, width="stretch", key="lens_track")
    first = lens.first_top_layer(token_id)
    best = track.loc[track["rank"].idxmin()]
    st.markdown(f"{label!r} is tokenized as its first token here. "
                + (f"It first becomes the top prediction at **{lens.layer_names[first]}**." if first is not None
                   else f"It never becomes the top prediction; its best rank is **{best['rank']:,}** at "
                        f"{best['layer']}."))


# --- 2. interventions --------------------------------------------------------------------

def ablation_controls(config, prefix: str) -> inside_llm.Ablation:
    """Which part to knock out, sized from the model's config."""
    sizes = inside_llm.sizes(config)
    c1, c2, c3, c4 = st.columns(4)
    part = c1.radio("Switch off", ["attention head", "whole MLP"], key=f"{prefix}_part")
    layer_key, head_key = f"{prefix}_layer", f"{prefix}_head"
    for key, top in ((layer_key, sizes.num_hidden_layers), (head_key, sizes.num_attention_heads - 1)):
        st.session_state.setdefault(key, 1 if key == layer_key else 0)
        st.session_state[key] = min(st.session_state[key], top)  # another model may have fewer
    layer = c2.slider("Layer", 1, sizes.num_hidden_layers, key=layer_key)
    head = c3.slider("Head", 0, sizes.num_attention_heads - 1, key=head_key, disabled=part != "attention head")
    modes = ["zero", "mean"]
    mode = (common.shared_value(SHARED["mode"]) if common.classroom() and prefix == "ablate" else
            c4.radio("Replace it by", modes, key=f"{prefix}_mode",
                     help="zero: its output becomes 0. mean: its output at every position becomes its average "
                          "over this prompt's positions, which keeps its typical size but removes what it says "
                          "about each token."))
    return inside_llm.Ablation(layer - 1, head if part == "attention head" else None, mode)


def change_figure(rows: list[dict], title: str) -> go.Figure:
    table = pd.DataFrame(rows)
    fig = go.Figure()
    fig.add_bar(x=table["token"], y=table["before"], name="before", marker_color="#3b6fb6")
    fig.add_bar(x=table["token"], y=table["after"], name="after", marker_color="#e69f00")
    fig.update_layout(title=title, barmode="group", height=340, xaxis_title="next token",
                      yaxis_title="probability", legend=dict(orientation="h", y=1.12))
    return fig


def decoder_ablation(loaded: model_loading.Loaded) -> None:
    ablation = ablation_controls(loaded.model.config, "ablate")
    text = common.shared_value(SHARED["prompt"])
    try:
        with st.spinner("Running the model twice, with and without that part…"):
            change = cached_change(st.session_state[CHOICE_KEY], loaded.device, text, ablation)
    except inside_llm.PromptError as err:
        st.warning(str(err))
        return
    rows = change.top(loaded.tokenizer)
    st.plotly_chart(change_figure(rows, f"Next token after “{text[-40:]}”: {ablation.label} switched off"),
                    width="stretch", key="ablation_chart")
    top = rows[0]
    st.markdown(f"KL divergence (how far the distribution moved, in nats; 0 = not at all): **{change.kl:.4f}**. "
                f"The original favourite {top['token']!r} goes from **{top['before']:.3f}** to "
                f"**{top['after']:.3f}**. The model itself is untouched: the next run without the switch gives "
                "the original numbers back exactly.")


def scan_figure(result: inside_llm.ScanResult, heads: int) -> go.Figure:
    grid = np.full((result.layers_total, heads), np.nan)
    for row in result.rows:
        grid[row["layer"] - 1, row["head"]] = row["KL (nats)"]
    return charts.heatmap(grid, [str(h) for h in range(heads)], [f"layer {i + 1}" for i in range(result.layers_total)],
                          title="How far the next-token distribution moves when each head is switched off",
                          x_title="head", y_title="layer", colorbar_title="KL (nats)",
                          height=max(360, 14 * result.layers_total + 130))


def head_scan(loaded: model_loading.Loaded) -> None:
    sizes = inside_llm.sizes(loaded.model.config)
    total = sizes.num_hidden_layers * sizes.num_attention_heads
    text = common.shared_value(SHARED["prompt"])
    mode = common.shared_value(SHARED["mode"]) if common.classroom() else st.session_state.get("ablate_mode", "zero")
    budget = (common.shared_value(SHARED["budget"]) if common.classroom() else
              st.slider("Time limit (seconds)", 5, 300, step=5, key="scan_seconds",
                        help="The scan stops after the layer that passes this limit and says how far it got."))
    if st.button(f"Scan all {total} heads ({mode} ablation)", icon=":material/radar:", key="scan_button"):
        bar = st.progress(0.0, text="Scanning")

        def progress(done: int, layers: int) -> None:
            bar.progress(done / layers, text=f"Scanned layer {done}/{layers} ({done * sizes.num_attention_heads} "
                                             f"of {total} heads)")
        try:
            result = inside_llm.head_scan(loaded, text, mode, budget, progress)
        except inside_llm.PromptError as err:
            st.warning(str(err))
            return
        bar.empty()
        st.session_state[SCAN_KEY] = (text, mode, result)
    if SCAN_KEY not in st.session_state:
        return
    scanned_text, scanned_mode, result = st.session_state[SCAN_KEY]
    done = result.layers_done * sizes.num_attention_heads
    st.markdown(f"Scanned **{done} of {result.layers_total * sizes.num_attention_heads} heads** "
                f"({result.layers_done} of {result.layers_total} layers) in **{result.seconds:.1f} s** on "
                f"“{scanned_text[-40:]}”, {scanned_mode} ablation"
                + ("." if result.complete else " — stopped at the time limit; raise it to scan the rest."))
    st.plotly_chart(scan_figure(result, sizes.num_attention_heads), width="stretch", key="scan_heatmap")
    st.dataframe(pd.DataFrame(result.rows[:10]).rename(columns={"top token before → after":
                                                                "original favourite's probability after"}),
                 hide_index=True, width="stretch")


def encoder_ablation(device: str) -> None:
    """MiniLM: the same switches on an encoder; the output is its sentence embedding."""
    loaded = common.load_model("minilm", "encoder", device)
    c1, c2 = st.columns(2)
    first = c1.text_input("Sentence A", ENCODER_SENTENCES[0], max_chars=200, key="minilm_a")
    second = c2.text_input("Sentence B", ENCODER_SENTENCES[1], max_chars=200, key="minilm_b")
    ablation = ablation_controls(loaded.model.config, "minilm")
    try:
        result = cached_embedding_change(loaded.device, (first, second), ablation)
    except inside_llm.PromptError as err:
        st.warning(str(err))
        return
    c1, c2, c3 = st.columns(3)
    c1.metric("Sentence A: cosine to its original embedding", f"{result['cosine to original'][0]:.4f}")
    c2.metric("Sentence B: cosine to its original embedding", f"{result['cosine to original'][1]:.4f}")
    c3.metric("Similarity of A and B", f"{result['pair similarity after']:.3f}",
              f"{result['pair similarity after'] - result['pair similarity before']:+.3f} vs original")


# --- 3. the KV cache ---------------------------------------------------------------------

def run_generations(loaded: model_loading.Loaded, text: str, tokens: int) -> dict | None:
    bar = st.progress(0.0, text="Generating")
    runs = {}
    for i, use_cache in enumerate((True, False)):
        name = "with the cache" if use_cache else "without the cache"

        def progress(done: int, i=i, name=name) -> None:
            bar.progress((i * tokens + done) / (2 * tokens), text=f"Generating {name}: token {done}/{tokens}")
        try:
            runs[name] = inside_llm.generate_timed(loaded, text, tokens, use_cache, on_token=progress)
        except inside_llm.PromptError as err:
            st.warning(str(err))
            return None
    bar.empty()
    return runs


def kv_figure(runs: dict) -> go.Figure:
    fig = go.Figure()
    for (name, run), colour in zip(runs.items(), ("#3b6fb6", "#e69f00")):
        fig.add_scatter(x=run.lengths, y=[1000 * s for s in run.seconds], name=name, mode="lines+markers",
                        line={"color": colour})
    fig.update_layout(title="Time for each new token as the sequence grows", xaxis_title="tokens in the sequence",
                      yaxis=dict(title="milliseconds per new token", rangemode="tozero"), height=360,
                      legend=dict(orientation="h", y=1.12))
    return fig


def growth_words(runs: dict) -> str:
    parts = []
    for name, run in runs.items():
        first, last = np.median(run.seconds[1:4]) * 1000, np.median(run.seconds[-3:]) * 1000
        parts.append(f"**{name[0].upper() + name[1:]}**, a new token took {first:.0f} ms at {run.lengths[1]} tokens and {last:.0f} ms "
                     f"at {run.lengths[-1]} tokens (×{last / first:.1f})")
    return (". ".join(parts) + ". Without the cache each step runs the model over the whole sequence again, so "
            "the time per token grows with the length (and the total with its square); with the cache each step "
            "feeds only the newest token, so the time stays nearly flat while the sequence grows. The gap widens with "
            "more tokens: try 128.")


def kv_cache(loaded: model_loading.Loaded) -> None:
    text = common.shared_value(SHARED["prompt"])
    tokens = (common.shared_value(SHARED["tokens"]) if common.classroom() else
              st.slider("New tokens to generate", 8, 128, step=8, key="kv_tokens"))
    if st.button("Generate with and without the cache", icon=":material/play_arrow:", key="kv_button"):
        runs = run_generations(loaded, text, tokens)
        if runs:
            st.session_state[KV_KEY] = (text, runs)
    if KV_KEY not in st.session_state:
        return
    shown_text, runs = st.session_state[KV_KEY]
    st.plotly_chart(kv_figure(runs), width="stretch", key="kv_chart")
    cached, uncached = runs.values()
    same = cached.ids == uncached.ids
    st.code(shown_text + loaded.tokenizer.decode(cached.ids), language=None)
    st.markdown(("Both runs chose **the same tokens**: the cache changes the cost, not the answer. " if same else
                 "The two runs chose different tokens at some step: tiny rounding differences tipped a near tie. ")
                + growth_words(runs))
    cache_table(loaded.model.config, cached)


def cache_table(config, cached: inside_llm.Generation) -> None:
    """The cache's size by formula next to its tensors' measured bytes, and what grouped-query attention saves."""
    sizes, width, tokens = inside_llm.sizes(config), cached.bytes_per_value, cached.cache_tokens
    formula = inside_llm.cache_bytes_formula(config, tokens, width)
    full = inside_llm.cache_bytes_formula(config, tokens, width, kv_heads=sizes.num_attention_heads)
    st.table(pd.DataFrame([
        {"": "formula: 2 × layers × kv heads × head dim × tokens × bytes",
         "value": f"2 × {sizes.num_hidden_layers} × {sizes.num_key_value_heads} × {sizes.head_dim} × "
                  f"{tokens} × {width} = {formula:,} bytes"},
        {"": "measured: bytes of the cache's key and value tensors", "value": f"{cached.cache_bytes:,} bytes"},
        {"": f"the same model with full multi-head attention ({sizes.num_attention_heads} kv heads)",
         "value": f"{full:,} bytes"},
    ]).set_index(""))
    context = getattr(config, "max_position_embeddings", tokens)
    st.markdown(f"Grouped-query attention shares each key-value head among "
                f"{sizes.num_attention_heads // sizes.num_key_value_heads} query heads, so the cache is "
                f"**{full / formula:.0f}× smaller** than with one key-value head per query head. At the full "
                f"context of {context:,} tokens that is "
                f"{inside_llm.cache_bytes_formula(config, context, width) / 2**20:,.0f} MiB instead of "
                f"{inside_llm.cache_bytes_formula(config, context, width, sizes.num_attention_heads) / 2**20:,.0f}"
                " MiB per sequence.")
