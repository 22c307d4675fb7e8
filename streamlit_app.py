"""Glassbox: see inside deep-learning models. Entry point: navigation and sidebar."""
import streamlit as st

from lessons.widgets import common
from lib import course

st.set_page_config(page_title="Glassbox", page_icon=course.ROOT / "assets" / "favicon.png", layout="wide")

pages = {section: [st.Page(l.page, title=l.title, icon=l.icon, url_path=l.key, default=l.key == "home")
                   for l in course.available_lessons() if l.section == section]
         for section in course.SECTIONS}
navigation = st.navigation({section: entries for section, entries in pages.items() if entries}, expanded=True)
common.sidebar()
navigation.run()
