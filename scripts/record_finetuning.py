"""Record one run of the fine-tuning lesson's training code with its defaults, for the lesson's
first screen before a student has trained (assets/recorded/finetuning_run.json): MiniLM with a new
classification head, fine-tuned here on the CPU with transformers.Trainer on the bundled reviews,
its step and epoch logs and its test-set confusion matrix kept.

    .venv/bin/python scripts/record_finetuning.py"""
from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib import finetuning as ft  # noqa: E402

BASE = "minilm"


def main() -> None:
    splits = ft.bundled_reviews()
    train_set, val_set, test_set = splits["train"], splits["validation"], splits["test"]
    run = ft.TrainingRun(ft.TrainConfig())
    model = ft.new_classifier(BASE, train_set.label_names, seed=run.config.seed)
    start = time.perf_counter()
    for log in ft.train(model, train_set, val_set, run.config, run):
        if log.val_loss is not None:
            print(f"epoch {log.epoch:g}: validation loss {log.val_loss:.3f}, accuracy {log.val_accuracy:.3f}",
                  flush=True)
    wall = time.perf_counter() - start
    predicted = ft.predict_proba(model, test_set.texts, run.config.max_length).argmax(1)
    metrics = ft.classification_metrics(test_set.labels, predicted, len(test_set.label_names))
    where = (f"{time.strftime('%Y-%m-%d', time.gmtime())}, CPU ({platform.machine()}, {os.cpu_count()} threads), "
             f"{wall:.0f} s")
    ft.RECORDED_RUN.parent.mkdir(parents=True, exist_ok=True)
    ft.RECORDED_RUN.write_text(json.dumps(ft.record(BASE, run, train_set.label_names, metrics["confusion"],
                                                    len(train_set), where)) + "\n")
    print(f"test accuracy {metrics['accuracy']:.3f}; wrote {ft.RECORDED_RUN} "
          f"({ft.RECORDED_RUN.stat().st_size:,} bytes, {wall:.0f} s)")


if __name__ == "__main__":
    main()
