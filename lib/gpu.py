"""Measuring CPU and GPU speed honestly: warm-up runs, synchronising before
reading the clock, and the median of several repeats. Importable without
Streamlit; device-agnostic (cpu, cuda, mps).

GPU kernels are queued asynchronously: without `torch.cuda.synchronize()` the
clock would stop when the work is *queued*, not when it is done.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import math
import statistics
import threading
import time
from typing import Callable, Iterator

import torch

from lib import device_policy, model_registry

RESULTS_FORMAT = "glassbox-gpu-benchmark/1"
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
# torch.set_num_threads is process-wide: one scaling run at a time, threads restored afterwards.
_THREADS_LOCK = threading.Lock()


def synchronize(device: str) -> None:
    """Wait until every kernel queued on `device` has finished."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    elif device == "mps":
        torch.mps.synchronize()


def time_call(fn: Callable[[], object], device: str, warmup: int = 1, repeats: int = 3) -> float:
    """Median wall time of `fn()` in seconds, after `warmup` untimed runs."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def available_devices() -> list[str]:
    report = device_policy.device_report()
    return ["cpu"] + [d for d in ("cuda", "mps") if report[d]]


def dtypes_for(device: str) -> list[str]:
    """Precisions worth timing on a device: half precision on CPU is emulated and slow
    (bf16 is still shown, since recent CPUs have bf16 instructions)."""
    if device == "cpu":
        return ["float32", "bfloat16"]
    if device.startswith("cuda") and not torch.cuda.is_bf16_supported():
        return ["float32", "float16"]
    return ["float32", "bfloat16", "float16"]


def device_details() -> dict:
    """The device report plus MPS and CPU details for the lesson's header."""
    report = device_policy.device_report()
    report["torch"] = torch.__version__
    report["cuda_version"] = torch.version.cuda
    report["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    return report


# --- matrix multiply ------------------------------------------------------------

def matmul_flops(m: int, k: int, n: int) -> int:
    """An (m, k) @ (k, n) product: m·n outputs, each k multiplies and k adds."""
    return 2 * m * k * n


def matmul_gflops(n: int, device: str, dtype: str = "float32", repeats: int = 3) -> dict:
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=generator).to(device, DTYPES[dtype])
    b = torch.randn(n, n, generator=generator).to(device, DTYPES[dtype])
    seconds = time_call(lambda: a @ b, device, warmup=1, repeats=repeats)
    return {"size": n, "device": device, "dtype": dtype, "seconds": seconds,
            "gflops": matmul_flops(n, n, n) / seconds / 1e9}


def matmul_sweep(sizes: list[int], devices: list[str], dtypes: list[str]) -> Iterator[dict]:
    for device in devices:
        for dtype in dtypes:
            if dtype in dtypes_for(device):
                for n in sizes:
                    yield matmul_gflops(n, device, dtype)


# --- a transformer ----------------------------------------------------------------

