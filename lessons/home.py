import streamlit as st

from lessons.widgets import common
from lessons.widgets import home as widgets

st.title("Glassbox: see inside deep-learning models")
common.lesson_text("home", "intro")

st.header("Your course path")
st.caption("Lessons in teaching order, with each checkpoint's first-try score: your first answer to each question "
           "counts, retries and new question sets are practice, shown apart. "
           "Nothing is stored on the server: download your progress to keep it. "
           "The [glossary](#glossary) defines every term the lessons use.")
widgets.course_path()
widgets.progress_files()

st.header("This machine", anchor="system-panel")
widgets.system_panel()

st.header("Glossary", anchor="glossary")
st.caption("Every technical term the lessons use, in one line each. A lesson shows a term's definition beside "
           "the paragraph where the page first uses it (*Terms first used here*).")
widgets.glossary_list()
