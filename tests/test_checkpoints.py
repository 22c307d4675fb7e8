"""The checkpoint machinery: answers parse like a student types them; every lesson's set is well formed."""
import pytest

from lib import checkpoints, course
from lib.checkpoints import Question

LESSONS = [l.key for l in course.available_lessons() if checkpoints.has_checkpoints(l.key)]


@pytest.mark.parametrize("typed, value", [("1,234", 1234), (" 1 234 ", 1234), ("1.5e6", 1.5e6), ("110M", 110e6),
                                          ("175B", 175e9), ("2k", 2000), ("-3", -3), (".5", 0.5)])
def test_numbers_as_students_type_them(typed, value):
    assert checkpoints.parse_number(typed) == pytest.approx(value)


@pytest.mark.parametrize("typed", ["", None, "abc", "1.2.3", "12 apples", "1e", "M"])
def test_not_numbers(typed):
    assert checkpoints.parse_number(typed) is None


def test_checking_answers():
    exact = Question("?", 1234, "")
    assert exact.check("1,234") and not exact.check("1235") and not exact.check("lots")
    close = Question("?", 0.2318, "", tolerance=0.01)
    assert close.check("0.23") and not close.check("0.2")
    choice = Question("?", "cat", "", options=("cat", "dog"))
    assert choice.check("cat") and not choice.check("dog") and not choice.check(None)


@pytest.mark.parametrize("lesson_key", LESSONS)
def test_every_lesson_set_is_well_formed_and_seeded(lesson_key):
    first = checkpoints.questions(lesson_key, 1)
    assert first == checkpoints.questions(lesson_key, 1)
    assert any(checkpoints.questions(lesson_key, seed) != first for seed in range(2, 12))
    for question in first:
        assert question.prompt and question.solution
        if question.options:
            assert question.answer in question.options
        else:
            assert checkpoints.parse_number(f"{question.answer}") is not None
            assert question.check(f"{question.answer}")
