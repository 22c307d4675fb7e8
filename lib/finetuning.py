"""Fine-tuning a pretrained encoder for text classification, the course's workflow:
load a pretrained model → add a task head → tokenize → train → evaluate.

The loop is the plain PyTorch equivalent of `transformers.Trainer` (AdamW,
warm-up + linear/cosine schedule, evaluation each epoch, early stopping), written
out so each step can be shown live.
"""
from __future__ import annotations

import copy
import csv
import io
import math
import random
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from lib import model_loading, model_registry, parameters

REVIEWS_CSV = Path(__file__).resolve().parent.parent / "assets" / "reviews" / "reviews.csv"
REVIEW_LABELS = ["negative", "positive"]
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


def new_classifier(base: str, label_names: list[str], device: str = "cpu") -> model_loading.Loaded:
    """A fresh, private copy of a pretrained encoder with a new classification head.

    Never the shared cached model: training changes the weights."""
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


def _batches(data: Dataset, batch_size: int, shuffle: bool, rng: random.Random) -> Iterator[list[int]]:
    order = list(range(len(data)))
    if shuffle:
        rng.shuffle(order)
    for start in range(0, len(order), batch_size):
        yield order[start:start + batch_size]


def _encode(loaded: model_loading.Loaded, texts: list[str], max_length: int) -> dict:
    encoded = loaded.tokenizer(texts, padding=True, truncation=True, max_length=max_length,
                               return_tensors="pt")
    return {k: v.to(loaded.device) for k, v in encoded.items()}


def _schedule(name: str, warmup: int, total: int):
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        if name == "cosine":
            return 0.5 * (1 + math.cos(math.pi * progress))
        if name == "linear":
            return max(0.0, 1 - progress)
        return 1.0
    return factor


def train(loaded: model_loading.Loaded, train_set: Dataset, val_set: Dataset, cfg: TrainConfig,
          run: TrainingRun) -> Iterator[Log]:
    """Fine-tune `loaded.model` in place, yielding a Log per step and per epoch.

    With early stopping the best epoch's weights are restored at the end."""
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    model = loaded.model
    encoder = getattr(model, model.base_model_prefix)
    for p in encoder.parameters():
        p.requires_grad = not cfg.freeze_encoder
    trained = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trained, lr=cfg.learning_rate, weight_decay=0.01)
    steps_per_epoch, run.total_steps, warmup = training_steps(len(train_set), cfg.batch_size, cfg.epochs,
                                                              cfg.warmup_ratio)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _schedule(cfg.schedule, warmup, run.total_steps))
    best_loss, best_state, bad_epochs, step = math.inf, None, 0, 0
    for epoch in range(cfg.epochs):
        model.train()
        for idx in _batches(train_set, cfg.batch_size, shuffle=True, rng=rng):
            batch = _encode(loaded, [train_set.texts[i] for i in idx], cfg.max_length)
            labels = torch.tensor([train_set.labels[i] for i in idx], device=loaded.device)
            out = model(**batch, labels=labels)
            loss = out.loss
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trained, 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            accuracy = (out.logits.argmax(-1) == labels).float().mean().item()  # logits: (batch, num_labels)
            log = Log(step, step / steps_per_epoch, train_loss=loss.item(), train_accuracy=accuracy)
            run.logs.append(log)
            yield log
        val_loss, val_accuracy = evaluate_loss(loaded, val_set, cfg.max_length)
        log = Log(step, epoch + 1.0, val_loss=val_loss, val_accuracy=val_accuracy)
        run.logs.append(log)
        yield log
        if val_loss < best_loss:
            best_loss, bad_epochs = val_loss, 0
            if cfg.early_stopping_patience:
                best_state = copy.deepcopy(model.state_dict())
        else:
            bad_epochs += 1
            if cfg.early_stopping_patience and bad_epochs >= cfg.early_stopping_patience:
                run.stopped_early = True
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
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
        model = new_classifier(base, train_set.label_names, device)
        cfg = TrainConfig(learning_rate=learning_rate, epochs=epochs, early_stopping_patience=0, seed=seed)
        run = TrainingRun(cfg)
        for _ in train(model, train_set, val_set, cfg, run):
            pass
        final = run.logs[-1]
        yield {"learning rate": learning_rate, "epochs": epochs, "validation loss": round(final.val_loss, 4),
               "validation accuracy": round(final.val_accuracy, 4)}


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
