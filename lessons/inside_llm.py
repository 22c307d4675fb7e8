import streamlit as st

from lessons.widgets import common
from lessons.widgets import inside_llm as widgets
from lib import inside_llm

st.title("Inside a language model")
common.shared_state("inside_llm", widgets.SHARED, widgets.PRESETS)
left, right = st.columns([1, 3])
with left:
    loaded = widgets.decoder()
with right:
    lens = widgets.lens(loaded)
if lens:
    widgets.lens_view(lens)

st.header("1 · The logit lens")
common.lesson_text("inside_llm", "lens", layers=len(lens.layer_names) - 1 if lens else "all",
                   model=loaded.spec.title)
if lens:
    widgets.token_track_view(loaded, lens)
common.lesson_text("inside_llm", "lens_limits", embedding_row=inside_llm.embedding_row_note(loaded.model.config))
common.show_code("""
import torch
out = model(input_ids, output_hidden_states=True)  # or forward hooks on each decoder layer
for layer, h in enumerate(residual_streams):        # (seq, hidden): embeddings, then after each layer
    logits = model.lm_head(model.model.norm(h))     # the model's own last two steps
    probs = logits.softmax(-1)                      # (seq, vocab): what this layer would predict
""")

st.header("2 · Switch parts off")
common.lesson_text("inside_llm", "interventions")
widgets.decoder_ablation(loaded)
st.subheader("Which heads matter for this prompt?")
common.lesson_text("inside_llm", "scan")
widgets.head_scan(loaded)
st.subheader("The same switches on an encoder: MiniLM")
common.lesson_text("inside_llm", "encoder")
widgets.encoder_ablation(loaded.device)

st.header("3 · The KV cache")
common.lesson_text("inside_llm", "kv_cache")
widgets.kv_cache(loaded)

common.checkpoint("inside_llm")
common.next_lesson("inside_llm")
