"""The system panel's facts: library versions, device, Hub, bundled models."""
import platform
from importlib.metadata import PackageNotFoundError, version

from lib import models

LIBRARIES = ["torch", "transformers", "tokenizers", "streamlit", "accelerate", "plotly", "bertviz",
             "faster-whisper"]


def library_versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def system_report() -> dict:
    return {"versions": library_versions(), "device": models.device_report(),
            "hub_reachable": models.hub_reachable(), "bundled_models": models.installed_report()}
