"""Building blocks the lessons' question sets share: a concept question from its
right statement and the misconceptions around it, and a predict question whose
reveal runs a module-level function of the lesson's checkpoint."""
from __future__ import annotations

import functools
import random
from collections.abc import Callable

from lib.checkpoints import Question, Reveal


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
    return Question(prompt, None, solution, options=options, kind="predict",
                    reveal=functools.partial(function, *args))
