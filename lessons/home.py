import streamlit as st

from lessons.widgets import common
from lessons.widgets import home as widgets

st.title("Glassbox: see inside deep-learning models")
common.lesson_text("home", "intro")

st.header("Your course path")
st.caption("Lessons in teaching order, with each checkpoint's first-try score: your first answer to each question "
           "counts, retries and new question sets are practice, shown apart. "
           "Nothing is stored on the server: download your progress to keep it.")
widgets.course_path()
widgets.progress_files()

st.header("This machine", anchor="system-panel")
widgets.system_panel()
