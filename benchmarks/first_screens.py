"""Seconds from clicking a lesson in the sidebar to its first figure on screen.

    .venv/bin/python -m pytest tests/browser/test_browser_first_screens.py   # measures (two windows)
    .venv/bin/python benchmarks/first_screens.py                             # prints that table
    .venv/bin/python benchmarks/first_screens.py --passes 3                  # measures warm, 1400×1000

The browser test writes benchmarks/first_screens.json: its first pass (1280×720, classroom mode)
meets every lesson cold, and its second (1400×1000) is the first visit of what classroom mode
hides. `--passes N` starts its own server and tours every lesson N times at 1400×1000: from the
second pass on the server's caches are warm for everything each page shows.
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib import course  # noqa: E402

RECORD = course.ROOT / "benchmarks" / "first_screens.json"
WINDOWS = {"classroom-1280x720": "first visit: 1280×720, classroom mode", "1400x1000": "then 1400×1000"}


def table(columns: dict[str, str], seconds: dict[str, dict[str, float | None]]) -> str:
    rows = ["| lesson | " + " | ".join(columns.values()) + " |", "|---" * (len(columns) + 1) + "|"]
    for lesson in course.available_lessons():
        times = seconds.get(lesson.key, {})
        rows.append(f"| {lesson.title} | " + " | ".join(f"{times[c]:.2f} s" if times.get(c) is not None else "no figure"
                                                        for c in columns) + " |")
    return "\n".join(rows)


def measure(passes: int) -> dict[str, dict[str, float | None]]:
    from scripts import screens

    found: dict[str, dict[str, float | None]] = {}
    with screens.serve() as url, screens.chromium() as browser:
        tab = screens.open_app(browser, url, 1400, 1000)
        for number in range(1, passes + 1):
            for lesson in screens.tour_order(course.available_lessons()):
                try:
                    seconds, _ = screens.go_to(tab, lesson)
                except screens.FigureMissing:
                    seconds = None
                screens.settle(tab)
                found.setdefault(lesson.key, {})[f"pass {number}"] = seconds
    return found


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=0, help="measure: tour every lesson this many times")
    args = parser.parse_args()
    if args.passes:
        import os

        seconds = measure(args.passes)
        print(f"Load average after: {os.getloadavg()[0]:.1f}\n")
        print(table({f"pass {n}": f"pass {n}" for n in range(1, args.passes + 1)}, seconds))
    else:
        record = json.loads(RECORD.read_text())
        print(f"Measured {record['measured']} on {record['machine']}, load average {record['load_average']:.1f}:\n")
        print(table(WINDOWS, record["seconds"]))
