"""Fine-tuning a pretrained encoder for text classification, the course's workflow:
load a pretrained model → add a task head → tokenize → train → evaluate.

Training runs through `transformers.Trainer` and `TrainingArguments` (AdamW,
warm-up + linear/cosine schedule, evaluation each epoch, early stopping), with the
data in a `datasets.Dataset`, and a TrainerCallback streams each step to the page.
"""
from __future__ import annotations

import copy
import csv
import io
import json
import math
import queue
import random
import tempfile
import threading
import time
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from lib import model_loading, model_registry, parameters

REVIEWS_CSV = Path(__file__).resolve().parent.parent / "assets" / "reviews" / "reviews.csv"
REVIEW_LABELS = ["negative", "positive"]
RECORDED_RUN = REVIEWS_CSV.parent.parent / "recorded" / "finetuning_run.json"
MAX_UPLOAD_ROWS = 5000
MAX_TEXT_CHARS = 2000
SWEEP_EXAMPLES = 120  # training examples for each run of a sweep (fewer when the data set is smaller)
BASE_CONFIGS = {"minilm": "all-MiniLM-L6-v2"}  # registry key -> the config lib.parameters ships for it


class DataError(ValueError):
    """An uploaded data set cannot be used; the message is for the student."""


@dataclass
class Dataset:
    texts: list[str]
    labels: list[int]
    label_names: list[str]

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, n: int, seed: int = 0) -> "Dataset":
        """A label-balanced sample of at most n examples."""
        rng = random.Random(seed)
        by_label = {c: [i for i, y in enumerate(self.labels) if y == c] for c in set(self.labels)}
        per_label = max(1, n // len(by_label))
        keep = sorted(i for idx in by_label.values() for i in rng.sample(idx, min(per_label, len(idx))))
        return Dataset([self.texts[i] for i in keep], [self.labels[i] for i in keep], self.label_names)


def bundled_reviews() -> dict[str, Dataset]:
    """Glassbox's own review set (scripts/make_reviews.py), as train/validation/test."""
    splits: dict[str, Dataset] = {}
    with REVIEWS_CSV.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            split = splits.setdefault(row["split"], Dataset([], [], REVIEW_LABELS))
            split.texts.append(row["text"])
            split.labels.append(int(row["label"]))
    return splits


def parse_labelled_csv(data: bytes) -> Dataset:
    """A student's CSV with columns `text,label`; labels may be words or numbers."""
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError("The file is not UTF-8 text. Save it as CSV (UTF-8) and upload it again.") from err
    reader = csv.DictReader(io.StringIO(content))
    if not reader.fieldnames or not {"text", "label"} <= {f.strip().lower() for f in reader.fieldnames}:
        raise DataError("The CSV needs a header with the columns `text` and `label`.")
    rows = [{k.strip().lower(): (v or "").strip() for k, v in row.items() if k} for row in reader]
    if len(rows) > MAX_UPLOAD_ROWS:
        raise DataError(f"The CSV has {len(rows):,} rows; the limit here is {MAX_UPLOAD_ROWS:,}.")
    missing = {i + 2: empty for i, r in enumerate(rows) if (empty := [c for c in ("text", "label") if not r.get(c)])}
    if missing:
        line, empty = next(iter(missing.items()))
        more = f" ({len(missing)} rows lack one)" if len(missing) > 1 else ""
        raise DataError(f"Line {line} has no {' and no '.join(empty)}{more}: every row needs a text and a label.")
    names = sorted({r["label"] for r in rows})
    if len(names) < 2:
        raise DataError("Every row has the same label: a classifier needs at least two classes.")
    if len(rows) < 10 * len(names):
        raise DataError(f"Only {len(rows)} rows for {len(names)} classes: give at least 10 examples per class.")
    return Dataset([r["text"][:MAX_TEXT_CHARS] for r in rows], [names.index(r["label"]) for r in rows], names)


@dataclass(frozen=True)
class HubDataset:
    """A labelled sentiment set on the Hub, read from one of its parquet files."""
    repo: str
    text_columns: tuple[str, ...]  # joined with ". " (amazon_polarity: title + content, as in the course)
    split: str  # the file whose name holds this word: a labelled split (sst2's test labels are hidden)
    title: str


HUB_DATASETS = {
    "sst2": HubDataset("stanfordnlp/sst2", ("sentence",), "train", "SST-2 (movie-review sentences)"),
    "amazon_polarity": HubDataset("fancyzhx/amazon_polarity", ("title", "content"), "test",
                                  "Amazon polarity (product reviews: title + content)"),
}
HUB_PER_LABEL = 400  # the same size as the bundled set


def _hub_parquet(repo: str, split: str) -> str:
    """Download (once; the Hub client caches it) the data set's smallest parquet file for `split`."""
    from huggingface_hub import HfApi, hf_hub_download

    files = [f for f in HfApi().list_repo_tree(repo, repo_type="dataset", recursive=True)
             if f.path.endswith(".parquet") and split in Path(f.path).name]
    if not files:
        raise DataError(f"{repo} has no parquet file for its {split} split.")
    smallest = min(files, key=lambda f: f.size or 0)
    return hf_hub_download(repo, smallest.path, repo_type="dataset")


def hub_reviews(key: str, per_label: int = HUB_PER_LABEL, seed: int = 0, fetch=None) -> dict[str, Dataset]:
    """The first `per_label` rows of each label of a Hub sentiment set, split like an upload.

    Reads the file in batches and stops once it has enough, so a 400,000-row file never
    sits in memory. Any failure (no network, a renamed file) is a DataError for the student."""
    import pyarrow.parquet as pq

    spec = HUB_DATASETS[key]
    try:
        parquet = pq.ParquetFile((fetch or _hub_parquet)(spec.repo, spec.split))
        picked: dict[int, list[str]] = {0: [], 1: []}
        for batch in parquet.iter_batches(batch_size=2048, columns=[*spec.text_columns, "label"]):
            for row in batch.to_pylist():
                texts = [str(row[c]).strip() for c in spec.text_columns if row[c]]
                if row["label"] in picked and texts and len(picked[row["label"]]) < per_label:
                    picked[row["label"]].append(". ".join(texts)[:MAX_TEXT_CHARS])
            if min(map(len, picked.values())) >= per_label:
                break
    except DataError:
        raise
    except Exception as err:  # noqa: BLE001 - network, file format, missing column: all mean "use another set"
        raise DataError(f"{spec.title} could not be read from the Hub ({type(err).__name__}: {str(err)[:160]}). "
                        "Use the bundled reviews or upload a CSV.") from err
    if min(map(len, picked.values())) < 10:
        raise DataError(f"{spec.title}: too few labelled rows in the file.")
    data = Dataset(picked[0] + picked[1], [0] * len(picked[0]) + [1] * len(picked[1]), REVIEW_LABELS)
    return split_dataset(data, seed)


def split_dataset(data: Dataset, seed: int = 0, shares=(0.7, 0.1, 0.2)) -> dict[str, Dataset]:
    """Shuffle and split into train/validation/test."""
    order = list(range(len(data)))
    random.Random(seed).shuffle(order)
    cut1, cut2 = round(shares[0] * len(order)), round((shares[0] + shares[1]) * len(order))
    parts = {"train": order[:cut1], "validation": order[cut1:cut2], "test": order[cut2:]}
    return {name: Dataset([data.texts[i] for i in idx], [data.labels[i] for i in idx], data.label_names)
            for name, idx in parts.items()}


# --- model and training -------------------------------------------------------------

@dataclass
class TrainConfig:
    learning_rate: float = 1e-4
    batch_size: int = 16
    epochs: int = 3
    max_length: int = 64
    warmup_ratio: float = 0.1
    schedule: str = "linear"  # linear | cosine | constant
    early_stopping_patience: int = 1  # epochs without validation improvement; 0 = off
    freeze_encoder: bool = False
    seed: int = 0


@dataclass
class Log:
    """One entry of the training log: a step (train_loss) or an epoch end (validation)."""
    step: int
    epoch: float
    train_loss: float | None = None
    train_accuracy: float | None = None  # on the step's batch
    val_loss: float | None = None
    val_accuracy: float | None = None
    note: str = ""


@dataclass
class TrainingRun:
    config: TrainConfig
    logs: list[Log] = field(default_factory=list)
    total_steps: int = 0
    stopped_early: bool = False
    finished: bool = False  # train() ran to its end; False while it runs, and for good after a Stop

    @property
    def steps_done(self) -> int:
        return self.logs[-1].step if self.logs else 0


@dataclass
class RecordedRun:
    """A finished run's curves and test-set confusion matrix, without its model: what the lesson's
    first screen shows before the student has fine-tuned (made by scripts/record_finetuning.py)."""
    base: str
    config: TrainConfig
    logs: list[Log]
    label_names: list[str]
    confusion: np.ndarray  # (num_labels, num_labels): rows the true class, columns the predicted
    train_size: int
    recorded: str  # when and where, in words


def record(base: str, run: TrainingRun, label_names: list[str], confusion: np.ndarray, train_size: int,
           recorded: str) -> dict:
    """A trained run as the JSON that recorded_run() reads back."""
    return {"base": base, "config": asdict(run.config), "logs": [asdict(log) for log in run.logs],
            "label_names": label_names, "confusion": np.asarray(confusion).tolist(), "train_size": train_size,
            "recorded": recorded}


def recorded_run(path: Path = RECORDED_RUN) -> RecordedRun:
    data = json.loads(path.read_text())
    return RecordedRun(data["base"], TrainConfig(**data["config"]), [Log(**log) for log in data["logs"]],
                       data["label_names"], np.array(data["confusion"]), data["train_size"], data["recorded"])


# A run holds about 0.7 GB beyond its model (activations, gradients, Adam's moments, measured):
# three at once would pass Community Cloud's 2.7 GB, so a server trains two at a time.
CONCURRENT_RUNS = 2
TRAINING_SLOTS = threading.BoundedSemaphore(CONCURRENT_RUNS)


@contextmanager
def training_slot(on_wait: Callable[[float], None], slots: threading.Semaphore = TRAINING_SLOTS,
                  poll_s: float = 1.0) -> Iterator[None]:
    """Hold one of the server's training slots for the run; while none is free,
    call on_wait(seconds waited) every poll_s (a page shows it, and its Stop
    button can end the wait there)."""
    waited = 0.0
    while not slots.acquire(timeout=poll_s):
        waited += poll_s
        on_wait(waited)
    try:
        yield
    finally:
        slots.release()


def new_classifier(base: str, label_names: list[str], device: str = "cpu", seed: int = 0) -> model_loading.Loaded:
    """A fresh, private copy of a pretrained encoder with a new classification head, drawn from
    `seed` (the Trainer seeds only what comes after: without this two runs differ from the start).

    Never the shared cached model: training changes the weights."""
    with torch.random.fork_rng(devices=[]):  # the process's own random state is left as it was
        torch.manual_seed(seed)
        return model_loading.load(base, role="classifier", device=device, attentions=True, fallback="minilm",
                                  model_kwargs={"num_labels": len(label_names),
                                                "id2label": dict(enumerate(label_names)),
                                                "label2id": {n: i for i, n in enumerate(label_names)}})


def trainable_parameters(model: torch.nn.Module, freeze_encoder: bool) -> int:
    """What the optimiser updates: every parameter, or with the encoder frozen only the new head's."""
    frozen = {id(p) for p in getattr(model, model.base_model_prefix).parameters()} if freeze_encoder else set()
    return sum(p.numel() for p in model.parameters() if id(p) not in frozen)


@lru_cache(maxsize=64)
def parameter_counts(base: str, num_labels: int) -> tuple[int, int]:
    """(trainable with the encoder frozen, trainable in full fine-tuning) for `base` with a
    new `num_labels`-class head, counted on the meta device from its config (no weights).
    Raises parameters.InvalidConfig or model_registry.ModelUnavailable when the config cannot be had."""
    config, _, _ = parameters.resolve_config(BASE_CONFIGS.get(base, base))
    config.num_labels = num_labels
    model = model_registry.build_on_meta(config, parameters.model_class_named("AutoModelForSequenceClassification"))
    return trainable_parameters(model, freeze_encoder=True), trainable_parameters(model, freeze_encoder=False)


def training_steps(num_examples: int, batch_size: int, epochs: int, warmup_ratio: float) -> tuple[int, int, int]:
    """Optimiser steps per epoch (the last batch may be short), in all, and of warm-up."""
    per_epoch = math.ceil(num_examples / batch_size)
    total = per_epoch * epochs
    return per_epoch, total, int(warmup_ratio * total)


def _encode(loaded: model_loading.Loaded, texts: list[str], max_length: int) -> dict:
    encoded = loaded.tokenizer(texts, padding=True, truncation=True, max_length=max_length,
                               return_tensors="pt")
    return {k: v.to(loaded.device) for k, v in encoded.items()}


def hf_dataset(data: Dataset, tokenizer, max_length: int):
    """The course's data path: a `datasets.Dataset` from a pandas table, tokenized with `.map`
    (truncated to max_length; padding is left to DataCollatorWithPadding, batch by batch)."""
    import datasets
    import pandas as pd

    datasets.disable_progress_bars()
    table = datasets.Dataset.from_pandas(pd.DataFrame({"text": data.texts, "label": data.labels}))
    return table.map(lambda batch: tokenizer(batch["text"], truncation=True, max_length=max_length),
                     batched=True, remove_columns=["text"])


def _scheduler_name(schedule: str) -> str:
    return "constant_with_warmup" if schedule == "constant" else schedule


def compute_metrics(eval_pred) -> dict:
    """What the Trainer reports after each evaluation besides eval_loss."""
    logits, labels = eval_pred
    metrics = classification_metrics(labels, np.asarray(logits).argmax(-1), np.asarray(logits).shape[-1])
    return {name: metrics[name] for name in ("accuracy", "precision", "recall", "f1")}


class _Streamer:
    """A TrainerCallback (built by _streamer_class) that hands each step's and each evaluation's
    Log to the page one at a time: the training thread waits after each until the page asks
    for the next, and a stop the page asks for ends training there (control.should_training_stop)."""

    def __init__(self, run: TrainingRun):
        self.run = run
        self.out: queue.Queue = queue.Queue()
        self.resume = threading.Semaphore(0)
        self.stop = threading.Event()
        self.batch_accuracy: float | None = None

    def hand_over(self, log: Log, state, control) -> None:
        if not self.stop.is_set():
            self.run.logs.append(log)
            self.out.put(log)
            self.resume.acquire()
        if self.stop.is_set():
            control.should_training_stop = True
            state.best_model_checkpoint = None  # a stopped run keeps the weights it has, not an earlier epoch's

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.hand_over(Log(state.global_step, state.epoch, train_loss=logs["loss"],
                               train_accuracy=self.batch_accuracy), state, control)

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        self.hand_over(Log(state.global_step, float(round(state.epoch)), val_loss=metrics["eval_loss"],
                           val_accuracy=metrics["eval_accuracy"]), state, control)

    def on_epoch_end(self, args, state, control, **kwargs):
        if self.stop.is_set():
            control.should_evaluate = control.should_save = False


@lru_cache(maxsize=1)
def _trainer_classes():
    """transformers' Trainer that also notes each training batch's accuracy, and the callback."""
    from transformers import Trainer, TrainerCallback

    class StreamingCallback(_Streamer, TrainerCallback):
        pass

    class AccuracyTrainer(Trainer):
        streamer: _Streamer | None = None

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            loss, outputs = super().compute_loss(model, inputs, return_outputs=True,
                                                 num_items_in_batch=num_items_in_batch)
            if model.training and self.streamer is not None:  # logits: (batch, num_labels), before the step
                self.streamer.batch_accuracy = (outputs.logits.argmax(-1) == inputs["labels"]).float().mean().item()
            return (loss, outputs) if return_outputs else loss

    return AccuracyTrainer, StreamingCallback


def training_arguments(cfg: TrainConfig, output_dir: str, device: str, warmup_steps: int):
    """TrainingArguments as the page's settings give them: evaluation (and, with early stopping,
    a checkpoint) every epoch, a log every step."""
    from transformers import TrainingArguments

    early = bool(cfg.early_stopping_patience)
    return TrainingArguments(
        output_dir=output_dir, learning_rate=cfg.learning_rate, per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=64, num_train_epochs=cfg.epochs, warmup_steps=warmup_steps,
        lr_scheduler_type=_scheduler_name(cfg.schedule), weight_decay=0.01, max_grad_norm=1.0,
        eval_strategy="epoch", save_strategy="epoch" if early else "no", save_only_model=True,
        save_total_limit=1 if early else None, load_best_model_at_end=early, metric_for_best_model="eval_loss",
        logging_strategy="steps", logging_steps=1, report_to="none", disable_tqdm=True, seed=cfg.seed,
        data_seed=cfg.seed, use_cpu=str(device) == "cpu", dataloader_pin_memory=False)


def build_trainer(loaded: model_loading.Loaded, train_set: Dataset, val_set: Dataset, cfg: TrainConfig,
                  run: TrainingRun, output_dir: str):
    """The Trainer for one run, and the callback that streams it."""
    from transformers import DataCollatorWithPadding, EarlyStoppingCallback, PrinterCallback

    trainer_class, callback_class = _trainer_classes()
    model = loaded.model
    for p in getattr(model, model.base_model_prefix).parameters():
        p.requires_grad = not cfg.freeze_encoder  # the Trainer's optimiser takes only what requires grad
    _, run.total_steps, warmup = training_steps(len(train_set), cfg.batch_size, cfg.epochs, cfg.warmup_ratio)
    streamer = callback_class(run)
    callbacks = [streamer]
    if cfg.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=cfg.early_stopping_patience))
    trainer = trainer_class(
        model=model, args=training_arguments(cfg, output_dir, loaded.device, warmup),
        train_dataset=hf_dataset(train_set, loaded.tokenizer, cfg.max_length),
        eval_dataset=hf_dataset(val_set, loaded.tokenizer, cfg.max_length),
        processing_class=loaded.tokenizer, data_collator=DataCollatorWithPadding(loaded.tokenizer),
        compute_metrics=compute_metrics, callbacks=callbacks)
    trainer.remove_callback(PrinterCallback)  # the page draws the logs; nothing printed to the server's console
    trainer.streamer = streamer
    return trainer, streamer


