"""Glassbox logic: every module here imports without Streamlit (except lib/ui*)."""
