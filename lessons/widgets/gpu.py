"""Streamlit helpers for the GPU lesson: the encoder on each device, the charts
the benchmarks share, the computed roofline, and the settings shared by link."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from lessons.widgets import common
from lib import gpu, model_loading, urlstate

MATMUL_SIZES = [128, 256, 512, 1024, 2048, 4096]
ROOFLINE_SIZES = [2**i for i in range(4, 15)]  # 16 … 16,384
SAFE = px.colors.qualitative.Safe  # colour-blind-safe qualitative palette
SECONDS = {"s": 1, "ms": 1e-3, "µs": 1e-6, "ns": 1e-9}
BYTES = {"GiB": 2**30, "MiB": 2**20, "KiB": 2**10, "bytes": 1}
FLOPS = {"TFLOP": 1e12, "GFLOP": 1e9, "MFLOP": 1e6, "FLOP": 1}  # a count in full does not fit a metric

# --- settings shared by link ------------------------------------------------------

SHARED = {
    "sizes": urlstate.Choices("gpu_sizes", [256, 512, 1024], MATMUL_SIZES),
    "dtypes": urlstate.Choices("gpu_dtypes", ["float32", "bfloat16"], list(gpu.DTYPES)),
    "mdtypes": urlstate.Choices("gpu_model_dtypes", ["float32"], list(gpu.DTYPES)),
    "n": urlstate.Choice("gpu_roofline_n", 1024, ROOFLINE_SIZES),
    "prec": urlstate.Choice("gpu_roofline_precision", "float16", gpu.ROOFLINE_PRECISIONS),
    "gpu": urlstate.Choice("gpu_roofline_gpu", "T4", list(gpu.PEAK_FLOPS)),
}
PRESETS = {
    "Small matrices starve a GPU": {"sizes": [128, 256], "n": 64},
    "Big matrices keep it busy": {"sizes": [1024, 2048, 4096], "n": 8192},
    "float32 or half precision?": {"dtypes": ["float32", "bfloat16", "float16"], "n": 512, "prec": "float32",
                                   "mdtypes": ["float32", "bfloat16", "float16"]},
}


def encoder_on(device: str, dtype: str | None = None) -> model_loading.Loaded:
    """MiniLM on `device`: the class's shared copy, or (for another `dtype`) one converted copy per server."""
    shared = common.load_model("minilm", "encoder", device_name=device)
    return shared if dtype is None else _converted(shared, device, dtype)


@st.cache_resource(max_entries=2, show_spinner="Converting a copy of MiniLM to this precision…")
def _converted(_shared: model_loading.Loaded, device: str, dtype: str) -> model_loading.Loaded:
    return gpu.in_precision(_shared, dtype)


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


# --- work per byte: the roofline --------------------------------------------------

def with_unit(value: float, units: dict[str, float]) -> str:
    """`value` in the largest of `units` (largest first) it reaches at least one of: 2.73e-8 s → '27.31 ns'."""
    name = next((n for n, size in units.items() if value >= size), list(units)[-1])
    return f"{value / units[name]:,.2f} {name}"


def roofline_figure(gpu_name: str, intensity: float, precision: str, n: int) -> go.Figure:
    intensities = np.logspace(-1, 4, 200)  # FLOP per byte
    fig = go.Figure()
    for colour, dtype in zip(SAFE, gpu.ROOFLINE_PRECISIONS):
        tflops = [gpu.attainable_flops(i, gpu_name, dtype) / 1e12 for i in intensities]
        fig.add_trace(go.Scatter(x=intensities, y=tflops, mode="lines", name=f"{gpu_name} {dtype}",
                                 line=dict(color=colour, width=3)))
    fig.add_trace(go.Scatter(x=[intensity], y=[gpu.attainable_flops(intensity, gpu_name, precision) / 1e12],
                             mode="markers+text", marker=dict(size=14, color="black", symbol="diamond"),
                             text=[f"n = {n:,}"], textposition="top left", name=f"your matmul ({precision})"))
    fig.update_layout(title=f"Roofline of the {gpu_name}: the slope is memory bandwidth, the flat roof peak arithmetic",
                      xaxis_title="arithmetic intensity (FLOP per byte moved)", yaxis_title="attainable TFLOP/s",
                      xaxis_type="log", yaxis_type="log", height=420)
    return fig


@common.fragment
def roofline_section() -> None:
    cols = st.columns(3)
    n = cols[0].select_slider("Matrix size n (two n × n matrices)", ROOFLINE_SIZES, key="gpu_roofline_n")
    precision = cols[1].selectbox("Precision", gpu.ROOFLINE_PRECISIONS, key="gpu_roofline_precision")
    gpu_name = cols[2].selectbox("GPU (datasheet figures)", list(gpu.PEAK_FLOPS), key="gpu_roofline_gpu")
    flops, moved = gpu.matmul_flops(n, n, n), gpu.matmul_bytes(n, n, n, precision)
    intensity = gpu.arithmetic_intensity(n, n, n, precision)
    limit = gpu.roofline(flops, moved, gpu_name, precision)
    st.plotly_chart(roofline_figure(gpu_name, intensity, precision, n), width="stretch", key="gpu_roofline")
    metrics = st.columns(4)
    metrics[0].metric("Work", with_unit(flops, FLOPS), help=f"2·n³ = {flops:,} floating-point operations")
    metrics[1].metric("Bytes moved", with_unit(moved, BYTES), help="3·n² numbers, read A and B, write C")
    metrics[2].metric("Arithmetic intensity (FLOP/byte)", f"{intensity:,.1f}",
                      help=f"The {gpu_name}'s ridge point in {precision}: "
                           f"{gpu.ridge_point(gpu_name, precision):,.1f} FLOP/byte")
    metrics[3].metric("Fastest possible time", with_unit(limit["seconds"], SECONDS), limit["bound"],
                      delta_color="off", delta_arrow="off")
