"""Measuring CPU and GPU speed honestly: warm-up runs, synchronising before
reading the clock, and the median of several repeats. Importable without
Streamlit; device-agnostic (cpu, cuda, mps).

GPU kernels are queued asynchronously: without `torch.cuda.synchronize()` the
clock would stop when the work is *queued*, not when it is done.
"""
from __future__ import annotations

import copy
import json
import statistics
import threading
import time
from typing import Callable, Iterator

import torch

from lib import models

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
    report = models.device_report()
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
    report = models.device_report()
    report["torch"] = torch.__version__
    report["cuda_version"] = torch.version.cuda
    report["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    return report


# --- matrix multiply ------------------------------------------------------------

def matmul_flops(n: int) -> int:
    """An (n, n) @ (n, n) product: n² outputs, each n multiplies and n adds."""
    return 2 * n**3


def matmul_gflops(n: int, device: str, dtype: str = "float32", repeats: int = 3) -> dict:
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=generator).to(device, DTYPES[dtype])
    b = torch.randn(n, n, generator=generator).to(device, DTYPES[dtype])
    seconds = time_call(lambda: a @ b, device, warmup=1, repeats=repeats)
    return {"size": n, "device": device, "dtype": dtype, "seconds": seconds,
            "gflops": matmul_flops(n) / seconds / 1e9}


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
    dtype = str(next(loaded.model.parameters()).dtype).removeprefix("torch.")
    return {"device": loaded.device, "dtype": dtype, "batch_size": batch_size,
            "seconds": seconds, "sequences_per_s": batch_size / seconds}


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


def measured_weights_bytes(model: torch.nn.Module, dtype: str) -> int:
    """Bytes of a copy of `model` converted to `dtype`, summed tensor by tensor
    (the shared model itself is never touched)."""
    converted = copy.deepcopy(model).to(DTYPES[dtype])
    return sum(p.numel() * p.element_size() for p in converted.parameters())


# --- results files -------------------------------------------------------------------

def results_document(matmul: list[dict], model: list[dict]) -> dict:
    return {"format": RESULTS_FORMAT, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": device_details(), "matmul": matmul, "model": model}


def load_results(raw: bytes | str) -> dict:
    """Parse and check a saved results file; ValueError with a readable reason."""
    try:
        document = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"This is not a JSON file ({err.__class__.__name__}).") from err
    if not isinstance(document, dict) or document.get("format") != RESULTS_FORMAT:
        raise ValueError(f"This JSON file is not a Glassbox GPU benchmark (expected format "
                         f"'{RESULTS_FORMAT}', as written by benchmarks/gpu.py).")
    for section, fields in (("matmul", ("size", "device", "dtype", "gflops")),
                            ("model", ("device", "dtype", "batch_size", "sequences_per_s"))):
        rows = document.get(section)
        if not isinstance(rows, list) or not all(isinstance(r, dict) and all(f in r for f in fields)
                                                 for r in rows):
            raise ValueError(f"The '{section}' section is missing or has rows without {', '.join(fields)}.")
    return document


def speedups(rows: list[dict], key: str, value: str, baseline: str = "cpu") -> list[dict]:
    """For each row on a non-baseline device: its `value` divided by the baseline
    device's value for the same `key` (size or batch size) in float32."""
    base = {r[key]: r[value] for r in rows if r["device"] == baseline and r["dtype"] == "float32"}
    return [{key: r[key], "device": r["device"], "dtype": r["dtype"], "speed-up": r[value] / base[r[key]]}
            for r in rows if r["device"] != baseline and r[key] in base]


COLAB_T4_GB = 16  # the course's reference GPU


def registry_memory_table() -> list[dict]:
    """Weight memory of every registry model with a known size, at each precision."""
    rows = []
    for spec in models.specs():
        if spec.num_parameters and spec.role not in ("tokenizer",):
            row = {"model": spec.title, "parameters (M)": spec.num_parameters / 1e6}
            row.update({f"{p} (MB)": weights_bytes(spec.num_parameters, p) / 2**20 for p in BYTES_PER_PARAMETER})
            rows.append(row)
    return rows


def max_parameters(memory_gb: float, precision: str) -> float:
    """How many parameters' weights fit in `memory_gb` GiB (ignoring activations and the KV cache)."""
    return memory_gb * 2**30 / BYTES_PER_PARAMETER[precision]
