"""Progress files: what Glassbox writes it reads back; anything else is refused with a reason.
The first question set's first tries are the score; retries and later sets are practice."""
import json

import pytest

from lib import progress
from lib.checkpoints import SetScore


def valid(**lessons) -> bytes:
    return json.dumps({"format": progress.FORMAT, "version": progress.VERSION, "lessons": lessons}).encode()


def with_practice(**practice) -> dict:
    entry = progress.record(1, 5, 1)
    entry["practice"].update(practice)
    return entry


def test_round_trip():
    scores = {"cnn": progress.record(3, 5, 42, solved_on_retry=2, more_sets=1, more_sets_first_try=4,
                                     more_sets_total=5),
              "attention": progress.record(5, 5, 1)}
    assert progress.loads(progress.dumps(scores).encode()) == scores
    assert json.loads(progress.dumps(scores))["lessons"]["cnn"]["first_try"] == 3


@pytest.mark.parametrize("data, reason", [
    (b"\xff\xfe not text", "not a JSON file"),
    (b"{not json", "not a JSON file"),
    (b"[1, 2, 3]", "not a Glassbox progress file"),
    (json.dumps({"format": "other-app", "version": 2, "lessons": {}}).encode(), "not a Glassbox progress file"),
    (json.dumps({"format": progress.FORMAT, "version": 99, "lessons": {}}).encode(), "version 99"),
    (json.dumps({"format": progress.FORMAT, "version": 1, "lessons": {}}).encode(), "written before only first tries"),
    (json.dumps({"format": progress.FORMAT, "version": 2, "lessons": []}).encode(), "no lessons table"),
    (valid(**{"<script>alert(1)</script>": progress.record(1, 5, 1)}), "does not have: ·script·alert·1"),
    (valid(cnn={"correct": 1, "total": 5, "seed": 1}), "exactly the fields"),
    (valid(cnn={**progress.record(1, 5, 1), "extra": 0}), "exactly the fields"),
    (valid(cnn={**progress.record(1, 5, 1), "practice": []}), "practice must have exactly"),
    (valid(cnn={**progress.record(1, 5, 1), "practice": {"solved_on_retry": 0}}), "practice must have exactly"),
    (valid(cnn={**progress.record(1, 5, 1), "first_try": "5"}), "whole numbers"),
    (valid(cnn={**progress.record(1, 5, 1), "first_try": True}), "whole numbers"),
    (valid(cnn=with_practice(more_sets=-1)), "whole numbers"),
    (valid(cnn=progress.record(6, 5, 1)), "impossible"),
    (valid(cnn=progress.record(60, 60, 1)), "impossible"),
    (valid(cnn=with_practice(solved_on_retry=5)), "practice counts are impossible"),  # only 4 were wrong
    (valid(cnn=with_practice(more_sets=1, more_sets_first_try=4, more_sets_total=3)), "practice counts"),
    (valid(cnn=with_practice(more_sets=1, more_sets_first_try=0, more_sets_total=6)), "practice counts"),
    (valid(home=progress.record(1, 5, 1)), "does not have: home"),
    (b" " * (progress.MAX_BYTES + 1), "a progress file is under"),
])
def test_tampered_files_are_refused_with_a_reason(data, reason):
    with pytest.raises(progress.ProgressError) as refused:
        progress.loads(data)
    assert reason in str(refused.value)
    assert "<script>" not in str(refused.value)


def test_the_first_set_answered_is_the_score_and_later_sets_are_practice():
    first, second = SetScore(9, 5, 2, 5, 3), SetScore(4, 5, 5, 5, 0)
    assert progress.lesson_record(None, []) is None
    assert progress.lesson_record(None, [first]) == progress.record(2, 5, 9, solved_on_retry=3)
    assert progress.lesson_record(None, [first, second]) == progress.record(
        2, 5, 9, solved_on_retry=3, more_sets=1, more_sets_first_try=5, more_sets_total=5)


def test_sets_after_a_loaded_file_are_practice():
    earlier = progress.record(1, 4, 3, solved_on_retry=2)
    assert progress.lesson_record(earlier, []) == earlier
    assert progress.lesson_record(earlier, [SetScore(3, 4, 4, 4, 0)]) == progress.record(
        1, 4, 3, solved_on_retry=2, more_sets=1, more_sets_first_try=4, more_sets_total=4)


def test_summary_for_the_home_page():
    assert progress.summary(progress.record(3, 5, 1)) == ("3/5 first try", None)
    assert progress.summary(progress.record(3, 5, 1, 2, 2, 9, 10)) == (
        "3/5 first try", "practice: 2 solved on a retry · 2 more sets, 9/10 first try")
