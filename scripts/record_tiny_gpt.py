"""Record one run of the tiny-GPT lesson's training code on the bundled corpus, for the lesson's
first screen before a student has trained (assets/recorded/tiny_gpt_run.json): the lesson's
default model, trained here on the CPU with the lesson's own loop, its losses and samples kept.

    .venv/bin/python scripts/record_tiny_gpt.py [--steps 600] [--every 50]"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib import tiny_gpt  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=tiny_gpt.TinyGPTConfig.max_steps)
    parser.add_argument("--every", type=int, default=50, help="evaluate and sample every N steps")
    args = parser.parse_args()
    config = replace(tiny_gpt.TinyGPTConfig(), max_steps=args.steps, eval_every=args.every)
    corpus = tiny_gpt.prepare_corpus(tiny_gpt.bundled_corpus(), config.block_size)
    run, train_data, val_data = tiny_gpt.new_run(corpus, config)
    start = time.perf_counter()
    for progress in tiny_gpt.train(run, train_data, val_data):
        if progress.val_loss is not None:
            print(f"step {progress.step}: validation {progress.val_loss:.3f}", flush=True)
    wall = time.perf_counter() - start
    where = (f"{time.strftime('%Y-%m-%d', time.gmtime())}, CPU ({platform.machine()}, {os.cpu_count()} threads), "
             f"{wall:.0f} s")
    tiny_gpt.RECORDED_RUN.parent.mkdir(parents=True, exist_ok=True)
    tiny_gpt.RECORDED_RUN.write_text(json.dumps(tiny_gpt.record(run, len(corpus), where), indent=None) + "\n")
    print(f"wrote {tiny_gpt.RECORDED_RUN} ({tiny_gpt.RECORDED_RUN.stat().st_size:,} bytes, {wall:.0f} s)")


if __name__ == "__main__":
    main()
