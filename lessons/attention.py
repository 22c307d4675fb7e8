import pandas as pd
import streamlit as st

from lessons.widgets import attention as widgets
from lessons.widgets import common
from lib import attention as att
from lib import attention_models

st.title("Attention and the Transformer")
common.shared_state("attention", widgets.SHARED, widgets.PRESETS)
widgets.first_screen()
common.first_screen_sent()
common.lesson_text("attention", "intro", **attention_models.block_facts())

# --- 1. dot product ---------------------------------------------------------
st.header("1. The dot product measures similarity")
common.lesson_text("attention", "dot_product")

widgets.dot_product_section()

# --- 2. step by step --------------------------------------------------------
st.header("2. Scaled dot-product attention, one step at a time")
common.lesson_text("attention", "steps")
sentence = st.text_input("Sentence", max_chars=widgets.SENTENCE_CHARS, key="attention_sentence")
words = att.split_words(sentence)
if not words:
    st.warning("Type a sentence with at least one word to see attention.")
elif len(words) > att.MAX_TOY_WORDS:
    st.warning(f"The toy uses the first {att.MAX_TOY_WORDS} of your {len(words)} words so the "
               "matrices stay readable.")
    words = words[: att.MAX_TOY_WORDS]

if words:
    widgets.step_by_step_section(words)
    common.show_code("""
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
common.lesson_text("attention", "masks_heads")

if words:
    widgets.masks_and_heads_section(words)

# --- 4. positional encoding ---------------------------------------------------
st.header("4. Positional encoding")
common.lesson_text("attention", "position", **attention_models.block_facts())

widgets.positional_section(words)

# --- 5. real models -------------------------------------------------------------
st.header("5. Inside real models")
common.lesson_text("attention", "real_models", **attention_models.bundled_shapes())
picked = {}
for col, family in zip(st.columns(2), ["encoder", "decoder"]):
    with col:
        picked[family] = common.model_picker(family, f"{family.title()} model", key=f"attention_{family}_model")

widgets.real_model_sections(picked)

# --- 7. encoder, decoder, encoder-decoder -----------------------------------------------
st.header("7. Encoder, decoder, encoder-decoder")
common.lesson_text("attention", "architectures")
st.table(pd.DataFrame(attention_models.ARCHITECTURES).set_index("family"))
st.markdown(f"Training the translator on *{att.DEFAULT_SENTENCE}* → *{att.DEFAULT_TRANSLATION}* "
            "(teacher forcing): the decoder sees the right answer so far and learns the next word.")
st.table(pd.DataFrame(att.teacher_forcing(att.DEFAULT_TRANSLATION), columns=["decoder input", "must predict"]))

widgets.generation_section(picked)
common.checkpoint("attention")
common.next_lesson("attention")
