import math

import pandas as pd
import streamlit as st
import torch

from lib import attention as att
from lib import attention_models, bertviz_offline, ui
from lib.ui_attention import (AVERAGE, PRESETS, SENTENCE_CHARS, SHARED, bertviz_page, dot_product_figure,
                              fit_to_model, heatmap, numbered, probability_bars, real_attention, weights_table)

st.title("Attention and the Transformer")
ui.shared_state("attention", SHARED, PRESETS)
ui.lesson_text("attention", "intro")

# --- 1. dot product ---------------------------------------------------------
st.header("1. The dot product measures similarity")
ui.lesson_text("attention", "dot_product")


@ui.fragment
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
                    key="attention_dot_table")


dot_product_section()

# --- 2. step by step --------------------------------------------------------
st.header("2. Scaled dot-product attention, one step at a time")
ui.lesson_text("attention", "steps")
sentence = st.text_input("Sentence", max_chars=SENTENCE_CHARS, key="attention_sentence")
words = att.split_words(sentence)
if not words:
    st.warning("Type a sentence with at least one word to see attention.")
elif len(words) > att.MAX_TOY_WORDS:
    st.warning(f"The toy uses the first {att.MAX_TOY_WORDS} of your {len(words)} words so the "
               "matrices stay readable.")
    words = words[: att.MAX_TOY_WORDS]
toy_sentence = " ".join(words)


@ui.fragment
def step_by_step_section():
    cols = st.columns(4)
    d_model = cols[0].select_slider("d_model", SHARED["dm"].options, key="attention_d_model")
    d_k = cols[1].select_slider("d_k", SHARED["dk"].options, key="attention_d_k")
    seed = cols[2].number_input("Random seed", 0, 10_000, key="attention_seed")
    scale = cols[3].toggle("Divide by √d_k", key="attention_scale")
    causal = cols[3].toggle("Causal mask (decoder)", key="attention_causal")
    steps = att.toy_steps(toy_sentence, d_model, d_k, seed, causal=causal, scale=scale)
    labels = numbered(words)
    dims = lambda n: [f"d{i}" for i in range(n)]  # noqa: E731
    tabs = st.tabs(["X", "Q, K, V", "Q·Kᵀ", "÷ √d_k", "softmax", "weights·V"])
    tabs[0].plotly_chart(heatmap(steps.x, dims(d_model), labels, "Embeddings X (one row per word)",
                                 "dimension", "word", diverging=True, annotate=d_model <= 16),
                         width="stretch", key="attention_x")
    for col, (name, m) in zip(tabs[1].columns(3), [("Q = X·W_Q", steps.q), ("K = X·W_K", steps.k),
                                                   ("V = X·W_V", steps.v)]):
        col.plotly_chart(heatmap(m, dims(d_k), labels, name, "dimension", "word", diverging=True,
                                 annotate=d_k <= 8), width="stretch", key=f"attention_{name[0]}")
    tabs[2].plotly_chart(heatmap(steps.scores, labels, labels, "Scores Q·Kᵀ", "key (looked at)",
                                 "query (looking)", diverging=True), width="stretch", key="attention_scores")
    title = "Scaled scores Q·Kᵀ / √d_k" if scale else "Unscaled scores (no ÷ √d_k)"
    tabs[3].plotly_chart(heatmap(steps.scaled, labels, labels, title, "key", "query", diverging=True),
                         width="stretch", key="attention_scaled")
    with tabs[4]:
        st.plotly_chart(heatmap(steps.weights, labels, labels, "Attention weights softmax(scores)",
                                "key (looked at)", "query (looking)"), width="stretch", key="attention_softmax")
        st.dataframe(weights_table(steps.weights, labels).round(4), key="attention_weights")
        st.caption(f"Every row sums to 1 (largest deviation {float((steps.weights.sum(-1) - 1).abs().max()):.1e}): "
                   f"each row is a probability distribution. Average spread "
                   f"{float(att.row_entropy_bits(steps.weights).mean()):.2f} bits (a uniform row has "
                   f"{math.log2(len(words)):.2f}, a one-hot row 0): turn off ÷ √d_k with a large d_k to see it fall.")
    with tabs[5]:
        row = st.selectbox("Query token (row)", range(len(words)), format_func=lambda i: labels[i],
                           index=len(words) - 1, key="attention_row")
        terms = att.weighted_sum_terms(steps, row)
        st.plotly_chart(heatmap(torch.cat([terms, steps.output[row : row + 1]]), dims(d_k),
                                [f"{w:.2f} × v({labels[j]})" for j, w in enumerate(steps.weights[row].tolist())]
                                + [f"= output({labels[row]})"], f"Output of '{labels[row]}' = Σ weight × value",
                                "dimension", "term", diverging=True, annotate=d_k <= 8),
                        width="stretch", key="attention_weighted_sum")