_DONE = object()


def train(loaded: model_loading.Loaded, train_set: Dataset, val_set: Dataset, cfg: TrainConfig,
          run: TrainingRun) -> Iterator[Log]:
    """Fine-tune `loaded.model` in place with transformers.Trainer, yielding a Log per step and
    per epoch's evaluation. The Trainer runs in a thread that waits for each Log to be taken;
    closing the generator (a Stop on the page) stops training after the current step.
    With early stopping the best epoch's weights are restored at the end."""
    with tempfile.TemporaryDirectory(prefix="glassbox-trainer-") as output_dir:
        trainer, streamer = build_trainer(loaded, train_set, val_set, cfg, run, output_dir)

        def work() -> None:
            try:
                trainer.train()
                streamer.out.put(_DONE)
            except BaseException as err:  # noqa: BLE001 - handed to the page's thread, raised there
                streamer.out.put(err)

        worker = threading.Thread(target=work, name="glassbox-trainer", daemon=True)
        worker.start()
        try:
            while (item := streamer.out.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                yield item
                streamer.resume.release()
        finally:
            if worker.is_alive():
                streamer.stop.set()
                streamer.resume.release()
                worker.join()
    loaded.model.eval()
    run.stopped_early = run.steps_done < run.total_steps
    run.finished = True


@torch.no_grad()
def predict_proba(loaded: model_loading.Loaded, texts: list[str], max_length: int = 64,
                  batch_size: int = 64) -> np.ndarray:
    """Class probabilities, shape (len(texts), num_labels)."""
    loaded.model.eval()
    chunks = []
    for start in range(0, len(texts), batch_size):
        with loaded.lock:
            batch = _encode(loaded, texts[start:start + batch_size], max_length)
            logits = loaded.model(**batch).logits  # (batch, num_labels)
        chunks.append(torch.softmax(logits.float(), -1).cpu().numpy())
    return np.concatenate(chunks) if chunks else np.zeros((0, loaded.model.config.num_labels))


@torch.no_grad()
def evaluate_loss(loaded: model_loading.Loaded, data: Dataset, max_length: int) -> tuple[float, float]:
    probs = predict_proba(loaded, data.texts, max_length)
    labels = np.array(data.labels)
    loss = -np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None)).mean()
    return float(loss), float((probs.argmax(1) == labels).mean())


