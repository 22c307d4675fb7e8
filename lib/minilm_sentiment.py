"""The offline sentiment model: no PyPI package ships trained sentiment weights for
transformers (searched at the time: the candidates download theirs from the Hub at run
time), so Glassbox fine-tunes its bundled MiniLM on its own review set once, with
`transformers.Trainer`, and saves it with a model card into the cache. `make setup` runs
`python -m lib.minilm_sentiment`; `transformers.pipeline("sentiment-analysis", model=<folder>)`
then serves it offline. A page on a machine where setup never ran (Community Cloud) can
call `train()` itself, with progress.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Iterator

from lib import finetuning as ft
from lib import model_registry

KEY = "minilm-sentiment"
LABELS = ["NEGATIVE", "POSITIVE"]  # as the Hub's sentiment models name them
CONFIG = ft.TrainConfig(epochs=2, early_stopping_patience=0)  # 70 steps (1 epoch: course sentence 0.49)
TIME_LIMIT_S = 600  # a run still going after this (a badly overloaded machine) stops there; its card says how far it got


def folder() -> Path:
    return model_registry.CACHE_DIR / model_registry.REGISTRY[KEY].location


def is_trained() -> bool:
    return model_registry.is_installed(KEY)


def total_steps() -> int:
    """Training steps plus evaluations, for a progress bar."""
    train = ft.bundled_reviews()["train"]
    return ft.training_steps(len(train), CONFIG.batch_size, CONFIG.epochs, CONFIG.warmup_ratio)[1] + CONFIG.epochs


def train(device: str = "cpu", time_limit_s: float = TIME_LIMIT_S) -> Iterator[ft.Log]:
    """Fine-tune MiniLM on the bundled reviews (yielding each Log), test it, and save it with its
    card, written aside and renamed into place so an interrupted run leaves nothing half-written."""
    splits = ft.bundled_reviews()
    loaded = ft.new_classifier("minilm", LABELS, device, CONFIG.seed)
    run = ft.TrainingRun(CONFIG)
    started = time.perf_counter()
    steps = ft.train(loaded, splits["train"], splits["validation"], CONFIG, run)
    for log in steps:
        yield log
        if time.perf_counter() - started > time_limit_s:
            steps.close()
            break
    test = splits["test"]
    metrics = ft.classification_metrics(test.labels, ft.predict_proba(loaded, test.texts).argmax(1), len(LABELS))
    seconds = time.perf_counter() - started
    where = (f"on this machine by `python -m lib.minilm_sentiment` ({run.steps_done} of {run.total_steps} steps "
             f"in {seconds:.0f} s)")
    card = ft.model_card("minilm", LABELS, CONFIG, "Glassbox's bundled product reviews (assets/reviews/reviews.csv, "
                         "written for Glassbox by scripts/make_reviews.py)", len(splits["train"]), metrics, len(test),
                         trained_where=where)
    target = folder()
    staging = target.with_name(target.name + f".tmp{os.getpid()}")
    ft.save_model(loaded, staging, card)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def prepare() -> None:
    """One-time preparation run by `make setup`."""
    if is_trained():
        print(f"The sentiment model is already in {folder()}")
        return
    started = time.perf_counter()
    for _ in train():
        pass
    print(f"Sentiment model trained and saved in {folder()} ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    prepare()
