"""How fast and how lean is counting on the meta device?

Prints: bert-large-uncased counted on the meta device (lib.parameters) vs built for
real on the CPU, and GPT-3 175B built with torch.device("meta") vs accelerate's
init_empty_weights, each in a fresh process so its peak memory is its own.
Wall-clock and CPU (process) seconds are both printed: on a shared machine the
CPU time is the steadier of the two.

    PYTHONPATH=. .venv/bin/python benchmarks/parameters.py
"""
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib import parameters  # noqa: E402

CHILD = """
import resource, sys, time
import torch, transformers
from accelerate import init_empty_weights
from lib import model_registry, parameters
kind, key = sys.argv[1], sys.argv[2]
if key == "gpt3":
    config, model_class = parameters.transformers_config(parameters.GPT3)
else:
    config, _, model_class = parameters.resolve_config(key)
cls = parameters.model_class_named(model_class)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started, cpu_started = time.perf_counter(), time.process_time()
if kind == "meta":
    model = model_registry.build_on_meta(config, cls)
elif kind == "init_empty_weights":
    with init_empty_weights():
        model = cls(config)
    model.tie_weights()
else:
    model = cls(config)
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(seconds, cpu, model.num_parameters(), (after - before) / 1024)
"""


def in_fresh_process(kind: str, key: str) -> tuple[float, float, int, float]:
    """(wall s, CPU s, parameters, extra peak RSS in MiB) for one build in a new interpreter."""
    out = subprocess.run([sys.executable, "-c", CHILD, kind, key], capture_output=True, text=True, check=True)
    seconds, cpu, count, peak = out.stdout.split()
    return float(seconds), float(cpu), int(count), float(peak)


def main() -> None:
    parameters.count_parameters("bert-large-uncased")  # imports the modeling code once
    wall, cpu = [], []
    for _ in range(7):
        started, cpu_started = time.perf_counter(), time.process_time()
        total = parameters.count_parameters("bert-large-uncased").total
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    meta_wall, meta_cpu = statistics.median(wall), statistics.median(cpu)
    print(f"bert-large-uncased, {total:,} parameters", flush=True)
    print(f"  lib.parameters.count_parameters (meta device), median of 7: {meta_wall * 1000:.0f} ms wall "
          f"(min {min(wall) * 1000:.0f}, max {max(wall) * 1000:.0f}), {meta_cpu * 1000:.0f} ms CPU", flush=True)
    runs = [in_fresh_process("cpu", "bert-large-uncased") for _ in range(3)]
    cpu_wall, cpu_cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
    print(f"  instantiated on the CPU (random init), median of 3 fresh processes: {cpu_wall:.2f} s wall, "
          f"{cpu_cpu:.2f} s CPU, peak RSS +{statistics.median(r[3] for r in runs):.0f} MiB")
    print(f"  meta device is {cpu_wall / meta_wall:.0f}x faster (wall), {cpu_cpu / meta_cpu:.0f}x (CPU)", flush=True)
    for kind in ("meta", "init_empty_weights"):  # the build alone, in a fresh process, by each route
        seconds, cpu_s, count, peak = in_fresh_process(kind, "bert-large-uncased")
        print(f"  build only via {kind}: {seconds * 1000:.0f} ms wall, {cpu_s * 1000:.0f} ms CPU, {count:,} "
              f"parameters, peak RSS +{peak:.0f} MiB", flush=True)
    for kind in ("meta", "init_empty_weights"):
        seconds, cpu_s, count, peak = in_fresh_process(kind, "gpt3")
        print(f"GPT-3 175B via {kind}: {seconds:.2f} s wall, {cpu_s:.2f} s CPU, {count:,} parameters, "
              f"peak RSS +{peak:.0f} MiB", flush=True)
    print(f"(this process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)")
    if hasattr(os, "getloadavg"):
        print("load average now: " + ", ".join(f"{n:.1f}" for n in os.getloadavg()))


if __name__ == "__main__":
    main()