# --- metrics ------------------------------------------------------------------------

def classification_metrics(y_true, y_pred, num_labels: int) -> dict:
    """Accuracy, precision, recall, F1 (binary: of class 1; otherwise macro) and
    the confusion matrix (rows = true class, columns = predicted)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    confusion = np.zeros((num_labels, num_labels), dtype=int)
    np.add.at(confusion, (y_true, y_pred), 1)
    tp = np.diag(confusion).astype(float)
    precision_c = np.divide(tp, confusion.sum(0), out=np.zeros(num_labels), where=confusion.sum(0) > 0)
    recall_c = np.divide(tp, confusion.sum(1), out=np.zeros(num_labels), where=confusion.sum(1) > 0)
    denominator = precision_c + recall_c
    f1_c = np.divide(2 * precision_c * recall_c, denominator, out=np.zeros(num_labels), where=denominator > 0)
    pick = (lambda v: v[1]) if num_labels == 2 else (lambda v: v.mean())
    return {"accuracy": float(tp.sum() / max(1, len(y_true))), "precision": float(pick(precision_c)),
            "recall": float(pick(recall_c)), "f1": float(pick(f1_c)), "confusion": confusion}


def precision_recall_curve(y_true, scores) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall of class 1 at every score threshold, highest first."""
    y_true, scores = np.asarray(y_true), np.asarray(scores)
    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(y_true[order] == 1)
    predicted = np.arange(1, len(order) + 1)
    return hits / predicted, hits / max(1, (y_true == 1).sum())


