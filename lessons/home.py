import streamlit as st

from lessons.widgets import common
from lessons.widgets import home as widgets

st.title("Glassbox: see inside deep-learning models")
st.header("Your course path")
widgets.course_path()
st.caption("Lessons in teaching order, with your best checkpoint score in this session. "
           "Nothing is stored on the server: download your progress to keep it.")
widgets.progress_files()
with st.expander("What Glassbox is, and how to use it", icon=":material/info:"):
    common.lesson_text("home", "intro")

st.header("This machine", anchor="system-panel")
widgets.system_panel()
