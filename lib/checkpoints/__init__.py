"""Checkpoint questions whose answers are computed, never typed in.

Each lesson with checkpoints has a module `lib/checkpoints/<lesson key>.py`
with `questions(rng: random.Random) -> list[Question]` (3 to 5 questions) that
draws its numbers from `rng` and computes every answer with the lesson's own
lib functions, so a new seed gives new questions with correct answers.

A question is "concept" (multiple choice whose wrong options are real
misconceptions, each with `feedback` saying why it is wrong), "arithmetic"
(a number or an option worked out from the lesson's formulas) or "predict"
(multiple choice: the student commits to a prediction, then `reveal()` runs the
live model and says what it did). The first submitted answer is the score;
later tries are practice and never raise it.
"""
from __future__ import annotations

import importlib
import importlib.util
import math
import random
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

if TYPE_CHECKING:
    import pandas

SUFFIXES = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}
NUMBER = re.compile(r"^([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)([kmbgt]?)$")
KINDS = ("concept", "arithmetic", "predict")
ORDINALS = ("first", "second", "third", "fourth", "fifth")


@dataclass(frozen=True)
class Reveal:
    """What a predict-then-reveal question shows once the student has committed."""
    answer: str  # the correct option, computed by running the live model or widget
    explanation: str  # markdown, with numbers from this run
    table: pandas.DataFrame | None = None  # optional evidence shown beside the prediction


@dataclass(frozen=True)
class Question:
    prompt: str  # markdown
    answer: int | float | str | None  # a str answer is one of `options`; None only for "predict" (reveal() gives it)
    solution: str  # the worked solution, markdown: shown only after a first attempt
    options: tuple[str, ...] = ()  # multiple choice when given
    tolerance: float = 0.0  # relative, for numeric answers (0: exact)
    kind: str = "arithmetic"  # "concept" | "arithmetic" | "predict"
    feedback: Mapping[str, str] = field(default_factory=dict)  # wrong option -> why that misconception is wrong
    reveal: Callable[[], Reveal] | None = field(default=None, compare=False)  # "predict" only: runs the model

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"question kind must be one of {KINDS}, not {self.kind!r}")
        if self.kind == "predict" and (not self.options or self.reveal is None):
            raise ValueError("a predict question needs options and a reveal()")
        if self.kind != "predict" and (self.answer is None or self.reveal is not None):
            raise ValueError("only a predict question leaves its answer to reveal()")
        if self.options and self.answer is not None and self.answer not in self.options:
            raise ValueError(f"the answer {self.answer!r} is not one of the options")
        stray = set(self.feedback) - set(self.options) | ({self.answer} & set(self.feedback))
        if stray:
            raise ValueError(f"feedback must be for wrong options only, not {sorted(map(str, stray))}")

    def check(self, response: str | None, expected: int | float | str | None = None) -> bool:
        """Whether `response` is right; `expected` is the revealed answer of a predict question."""
        target = self.answer if expected is None else expected
        if self.options:
            return response is not None and response == target
        value = parse_number(response)
        if value is None:
            return False
        if self.tolerance == 0:
            return math.isclose(value, float(target), rel_tol=1e-9, abs_tol=1e-9)
        return math.isclose(value, float(target), rel_tol=self.tolerance)


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


# --- scoring: the first try counts, later tries are practice -------------------------

def first_try(tries: Sequence[bool]) -> bool | None:
    """A question's score: its first submitted answer (None before any)."""
    return tries[0] if tries else None


def solved_on_retry(tries: Sequence[bool]) -> bool:
    """Wrong on the first try, right on a later one: practice, not score."""
    return bool(tries) and not tries[0] and any(tries[1:])


def try_note(tries: Sequence[bool]) -> str:
    """'correct on the second try', 'correct on try 7', 'not yet correct (3 tries)'."""
    if True not in tries:
        return f"not yet correct ({len(tries)} {'try' if len(tries) == 1 else 'tries'})"
    number = tries.index(True)
    return f"correct on the {ORDINALS[number]} try" if number < len(ORDINALS) else f"correct on try {number + 1}"


@dataclass(frozen=True)
class SetScore:
    """One question set's result: first tries scored, retries counted as practice."""
    seed: int
    total: int
    first_try: int  # questions right on their first submitted answer
    answered: int  # questions with at least one answer
    solved_on_retry: int  # questions wrong first, right later (practice)


def set_score(seed: int, total: int, tries_by_question: Mapping[int, Sequence[bool]]) -> SetScore:
    tries = [t for t in tries_by_question.values() if t]
    return SetScore(seed, total, sum(bool(first_try(t)) for t in tries), len(tries),
                    sum(solved_on_retry(t) for t in tries))