# --- the zero-shot baseline -----------------------------------------------------------

@torch.no_grad()
def sentence_embeddings(encoder: model_loading.Loaded, texts: list[str], max_length: int = 128) -> torch.Tensor:
    """Mean-pooled, L2-normalised sentence embeddings, shape (len(texts), hidden_size)."""
    with encoder.lock:
        batch = _encode(encoder, texts, max_length)
        hidden = encoder.model(**batch).last_hidden_state  # (batch, seq, hidden)
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (batch, seq, 1)
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(pooled.float(), dim=-1).cpu()


LABEL_DESCRIPTIONS = {  # what a review of each sentiment says; other label names get "This review is <name>."
    "negative": "I am unhappy with this product. It is bad.",
    "positive": "I am happy with this product. It is good.",
}


def zero_shot_descriptions(label_names: list[str]) -> list[str]:
    return [LABEL_DESCRIPTIONS.get(name.lower(), f"This review is {name}.") for name in label_names]


def zero_shot_predict(encoder: model_loading.Loaded, texts: list[str], label_names: list[str]) -> np.ndarray:
    """No training: pick the label whose description is closest (cosine) in embedding space."""
    labels = sentence_embeddings(encoder, zero_shot_descriptions(label_names))  # (num_labels, hidden)
    chunks = [sentence_embeddings(encoder, texts[i:i + 64]) @ labels.T for i in range(0, len(texts), 64)]
    return torch.cat(chunks).argmax(-1).numpy()


