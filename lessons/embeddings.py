import streamlit as st

from lessons.widgets import common
from lessons.widgets import embeddings as widgets

K = widgets.K
st.title("Contextual embeddings")
common.shared_state(K, widgets.SHARED, widgets.PRESETS)
encoder = common.load_model("minilm", "encoder")
widgets.bank_section(encoder)
common.lesson_text(K, "intro", layers=encoder.model.config.num_hidden_layers)

st.header("One vector per token")
widgets.token_vectors(encoder)
widgets.search_section(encoder)

common.checkpoint(K)
common.next_lesson(K)