if words:
    step_by_step_section()
    ui.show_code("""
import torch, math
Q, K, V = X @ W_Q, X @ W_K, X @ W_V          # (seq, d_k) each
scores = Q @ K.T / math.sqrt(Q.shape[-1])    # (seq, seq)
scores = scores.masked_fill(~torch.ones(len(X), len(X), dtype=bool).tril(), float("-inf"))  # decoder only
weights = torch.softmax(scores, dim=-1)      # every row sums to 1
output = weights @ V                          # (seq, d_k)
# the same in one call: torch.nn.functional.scaled_dot_product_attention(Q, K, V, is_causal=True)
""")

# --- 3. masks and heads ------------------------------------------------------
st.header("3. Masks and heads")
ui.lesson_text("attention", "masks_heads")


@ui.fragment
def masks_and_heads_section():
    n = len(words)
    cols = st.columns(2)
    padded = cols[0].slider("Pad the sentence to this many tokens", n, n + 6, n + 2, key="attention_pad_to")
    cols[0].plotly_chart(heatmap(att.causal_mask(n).double(), numbered(words), numbered(words),
                                 "Causal mask: 1 = may look, 0 = future", "key", "query"),
                         width="stretch", key="attention_causal_mask")
    padded_words = words + ["[PAD]"] * (padded - n)
    cols[1].plotly_chart(heatmap(att.padding_mask(padded, n).double(), numbered(padded_words),
                                 numbered(padded_words), "Padding mask: [PAD] keys get 0", "key", "query"),
                         width="stretch", key="attention_padding_mask")
    heads = st.select_slider("Number of heads h", SHARED["heads"].options, key="attention_heads")
    d_model = 8
    x = att.word_embeddings(words, d_model, seed=0)
    mh = att.multi_head_attention(x, att.random_projections(d_model, d_model // heads, 0, heads), heads)
    for i, col in enumerate(st.columns(heads)):
        col.plotly_chart(heatmap(mh.weights[i], numbered(words), numbered(words), f"Head {i + 1}", "key",
                                 "query", annotate=heads <= 2), width="stretch", key=f"attention_head_{i}")
    dims = [f"h{i // (d_model // heads) + 1}·d{i % (d_model // heads)}" for i in range(d_model)]
    cols = st.columns(2)
    cols[0].plotly_chart(heatmap(mh.concat, dims, numbered(words), "Concat(head outputs)", "head·dimension",
                                 "word", diverging=True), width="stretch", key="attention_concat")
    cols[1].plotly_chart(heatmap(mh.output, [f"d{i}" for i in range(d_model)], numbered(words),
                                 "Output = Concat · W_O", "dimension", "word", diverging=True),
                         width="stretch", key="attention_mh_output")


if words:
    masks_and_heads_section()

# --- 4. positional encoding ---------------------------------------------------
st.header("4. Positional encoding")
ui.lesson_text("attention", "position")


@ui.fragment
def positional_section():
    cols = st.columns(2)
    length = cols[0].slider("Positions", 8, 128, key="attention_pe_len")
    width = cols[1].select_slider("d_model ", SHARED["pedim"].options, key="attention_pe_dim")
    pe = att.positional_encoding(length, width)
    st.plotly_chart(heatmap(pe, list(range(width)), list(range(length)), "Sinusoidal positional encoding",
                            "dimension", "position", diverging=True, annotate=False),
                    width="stretch", key="attention_pe")
    if len(words) > 1:
        order = list(reversed(range(len(words))))
        st.write(f"Shuffle: **{toy_sentence}** → **{' '.join(words[i] for i in order)}**")
        without = att.permutation_check(words, order, 8, 4, 0, positions=False)
        with_pe = att.permutation_check(words, order, 8, 4, 0, positions=True)
        column = "largest change after un-shuffling the weights"
        st.dataframe(pd.DataFrame({column: [without, with_pe]}, index=["without positions", "with positions"]),
                     column_config={column: st.column_config.NumberColumn(format="%.1e")},
                     key="attention_permutation")


positional_section()

# --- 5. real models -------------------------------------------------------------
st.header("5. Inside real models")
ui.lesson_text("attention", "real_models")
picked = {}
for col, family in zip(st.columns(2), ["encoder", "decoder"]):
    with col:
        picked[family] = ui.model_picker(family, f"{family.title()} model", key=f"attention_{family}_model")


@ui.fragment
def real_heatmap_section(real: attention_models.ModelAttention, loaded, role: str):
    token_labels = attention_models.readable_tokens(real)
    num_layers, num_heads = real.attentions.shape[:2]
    fit_to_model(role, num_layers, num_heads)
    cols = st.columns(2)
    layer = cols[0].slider("Layer", 1, num_layers, key=f"attention_layer_{role}") - 1
    head = cols[1].selectbox("Head", [AVERAGE, *range(1, num_heads + 1)], key=f"attention_head_{role}")
    weights = real.attentions[layer].mean(0) if head == AVERAGE else real.attentions[layer, head - 1]
    st.plotly_chart(heatmap(weights, token_labels, token_labels,
                            f"{loaded.spec.title}: layer {layer + 1}, head {head}", "key (looked at)",
                            "query (looking)", annotate=len(token_labels) <= 12),
                    width="stretch", key="attention_real_heatmap")
    roles = pd.DataFrame(attention_models.head_roles(real))
    measure = st.selectbox("Which heads attend…", [c for c in roles.columns if c.startswith("to ")],
                           key=f"attention_measure_{role}")
    grid = roles.pivot(index="layer", columns="head", values=measure)
    st.plotly_chart(heatmap(grid.values, [f"H{h + 1}" for h in grid.columns], [f"L{l + 1}" for l in grid.index],
                            f"Mean attention {measure}", "head", "layer", annotate=num_layers <= 12),
                    width="stretch", key="attention_roles")
    top = roles.sort_values(measure, ascending=False).head(3)
    st.caption("Strongest: " + ", ".join(f"layer {l + 1} head {h + 1} ({v:.2f})"
                                          for l, h, v in zip(top["layer"], top["head"], top[measure])))


def bertviz_section(real: attention_models.ModelAttention) -> None:
    shown = min(len(real.tokens), bertviz_offline.BERTVIZ_TOKEN_LIMIT)
    if shown < len(real.tokens):
        st.info(f"bertviz draws the first {shown} tokens so the views stay responsive.")
    view = st.segmented_control("View", ["head", "model"], default="head", key="attention_bertviz_view",
                                format_func=lambda v: f"{v.title()} view") or "head"
    page = bertviz_page(view, real.attentions[:, :, :shown, :shown], tuple(real.tokens[:shown]))
    if page.notice:
        st.warning(page.notice, icon=":material/cloud_off:")
    st.iframe(page.html, height="content")


@ui.fragment
def real_model_sections(picked: dict[str, str]):
    """Sections 5 and 6 below the model pickers. A new text or role reruns only these, not
    the whole lesson: with a class on one server every full rerun costs the others CPU time
    (measured in benchmarks/load_sessions.py)."""
    role = st.radio("Show", ["encoder", "decoder"], horizontal=True, key="attention_role",
                    format_func=lambda r: {"encoder": "Encoder (bidirectional)", "decoder": "Decoder (causal)"}[r])
    loaded = ui.load_model(picked[role], role=role)
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
    ui.show_code("""
from transformers import AutoModel, AutoTokenizer
tok = AutoTokenizer.from_pretrained("sentence-transformers/all-MiniLM-L6-v2")
model = AutoModel.from_pretrained("sentence-transformers/all-MiniLM-L6-v2", attn_implementation="eager")
out = model(**tok("Your cat is a lovely cat", return_tensors="pt"), output_attentions=True)
out.attentions[layer][0, head]   # (seq, seq): one row per query token, each summing to 1
""")

    # --- 6. bertviz -----------------------------------------------------------------
    st.header("6. bertviz: every head at once")
    ui.lesson_text("attention", "bertviz")
    if real is not None:
        bertviz_section(real)


real_model_sections(picked)

# --- 7. encoder, decoder, encoder-decoder -----------------------------------------------
st.header("7. Encoder, decoder, encoder-decoder")
ui.lesson_text("attention", "architectures")
st.table(pd.DataFrame(attention_models.ARCHITECTURES).set_index("family"))
st.markdown(f"Training the translator on *{att.DEFAULT_SENTENCE}* → *{att.DEFAULT_TRANSLATION}* "
            "(teacher forcing): the decoder sees the right answer so far and learns the next word.")
st.table(pd.DataFrame(att.teacher_forcing(att.DEFAULT_TRANSLATION), columns=["decoder input", "must predict"]))


@ui.fragment
def generation_section():
    prompt = st.text_input("Prompt", max_chars=2000, key="attention_prompt")
    cols = st.columns(5)
    sampling = cols[0].toggle("Sample", help="Off: greedy, always the most likely token. On: draw at random from the distribution.", key="attention_sampling")
    seed = cols[4].number_input("Sampling seed", 0, 10_000, disabled=not sampling, key="attention_gen_seed")
    temperature = cols[1].slider("Temperature", 0.1, 2.0, disabled=not sampling, key="attention_temperature")
    top_k = cols[2].slider("Top-k (0 = all)", 0, 100, disabled=not sampling, key="attention_top_k")
    new_tokens = cols[3].slider("New tokens", 1, 30, key="attention_new_tokens")
    if st.button("Generate token by token", icon=":material/play_arrow:", key="attention_generate"):
        if not prompt.strip():
            st.warning("Type a prompt first.")
            return
        decoder = ui.load_model(picked["decoder"], role="decoder")
        st.session_state["attention_steps"] = []
        live = st.empty()

        def on_step(i, step):
            st.session_state["attention_steps"].append(step)
            live.plotly_chart(probability_bars(step, f"Step {i}: chose {step.token!r}"),
                              width="stretch", key=f"attention_live_{i}")

        ui.live_run(attention_models.generate_steps(decoder, prompt, new_tokens, temperature if sampling else 0,
                                                    top_k if sampling else 0, seed),
                    new_tokens, "Generating", on_step)
        live.empty()
    steps = st.session_state.get("attention_steps", [])
    if steps:
        st.markdown(f"**{prompt}**" + "".join(s.token for s in steps).replace("\n", " ⏎ "))
        i = st.slider("Look at step", 1, len(steps), len(steps), key="attention_step") if len(steps) > 1 else 1
        step = steps[i - 1]
        st.plotly_chart(probability_bars(step, f"Step {i}: chose {step.token!r} (p = {step.chosen_probability:.1%})"),
                        width="stretch", key="attention_step_bars")


generation_section()
ui.checkpoint("attention")
ui.next_lesson("attention")
