"""The HuggingFace Hub: whether it answers, which model ids are valid, and
fetching a model's config or its files. Nothing here downloads weights unless
asked to (`hub_snapshot`); `fetch_hub_config` fetches config.json alone.
"""
from __future__ import annotations

import json
import os
import re
import time
import urllib.request
from pathlib import Path

from lib.markup import code_span
from lib.model_registry import ModelUnavailable

HUB_URL = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
HUB_ID_PATTERN = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
HUB_CHECK_TTL_S = 300
_hub_state = {"checked": 0.0, "reachable": False}


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