# --- attention before and after ---------------------------------------------------------

@torch.no_grad()
def last_layer_attention(loaded: model_loading.Loaded, sentence: str) -> tuple[list[str], np.ndarray]:
    """Tokens and the last layer's attention averaged over heads, shape (seq, seq)."""
    with loaded.lock:
        batch = _encode(loaded, [sentence], 64)
        out = loaded.model(**batch, output_attentions=True)
    tokens = loaded.tokenizer.convert_ids_to_tokens(batch["input_ids"][0].tolist())
    return tokens, out.attentions[-1][0].mean(0).float().cpu().numpy()  # (heads, seq, seq) → (seq, seq)


def _group(name: str) -> str:
    """embeddings.word_embeddings.weight -> embeddings; encoder.layer.3.output.dense.bias -> layer 3."""
    parts = name.split(".")
    return f"layer {parts[2]}" if parts[:2] == ["encoder", "layer"] else parts[0]


@torch.no_grad()
def weight_changes(pretrained: torch.nn.Module, finetuned: torch.nn.Module) -> dict[str, float]:
    """How far fine-tuning moved each part of the encoder: ‖after − before‖ / ‖before‖ over
    the part's parameters, keyed embeddings, layer 0…, pooler (in the model's order)."""
    before = dict(pretrained.named_parameters())
    encoder = getattr(finetuned, finetuned.base_model_prefix)
    moved: dict[str, list[float]] = {}
    for name, after in encoder.named_parameters():
        if name in before:
            old = before[name].detach().float().cpu()
            sums = moved.setdefault(_group(name), [0.0, 0.0])
            sums[0] += float(((after.detach().float().cpu() - old) ** 2).sum())
            sums[1] += float((old ** 2).sum())
    return {group: math.sqrt(diff) / math.sqrt(norm) for group, (diff, norm) in moved.items() if norm > 0}


