"""Meeting-minutes checkpoint: 50 seeds, every answer recomputed here from the
numbers the question shows (a word-level edit distance written here, float64
and integer arithmetic, a regex SRT reader), not with lib/meeting_minutes."""
import re
from fractions import Fraction

import numpy as np
import pytest

from lib import checkpoints

SEEDS = range(50)
WHISPER_WINDOW_S = 30  # Radford et al. (2022): Whisper's encoder takes 30-second log-mel windows
WHISPER_RATE = 16_000  # Hz, the rate Whisper's features are computed at
SRT_CUE = re.compile(r"(\d+):(\d+):(\d+),(\d+) --> (\d+):(\d+):(\d+),(\d+)\n(\w+): ")


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


def srt_talk_time(prompt: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for *times, speaker in SRT_CUE.findall(prompt):
        h1, m1, s1, ms1, h2, m2, s2, ms2 = map(int, times)
        seconds = ((h2 * 3600 + m2 * 60 + s2) * 1000 + ms2 - (h1 * 3600 + m1 * 60 + s1) * 1000 - ms1) / 1000
        totals[speaker] = totals.get(speaker, 0.0) + seconds
    return totals


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_match_independent_arithmetic(seed):
    wer_q, rtf_q, windows_q, samples_q, speaker_q = checkpoints.questions("meeting_minutes", seed)

    reference = re.search(r"Reference: \*([a-z0-9' ]+)\*", wer_q.prompt).group(1).split()
    hypothesis = re.search(r"Whisper heard: \*([a-z0-9' ]+)\*", wer_q.prompt).group(1).split()
    assert wer_q.answer == pytest.approx(edit_distance(reference, hypothesis) / len(reference))
    assert 0 < wer_q.answer and wer_q.check(f"{wer_q.answer:.3f}")

    computing = int(re.search(r"took ([\d,]+) s", rtf_q.prompt).group(1).replace(",", ""))
    assert rtf_q.answer == pytest.approx(np.float64(computing) / np.float64(duration(rtf_q.prompt)))

    assert f"exactly {WHISPER_WINDOW_S} s" in windows_q.prompt
    assert windows_q.answer == -(-duration(windows_q.prompt) // WHISPER_WINDOW_S)

    assert f"{WHISPER_RATE:,} Hz" in samples_q.prompt
    assert samples_q.answer == duration(samples_q.prompt) * WHISPER_RATE

    talk = srt_talk_time(speaker_q.prompt)
    assert speaker_q.answer == max(talk, key=talk.get) and set(speaker_q.options) == set(talk)
    assert sorted(talk.values())[-1] > sorted(talk.values())[-2]  # no tie


def test_new_seeds_give_new_answers():
    sets = [checkpoints.questions("meeting_minutes", seed) for seed in SEEDS]
    for position in range(5):
        assert len({str(questions[position].answer) for questions in sets}) > 3
