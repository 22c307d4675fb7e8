"""Neural-network lesson: how long the playground's default training takes,
how long until it first reaches 95% validation accuracy on circles, the
one-vs-two-thread difference, and the cost of one live redraw's boundary.

    .venv/bin/python benchmarks/neural_networks.py
"""
import os
import resource
import time

import torch
from streamlit.testing.v1 import AppTest

from lessons.widgets import neural_networks as widgets
from lib import course, neural_networks


def default_run(threads: int | None = None):
    data = neural_networks.split(*neural_networks.make_dataset("circles", 400, noise=0.1))
    cfg = neural_networks.NetConfig()
    model = neural_networks.build_model(cfg)
    start, cpu_start, first_95 = time.perf_counter(), time.process_time(), None
    steps = neural_networks.train(model, data, cfg, neural_networks.DEFAULT_STEPS, every=10)
    if threads:  # bypass the one-thread rule to measure what it saves
        steps = neural_networks._train(model, data, cfg, neural_networks.DEFAULT_STEPS, 10, 0, torch.device("cpu"))
    for step in steps:
        if first_95 is None and step.val_acc >= 0.95:
            first_95 = (step.step, time.perf_counter() - start)
    return time.perf_counter() - start, time.process_time() - cpu_start, first_95, step


def main() -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads by default")
    start = time.perf_counter()
    default_run()
    print(f"first training in a fresh process (includes torch's one-time autograd warm-up): "
          f"{time.perf_counter() - start:.2f} s")
    for label, threads in [("one thread (as shipped)", None), (f"{torch.get_num_threads()} threads", 2)]:
        seconds, cpu_seconds, first_95, last = default_run(threads)
        print(f"default network, circles, {neural_networks.DEFAULT_STEPS} steps, {label}: {seconds:.2f} s ({cpu_seconds:.2f} s CPU), "
              f"final val acc {last.val_acc:.1%}; ≥95% first at step {first_95[0]} after {first_95[1]:.2f} s")
    model = neural_networks.build_model(neural_networks.NetConfig())
    data = neural_networks.split(*neural_networks.make_dataset("circles"))
    start = time.perf_counter()
    for _ in range(10):
        axis, prob, _ = neural_networks.boundary(model)
    boundary_s = (time.perf_counter() - start) / 10
    start = time.perf_counter()
    for _ in range(10):
        widgets.boundary_figure(axis, prob, data.X_train, data.y_train, "t").to_json()
    figure_s = (time.perf_counter() - start) / 10
    print(f"one redraw: boundary on a 60×60 grid {boundary_s * 1000:.1f} ms, Plotly figure + JSON "
          f"{figure_s * 1000:.1f} ms")
    start, cpu_start = time.perf_counter(), time.process_time()
    list(neural_networks.fitting_experiment())
    print(f"fitting experiment (3 networks × 400 full-batch steps): {time.perf_counter() - start:.2f} s "
          f"({time.process_time() - cpu_start:.2f} s CPU)")
    if hasattr(os, "getloadavg"):
        print("load average now: " + ", ".join(f"{n:.1f}" for n in os.getloadavg()))
    print(f"page: clicking Train with the defaults until the page is drawn again: {page_train_seconds():.2f} s")
    print(f"process peak RSS (torch, sklearn, Streamlit and all of the above): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def page_train_seconds() -> float:
    """The whole Train click as AppTest runs it: training plus the live redraws."""
    app = AppTest.from_file(str(course.ROOT / "streamlit_app.py"), default_timeout=120)
    app.run()
    app.switch_page("lessons/neural_networks.py").run()
    start = time.perf_counter()
    app.button(key="neural_networks_train").click().run()
    assert app.session_state["neural_networks_run"]["history"][-1].step == neural_networks.DEFAULT_STEPS
    return time.perf_counter() - start

if __name__ == "__main__":
    main()
