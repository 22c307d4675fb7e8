import streamlit as st

from lessons.widgets import common
from lessons.widgets import tiny_gpt as widgets
from lib import tiny_gpt

st.title("A tiny GPT, trained from scratch")
common.shared_state("tiny_gpt", widgets.SHARED, widgets.PRESETS)
common.lesson_text("tiny_gpt", "intro")
full = widgets.gpt2_small()

st.header("1 · Corpus and configuration")
corpus, config = widgets.corpus_and_config(full)

st.header("2 · Train")
common.lesson_text("tiny_gpt", "loop")
widgets.train_button(corpus, config)

run = widgets.trained_run()
if run:
    widgets.training_result(run)
    st.header("3 · The generation loop")
    common.lesson_text("tiny_gpt", "generate")
    widgets.generation_loop(run)
    st.header("4 · Watch it learn")
    common.lesson_text("tiny_gpt", "watch", prompt=tiny_gpt.SNAPSHOT_PROMPT, snapshots=tiny_gpt.SNAPSHOTS)
    widgets.watch_it_learn(run)

common.checkpoint("tiny_gpt")
common.next_lesson("tiny_gpt")