def sweep(base: str, train_set: Dataset, val_set: Dataset, grid: list[tuple[float, int]],
          device: str = "cpu", seed: int = 0) -> Iterator[dict]:
    """One fine-tuning run per (learning rate, epochs), each from the same
    pretrained weights; yields a result row per run."""
    for learning_rate, epochs in grid:
        model = new_classifier(base, train_set.label_names, device, seed)
        cfg = TrainConfig(learning_rate=learning_rate, epochs=epochs, early_stopping_patience=0, seed=seed)
        run = TrainingRun(cfg)
        for _ in train(model, train_set, val_set, cfg, run):
            pass
        final = run.logs[-1]
        yield {"learning rate": learning_rate, "epochs": epochs, "validation loss": round(final.val_loss, 4),
               "validation accuracy": round(final.val_accuracy, 4)}


# --- save, reload, share -----------------------------------------------------------------

FILE_ROLES = {  # what each file save_pretrained writes holds
    "config.json": "the architecture (hidden_size, num_hidden_layers, num_attention_heads…) and the label names "
                   "(id2label): everything needed to rebuild the model before its weights are loaded",
    "model.safetensors": "the weights: every tensor by name, shape and dtype, in a format that cannot run code",
    "tokenizer.json": "the fast (Rust) tokenizer: vocabulary, normalisation and splitting rules in one file",
    "tokenizer_config.json": "tokenizer settings: lower-casing, maximum length, which special tokens it uses",
    "special_tokens_map.json": "which tokens play [CLS], [SEP], [PAD], [UNK], [MASK]",
    "vocab.txt": "the WordPiece vocabulary, one token a line (its line number is the token's id)",
    "generation_config.json": "default decoding settings for generate()",
    "README.md": "the model card: metadata (licence, base model, metrics) and what the model is for",
}


def save_model(loaded: model_loading.Loaded, folder: Path, card: str) -> list[dict]:
    """save_pretrained the model and its tokenizer into `folder`, write the model card as its
    README.md, and list the files."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with loaded.lock:
        loaded.model.save_pretrained(folder)
        loaded.tokenizer.save_pretrained(folder)
    (folder / "README.md").write_text(card, encoding="utf-8")
    return folder_files(folder)


def folder_files(folder: Path) -> list[dict]:
    """Each file of a saved model: name, size on disk and what it holds."""
    return [{"file": p.name, "bytes": p.stat().st_size, "holds": FILE_ROLES.get(p.name, "")}
            for p in sorted(Path(folder).iterdir()) if p.is_file()]


def model_card(base: str, label_names: list[str], cfg: TrainConfig, data: str, num_train: int,
               metrics: dict, num_test: int, trained_where: str = "in the Glassbox fine-tuning lesson") -> str:
    """A model card (README.md with YAML metadata) for a fine-tuned classifier: what it is, its
    training data and settings, its test metrics, intended use and limits."""
    spec = model_registry.REGISTRY.get(base)
    base_id = (spec.hub_id or spec.location) if spec else base
    licence = spec.license if spec else "see the base model's card"
    metric_rows = "".join(f"| {name} | {metrics[name]:.3f} |\n" for name in ("accuracy", "precision", "recall", "f1"))
    return f"""---
license: {licence.split(" ")[0].lower()}
base_model: {base_id}
pipeline_tag: text-classification
language: en
tags: [text-classification, sentiment-analysis, glassbox]
model-index:
- name: {base}-finetuned
  results:
  - task: {{type: text-classification}}
    dataset: {{name: "{data}", type: csv}}
    metrics:
    - {{type: accuracy, value: {metrics["accuracy"]:.4f}}}
    - {{type: f1, value: {metrics["f1"]:.4f}}}
---
# {base} fine-tuned for {" / ".join(label_names)}

Fine-tuned {trained_where} with `transformers.Trainer` from **{base_id}** (licence: {licence}).
Labels: {", ".join(f"{i} = {name}" for i, name in enumerate(label_names))}.

## Training data
{data}: {num_train} training examples.

## Training procedure
learning rate {cfg.learning_rate:g}, batch size {cfg.batch_size}, {cfg.epochs} epoch(s), {cfg.schedule} schedule with
{cfg.warmup_ratio:.0%} warm-up, max length {cfg.max_length} tokens, early stopping patience {cfg.early_stopping_patience},
{"encoder frozen (only the head trained)" if cfg.freeze_encoder else "all weights trained"}, seed {cfg.seed}.

