"""A student's course progress as a small JSON file: no accounts, nothing on the server.

The file holds, per lesson, the checkpoint score of the student's best
question set. `loads` accepts only files of exactly this shape and says what
is wrong with anything else.
"""
from __future__ import annotations

import json

from lib import course

FORMAT = "glassbox-progress"
VERSION = 1
MAX_BYTES = 16_000
MAX_QUESTIONS = 5
FIELDS = {"correct", "total", "seed"}


class ProgressError(ValueError):
    """A progress file that is not one Glassbox wrote."""


def lesson_keys() -> set[str]:
    return {lesson.key for lesson in course.LESSONS if lesson.key != "home"}


def record(correct: int, total: int, seed: int) -> dict[str, int]:
    return {"correct": correct, "total": total, "seed": seed}


def better(new: dict, old: dict | None) -> bool:
    """Keep the best set: a higher score wins, and the same set always updates."""
    return old is None or new["seed"] == old["seed"] or new["correct"] >= old["correct"]


def dumps(progress: dict[str, dict]) -> str:
    return json.dumps({"format": FORMAT, "version": VERSION, "lessons": progress}, indent=1, sort_keys=True)


def _shown(name: object) -> str:
    """A name from the file, safe to show: short, and only letters, digits and _."""
    text = "".join(c if c.isalnum() or c == "_" else "·" for c in str(name))
    return text[:30] + ("…" if len(text) > 30 else "")


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_lesson(key: str, entry: object) -> dict[str, int]:
    if not isinstance(entry, dict) or set(entry) != FIELDS:
        raise ProgressError(f"Lesson {_shown(key)}: expected exactly the fields correct, total and seed.")
    if not all(_is_count(entry[name]) for name in FIELDS):
        raise ProgressError(f"Lesson {_shown(key)}: correct, total and seed must be whole numbers ≥ 0.")
    if not entry["correct"] <= entry["total"] <= MAX_QUESTIONS or entry["seed"] >= 2**31:
        raise ProgressError(f"Lesson {_shown(key)}: the score {entry['correct']}/{entry['total']} is impossible.")
    return record(entry["correct"], entry["total"], entry["seed"])


def loads(data: bytes) -> dict[str, dict]:
    """The progress in `data`, or ProgressError saying why the file is refused."""
    if len(data) > MAX_BYTES:
        raise ProgressError(f"This file is {len(data):,} bytes; a progress file is under {MAX_BYTES:,}.")
    try:
        content = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ProgressError("This is not a JSON file.") from None
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise ProgressError("This JSON file is not a Glassbox progress file.")
    if content.get("version") != VERSION:
        raise ProgressError(f"This progress file has version {_shown(content.get('version'))}; "
                            f"this Glassbox reads version {VERSION}.")
    lessons = content.get("lessons")
    if not isinstance(lessons, dict):
        raise ProgressError("The progress file has no lessons table.")
    unknown = [key for key in lessons if key not in lesson_keys()]
    if unknown:
        raise ProgressError(f"The progress file names a lesson this course does not have: {_shown(unknown[0])}.")
    return {key: _check_lesson(key, entry) for key, entry in lessons.items()}
