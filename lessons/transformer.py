import streamlit as st

from lessons.widgets import common
from lessons.widgets import transformer as widgets
from lib import transformer
from lib import transformer_pretraining as pretraining
from lib import transformer_seq2seq as seq2seq

st.title("The Transformer, whole")
common.shared_state("transformer", widgets.SHARED, widgets.PRESETS)

# --- first screen: one block, one step at a time -----------------------------------
walk = widgets.block_walk_section()
common.lesson_text("transformer", "intro")

# --- 1. the block ----------------------------------------------------------------------
st.header("1. One block, every tensor")
common.lesson_text("transformer", "block", **transformer.block_shapes())
if walk is not None and not common.classroom():
    widgets.all_steps(walk)
common.show_code("""
from transformers import AutoModel, AutoTokenizer
tok = AutoTokenizer.from_pretrained("sentence-transformers/all-MiniLM-L6-v2")
model = AutoModel.from_pretrained("sentence-transformers/all-MiniLM-L6-v2")
enc = tok("Your cat is a lovely cat", return_tensors="pt")
out = model(**enc, output_hidden_states=True)
x = out.hidden_states[0]                   # (1, seq, 384): embeddings after LayerNorm
layer = model.encoder.layer[0]
a = layer.attention(x)[0]                  # attention, output projection, add, LayerNorm
y = layer.output(layer.intermediate(a), a) # GELU feed-forward, add, LayerNorm
print((y - out.hidden_states[1]).abs().max())   # ~1e-6
""")

# --- 2. encoder-decoder ---------------------------------------------------------------------
st.header("2. An encoder–decoder you can watch learn")
class_run = widgets.class_translator()
common.lesson_text("transformer", "seq2seq", **seq2seq.lesson_numbers(class_run))
widgets.translator_section()
common.lesson_text("transformer", "decoding")
with st.expander("Train your own translator live (about half a minute)", icon=":material/model_training:"):
    widgets.train_translator_live()
widgets.hub_translation()

# --- 3. pretraining --------------------------------------------------------------------------
st.header("3. How BERT and GPT are pretrained")
common.lesson_text("transformer", "pretraining", **pretraining.lesson_numbers())
sentence = pretraining.COURSE_MASKED.replace("[MASK]", "cat").split()
for col, fig, name in zip(st.columns(2), widgets.masks_figure(len(sentence), sentence), ["bidirectional", "causal"]):
    col.plotly_chart(fig, width="stretch", key=f"transformer_mask_{name}")
cols = st.columns([3, 1])
mask_text = cols[0].text_input("Sentence with [MASK]", max_chars=120, key="transformer_mask_text")
steps = cols[1].number_input("Steps (both models)", 50, 2000, step=50, key="transformer_pretrain_steps",
                             disabled=common.classroom())
widgets.train_pretraining(steps)
widgets.pretraining_results(mask_text)
widgets.hub_fill_mask(mask_text)

common.lesson_text("transformer", "nsp", first=pretraining.NSP_PAIR[0], second=pretraining.NSP_PAIR[1])
widgets.nsp_table(common.load_model("minilm", "encoder"))
common.lesson_text("transformer", "hub")

common.checkpoint("transformer")
common.next_lesson("transformer")