## Evaluation ({num_test} held-out test examples)
| metric | value |
|---|---|
{metric_rows}
## Intended use and limits
For teaching: classifying short English texts like its training data. It learnt from a small
set of examples, so it is unreliable on other kinds of text (sarcasm, other domains, other
languages), and its confidence is not a calibrated probability. Not for decisions about people.
"""


def zip_folder(folder: Path) -> bytes:
    """The saved folder as a zip file, for a download button."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for p in sorted(Path(folder).iterdir()):
            if p.is_file():
                archive.write(p, p.name)
    return buffer.getvalue()


def identical_predictions(before: model_loading.Loaded, after: model_loading.Loaded, texts: list[str],
                          max_length: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Logits of the same texts from the model in memory and the one reloaded from disk, (n, num_labels) each."""
    return tuple(np.log(predict_proba(m, texts, max_length)) for m in (before, after))


PUSH_CODE = '''
from huggingface_hub import login
login()                                    # or set HF_TOKEN; needs a write token
model.push_to_hub("{repo}")             # config.json + model.safetensors
tokenizer.push_to_hub("{repo}")         # tokenizer files
# the model card: the folder's README.md
from huggingface_hub import upload_file
upload_file(path_or_fileobj="{folder}/README.md", path_in_repo="README.md", repo_id="{repo}")
'''


def push_to_hub(folder: Path, repo_id: str, token: str) -> str:
    """Upload the saved folder to a (new or existing) Hub repository; returns its address."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, exist_ok=True)
    api.upload_folder(folder_path=str(folder), repo_id=repo_id, commit_message="Upload from Glassbox")
    return f"https://huggingface.co/{repo_id}"


# --- making a model smaller -----------------------------------------------------------------

def quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    """A copy whose Linear layers hold int8 weights (dynamic quantisation: activations are
    quantised on the fly at each call); embeddings and LayerNorms stay float32."""
    from torch.ao.quantization import quantize_dynamic

    return quantize_dynamic(copy.deepcopy(model).float().cpu().eval(), {torch.nn.Linear}, dtype=torch.qint8)


def prune_linear(model: torch.nn.Module, sparsity: float) -> torch.nn.Module:
    """A copy with the smallest-magnitude `sparsity` share of each encoder Linear weight set to
    zero (torch.nn.utils.prune.l1_unstructured, then made permanent)."""
    from torch.nn.utils import prune

    pruned = copy.deepcopy(model).float().cpu().eval()
    for module in getattr(pruned, pruned.base_model_prefix).modules():
        if isinstance(module, torch.nn.Linear) and sparsity > 0:
            prune.l1_unstructured(module, "weight", amount=sparsity)
            prune.remove(module, "weight")
    return pruned


def linear_sparsity(model: torch.nn.Module) -> float:
    """Share of zeros among the encoder's Linear weights."""
    weights = [m.weight for m in getattr(model, model.base_model_prefix).modules() if isinstance(m, torch.nn.Linear)]
    return float(sum((w == 0).sum() for w in weights) / sum(w.numel() for w in weights))


def saved_bytes(model: torch.nn.Module) -> tuple[int, int]:
    """(bytes of the state dict as torch.save writes it, bytes after zlib compression): pruning
    leaves the dense file as big as before; its zeros only pay off once compressed or stored sparse."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    raw = buffer.getvalue()
    return len(raw), len(zlib.compress(raw, 1))


@torch.no_grad()
def latency_ms(model: torch.nn.Module, batch: dict, repeats: int = 5) -> float:
    """Median wall time of one forward pass over `batch`, in ms (after one warm-up pass)."""
    model(**batch)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        model(**batch)
        times.append(time.perf_counter() - started)
    return 1000 * float(np.median(times))


@torch.no_grad()
def accuracy(model: torch.nn.Module, tokenizer, data: Dataset, max_length: int = 64) -> float:
    correct = 0
    for start in range(0, len(data), 64):
        batch = tokenizer(data.texts[start:start + 64], padding=True, truncation=True, max_length=max_length,
                          return_tensors="pt")
        predicted = model(**batch).logits.argmax(-1)  # (batch,)
        correct += int((predicted == torch.tensor(data.labels[start:start + 64])).sum())
    return correct / max(1, len(data))


def smaller_models(loaded: model_loading.Loaded, test: Dataset, sparsities=(0.3, 0.5, 0.7, 0.9),
                   latency_texts: int = 16, max_length: int = 64) -> Iterator[dict]:
    """float32, dynamic int8, and magnitude pruning at each sparsity, on the CPU: a row each with
    the saved size, the compressed size, the latency of one batch and the test accuracy."""
    base = copy.deepcopy(loaded.model).float().cpu().eval()
    batch = loaded.tokenizer(test.texts[:latency_texts], padding=True, truncation=True, max_length=max_length,
                             return_tensors="pt")
    variants = [("float32", 0.0, lambda: base), ("int8 (dynamic)", 0.0, lambda: quantize_int8(base))]
    variants += [(f"pruned {s:.0%}", s, lambda s=s: prune_linear(base, s)) for s in sparsities]
    for name, sparsity, make in variants:
        model = make()
        size, compressed = saved_bytes(model)
        yield {"model": name, "sparsity": sparsity, "size (MB)": size / 2**20, "zlib-compressed (MB)": compressed / 2**20,
               f"latency, {latency_texts} texts (ms)": latency_ms(model, batch),
               "test accuracy": accuracy(model, loaded.tokenizer, test, max_length)}


# --- memory while training: bf16 autocast and gradient checkpointing --------------------------

def saved_activation_bytes(model: torch.nn.Module, batch: dict, labels: torch.Tensor, bf16: bool = False,
                           checkpointing: bool = False) -> tuple[int, float]:
    """One training step (forward + backward) on a private copy: (bytes of the tensors kept between
    forward and backward, step seconds). Those are the activation memory: autograd's saved tensors,
    and with gradient checkpointing, which recomputes each layer in backward, only each layer's
    input (a layer's own saved tensors exist again only while it is recomputed)."""
    model = copy.deepcopy(model).float().train()
    seen: dict[int, int] = {}

    def pack(tensor):
        seen.setdefault(tensor.untyped_storage().data_ptr(), tensor.untyped_storage().nbytes())
        return tensor

    def layer_input(module, args, kwargs):  # what checkpointing keeps of a layer: its input hidden states
        pack(args[0] if args else kwargs["hidden_states"])

    hooks = []
    if checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        layers = getattr(model, model.base_model_prefix).encoder.layer
        hooks = [layer.register_forward_pre_hook(layer_input, with_kwargs=True) for layer in layers]
    started = time.perf_counter()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), \
            torch.autocast(str(batch["input_ids"].device.type), dtype=torch.bfloat16, enabled=bf16):
        loss = model(**batch, labels=labels).loss
    for hook in hooks:
        hook.remove()
    parameters_ptrs = {p.untyped_storage().data_ptr() for p in model.parameters()}
    loss.backward()
    seconds = time.perf_counter() - started
    return sum(n for ptr, n in seen.items() if ptr not in parameters_ptrs), seconds


def activation_formula_bytes(config, batch_size: int, seq_len: int, bytes_per_value: int = 4) -> int:
    """Korthikanti et al. (2022)'s estimate of the activations a Transformer keeps for backward:
    s·b·h·(34 + 5·a·s/h) bytes per layer with 2-byte values (s tokens, b batch, h hidden_size,
    a heads), i.e. s·b·h·(17 + 2.5·a·s/h) values, here at `bytes_per_value` bytes each."""
    h, a, layers = config.hidden_size, config.num_attention_heads, config.num_hidden_layers
    per_layer = seq_len * batch_size * h * (34 + 5 * a * seq_len / h) / 2
    return int(layers * per_layer * bytes_per_value)


def checkpointing_formula_bytes(config, batch_size: int, seq_len: int, bytes_per_value: int = 4) -> int:
    """With full recomputation only each layer's input is kept: layers · seq·batch·hidden values."""
    return config.num_hidden_layers * seq_len * batch_size * config.hidden_size * bytes_per_value


def memory_settings(loaded: model_loading.Loaded, texts: list[str], labels: list[int], max_length: int = 64
                    ) -> Iterator[dict]:
    """Activation memory and step time for the four combinations of bf16 autocast and gradient checkpointing."""
    batch = loaded.tokenizer(texts, padding="max_length", truncation=True, max_length=max_length,
                             return_tensors="pt")
    batch = {k: v.to(loaded.device) for k, v in batch.items()}
    target = torch.tensor(labels, device=loaded.device)
    for bf16 in (False, True):
        for checkpointing in (False, True):
            saved, seconds = saved_activation_bytes(loaded.model, batch, target, bf16, checkpointing)
            yield {"bf16 autocast": bf16, "gradient checkpointing": checkpointing,
                   "saved activations (MB)": saved / 2**20, "step time (s)": seconds}


TRAINER_CODE = '''
from transformers import (AutoModelForSequenceClassification, AutoTokenizer,
                          Trainer, TrainingArguments)

tokenizer = AutoTokenizer.from_pretrained("bert-base-uncased")
model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased", num_labels=2)

def tokenize(batch):
    return tokenizer(batch["text"], padding="max_length", truncation=True, max_length=64)

train_ds, val_ds = train_ds.map(tokenize, batched=True), val_ds.map(tokenize, batched=True)
args = TrainingArguments("out", learning_rate=1e-4, per_device_train_batch_size=16,
                         num_train_epochs=3, warmup_ratio=0.1, lr_scheduler_type="linear",
                         eval_strategy="epoch", save_strategy="epoch", load_best_model_at_end=True)
Trainer(model=model, args=args, train_dataset=train_ds, eval_dataset=val_ds).train()
'''