def encoder_batch_timing(loaded, sentences: list[str], batch_size: int, repeats: int = 3) -> dict:
    """Latency of one forward pass over a batch, and sentences per second."""
    batch = (sentences * (batch_size // len(sentences) + 1))[:batch_size]
    with loaded.lock:
        encoded = loaded.tokenizer(batch, padding=True, return_tensors="pt").to(loaded.device)

        def forward():
            with torch.no_grad():
                loaded.model(**encoded)

        seconds = time_call(forward, loaded.device, warmup=1, repeats=repeats)
    return {"device": loaded.device, "dtype": model_dtype(loaded), "batch_size": batch_size,
            "seconds": seconds, "sequences_per_s": batch_size / seconds}


def model_dtype(loaded) -> str:
    return str(next(loaded.model.parameters()).dtype).removeprefix("torch.")


def in_precision(loaded, dtype: str):
    """`loaded` itself when its weights already have `dtype`, else a copy converted to
    `dtype` on the same device, with its own lock (the shared model is never touched)."""
    if model_dtype(loaded) == dtype:
        return loaded
    with loaded.lock:
        converted = copy.deepcopy(loaded.model).to(DTYPES[dtype])
    return dataclasses.replace(loaded, model=converted, notice="", lock=threading.Lock())


def model_sweep(loaded_on: Callable[[str, str], object], sentences: list[str], devices: list[str],
                dtypes: list[str], batch_sizes: list[int]) -> Iterator[dict]:
    """encoder_batch_timing for every device, each precision it times, and every batch size;
    `loaded_on(device, dtype)` gives the model in that precision on that device."""
    for device in devices:
        for dtype in dtypes:
            if dtype in dtypes_for(device):
                loaded = loaded_on(device, dtype)
                for batch_size in batch_sizes:
                    yield encoder_batch_timing(loaded, sentences, batch_size)


def thread_scaling(n: int, thread_counts: list[int], repeats: int = 3) -> Iterator[dict]:
    """CPU matmul GFLOP/s with each number of threads; the setting is restored after."""
    with _THREADS_LOCK:
        original = torch.get_num_threads()
        try:
            for threads in thread_counts:
                torch.set_num_threads(threads)
                yield {"threads": threads, **matmul_gflops(n, "cpu", repeats=repeats)}
        finally:
            torch.set_num_threads(original)


# --- memory ------------------------------------------------------------------------

BYTES_PER_PARAMETER = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "4-bit": 0.5}


def weights_bytes(num_parameters: int, precision: str) -> float:
    return num_parameters * BYTES_PER_PARAMETER[precision]


def tensor_bytes(shape: tuple[int, ...], precision: str) -> float:
    """Bytes of a tensor: its number of elements times the bytes of one element."""
    return weights_bytes(math.prod(shape), precision)


def measured_weights_bytes(model: torch.nn.Module, dtype: str) -> int:
    """Bytes of a copy of `model` converted to `dtype`, summed tensor by tensor
    (the shared model itself is never touched)."""
    converted = copy.deepcopy(model).to(DTYPES[dtype])
    return sum(p.numel() * p.element_size() for p in converted.parameters())


# --- work and bytes: the roofline ----------------------------------------------------

# Datasheet peaks of the course's Colab GPUs: FLOP/s by precision (float16 on tensor
# cores; Turing and Volta have no bfloat16) and memory bandwidth in bytes/s.
PEAK_FLOPS = {"T4": {"float32": 8.1e12, "float16": 65e12}, "V100": {"float32": 15.7e12, "float16": 125e12}}
BANDWIDTH = {"T4": 320e9, "V100": 900e9}
ROOFLINE_PRECISIONS = ["float32", "float16"]


def matmul_bytes(m: int, k: int, n: int, precision: str) -> float:
    """The least memory traffic of (m, k) @ (k, n): read both inputs once, write the output once."""
    return sum(tensor_bytes(shape, precision) for shape in ((m, k), (k, n), (m, n)))


def arithmetic_intensity(m: int, k: int, n: int, precision: str) -> float:
    """FLOPs per byte moved: how much arithmetic each byte fetched from memory pays for."""
    return matmul_flops(m, k, n) / matmul_bytes(m, k, n, precision)


def ridge_point(gpu_name: str, precision: str) -> float:
    """The arithmetic intensity (FLOP/byte) above which the GPU's arithmetic, not its memory, is the limit."""
    return PEAK_FLOPS[gpu_name][precision] / BANDWIDTH[gpu_name]


def attainable_flops(intensity: float, gpu_name: str, precision: str) -> float:
    """The roofline: FLOP/s reachable at this arithmetic intensity, capped by the bandwidth or the peak."""
    return min(PEAK_FLOPS[gpu_name][precision], BANDWIDTH[gpu_name] * intensity)


def roofline(flops: float, bytes_moved: float, gpu_name: str, precision: str) -> dict:
    """The roofline's lower bound on the time: the slower of doing the arithmetic at peak
    speed and moving the bytes at full bandwidth, and which of the two it is."""
    compute_s = flops / PEAK_FLOPS[gpu_name][precision]
    memory_s = bytes_moved / BANDWIDTH[gpu_name]
    return {"compute_s": compute_s, "memory_s": memory_s, "seconds": max(compute_s, memory_s),
            "bound": "compute-bound" if compute_s >= memory_s else "memory-bound"}


# --- results files -------------------------------------------------------------------

def results_document(matmul: list[dict], model: list[dict]) -> dict:
    return {"format": RESULTS_FORMAT, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": device_details(), "matmul": matmul, "model": model}


RESULT_FIELDS = {"matmul": {"size": "number", "device": "name", "dtype": "name", "gflops": "number"},
                 "model": {"device": "name", "dtype": "name", "batch_size": "number", "sequences_per_s": "number"}}
MAX_NAME_CHARS = 100


def _valid_field(value, kind: str) -> bool:
    """A name is a short string; a number is finite and positive (a speed-up divides by it)."""
    if kind == "name":
        return isinstance(value, str) and len(value) <= MAX_NAME_CHARS
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def load_results(raw: bytes | str) -> dict:
    """Parse and check a saved results file; ValueError with a readable reason."""
    try:
        document = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        raise ValueError(f"This is not a JSON file ({err.__class__.__name__}).") from err
    if not isinstance(document, dict) or document.get("format") != RESULTS_FORMAT:
        raise ValueError(f"This JSON file is not a Glassbox GPU benchmark (expected format "
                         f"'{RESULTS_FORMAT}', as written by benchmarks/gpu.py).")
    machine = document.get("machine")
    if not (isinstance(machine, dict) and _valid_field(machine.get("gpu_name", "none"), "name")
            and _valid_field(document.get("created"), "name")):
        raise ValueError("The 'machine' or 'created' entry is missing or not what benchmarks/gpu.py writes.")
    for section, fields in RESULT_FIELDS.items():
        rows = document.get(section)
        if not isinstance(rows, list) or not all(isinstance(r, dict) and all(_valid_field(r.get(f), kind)
                                                                            for f, kind in fields.items())
                                                 for r in rows):
            raise ValueError(f"The '{section}' section is missing or has rows without "
                             f"{', '.join(fields)} (names as text, figures as positive numbers).")
    return document


def speedups(rows: list[dict], key: str, value: str, baseline: str = "cpu") -> list[dict]:
    """For each row on a non-baseline device: its `value` divided by the baseline
    device's value for the same `key` (size or batch size) in float32."""
    base = {r[key]: r[value] for r in rows if r["device"] == baseline and r["dtype"] == "float32"}
    return [{key: r[key], "device": r["device"], "dtype": r["dtype"], "speed-up": r[value] / base[r[key]]}
            for r in rows if r["device"] != baseline and r[key] in base]


COLAB_T4_GB = 16  # the course's reference GPU, as its datasheet states it: 16 GB
COLAB_T4_BYTES = COLAB_T4_GB * 10**9  # GB are 10⁹ bytes (16 GB = 14.9 GiB)


def registry_memory_table() -> list[dict]:
    """Weight memory of every registry model whose parameters can be counted
    here (tokenizers have none), at each precision."""
    rows = []
    for spec in model_registry.specs():
        count = model_registry.num_parameters(spec.key)
        if count:
            row = {"model": spec.title, "parameters (M)": count / 1e6}
            row.update({f"{p} (MiB)": weights_bytes(count, p) / 2**20 for p in BYTES_PER_PARAMETER})
            rows.append(row)
    return rows


def max_parameters(memory_bytes: float, precision: str) -> float:
    """How many parameters' weights fit in `memory_bytes` (an upper bound: activations, the
    KV cache and the CUDA context take their share of the same memory)."""
    return memory_bytes / BYTES_PER_PARAMETER[precision]
