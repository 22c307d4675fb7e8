"""The table of first-screen times in benchmarks/README.md, from the file the browser test
tests/browser/test_browser_first_screens.py writes (benchmarks/first_screens.json): seconds from
clicking a lesson in the sidebar to its first figure on screen.

    .venv/bin/python -m pytest tests/browser/test_browser_first_screens.py   # measures
    .venv/bin/python benchmarks/first_screens.py                             # prints the table
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib import course  # noqa: E402

RECORD = course.ROOT / "benchmarks" / "first_screens.json"
WINDOWS = {"classroom-1280x720": "first visit: 1280×720, classroom mode", "1400x1000": "again: 1400×1000 (warm)"}


def table(record: dict) -> str:
    rows = ["| lesson | " + " | ".join(WINDOWS.values()) + " |", "|---" * (len(WINDOWS) + 1) + "|"]
    for lesson in course.available_lessons():
        times = record["seconds"].get(lesson.key, {})
        rows.append(f"| {lesson.title} | " + " | ".join(f"{times[w]:.2f} s" if w in times else "no figure"
                                                        for w in WINDOWS) + " |")
    return "\n".join(rows)


if __name__ == "__main__":
    record = json.loads(RECORD.read_text())
    print(f"Measured {record['measured']} on {record['machine']}, load average {record['load_average']:.1f}:\n")
    print(table(record))
