"""Recurrent-networks lesson figures: RNN vs Transformer forward timing over
sequence lengths, the character model within its default 60 s budget, the
bracket-counting LSTM and the forecasters. Run: PYTHONPATH=. .venv/bin/python benchmarks/rnn.py
"""
import resource
import time

import pandas as pd
import torch

from lib import device_policy, rnn

LENGTHS = [16, 32, 64, 128, 256, 512, 1024]


def timing_table(device: str) -> pd.DataFrame:
    rows = rnn.forward_timings(LENGTHS, device=device, repeats=5)
    return pd.DataFrame(rows).pivot(index="seq_len", columns="layer", values="ms").round(2)


def load_average() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def char_model_default_budget(device: str) -> None:
    corpus = rnn.build_corpus(rnn.bundled_corpus(), 48)
    baseline = rnn.unigram_loss(corpus)
    crossed = None
    cpu = time.process_time()
    for report in rnn.train_char_model(corpus, device=device):  # the page's defaults: LSTM, 60 s, ≤ 1000 steps
        if crossed is None and report.val_loss < baseline:
            crossed = report
    print(f"char LSTM (defaults): unigram baseline {baseline:.3f} nats/char; final step {report.step} after "
          f"{report.seconds:.1f} s ({time.process_time() - cpu:.1f} s CPU), val loss {report.val_loss:.3f}")
    if crossed:
        print(f"  first below the baseline at step {crossed.step} ({crossed.seconds:.1f} s), val {crossed.val_loss:.3f}")
    print(f"  sample: {report.sample[:100]!r}")


def main() -> None:
    device = device_policy.best_device()
    print(f"device {device}, torch threads {torch.get_num_threads()}, load average {load_average()}")
    for threads in sorted({1, torch.get_num_threads()}):
        torch.set_num_threads(threads)
        print(f"One forward pass, batch 1, d_model 128, {threads} thread(s) (best of 5, ms):")
        print(timing_table(device).to_string())
    params = {r["layer"]: r["parameters"] for r in rnn.forward_timings([16], device=device, repeats=1)}
    print("parameters:", params)

    start = time.perf_counter()
    depth = rnn.train_depth_lstm()
    print(f"bracket-counting LSTM: trained in {time.perf_counter() - start:.1f} s, "
          f"counter-unit correlation {rnn.lstm_gate_trace(depth, '(()(x))((((x))))(').counter_correlation:.3f}")

    char_model_default_budget(device)

    for series in rnn.SERIES:
        start, cpu = time.perf_counter(), time.process_time()
        *_, last = rnn.train_forecasters(rnn.make_series(series), steps=300, eval_every=300, device=device)
        mse = ", ".join(f"{k} {v:.4f}" for k, v in last.test_mse.items())
        print(f"forecast {series} (300 steps, {time.perf_counter() - start:.1f} s, "
              f"{time.process_time() - cpu:.1f} s CPU): test MSE {mse}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; "
          f"load average at the end {load_average()}")


if __name__ == "__main__":
    main()
