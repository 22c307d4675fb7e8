"""Loading models: the one place in Glassbox that calls `from_pretrained`, and
the one copy of each model that every student in a process shares.

A Hub model that cannot be fetched, needs remote code, or is too large for free
memory is refused with a clear message and the offline default is loaded
instead. An offline default whose package is missing (Community Cloud installs
requirements.txt only) is downloaded from its Hub repository.
"""
from __future__ import annotations

import importlib.util
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from lib import device_policy, hub, model_registry, parameters, smollm2_conversion
from lib.model_registry import ModelSpec, ModelUnavailable


@dataclass
class Loaded:
    """A model and its tokenizer, as shared by every student.

    Never mutate `model`. Hold `lock` around tokenize-and-forward: fast
    tokenizers raise "Already borrowed" when two threads use them at once."""
    spec: ModelSpec
    model: object
    tokenizer: object
    device: str
    notice: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


_PREPROCESSORS = {"speaker": "AutoFeatureExtractor"}  # every other role reads text: AutoTokenizer


def resolve(choice: str, role: str) -> ModelSpec:
    """A registry key, or any Hub id typed by the student (as an ad-hoc spec)."""
    if choice in model_registry.REGISTRY:
        return model_registry.REGISTRY[choice]
    hub_id = hub.validate_hub_id(choice)
    known = next((s for s in model_registry.specs() if s.location == hub_id), None)
    return known or ModelSpec(hub_id, hub_id, role, "hub", hub_id, "see the model card")


def load(choice: str, role: str = "encoder", device: str | None = None, attentions: bool = False,
         model_kwargs: dict | None = None, fallback: str | None = None) -> Loaded:
    """Load a model and tokenizer by registry key or Hub id.

    A Hub model that cannot be used falls back to `fallback` (by default the
    role's offline default), with the reason in `Loaded.notice`.
    `attentions=True` selects the eager attention implementation, which can
    return attention weights. `model_kwargs` go to `from_pretrained` (e.g.
    `num_labels` for a new classification head). Each call loads a fresh copy:
    `shared` keeps the one copy a process shares."""
    device = device or device_policy.best_device()
    spec = resolve(choice, role)
    model_kwargs = model_kwargs or {}
    if spec.offline:
        return _load_spec(spec, role, device, attentions, model_kwargs)
    try:
        check_quantization(spec, device)
        check_hub_model(spec.location, device, 0.5 if spec.quantize else _dtype_bytes(device))
        return _load_spec(spec, role, device, attentions, model_kwargs)
    except ModelUnavailable as err:
        fallback = fallback or model_registry.OFFLINE_DEFAULT.get(role)
        if fallback is None:
            raise
        fallback_spec = model_registry.REGISTRY[fallback]
        loaded = _load_spec(fallback_spec, role, device, attentions, model_kwargs)
        loaded.notice = f"{err} Showing the offline model {fallback_spec.title} instead. {loaded.notice}".strip()
        return loaded


# --- refusing a Hub model before anything is downloaded ----------------------------

def _dtype_bytes(device: str) -> int:
    return 4 if device == "cpu" else 2


def check_quantization(spec: ModelSpec, device: str) -> None:
    """A 4-bit model needs a CUDA GPU and bitsandbytes: refuse before anything is downloaded."""
    if not spec.quantize:
        return
    if not str(device).startswith("cuda"):
        raise ModelUnavailable(f"'{spec.title}' runs in 4-bit through bitsandbytes, which needs a CUDA GPU; "
                               f"this server computes on {device}.")
    if importlib.util.find_spec("bitsandbytes") is None:
        raise ModelUnavailable(f"'{spec.title}' needs the bitsandbytes package for 4-bit weights: "
                               "`pip install bitsandbytes`.")


def check_hub_model(hub_id: str, device: str = "cpu", dtype_bytes: int = 4) -> dict:
    """Refuse a Hub model before any weights are downloaded when it needs remote
    code or would not fit in free memory (counted from its config)."""
    config = hub.fetch_hub_config(hub_id)
    device_policy.ensure_fits(parameters.count_parameters(config).total, device, dtype_bytes, hub_id)
    return config


# --- from_pretrained ----------------------------------------------------------------

def _quantization_kwargs(spec: ModelSpec, device: str) -> dict:
    """from_pretrained arguments that load the weights as NF4 straight onto the GPU."""
    if not spec.quantize:
        return {}
    import torch
    import transformers

    config = transformers.BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                             bnb_4bit_compute_dtype=torch.float16)
    return {"quantization_config": config, "device_map": device}


