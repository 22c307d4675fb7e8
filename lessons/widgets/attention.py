"""Streamlit and Plotly helpers for the attention lesson: heatmaps (drawn by
lessons/widgets/charts.py), tables and cached real-model runs. The maths lives in
lib/attention.py and lib/attention_models.py."""
from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import torch
from plotly.subplots import make_subplots

from lessons.widgets import charts, common
from lib import attention as att
from lib import attention_bertviz, attention_models, model_registry, sampling, urlstate

SIMILARITY_COLOURS = {"high positive (same direction)": "#0072B2", "positive (similar)": "#56B4E9",
                      "zero (perpendicular)": "#999999", "negative (opposite)": "#E69F00"}


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
    fig.update_layout(title=charts.wrapped("Vectors in 2-D, coloured by their dot product with v_ref",
                                           charts.LINE_CHARS["half"]),
                      xaxis=dict(title="x", range=[-span, span], zeroline=True),
                      yaxis=dict(title="y", range=[-span, span], scaleanchor="x"), height=420)
    return fig


def probability_bars(step: sampling.GenerationStep, title: str) -> go.Figure:
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


@st.cache_data(max_entries=4, show_spinner="Computing each head's queries and keys…")
def real_queries_keys(_loaded, model_key: str, text: str) -> attention_models.QueriesKeys:
    """Cached like real_attention."""
    return attention_models.queries_and_keys(_loaded, text)


@st.cache_data(max_entries=4, show_spinner="Drawing bertviz…")
def bertviz_page(view: str, attentions: np.ndarray, tokens: tuple[str, ...], **neuron) -> str:
    return attention_bertviz.render(view, attentions, list(tokens), **neuron)


# --- settings shared by link, and teacher presets ------------------------------------

AVERAGE = "average over heads"
MAX_LAYERS, MAX_HEADS = 64, 64  # a link is checked against these; the page then fits it to the model
SENTENCE_CHARS = 400
VECTORS = {"ref": att.REFERENCE_VECTOR, **att.COURSE_VECTORS}
SHARED = {
    **{f"{name}{axis}": urlstate.Float(f"attention_{name}_{axis}", value, -1000.0, 1000.0)
       for name, vector in VECTORS.items() for axis, value in zip("xy", vector)},
    "s": urlstate.Text("attention_sentence", att.DEFAULT_SENTENCE, SENTENCE_CHARS),
    "dm": urlstate.Choice("attention_d_model", 8, [4, 8, 16, 32, 64, 512]),
    "dk": urlstate.Choice("attention_d_k", 4, [2, 4, 8, 16, 64]),
    "seed": urlstate.Int("attention_seed", 0, 0, 10_000),
    "scale": urlstate.Bool("attention_scale", True),
    "causal": urlstate.Bool("attention_causal", False),
    "heads": urlstate.Choice("attention_heads", 2, [1, 2, 4]),
    "pelen": urlstate.Int("attention_pe_len", 50, 8, 128),
    "pedim": urlstate.Choice("attention_pe_dim", 64, [16, 32, 64, 128, 512]),
    "enc": urlstate.Choice("attention_encoder_model", model_registry.OFFLINE_DEFAULT["encoder"], lambda: common.model_choices("encoder")),
    "dec": urlstate.Choice("attention_decoder_model", model_registry.OFFLINE_DEFAULT["decoder"], lambda: common.model_choices("decoder")),
    "role": urlstate.Choice("attention_role", "encoder", ["encoder", "decoder"]),
    "text": urlstate.Text("attention_real_text", att.DEFAULT_SENTENCE),
    **{f"{prefix}layer": urlstate.Int(f"attention_layer_{role}", 1, 1, MAX_LAYERS)
       for prefix, role in (("", "encoder"), ("d", "decoder"))},
    **{f"{prefix}head": urlstate.Choice(f"attention_head_{role}", AVERAGE, [AVERAGE, *range(1, MAX_HEADS + 1)])
       for prefix, role in (("", "encoder"), ("d", "decoder"))},
    "prompt": urlstate.Text("attention_prompt", "The cat chased the mouse and"),
    "sample": urlstate.Bool("attention_sampling", False),
    "temp": urlstate.Float("attention_temperature", 0.8, 0.1, 2.0),
    "topk": urlstate.Int("attention_top_k", 20, 0, 100),
    "topp": urlstate.Float("attention_top_p", 1.0, 0.05, 1.0),
    "new": urlstate.Int("attention_new_tokens", 10, 1, 30),
    "gseed": urlstate.Int("attention_gen_seed", 0, 0, 10_000),
}
PRONOUN = "The animal didn't cross the street because it was too tired."
# Heads of the bundled MiniLM picked by looking (tests/test_page_attention.py checks them): layer 4 head 2
# puts most of "it"'s weight on "animal"; layer 3 head 10 sends the second "cat" to the first. Toy seed 44
# gives the second "cat" its largest weights on both copies of "cat".
PRESETS = {
    "Pronoun resolution": {"s": PRONOUN, "text": PRONOUN, "layer": 4, "head": 2},
    "Repeated word": {"seed": 44, "layer": 3, "head": 10},
    "Causal vs bidirectional": {"causal": True, "role": "decoder"},
}


