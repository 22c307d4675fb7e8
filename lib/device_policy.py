"""Which device and dtype models run on, how many CPU threads they use, and
whether a model fits in the memory left (a container's own limit included).
"""
from __future__ import annotations

import os
import platform
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from lib.model_registry import ModelUnavailable

GPU_DEVICE_FILES = ["/dev/nvidiactl", "/dev/nvidia0", "/proc/driver/nvidia/version",  # NVIDIA
                    "/dev/kfd",  # AMD ROCm (torch.cuda too)
                    "/dev/dxg"]  # WSL 2's GPU bridge


def gpu_possible() -> bool:
    """Whether torch could find a GPU here, known without importing torch
    (2–3 s on a small server): a GPU driver's device files, or Apple silicon."""
    if sys.platform == "darwin":
        return platform.machine() == "arm64"
    return any(Path(path).exists() for path in GPU_DEVICE_FILES)


def cpu_count() -> int:
    """CPU cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def best_device() -> str:
    """CUDA, then Apple MPS, then CPU. GLASSBOX_DEVICE=cpu forces one."""
    forced = os.environ.get("GLASSBOX_DEVICE")
    if forced:
        return forced
    if not gpu_possible():
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def default_dtype(device: str):
    """float32 on CPU (half precision is slow there); bf16 on GPUs that have it."""
    import torch

    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32


_threads_lock = threading.Lock()
_threads_state = {"users": 0, "saved": 1}  # blocks running now; torch's thread count before the first


@contextmanager
def cpu_threads(device, count: int = 1):
    """Run a block on `count` CPU threads when `device` is the CPU (a no-op on a GPU).

    Small models train fastest on one thread: handing tiny tensors between
    threads costs more than it saves, and with several students on two cores
    waiting OpenMP threads made training 10-20× slower (measured). torch's
    setting is not reliably per thread, so concurrent users are counted and the
    last one out restores the original count."""
    import torch

    if str(device) != "cpu":
        yield
        return
    with _threads_lock:
        if _threads_state["users"] == 0:
            _threads_state["saved"] = torch.get_num_threads()
        _threads_state["users"] += 1
        torch.set_num_threads(count)
    try:
        yield
    finally:
        with _threads_lock:
            _threads_state["users"] -= 1
            if _threads_state["users"] == 0:
                torch.set_num_threads(_threads_state["saved"])


def device_report() -> dict:
    """What the hardware offers, for the system panel and the GPU lesson."""
    if not gpu_possible():
        return {"device": best_device(), "cuda": False, "mps": False, "cpu_threads": cpu_count()}
    import torch

    report = {"device": best_device(), "cuda": torch.cuda.is_available(),
              "mps": bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()),
              "cpu_threads": torch.get_num_threads()}
    if report["cuda"]:
        props = torch.cuda.get_device_properties(0)
        report.update(gpu_name=props.name, gpu_memory_gb=round(props.total_memory / 2**30, 1),
                      compute_capability=f"{props.major}.{props.minor}")
    return report


# --- memory ---------------------------------------------------------------------

def ensure_fits(num_parameters: int, device: str, dtype_bytes: int, name: str) -> None:
    needed = num_parameters * dtype_bytes
    free = available_memory_bytes(device)
    if needed > 0.8 * free:
        raise ModelUnavailable(
            f"'{name}' has {num_parameters / 1e6:,.0f}M parameters: about {needed / 2**30:.1f} GiB "
            f"of weights, but only {free / 2**30:.1f} GiB is free on {device}. Pick a smaller model.")


def available_memory_bytes(device: str) -> int:
    import psutil
    import torch

    if device.startswith("cuda"):
        free, _total = torch.cuda.mem_get_info()
        return free
    host_free = psutil.virtual_memory().available
    container_free = cgroup_free_bytes()
    return host_free if container_free is None else min(host_free, container_free)


CGROUP = Path("/sys/fs/cgroup")
# (limit, usage, reclaimable page cache in memory.stat) for cgroup v2, then v1
_CGROUP_FILES = [("memory.max", "memory.current", "inactive_file"),
                 ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes", "total_inactive_file")]


def cgroup_free_bytes(root: Path = CGROUP) -> int | None:
    """Memory left under this container's limit, which psutil's host-wide figure
    does not see (Community Cloud: a 2.7 GB container on a bigger host). Page
    cache the kernel can drop counts as free. None when there is no limit."""
    for limit_file, usage_file, inactive_key in _CGROUP_FILES:
        try:
            limit = (root / limit_file).read_text().strip()
            usage = int((root / usage_file).read_text())
            stat = (root / Path(limit_file).parent / "memory.stat").read_text().split()
        except (OSError, ValueError):
            continue
        if not limit.isdigit() or int(limit) >= 2**60:  # "max" (v2) or the v1 "no limit" value
            return None
        stats = dict(zip(stat[::2], stat[1::2]))
        return int(limit) - usage + int(stats.get(inactive_key, 0))
    return None