def _load_spec(spec: ModelSpec, role: str, device: str, attentions: bool, model_kwargs: dict,
               source: Path | None = None) -> Loaded:
    """`Loaded.tokenizer` is the role's preprocessor: a tokenizer, or for audio
    roles a feature extractor."""
    import transformers

    source, notice = (source, "") if source is not None else (_bundled_source(spec.key) if spec.bundled else
                      (model_registry.trained_path(spec.key), "") if spec.trained else (spec.location, ""))
    auto_model = getattr(transformers, model_registry.AUTO_CLASSES.get(role, "AutoModel"))
    preprocessor = getattr(transformers, _PREPROCESSORS.get(role, "AutoTokenizer"))
    kwargs = {"dtype": device_policy.default_dtype(device), **_quantization_kwargs(spec, device), **model_kwargs,
              "trust_remote_code": False}
    if attentions:
        kwargs["attn_implementation"] = "eager"
    try:
        tokenizer = preprocessor.from_pretrained(source, trust_remote_code=False)
        model = auto_model.from_pretrained(source, **kwargs)
    except Exception as err:  # noqa: BLE001 - network, format and class errors alike
        raise ModelUnavailable(f"Could not load '{spec.title}': {type(err).__name__}: "
                               f"{str(err)[:200]}") from err
    if not spec.quantize:  # a quantized model is placed by device_map and cannot be moved
        model.to(device)
    model.eval()
    return Loaded(spec=spec, model=model, tokenizer=tokenizer, device=device, notice=notice)


def load_folder(folder: Path, role: str = "classifier", device: str = "cpu") -> Loaded:
    """A model saved with save_pretrained (a run's own folder), reloaded with from_pretrained, with eager
    attention like the models fine-tuned here (another attention kernel rounds differently)."""
    spec = ModelSpec(str(folder), Path(folder).name, role, "trained", str(folder), "see its model card")
    return _load_spec(spec, role, device, attentions=True, model_kwargs={}, source=Path(folder))  # eager, as trained


# --- a bundled model's folder: its package, or its Hub repository ----------------------

def model_dir(key: str) -> Path:
    """A bundled model as a transformers folder, from its package or else the Hub."""
    return _bundled_source(key)[0]


def _bundled_source(key: str) -> tuple[Path, str]:
    """A bundled model's folder and the notice for the student: the package's
    files (SmolLM2 converted from its GGUF once), or, when the package is not
    installed, the same model from its Hub repository."""
    spec = model_registry.REGISTRY[key]
    if model_registry.is_installed(key):
        return (smollm2_conversion.smollm2_dir() if key == "smollm2-135m" else model_registry.bundled_path(key)), ""
    if not spec.hub_id:
        raise model_registry.not_installed(spec)
    if not hub.hub_reachable():
        raise model_registry.not_installed(
            spec, f", and the HuggingFace Hub is not reachable to download it from {spec.hub_id}")
    notice = (f"The offline package `{model_registry.distribution(spec)}` is not installed here, so {spec.title} "
              f"was downloaded from the HuggingFace Hub ({spec.hub_id}).")
    return hub.hub_snapshot(spec.hub_id), notice


# --- the copies every student shares ---------------------------------------------------

SHARED_MODELS = 3  # copies kept at once: Community Cloud's 2.7 GB holds a few small models, not more
_shared: "OrderedDict[tuple[str, str, str], Loaded]" = OrderedDict()
_shared_locks: dict[tuple[str, str, str], threading.Lock] = {}
_shared_guard = threading.Lock()


def shared(choice: str, role: str = "encoder", device: str | None = None) -> Loaded:
    """The one copy of a model that every student, page and checkpoint uses in
    this process. It is loaded with eager attention, so the same copy serves
    lessons that read attention weights and those that do not; beyond
    SHARED_MODELS the least recently used copy is dropped. Never mutate it."""
    key = (choice, role, device or device_policy.best_device())
    with _shared_guard:
        if key in _shared:
            _shared.move_to_end(key)
            return _shared[key]
        key_lock = _shared_locks.setdefault(key, threading.Lock())
    with key_lock:  # two students asking at once get one load, not two
        with _shared_guard:
            if key in _shared:
                return _shared[key]
        loaded = load(choice, role=role, device=key[2], attentions=True)
        with _shared_guard:
            _shared[key] = loaded
            while len(_shared) > SHARED_MODELS:
                _shared.popitem(last=False)
        return loaded