def fit_to_model(role: str, num_layers: int, num_heads: int) -> None:
    """A link or preset may name a layer or head this model lacks (a link made with a bigger Hub
    model): show the nearest one instead, and say so."""
    layer_key, head_key = f"attention_layer_{role}", f"attention_head_{role}"
    layer, head = st.session_state[layer_key], st.session_state[head_key]
    if layer > num_layers or (head != AVERAGE and head > num_heads):
        st.session_state[layer_key] = min(layer, num_layers)
        st.session_state[head_key] = head if head == AVERAGE else min(head, num_heads)
        st.caption(f"This model has {num_layers} layers of {num_heads} heads: the link's layer and head were "
                   "moved to the nearest ones it has.")


# --- the lesson's sections (the page calls them in order) ------------------------------

@common.fragment
def first_screen() -> None:
    """The lesson's opening picture: where each token of section 5's text looks, in the bundled
    encoder, at section 5's layer and head (the presets set all three)."""
    loaded = common.load_model(model_registry.OFFLINE_DEFAULT["encoder"], role="encoder")
    text = st.session_state.get("attention_real_text") or att.DEFAULT_SENTENCE
    real = real_attention(loaded, f"{loaded.spec.key}@{loaded.device}", text)
    num_layers, num_heads = real.attentions.shape[:2]
    layer = min(st.session_state.get("attention_layer_encoder", 1), num_layers)
    head = st.session_state.get("attention_head_encoder", AVERAGE)
    head = head if head == AVERAGE else min(head, num_heads)
    weights = real.attentions[layer - 1].mean(0) if head == AVERAGE else real.attentions[layer - 1, head - 1]
    labels = attention_models.readable_tokens(real)
    st.markdown(f"**Each row is one token of a real {loaded.spec.title} looking at the others**: the brighter the "
                "cell, the more of its attention goes there. Hover a cell for the exact weight, then press "
                "*Pronoun resolution* to see where \"it\" looks.")
    st.plotly_chart(charts.heatmap(weights, labels, labels, zrange=(0, 1),
                                   title=f"{loaded.spec.title} reading \"{text[:60]}\": layer {layer}, head {head}",
                                   x_title="key (looked at)", y_title="query (looking)", colorbar_title="weight",
                                   cell_text=".2f" if len(labels) <= 14 else None),
                    width="stretch", key="attention_first_heatmap")
    st.caption("Section 5 picks the layer, head, model and text; sections 1 to 4 build this matrix by hand.")


def dimension_labels(n: int) -> list[str]:
    return [f"d{i}" for i in range(n)]


