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


def markdown_table(rows: list[dict]) -> str:
    """Rows as a Markdown table: the home page's small tables without loading
    pandas, which would add most of a second to the first page a class opens."""
    columns = list(rows[0])
    lines = [columns, ["---"] * len(columns)] + [[str(row[c]).replace("|", "\\|") for c in columns] for row in rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def models_rows(bundled: list[dict]) -> list[dict]:
    """The bundled-model table as the home page shows it."""
    return [{**m, "installed": "✅ available" if m["installed"] else "❌ missing",
             "parameters": f"{m['parameters']:,}" if m["parameters"] else "—", "size (MB)": f"{m['size (MB)']:g}"}
            for m in bundled]
