"""lib/home: the system panel's facts and its Markdown tables."""
import platform

import torch

from lib import home


def test_markdown_table_escapes_pipes_and_keeps_column_order():
    table = home.markdown_table([{"b": "x|y", "a": 1}, {"b": "z", "a": 2}])
    assert table.splitlines() == ["| b | a |", "| --- | --- |", "| x\\|y | 1 |", "| z | 2 |"]


def test_library_versions_name_python_and_every_library():
    versions = home.library_versions(["torch", "no-such-distribution"])
    assert versions["python"] == platform.python_version()
    assert versions["torch"] == torch.__version__
    assert versions["no-such-distribution"] == "not installed"
    assert all(v == "not installed" or v[0].isdigit() for v in versions.values())


def test_models_rows_say_installed_or_missing_and_format_numbers():
    rows = home.models_rows([
        {"model": "a", "installed": True, "parameters": 1234567, "size (MiB)": 87.0},
        {"model": "b", "installed": False, "parameters": None, "size (MiB)": 1.5},
    ])
    assert [r["installed"] for r in rows] == ["✅ available", "❌ missing"]
    assert [r["parameters"] for r in rows] == ["1,234,567", "—"]
    assert [r["size (MiB)"] for r in rows] == ["87.0", "1.5"]


def test_system_report_has_every_part_the_page_shows():
    report = home.system_report([])
    assert set(report) == {"versions", "device", "hub_reachable", "bundled_models"}
    assert report["hub_reachable"] is False  # tests run offline
    assert {"device", "cuda", "mps", "cpu_threads"} <= set(report["device"])