@common.fragment
def dot_product_section():
    cols = st.columns(5)
    ref = (cols[0].number_input("v_ref x", key="attention_ref_x"),
           cols[0].number_input("v_ref y", key="attention_ref_y"))
    vectors = {name: (col.number_input(f"{name} x", key=f"attention_{name}_x"),
                      col.number_input(f"{name} y", key=f"attention_{name}_y"))
               for col, name in zip(cols[1:], att.COURSE_VECTORS)}
    rows = att.dot_products(ref, vectors)
    left, right = st.columns([3, 2])
    left.plotly_chart(dot_product_figure(ref, rows), width="stretch", key="attention_dot_chart")
    right.dataframe(pd.DataFrame(rows).set_index("vector")[["dot", "cosine", "similarity"]],
                    key="attention_dot_table", column_config={  # one format per column
                        "dot": st.column_config.NumberColumn(format="%.2f"),
                        "cosine": st.column_config.NumberColumn(format="%.4f")})


@common.fragment
def step_by_step_section(words: list[str]):
    toy_sentence = " ".join(words)
    cols = st.columns(4)
    d_model = cols[0].select_slider("d_model", SHARED["dm"].options, key="attention_d_model")
    d_k = cols[1].select_slider("d_k", SHARED["dk"].options, key="attention_d_k")
    seed = cols[2].number_input("Random seed", 0, 10_000, key="attention_seed")
    scale = cols[3].toggle("Divide by √d_k", key="attention_scale")
    causal = cols[3].toggle("Causal mask (decoder)", key="attention_causal")
    steps = att.toy_steps(toy_sentence, d_model, d_k, seed, causal=causal, scale=scale)
    labels = charts.numbered(words)
    dims = dimension_labels
    x_tab, qkv_tab, scores_tab, scaled_tab, softmax_tab, sum_tab = common.lazy_tabs(
        ["X", "Q, K, V", "Q·Kᵀ", "÷ √d_k", "softmax", "weights·V"], key="attention_step_tab")
    if x_tab.open:
        x_tab.plotly_chart(charts.heatmap(steps.x, dims(d_model), labels, "diverging",
                                            title="Embeddings X (one row per word)", x_title="dimension",
                                            y_title="word", cell_text=".2f" if d_model <= 16 else None),
                           width="stretch", key="attention_x")
    if qkv_tab.open:
        for col, (name, m) in zip(qkv_tab.columns(3), [("Q = X·W_Q", steps.q), ("K = X·W_K", steps.k),
                                                       ("V = X·W_V", steps.v)]):
            col.plotly_chart(charts.heatmap(m, dims(d_k), labels, "diverging", title=name, x_title="dimension",
                                            y_title="word", cell_text=".2f" if d_k <= 8 else None),
                             width="stretch", key=f"attention_{name[0]}")
    if scores_tab.open:
        scores_tab.plotly_chart(charts.heatmap(steps.scores, labels, labels, "diverging", title="Scores Q·Kᵀ",
                                               x_title="key (looked at)", y_title="query (looking)", cell_text=".2f"),
                                width="stretch", key="attention_scores")
    if scaled_tab.open:
        title = "Scaled scores Q·Kᵀ / √d_k" if scale else "Unscaled scores (no ÷ √d_k)"
        scaled_tab.plotly_chart(charts.heatmap(steps.scaled, labels, labels, "diverging", title=title,
                                               x_title="key", y_title="query", cell_text=".2f"),
                                width="stretch", key="attention_scaled")
    if softmax_tab.open:
        with softmax_tab:
            softmax_step(steps, labels)
    if sum_tab.open:
        with sum_tab:
            weighted_sum_step(steps, labels)


def softmax_step(steps: att.AttentionSteps, labels: list[str]) -> None:
    st.plotly_chart(charts.heatmap(steps.weights, labels, labels, zrange=(0, 1),
                                   title="Attention weights softmax(scores)", x_title="key (looked at)",
                                   y_title="query (looking)", cell_text=".2f"),
                    width="stretch", key="attention_softmax")
    st.dataframe(weights_table(steps.weights, labels).round(4), key="attention_weights")
    st.caption(f"Every row sums to 1 (largest deviation {float((steps.weights.sum(-1) - 1).abs().max()):.1e}): "
               f"each row is a probability distribution. Average spread "
               f"{float(att.row_entropy_bits(steps.weights).mean()):.2f} bits (a uniform row has "
               f"{math.log2(len(labels)):.2f}, a one-hot row 0): turn off ÷ √d_k with a large d_k to see it fall.")


