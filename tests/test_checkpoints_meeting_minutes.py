"""Meeting-minutes checkpoint: 50 seeds, every answer recomputed here from the
numbers the question shows (a word-level edit distance written here, float64
arithmetic) and, for the predict question, the sample meeting's turn file read
here, not with lib/meeting_minutes."""
import json
import re
from fractions import Fraction

import numpy as np
import pytest
from checkpoint_kinds import assert_well_taught, predict_on_page, the_predict_question

from lib import checkpoints
from lib.meeting_minutes import MEETING_DIR

SEEDS = range(50)
def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Levenshtein distance over words, by the full dynamic-programming table."""
    table = np.zeros((len(reference) + 1, len(hypothesis) + 1), dtype=np.int64)
    table[:, 0], table[0, :] = np.arange(len(reference) + 1), np.arange(len(hypothesis) + 1)
    for i, r in enumerate(reference, start=1):
        for j, h in enumerate(hypothesis, start=1):
            table[i, j] = min(table[i - 1, j] + 1, table[i, j - 1] + 1, table[i - 1, j - 1] + (r != h))
    return int(table[-1, -1])


def duration(prompt: str) -> Fraction:
    minutes, seconds = re.search(r"(\d+) min ([\d.]+) s", prompt).groups()
    return int(minutes) * 60 + Fraction(seconds)


@pytest.fixture(scope="module")
def sets():
    return [checkpoints.questions("meeting_minutes", seed) for seed in SEEDS]


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_match_independent_arithmetic(seed, sets):
    assert_well_taught(sets[seed])
    wer_q, rtf_q, above_q, _ = sets[seed]

    reference = re.search(r"Reference: \*([a-z0-9' ]+)\*", wer_q.prompt).group(1).split()
    hypothesis = re.search(r"Whisper heard: \*([a-z0-9' ]+)\*", wer_q.prompt).group(1).split()
    assert wer_q.answer == pytest.approx(edit_distance(reference, hypothesis) / len(reference))
    assert 0 < wer_q.answer and wer_q.check(f"{wer_q.answer:.3f}")

    computing = int(re.search(r"took ([\d,]+) s", rtf_q.prompt).group(1).replace(",", ""))
    rtf = np.float64(computing) / np.float64(duration(rtf_q.prompt))
    faster = "faster" if rtf < 1 else "slower"
    assert rtf_q.answer == f"Whisper runs {faster} than the audio plays: an hour of meeting takes about {60 * rtf:.0f} minutes"

    reference = re.search(r"Reference: \*([a-z0-9' ]+)\*", above_q.prompt).group(1).split()
    inserted = re.search(r"more \(\*([a-z ]+)\*\)", above_q.prompt).group(1).split()
    wer = edit_distance(reference, reference + inserted) / len(reference)
    assert wer > 1 and above_q.answer.startswith(f"{wer:.2f}: above 1")


def sample_talk_time(question) -> dict[str, float]:
    """Seconds per speaker of the excerpt's turns, from the sample meeting's turn file."""
    turns = json.loads((MEETING_DIR / "sample_turns.json").read_text())
    lines = re.search(r"```\n(.+?)\n```", question.prompt, re.S).group(1).splitlines()
    start = next(i for i, t in enumerate(turns) if f"{t['speaker']}: {t['text']}" == lines[0])
    excerpt = turns[start:start + len(lines)]
    assert [f"{t['speaker']}: {t['text']}" for t in excerpt] == lines
    totals: dict[str, float] = {}
    for turn in excerpt:
        totals[turn["speaker"]] = totals.get(turn["speaker"], 0.0) + turn["end"] - turn["start"]
    return totals


@pytest.mark.parametrize("seed", range(10))
def test_the_predict_question_counts_talk_time(seed, sets):
    question = the_predict_question(sets[seed])
    talk = sample_talk_time(question)
    assert set(question.options) == set(talk)
    assert question.reveal().answer == max(talk, key=talk.get)


def test_the_page_runs_the_predict_question(open_page):
    questions = checkpoints.questions("meeting_minutes", 1)
    at = open_page("meeting_minutes")
    _, revealed = predict_on_page(at, "meeting_minutes", questions)
    talk = sample_talk_time(the_predict_question(questions))
    assert revealed == max(talk, key=talk.get)


def test_new_seeds_give_new_answers(sets):
    for position in range(3):
        assert len({str(questions[position].answer) for questions in sets}) > 3
