"""Speed of "Inside a language model" on SmolLM2-135M, the offline decoder.

    PYTHONPATH=. .venv/bin/python benchmarks/inside_llm.py [--repeats 5] [--skip-scan]

Measures, with the model loaded once (lib/inside_llm runs its forwards on one
CPU thread, device_policy.cpu_threads):
- the logit lens on a 16-token prompt: the first computation, warm
  recomputations (median), the lens section's own work on a warm rerun (its
  heatmap figure and one token's track), and the whole page's warm rerun in
  AppTest with that prompt (lens, ablation and MiniLM results cached);
- the head scan over all layers × heads on the same prompt, no time limit;
- the time for one new token with and without the KV cache when the sequence
  already holds 32, 128 and 512 tokens (median of repeats, both in this one
  run), as tokens per second and their ratio.
Prints `uptime` before and after: the machine is shared.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib import inside_llm, model_loading  # noqa: E402

PROMPT_16 = "The quick brown fox jumps over the lazy dog, and then the dog runs to"  # 16 SmolLM2 tokens
LENGTHS = (32, 128, 512)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def lens_times(loaded, repeats: int) -> tuple[int, float, float]:
    tokens = len(loaded.tokenizer(PROMPT_16)["input_ids"])
    start = time.perf_counter()
    inside_llm.logit_lens(loaded, PROMPT_16)
    first = time.perf_counter() - start
    warm = []
    for _ in range(repeats):
        start = time.perf_counter()
        inside_llm.logit_lens(loaded, PROMPT_16)
        warm.append(time.perf_counter() - start)
    return tokens, first, statistics.median(warm)


def lens_view_work(loaded, repeats: int) -> float:
    """What the lens section itself does on a warm rerun: the heatmap figure as JSON and one token's track."""
    from lessons.widgets import inside_llm as widgets

    lens = inside_llm.logit_lens(loaded, PROMPT_16)
    token = inside_llm.first_token_id(loaded, " the")
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        widgets.lens_figure(lens).to_json()
        inside_llm.token_track(lens, token)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def page_rerun(repeats: int) -> float:
    from streamlit.testing.v1 import AppTest

    from lib import course

    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=900)
    app.run()
    app.query_params.update({"prompt": PROMPT_16})
    app.switch_page(course.lesson("inside_llm").page).run()
    assert not app.exception, app.exception
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        app.run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-scan", action="store_true")
    args = parser.parse_args()
    print("before:", uptime())
    loaded = model_loading.shared("smollm2-135m", "decoder", "cpu")
    tokens, first, warm = lens_times(loaded, args.repeats)
    print(f"logit lens, {tokens}-token prompt: first {first * 1000:.0f} ms, warm recompute median "
          f"{warm * 1000:.0f} ms")
    print(f"lens section's own work on a warm rerun (figure JSON + token track), median: "
          f"{lens_view_work(loaded, args.repeats) * 1000:.0f} ms")
    print(f"whole page warm rerun (lens cached), median of {args.repeats}: {page_rerun(args.repeats) * 1000:.0f} ms")
    if not args.skip_scan:
        scan = inside_llm.head_scan(loaded, PROMPT_16, "zero", time_budget_s=3600)
        print(f"head scan: {len(scan.rows)} heads ({scan.layers_done}/{scan.layers_total} layers) in "
              f"{scan.seconds:.1f} s ({scan.seconds / len(scan.rows) * 1000:.0f} ms per head)")
    print("tokens in the sequence | with the cache | without | ratio")
    for length in LENGTHS:
        cached = inside_llm.per_token_seconds(loaded, length, True, args.repeats)
        uncached = inside_llm.per_token_seconds(loaded, length, False, args.repeats)
        print(f"{length} | {cached * 1000:.0f} ms ({1 / cached:.3g} tokens/s) | {uncached * 1000:.0f} ms "
              f"({1 / uncached:.3g} tokens/s) | {uncached / cached:.1f}×")
    print("after:", uptime())


if __name__ == "__main__":
    main()
