"""Progress files: what Glassbox writes it reads back; anything else is refused with a reason."""
import json

import pytest

from lib import progress


def valid(**lessons) -> bytes:
    return json.dumps({"format": progress.FORMAT, "version": progress.VERSION, "lessons": lessons}).encode()


def test_round_trip():
    scores = {"cnn": progress.record(3, 5, 42), "attention": progress.record(5, 5, 1)}
    assert progress.loads(progress.dumps(scores).encode()) == scores


@pytest.mark.parametrize("data, reason", [
    (b"\xff\xfe not text", "not a JSON file"),
    (b"{not json", "not a JSON file"),
    (b"[1, 2, 3]", "not a Glassbox progress file"),
    (json.dumps({"format": "other-app", "version": 1, "lessons": {}}).encode(), "not a Glassbox progress file"),
    (json.dumps({"format": progress.FORMAT, "version": 99, "lessons": {}}).encode(), "version 99"),
    (json.dumps({"format": progress.FORMAT, "version": 1, "lessons": []}).encode(), "no lessons table"),
    (valid(**{"<script>alert(1)</script>": progress.record(1, 5, 1)}), "does not have: ·script·alert·1"),
    (valid(cnn={"correct": 1, "total": 5}), "exactly the fields"),
    (valid(cnn={"correct": 1, "total": 5, "seed": 1, "extra": 0}), "exactly the fields"),
    (valid(cnn={"correct": "5", "total": 5, "seed": 1}), "whole numbers"),
    (valid(cnn={"correct": True, "total": 5, "seed": 1}), "whole numbers"),
    (valid(cnn={"correct": -1, "total": 5, "seed": 1}), "whole numbers"),
    (valid(cnn={"correct": 6, "total": 5, "seed": 1}), "impossible"),
    (valid(cnn={"correct": 60, "total": 60, "seed": 1}), "impossible"),
    (valid(home=progress.record(1, 5, 1)), "does not have: home"),
    (b" " * (progress.MAX_BYTES + 1), "a progress file is under"),
])
def test_tampered_files_are_refused_with_a_reason(data, reason):
    with pytest.raises(progress.ProgressError, match=None) as refused:
        progress.loads(data)
    assert reason in str(refused.value)
    assert "<script>" not in str(refused.value)


def test_best_set_is_kept():
    old = progress.record(4, 5, 1)
    assert not progress.better(progress.record(2, 5, 2), old)
    assert progress.better(progress.record(2, 5, 1), old)  # the same set, re-answered
    assert progress.better(progress.record(5, 5, 3), old)
