"""The pages folder: one page per lesson key (run by st.navigation in streamlit_app.py)."""
