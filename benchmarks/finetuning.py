"""Fine-tuning MiniLM on the bundled reviews with the page's default settings
(transformers.Trainer), and the tiny GPT's default run: wall time, test accuracy,
zero-shot baseline, and when the tiny GPT's validation loss first beats the unigram
baseline. `smaller`: the fine-tuned MiniLM (the sentiment model `make setup` trains)
as float32, dynamic int8 and pruned at several sparsities — size, latency, accuracy —
and one training step's activation memory and time with and without bf16 autocast and
gradient checkpointing, all measured in the same run.
CPU time (this process, all threads) is printed next to wall time: on a shared
machine the wall time is an upper bound.

    PYTHONPATH=. .venv/bin/python benchmarks/finetuning.py
"""
import time

from lib import finetuning as ft
from lib import model_loading, tiny_gpt


def fine_tune() -> None:
    splits = ft.bundled_reviews()
    cfg = ft.TrainConfig()
    started, cpu = time.perf_counter(), time.process_time()
    model = ft.new_classifier("minilm", ft.REVIEW_LABELS)
    run = ft.TrainingRun(cfg)
    for _ in ft.train(model, splits["train"], splits["validation"], cfg, run):
        pass
    trained, cpu = time.perf_counter() - started, time.process_time() - cpu
    probs = ft.predict_proba(model, splits["test"].texts, cfg.max_length)
    metrics = ft.classification_metrics(splits["test"].labels, probs.argmax(1), 2)
    baseline = ft.classification_metrics(
        splits["test"].labels, ft.zero_shot_predict(model_loading.load("minilm"), splits["test"].texts, ft.REVIEW_LABELS), 2)
    print(f"fine-tune MiniLM, defaults {cfg}: {trained:.1f} s ({cpu:.1f} s CPU) for {run.total_steps} steps "
          f"(stopped early: {run.stopped_early}); test accuracy {metrics['accuracy']:.3f}, F1 {metrics['f1']:.3f}; "
          f"zero-shot baseline accuracy {baseline['accuracy']:.3f}")


def smaller() -> None:
    test = ft.bundled_reviews()["test"]
    loaded = model_loading.load("minilm-sentiment", role="classifier", device="cpu")
    rows = list(ft.smaller_models(loaded, test, sparsities=(0.3, 0.5, 0.7, 0.9)))
    base = rows[0]
    latency = next(k for k in base if k.startswith("latency"))
    for row in rows:
        print(f"{row['model']:>15}: {row['size (MB)']:.1f} MB ({row['zlib-compressed (MB)']:.1f} MB compressed, "
              f"{base['size (MB)'] / row['size (MB)']:.2f}x smaller), {row[latency]:.1f} ms for 16 texts "
              f"({base[latency] / row[latency]:.2f}x the speed), test accuracy {row['test accuracy']:.3f}")
    for batch, tokens in ((8, 32), (16, 64)):
        memory = list(ft.memory_settings(loaded, test.texts[:batch], test.labels[:batch], tokens))
        plain = memory[0]
        config = loaded.model.config
        print(f"batch {batch}, {tokens} tokens: formula {ft.activation_formula_bytes(config, batch, tokens) / 2**20:.1f} MB "
              f"without checkpointing, {ft.checkpointing_formula_bytes(config, batch, tokens) / 2**20:.1f} MB with")
        for row in memory:
            print(f"  bf16 {row['bf16 autocast']!s:5} checkpointing {row['gradient checkpointing']!s:5}: "
                  f"{row['saved activations (MB)']:.1f} MB kept ({row['saved activations (MB)'] / plain['saved activations (MB)']:.2f}x), "
                  f"step {row['step time (s)']:.2f} s ({row['step time (s)'] / plain['step time (s)']:.2f}x)")


def train_tiny_gpt() -> None:
    config = tiny_gpt.TinyGPTConfig()
    started, cpu = time.perf_counter(), time.process_time()
    run, train, val = tiny_gpt.new_run(tiny_gpt.bundled_corpus(), config)
    beaten_at = None
    for progress in tiny_gpt.train(run, train, val):
        if progress.val_loss is not None and progress.val_loss < run.baseline and beaten_at is None:
            beaten_at = (progress.step, time.perf_counter() - started, time.process_time() - cpu)
    total, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"tiny GPT defaults ({run.model.num_parameters():,} parameters): {config.max_steps} steps in "
          f"{total:.1f} s ({cpu:.1f} s CPU); "
          f"final validation loss {run.history[-1].val_loss:.3f} vs unigram {run.baseline:.3f}; "
          f"first below the baseline at step {beaten_at[0]} after {beaten_at[1]:.1f} s ({beaten_at[2]:.1f} s CPU)"
          if beaten_at else
          f"tiny GPT never beat the baseline ({total:.1f} s)")


if __name__ == "__main__":
    import sys

    parts = sys.argv[1:] or ["fine_tune", "smaller", "tiny_gpt"]  # or name one: benchmarks/finetuning.py smaller
    for part in parts:
        {"fine_tune": fine_tune, "smaller": smaller, "tiny_gpt": train_tiny_gpt}[part]()
