import os

import pandas as pd
import streamlit as st

from lessons.widgets import common
from lessons.widgets import gpu as widgets
from lib import embeddings, gpu

K = "gpu"
BATCH_SIZES = [1, 4, 16, 64]

st.title("GPU acceleration")
common.shared_state(K, widgets.SHARED, widgets.PRESETS)
common.lesson_text(K, "intro")

# --- what this machine has ------------------------------------------------------------
st.header("What is in this machine?")
info = gpu.device_details()
devices = gpu.available_devices()
cols = st.columns(4)
cols[0].metric("Best device", info["device"].upper())
cols[1].metric("GPU", info.get("gpu_name", "none"))
cols[2].metric("GPU memory", f"{info['gpu_memory_gb']} GiB" if info["cuda"] else "—")
cols[3].metric("Compute capability", info.get("compute_capability", "—"))
st.caption(f"PyTorch {info['torch']} · CUDA build {info['cuda_version'] or 'none'} · Apple MPS "
           f"{'available' if info['mps'] else 'not available'} · CPU threads {info['cpu_threads']} "
           f"({info['cpu_capability']} instructions)")
if devices == ["cpu"]:
    common.lesson_text(K, "cpu_only")
common.show_code("""
import torch
torch.cuda.is_available(), torch.backends.mps.is_available()
torch.cuda.get_device_name(0), torch.cuda.get_device_properties(0).total_memory
""")

# --- matrix multiply ----------------------------------------------------------------------
st.header("Matrix multiply: GFLOP/s")
common.lesson_text(K, "matmul")
sizes = st.multiselect("Matrix sizes n (n × n)", widgets.MATMUL_SIZES, key=f"{K}_sizes")
dtypes = st.multiselect("Precisions", list(gpu.DTYPES), key=f"{K}_dtypes")
if st.button("Run the matmul benchmark", key=f"{K}_run_matmul", disabled=not (sizes and dtypes)):
    st.session_state[f"{K}_matmul"] = []
    total = sum(len(sizes) for d in devices for t in dtypes if t in gpu.dtypes_for(d))
    common.live_run(gpu.matmul_sweep(sorted(sizes), devices, dtypes), total, "Multiplying matrices",
                lambda i, row: st.session_state[f"{K}_matmul"].append(row))
if not (sizes and dtypes):
    st.warning("Pick at least one size and one precision.")
if st.session_state.get(f"{K}_matmul"):
    widgets.line_chart(st.session_state[f"{K}_matmul"], "size", "gflops", "Matrix multiply throughput",
                      "matrix size n", "GFLOP/s")
common.show_code("""
a, b = torch.randn(n, n, device="cuda"), torch.randn(n, n, device="cuda")
a @ b; torch.cuda.synchronize()              # warm-up
start = time.perf_counter(); a @ b; torch.cuda.synchronize()
gflops = 2 * n**3 / (time.perf_counter() - start) / 1e9
""")

# --- work per byte: the roofline ----------------------------------------------------------
st.header("Work per byte: the roofline")
common.lesson_text(K, "roofline")
widgets.roofline_section()

# --- a transformer -------------------------------------------------------------------------
st.header("A transformer: latency and throughput")
common.lesson_text(K, "model")
model_dtypes = st.multiselect("Precisions for MiniLM", list(gpu.DTYPES), key=f"{K}_model_dtypes")
if st.button("Time MiniLM at batch sizes 1, 4, 16, 64", key=f"{K}_run_model", disabled=not model_dtypes):
    st.session_state[f"{K}_model"] = []
    steps = gpu.model_sweep(widgets.encoder_on, embeddings.bundled_sentences(), devices, model_dtypes, BATCH_SIZES)
    total = sum(len(BATCH_SIZES) for d in devices for t in model_dtypes if t in gpu.dtypes_for(d))
    common.live_run(steps, total, "Timing MiniLM", lambda i, row: st.session_state[f"{K}_model"].append(row))
if not model_dtypes:
    st.warning("Pick at least one precision for MiniLM.")
