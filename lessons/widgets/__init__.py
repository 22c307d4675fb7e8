"""Streamlit widgets: `common` for every page, `trained` for students' own models,
and one module per lesson key with that lesson's widgets and figures."""
