"""Building blocks the lessons' question sets share: a concept question from a
right statement and its misconceptions, and a predict question's reveal that
compares equal and pickles (the page caches question sets with st.cache_data)."""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from lib.checkpoints import Question, Reveal


@dataclass(frozen=True)
class Run:
    """`reveal` for a predict question: calls a module-level function with its
    arguments. Two Runs with the same function and arguments are equal."""
    function: Callable[..., Reveal]
    args: tuple = ()

    def __call__(self) -> Reveal:
        return self.function(*self.args)


def concept(rng: random.Random, prompt: str, right: str, wrong: dict[str, str], solution: str) -> Question:
    """A multiple-choice concept question: `right` among the misconceptions in
    `wrong` (option -> why it is wrong), in an order drawn from rng."""
    options = [right, *wrong]
    rng.shuffle(options)
    return Question(prompt, right, solution, options=tuple(options), kind="concept", feedback=dict(wrong))


def predict(prompt: str, options: tuple[str, ...], solution: str, function: Callable[..., Reveal],
            *args) -> Question:
    """A predict-then-reveal question: the student commits to one of `options`,
    then `function(*args)` runs the lesson's model and returns the Reveal."""
    return Question(prompt, None, solution, options=options, kind="predict", reveal=Run(function, args))
