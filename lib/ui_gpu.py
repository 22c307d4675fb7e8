"""Streamlit helpers for the GPU lesson: the encoder on each device, and the
charts the benchmarks share."""
from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from lib import models, ui


def encoder_on(device: str) -> models.Loaded:
    """MiniLM on `device`, from the shared model cache."""
    return ui.load_model("minilm", "encoder", device_name=device)


def line_chart(rows: list[dict], x: str, y: str, title: str, x_title: str, y_title: str,
               log_y: bool = False) -> None:
    table = pd.DataFrame(rows)
    table["run"] = table["device"] + " · " + table["dtype"]
    fig = px.line(table, x=x, y=y, color="run", markers=True, log_x=True, log_y=log_y, title=title,
                  labels={x: x_title, y: y_title, "run": "device · precision"},
                  color_discrete_sequence=px.colors.qualitative.Safe)
    st.plotly_chart(fig, width="stretch")


def speedup_chart(rows: list[dict], x: str, title: str, x_title: str) -> None:
    if not rows:
        st.info("No GPU rows to compare with the CPU.")
        return
    fig = px.bar(pd.DataFrame(rows), x=x, y="speed-up", color="dtype", barmode="group", text_auto=".1f",
                 title=title, labels={x: x_title, "speed-up": "× faster than CPU float32"},
                 color_discrete_sequence=px.colors.qualitative.Safe)
    fig.update_xaxes(type="category")
    st.plotly_chart(fig, width="stretch")