def weighted_sum_step(steps: att.AttentionSteps, labels: list[str]) -> None:
    d_k = steps.output.shape[-1]
    row = st.selectbox("Query token (row)", range(len(labels)), format_func=lambda i: labels[i],
                       index=len(labels) - 1, key="attention_row")
    terms = att.weighted_sum_terms(steps, row)
    st.plotly_chart(charts.heatmap(torch.cat([terms, steps.output[row : row + 1]]), dimension_labels(d_k),
                                   [f"{w:.2f} × v({labels[j]})" for j, w in enumerate(steps.weights[row].tolist())]
                                   + [f"= output({labels[row]})"], "diverging",
                                   title=f"Output of '{labels[row]}' = Σ weight × value", x_title="dimension",
                                   y_title="term", cell_text=".2f" if d_k <= 8 else None),
                    width="stretch", key="attention_weighted_sum")


@common.fragment
def masks_and_heads_section(words: list[str]):
    masks_tab, heads_tab = common.lazy_tabs(["Masks", "Multi-head attention"], key="attention_masks_tab")
    if masks_tab.open:
        with masks_tab:
            masks(words)
    if heads_tab.open:
        with heads_tab:
            multi_head(words)


def masks(words: list[str]) -> None:
    n = len(words)
    padded = st.slider("Pad the sentence to this many tokens", n, n + 6, n + 2, key="attention_pad_to")
    st.plotly_chart(masks_figure(words, padded), width="stretch", key="attention_masks")


def masks_figure(words: list[str], padded: int) -> go.Figure:
    """The causal mask and the padding mask side by side, one figure so their rows line up."""
    n = len(words)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=[
        "Causal mask: 1 = may look, 0 = future", "Padding mask: [PAD] keys get 0"])
    for col, (mask, labels) in enumerate([(att.causal_mask(n), charts.numbered(words)),
                                          (att.padding_mask(padded, n), charts.numbered(words + ["[PAD]"] * (padded - n)))],
                                         start=1):
        fig.add_trace(charts.heatmap_trace(mask.double(), labels, labels, zrange=(0, 1), cell_text=".0f",
                                           showscale=col == 2, colorbar_title="may look",
                                           hovertemplate="query %{y}, key %{x}: %{z:.0f}<extra></extra>"),
                      row=1, col=col)
        fig.update_xaxes(type="category", title_text="key", row=1, col=col)
        fig.update_yaxes(type="category", autorange="reversed", title_text="query", row=1, col=col)
    fig.update_layout(title=dict(text="Masks: which scores the softmax may use"), height=charts.default_height(padded) + 30,
                      margin=dict(l=10, r=10, t=80, b=10))
    return fig


