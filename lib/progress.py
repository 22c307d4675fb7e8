"""A student's course progress as a small JSON file: no accounts, nothing on the server.

The file holds, per lesson, the first-try score of the first question set the
student answered (the score a teacher can use) and, separately, practice:
questions solved on a later try, and further question sets with their own
first-try results. `loads` accepts only files of exactly this shape and says
what is wrong with anything else.
"""
from __future__ import annotations

import json
from typing import Sequence

from lib import course
from lib.checkpoints import SetScore

FORMAT = "glassbox-progress"
VERSION = 2  # version 1 kept the best score after retries, which is not a first-try score
MAX_BYTES = 16_000
MAX_QUESTIONS = 5
MAX_SETS = 100_000
FIELDS = {"seed", "total", "first_try", "practice"}
PRACTICE = {"solved_on_retry", "more_sets", "more_sets_first_try", "more_sets_total"}


class ProgressError(ValueError):
    """A progress file that is not one Glassbox wrote."""


def lesson_keys() -> set[str]:
    return {lesson.key for lesson in course.LESSONS if lesson.key != "home"}


def record(first_try: int, total: int, seed: int, solved_on_retry: int = 0, more_sets: int = 0,
           more_sets_first_try: int = 0, more_sets_total: int = 0) -> dict:
    return {"seed": seed, "total": total, "first_try": first_try,
            "practice": {"solved_on_retry": solved_on_retry, "more_sets": more_sets,
                         "more_sets_first_try": more_sets_first_try, "more_sets_total": more_sets_total}}


def lesson_record(base: dict | None, sets: Sequence[SetScore]) -> dict | None:
    """A lesson's entry from what came before this session (`base`, from a progress
    file) and this session's answered sets in the order they were started. The
    first set ever answered is the score; everything after is practice."""
    if base is None and not sets:
        return None
    if base is None:
        scored, later = sets[0], sets[1:]
        base = record(scored.first_try, scored.total, scored.seed, scored.solved_on_retry)
    else:
        later = sets
    practice = base["practice"]
    return record(base["first_try"], base["total"], base["seed"],
                  practice["solved_on_retry"] + sum(s.solved_on_retry for s in later),
                  practice["more_sets"] + len(later),
                  practice["more_sets_first_try"] + sum(s.first_try for s in later),
                  practice["more_sets_total"] + sum(s.total for s in later))


def dumps(progress: dict[str, dict]) -> str:
    return json.dumps({"format": FORMAT, "version": VERSION, "lessons": progress}, indent=1, sort_keys=True)


def _shown(name: object) -> str:
    """A name from the file, safe to show: short, and only letters, digits and _."""
    text = "".join(c if c.isalnum() or c == "_" else "·" for c in str(name))
    return text[:30] + ("…" if len(text) > 30 else "")


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_lesson(key: str, entry: object) -> dict:
    if not isinstance(entry, dict) or set(entry) != FIELDS:
        raise ProgressError(f"Lesson {_shown(key)}: expected exactly the fields seed, total, first_try and practice.")
    practice = entry["practice"]
    if not isinstance(practice, dict) or set(practice) != PRACTICE:
        raise ProgressError(f"Lesson {_shown(key)}: practice must have exactly the fields "
                            + ", ".join(sorted(PRACTICE)) + ".")
    numbers = [entry[name] for name in FIELDS - {"practice"}] + list(practice.values())
    if not all(_is_count(value) for value in numbers):
        raise ProgressError(f"Lesson {_shown(key)}: every count and the seed must be whole numbers ≥ 0.")
    if not entry["first_try"] <= entry["total"] <= MAX_QUESTIONS or entry["seed"] >= 2**31:
        raise ProgressError(f"Lesson {_shown(key)}: the score {entry['first_try']}/{entry['total']} is impossible.")
    retried = entry["total"] - entry["first_try"] + practice["more_sets_total"] - practice["more_sets_first_try"]
    if (not practice["more_sets_first_try"] <= practice["more_sets_total"] <= MAX_QUESTIONS * practice["more_sets"]
            or practice["more_sets"] > MAX_SETS or practice["solved_on_retry"] > retried):
        raise ProgressError(f"Lesson {_shown(key)}: the practice counts are impossible.")
    return record(entry["first_try"], entry["total"], entry["seed"], **practice)


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
    if content.get("version") == 1:
        raise ProgressError("This progress file is version 1, written before only first tries counted: its scores "
                            "include retries, so they cannot be carried over as first-try scores.")
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


def summary(entry: dict) -> tuple[str, str | None]:
    """('3/5 first try', 'practice: 2 solved on a retry · 1 more set, 4/5 first try') for the home page."""
    practice = entry["practice"]
    parts = []
    if practice["solved_on_retry"]:
        parts.append(f"{practice['solved_on_retry']} solved on a retry")
    if practice["more_sets"]:
        sets = "1 more set" if practice["more_sets"] == 1 else f"{practice['more_sets']} more sets"
        parts.append(f"{sets}, {practice['more_sets_first_try']}/{practice['more_sets_total']} first try")
    return f"{entry['first_try']}/{entry['total']} first try", ("practice: " + " · ".join(parts)) if parts else None
