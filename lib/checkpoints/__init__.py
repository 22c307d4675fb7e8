"""Checkpoint questions whose answers are computed, never typed in.

Each lesson with checkpoints has a module `lib/checkpoints/<lesson key>.py`
with `questions(rng: random.Random) -> list[Question]` (3 to 5 questions) that
draws its numbers from `rng` and computes every answer with the lesson's own
lib functions, so a new seed gives new questions with correct answers.
"""
from __future__ import annotations

import importlib
import importlib.util
import math
import random
import re
from dataclasses import dataclass

SUFFIXES = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}
NUMBER = re.compile(r"^([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)([kmbgt]?)$")


@dataclass(frozen=True)
class Question:
    prompt: str  # markdown
    answer: int | float | str  # a str answer is one of `options`
    solution: str  # the worked solution, markdown
    options: tuple[str, ...] = ()  # multiple choice when given
    tolerance: float = 0.0  # relative, for numeric answers (0: exact)

    def check(self, response: str | None) -> bool:
        if self.options:
            return response == self.answer
        value = parse_number(response)
        if value is None:
            return False
        if self.tolerance == 0:
            return math.isclose(value, float(self.answer), rel_tol=1e-9, abs_tol=1e-9)
        return math.isclose(value, float(self.answer), rel_tol=self.tolerance)


def parse_number(text: str | None) -> float | None:
    """'1,234', '1 234', '1.5e6', '110M' and '175B' as numbers; None otherwise."""
    cleaned = (text or "").strip().lower().replace(",", "").replace("_", "").replace(" ", "")
    match = NUMBER.match(cleaned)
    if not match:
        return None
    return float(match.group(1)) * SUFFIXES.get(match.group(2), 1.0)


def has_checkpoints(lesson_key: str) -> bool:
    return importlib.util.find_spec(f"{__name__}.{lesson_key}") is not None


def questions(lesson_key: str, seed: int) -> list[Question]:
    """The lesson's questions for `seed`: the same seed always gives the same questions."""
    module = importlib.import_module(f"{__name__}.{lesson_key}")
    drawn = module.questions(random.Random(seed))
    if not 3 <= len(drawn) <= 5:
        raise ValueError(f"{lesson_key} checkpoints must have 3-5 questions, not {len(drawn)}")
    return drawn
