"""The system panel's facts: library versions, device, Hub, bundled models."""
import platform
from importlib.metadata import PackageNotFoundError, version

from lib import device_policy, hub, model_registry


def library_versions(names: list[str]) -> dict[str, str]:
    """Python's version and each named distribution's, or "not installed"."""
    found = {"python": platform.python_version()}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def system_report(libraries: list[str]) -> dict:
    return {"versions": library_versions(libraries), "device": device_policy.device_report(),
            "hub_reachable": hub.hub_reachable(), "bundled_models": model_registry.installed_report()}


def markdown_table(rows: list[dict]) -> str:
    """Rows as a Markdown table: the home page's small tables without loading
    pandas, which would add most of a second to the first page a class opens."""
    columns = list(rows[0])
    lines = [columns, ["---"] * len(columns)] + [[str(row[c]).replace("|", "\\|") for c in columns] for row in rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def models_rows(bundled: list[dict]) -> list[dict]:
    """The bundled-model table as the home page shows it."""
    return [{**m, "installed": "✅ available" if m["installed"] else "❌ missing",
             "parameters": f"{m['parameters']:,}" if m["parameters"] else "—",
             "size (MiB)": f"{m['size (MiB)']:.1f}" if m["size (MiB)"] else "—"}
            for m in bundled]