if st.session_state.get(f"{K}_model"):
    rows = st.session_state[f"{K}_model"]
    widgets.line_chart(rows, "batch_size", "sequences_per_s", "MiniLM throughput", "batch size",
                      "sentences per second")
    st.dataframe(pd.DataFrame(rows).assign(latency_ms=lambda t: 1000 * t.seconds).drop(columns="seconds")
                 .round(2), width="stretch", hide_index=True)
    if len(devices) > 1:
        widgets.speedup_chart(gpu.speedups(rows, "batch_size", "sequences_per_s"), "batch_size",
                             "GPU speed-up for MiniLM", "batch size")

# --- threads ---------------------------------------------------------------------------------
st.header("CPU threads")
common.lesson_text(K, "threads")
if st.button("Measure thread scaling (1024 × 1024 matmul)", key=f"{K}_run_threads"):
    counts = list(range(1, (os.cpu_count() or 1) + 1))
    st.session_state[f"{K}_threads"] = []
    common.live_run(gpu.thread_scaling(1024, counts), len(counts), "Threads",
                lambda i, row: st.session_state[f"{K}_threads"].append(row))
if st.session_state.get(f"{K}_threads"):
    widgets.line_chart(st.session_state[f"{K}_threads"], "threads", "gflops",
                      "CPU matmul speed vs torch.set_num_threads", "threads", "GFLOP/s")

# --- memory -------------------------------------------------------------------------------------
st.header("Memory: parameters × bytes per parameter")
common.lesson_text(K, "memory", t4_gb=gpu.COLAB_T4_GB, t4_gib=f"{gpu.COLAB_T4_BYTES / 2**30:.1f}")
encoder = common.load_model("minilm", "encoder")


@st.cache_data(show_spinner="Converting a copy of MiniLM to each precision…")
def measured_megabytes(dtype: str) -> float:
    return gpu.measured_weights_bytes(encoder.model, dtype) / 2**20


measured = {d: measured_megabytes(d) for d in gpu.DTYPES}
st.markdown("MiniLM converted to each precision and measured tensor by tensor: "
            + ", ".join(f"**{d}** {mb:.1f} MiB" for d, mb in measured.items()) + " (1 MiB = 2²⁰ bytes).")
st.dataframe(pd.DataFrame(gpu.registry_memory_table()).set_index("model").round(1), width="stretch")
st.markdown(f"The course's Colab T4 has {gpu.COLAB_T4_GB} GB ({gpu.COLAB_T4_GB} × 10⁹ bytes, "
            f"{gpu.COLAB_T4_BYTES / 2**30:.1f} GiB). Weights alone would fit up to about "
            + ", ".join(f"**{gpu.max_parameters(gpu.COLAB_T4_BYTES, p) / 1e9:.1f}B** parameters in {p}"
                        for p in ("float32", "float16", "4-bit"))
            + ", but that is an upper bound: the CUDA context (the driver's and libraries' own memory, "
            "typically a few hundred MiB), the activations of each forward pass and, when generating, the "
            "key/value cache all come out of the same memory, so a real model must be smaller.")

# --- saved results ----------------------------------------------------------------------------
st.header("Results measured on a GPU")
common.lesson_text(K, "saved")
upload = st.file_uploader("A results file from benchmarks/gpu.py", type=["json"], key=f"{K}_results")
if upload is not None:
    try:
        saved = gpu.load_results(upload.getvalue())
    except ValueError as err:
        st.error(str(err))
    else:
        machine = saved["machine"]
        st.success(f"Measured on {machine.get('gpu_name', 'a machine without a GPU')} ({saved['created']}).")
        widgets.speedup_chart(gpu.speedups(saved["matmul"], "size", "gflops"), "size",
                             "Matmul speed-up over CPU float32", "matrix size n")
        widgets.speedup_chart(gpu.speedups(saved["model"], "batch_size", "sequences_per_s"), "batch_size",
                             "MiniLM speed-up over CPU float32", "batch size")

common.checkpoint(K)
common.next_lesson(K)