def multi_head(words: list[str]) -> None:
    labels = charts.numbered(words)
    heads = st.select_slider("Number of heads h", SHARED["heads"].options, key="attention_heads")
    d_model = 8
    x = att.word_embeddings(words, d_model, seed=0)
    mh = att.multi_head_attention(x, att.random_projections(d_model, d_model // heads, 0, heads), heads)
    for i, col in enumerate(st.columns(heads)):
        col.plotly_chart(charts.heatmap(mh.weights[i], labels, labels, zrange=(0, 1), title=f"Head {i + 1}",
                                        x_title="key", y_title="query", cell_text=".2f" if heads <= 2 else None),
                         width="stretch", key=f"attention_head_{i}")
    dims = [f"h{i // (d_model // heads) + 1}·d{i % (d_model // heads)}" for i in range(d_model)]
    cols = st.columns(2)
    cols[0].plotly_chart(charts.heatmap(mh.concat, dims, labels, "diverging", title="Concat(head outputs)",
                                        x_title="head·dimension", y_title="word", cell_text=".2f"),
                         width="stretch", key="attention_concat")
    cols[1].plotly_chart(charts.heatmap(mh.output, [f"d{i}" for i in range(d_model)], labels, "diverging",
                                        title="Output = Concat · W_O", x_title="dimension", y_title="word",
                                        cell_text=".2f"),
                         width="stretch", key="attention_mh_output")


@common.fragment
def positional_section(words: list[str]):
    sinusoid_tab, shuffle_tab = common.lazy_tabs(["Sinusoids", "Shuffle test"], key="attention_position_tab")
    if sinusoid_tab.open:
        with sinusoid_tab:
            sinusoids()
    if shuffle_tab.open:
        with shuffle_tab:
            if len(words) > 1:
                shuffle_demo(words)
            else:
                st.info("Type at least two words in section 2 to shuffle them.", icon=":material/shuffle:")


def sinusoids() -> None:
    cols = st.columns(2)
    length = cols[0].slider("Positions", 8, 128, key="attention_pe_len")
    width = cols[1].select_slider("d_model ", SHARED["pedim"].options, key="attention_pe_dim")
    pe = att.positional_encoding(length, width)
    st.plotly_chart(charts.heatmap(pe, list(range(width)), list(range(length)), "diverging", zrange=(-1, 1),
                                   title="Sinusoidal positional encoding", x_title="dimension", y_title="position"),
                    width="stretch", key="attention_pe")


def shuffle_demo(words: list[str]):
    """Section 2's sentence reversed, with section 2's d_model, d_k and seed: attention alone cannot tell."""
    order = list(reversed(range(len(words))))
    d_model, d_k, seed = (st.session_state[f"attention_{name}"] for name in ("d_model", "d_k", "seed"))
    st.html(f"Shuffle: <b>{html.escape(' '.join(words))}</b> → <b>{html.escape(' '.join(words[i] for i in order))}"
            f"</b> (section 2's d_model = {d_model}, d_k = {d_k}, seed {seed})")
    permuted, reordered = att.shuffled_attention(words, order, d_model, d_k, seed, positions=False)
    labels = [charts.numbered(words)[i] for i in order]
    for col, matrix, title in zip(st.columns(2), (permuted, reordered),
                                  ("Shuffled sentence, no positions", "Original weights, rows and columns shuffled")):
        col.plotly_chart(charts.heatmap(matrix, labels, labels, zrange=(0, 1), title=title, x_title="key",
                                        y_title="query", cell_text=".2f" if len(words) <= 8 else None),
                         width="stretch", key=f"attention_shuffle_{title[:8]}")
    column = "largest change after un-shuffling the weights"
    changes = [att.permutation_check(words, order, d_model, d_k, seed, positions=p) for p in (False, True)]
    st.dataframe(pd.DataFrame({column: changes}, index=["without positions", "with positions"]),
                 column_config={column: st.column_config.NumberColumn(format="%.1e")}, key="attention_permutation")


@common.fragment
def real_heatmap_section(real: attention_models.ModelAttention, loaded, role: str):
    token_labels = attention_models.readable_tokens(real)
    num_layers, num_heads = real.attentions.shape[:2]
    fit_to_model(role, num_layers, num_heads)
    cols = st.columns(2)
    layer = cols[0].slider("Layer", 1, num_layers, key=f"attention_layer_{role}") - 1
    head = cols[1].selectbox("Head", [AVERAGE, *range(1, num_heads + 1)], key=f"attention_head_{role}")
    weights = real.attentions[layer].mean(0) if head == AVERAGE else real.attentions[layer, head - 1]
    one_tab, all_tab = common.lazy_tabs(["One head", "What every head attends to"], key=f"attention_heads_tab_{role}")
    if one_tab.open:
        one_tab.plotly_chart(real_heatmap_figure(weights, token_labels, f"{loaded.spec.title}: layer {layer + 1}, head {head}"),
                             width="stretch", key="attention_real_heatmap")
    if all_tab.open:
        with all_tab:
            head_roles_grid(real, role)


def real_heatmap_figure(weights, token_labels: list[str], title: str) -> go.Figure:
    """Section 5's heatmap of one head (or the heads' mean): what the load tests read their markers from."""
    return charts.heatmap(weights, token_labels, token_labels, zrange=(0, 1), title=title,
                          x_title="key (looked at)", y_title="query (looking)",
                          cell_text=".2f" if len(token_labels) <= 12 else None)


def head_roles_grid(real: attention_models.ModelAttention, role: str) -> None:
    num_layers = real.attentions.shape[0]
    roles = pd.DataFrame(attention_models.head_roles(real))
    measure = st.selectbox("Which heads attend…", [c for c in roles.columns if c.startswith("to ")],
                           key=f"attention_measure_{role}")
    grid = roles.pivot(index="layer", columns="head", values=measure)
    st.plotly_chart(charts.heatmap(grid.values, [f"H{h + 1}" for h in grid.columns],
                                   [f"L{l + 1}" for l in grid.index], zrange=(0, 1),
                                   title=f"Mean attention {measure}", x_title="head", y_title="layer",
                                   cell_text=".2f" if num_layers <= 12 else None),
                    width="stretch", key="attention_roles")
    top = roles.sort_values(measure, ascending=False).head(3)
    st.caption("Strongest: " + ", ".join(f"layer {l + 1} head {h + 1} ({v:.2f})"
                                          for l, h, v in zip(top["layer"], top["head"], top[measure])))


def neuron_inputs(real: attention_models.ModelAttention, loaded, text: str, role: str, shown: int) -> dict | None:
    """The neuron view's queries and keys, opened on the layer and head picked in section 5;
    None (and why) for a model whose Q·Kᵀ is not plain, such as SmolLM2 with its rotary positions."""
    if attention_models.bert_style_attentions(loaded) is None:
        st.info(f"The neuron view multiplies each head's raw query and key vectors. {loaded.spec.title} rotates "
                "them by position first (rotary embeddings, RoPE), so those products would not be its real "
                "scores: pick the encoder to see the neuron view.", icon=":material/info:")
        return None
    vectors = real_queries_keys(loaded, f"{loaded.spec.key}@{loaded.device}", text)
    layer, head = st.session_state[f"attention_layer_{role}"], st.session_state[f"attention_head_{role}"]
    st.caption(f"Opened on section 5's layer {layer}, head {1 if head == AVERAGE else head}; bertviz counts from 0. "
               "Hover a word on the left: q is its query, k each key, q × k their products, q · k the score.")
    return dict(queries=vectors.queries[:, :, :shown], keys=vectors.keys[:, :, :shown], bidirectional=role == "encoder",
                layer=layer - 1, head=0 if head == AVERAGE else head - 1)


def bertviz_section(real: attention_models.ModelAttention, loaded, text: str, role: str) -> None:
    shown = min(len(real.tokens), attention_bertviz.BERTVIZ_TOKEN_LIMIT)
    if shown < len(real.tokens):
        st.info(f"bertviz draws the first {shown} tokens so the views stay responsive.")
    view = st.segmented_control("View", ["head", "model", "neuron"], default="head", key="attention_bertviz_view",
                                format_func=lambda v: f"{v.title()} view") or "head"
    neuron = neuron_inputs(real, loaded, text, role, shown) if view == "neuron" else {}
    if neuron is None:
        return
    page = bertviz_page(view, real.attentions[:, :, :shown, :shown], tuple(real.tokens[:shown]), **neuron)
    st.iframe(page, height="content")


@common.fragment
def real_model_sections(picked: dict[str, str]):
    """Sections 5 and 6 below the model pickers. A new text or role reruns only these, not
    the whole lesson: with a class on one server every full rerun costs the others CPU time
    (measured in benchmarks/load_sessions.py)."""
    role = st.radio("Show", ["encoder", "decoder"], horizontal=True, key="attention_role",
                    format_func=lambda r: {"encoder": "Encoder (bidirectional)", "decoder": "Decoder (causal)"}[r])
    loaded = common.load_model(picked[role], role=role)
    text = st.text_area("Text for the model", max_chars=20_000, key="attention_real_text")
    try:
        real = real_attention(loaded, f"{loaded.spec.key}@{loaded.device}", text)
    except ValueError as err:  # empty text: sections 5 and 6 wait for one, the rest of the lesson goes on
        st.warning(str(err))
        real = None
    if real is not None:
        if real.truncated_from:
            st.warning(f"Your text is {real.truncated_from:,} tokens; the model accepts {real.model_limit:,} and "
                       f"this page shows at most {attention_models.DISPLAY_TOKEN_LIMIT}: using the first "
                       f"{len(real.tokens)} tokens.")
        real_heatmap_section(real, loaded, role)
    common.show_code("""
from transformers import AutoModel, AutoTokenizer
tok = AutoTokenizer.from_pretrained("sentence-transformers/all-MiniLM-L6-v2")
model = AutoModel.from_pretrained("sentence-transformers/all-MiniLM-L6-v2", attn_implementation="eager")
out = model(**tok("Your cat is a lovely cat", return_tensors="pt"), output_attentions=True)
out.attentions[layer][0, head]   # (seq, seq): one row per query token, each summing to 1
""")

    # --- 6. bertviz -----------------------------------------------------------------
    st.header("6. bertviz: every head at once")
    common.lesson_text("attention", "bertviz")
    # Drawn only when opened: every layer and head goes to the browser (about 0.7 MB for MiniLM,
    # 1.2 MB for SmolLM2 on a short text), on every new text.
    views = st.expander("bertviz's views", icon=":material/hub:", key="attention_bertviz_open", on_change="rerun")
    if real is not None and views.open:
        with views:
            bertviz_section(real, loaded, text, role)


@common.fragment
def generation_section(picked: dict[str, str]):
    prompt = st.text_input("Prompt", max_chars=2000, key="attention_prompt")
    cols = st.columns(6)
    sample = cols[0].toggle("Sample", help="Off: greedy, always the most likely token. On: draw at random from the distribution.", key="attention_sampling")
    seed = cols[5].number_input("Sampling seed", 0, 10_000, disabled=not sample, key="attention_gen_seed")
    temperature = cols[1].slider("Temperature", 0.1, 2.0, disabled=not sample, key="attention_temperature")
    top_k = cols[2].slider("Top-k (0 = all)", 0, 100, disabled=not sample, key="attention_top_k")
    top_p = cols[3].slider("Top-p (1 = all)", 0.05, 1.0, step=0.05, disabled=not sample, key="attention_top_p")
    new_tokens = cols[4].slider("New tokens", 1, 30, key="attention_new_tokens")
    if st.button("Generate token by token", icon=":material/play_arrow:", key="attention_generate"):
        if not prompt.strip():
            st.warning("Type a prompt first.")
            return
        settings = {"temperature": temperature, "top_k": top_k, "top_p": top_p} if sample else {}  # {}: greedy
        generate(picked["decoder"], prompt, new_tokens, settings, seed)
    steps = show_generated(prompt)
    if steps:
        i = st.slider("Look at step", 1, len(steps), len(steps), key="attention_step") if len(steps) > 1 else 1
        step = steps[i - 1]
        st.plotly_chart(probability_bars(step, f"Step {i}: chose {step.token!r} (p = {step.chosen_probability:.1%})"),
                        width="stretch", key="attention_step_bars")


def generate(decoder_choice: str, prompt: str, new_tokens: int, settings: dict, seed: int):
    """Run the decoder token by token, drawing each step's choice live; the steps are kept with the
    prompt they continue."""
    decoder = common.load_model(decoder_choice, role="decoder")
    steps, live = [], st.empty()
    st.session_state["attention_generated"] = {"prompt": prompt, "steps": steps}

    def on_step(i, step):
        steps.append(step)
        live.plotly_chart(probability_bars(step, f"Step {i}: chose {step.token!r}"),
                          width="stretch", key=f"attention_live_{i}")

    common.live_run(attention_models.generate_steps(decoder, prompt, new_tokens, seed=seed, **settings),
                new_tokens, "Generating", on_step)
    live.empty()


def show_generated(prompt: str) -> list[sampling.GenerationStep]:
    """The steps generated for this very prompt, shown after it as plain text (the prompt can come
    from a link: never Markdown); none, with a note, when the prompt was edited since."""
    generated = st.session_state.get("attention_generated")
    if not generated or not generated["steps"]:
        return []
    if generated["prompt"] != prompt:
        st.info("The prompt changed since the last generation: generate again.", icon=":material/edit:")
        return []
    continuation = "".join(s.token for s in generated["steps"]).replace("\n", " ⏎ ")
    st.html(f"<p><b>{html.escape(prompt)}</b>{html.escape(continuation)}</p>")
    return generated["steps"]
