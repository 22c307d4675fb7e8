"""Offline diarisation: pitch, clustering of steady segments, and the sample meeting."""
import json

import numpy as np
import pytest

from lib import model_registry, prose
from lib.meeting_minutes import MEETING_DIR, SAMPLE_AUDIO, audio, diarize, transcribe
from lib.meeting_minutes.audio import SAMPLE_RATE


def voiced(pitch_hz: float, seconds: float = 1.0) -> np.ndarray:
    """A buzz with harmonics, like a vowel: the fundamental is `pitch_hz`."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return sum(np.sin(2 * np.pi * pitch_hz * h * t) / h for h in range(1, 8))


@pytest.mark.parametrize("pitch_hz", [75.0, 90.0, 220.0, 300.0])
def test_pitch_track_finds_the_fundamental(pitch_hz):
    pitches = diarize.pitch_track(voiced(pitch_hz))
    assert len(pitches) > 90 and abs(np.median(pitches) - pitch_hz) / pitch_hz < 0.02


def test_silence_and_noise_have_no_pitch():
    assert len(diarize.pitch_track(np.zeros(SAMPLE_RATE))) == 0
    noise = np.random.default_rng(0).normal(size=SAMPLE_RATE)
    assert len(diarize.pitch_track(noise)) < 5
    assert np.isnan(diarize.voice_print(np.zeros(SAMPLE_RATE))[-1])


def test_short_segments_join_the_nearest_voice_instead_of_forming_one():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    prints = np.concatenate([centre + rng.normal(size=(6, 2)) for centre in centres] + [[[9.0, 30.0]]])
    steady = np.array([True] * 18 + [False])
    labels = diarize.cluster(prints, num_speakers=3, steady=steady)
    assert [len(set(labels[i:i + 6])) for i in (0, 6, 12)] == [1, 1, 1] and len(set(labels)) == 3
    assert labels[-1] == labels[12]  # (9, 30) is nearest to the (0, 10) voice
    assert len(set(diarize.cluster(prints, num_speakers=4))) == 4  # clustered, the stray forms a voice


def test_a_missing_pitch_counts_as_the_average():
    prints = np.array([[0.0, 1.0], [0.1, 1.1], [5.0, 3.0], [5.1, 3.1], [5.0, np.nan]])
    assert list(diarize.cluster(prints, num_speakers=2)) == [0, 0, 1, 1, 1]


@pytest.mark.slow
def test_whisper_segments_of_the_sample_meeting_are_told_apart():
    """Whisper cuts "And I'm Tom. I look after…" at its pause into two short
    segments; both must still land with Tom's voice, so every introduction names
    its speaker. Tom and David differ mostly in pitch."""
    whisper = transcribe.load_whisper(model_registry.bundled_path("whisper-tiny.en"), "cpu")
    segments, _ = transcribe.run(whisper, str(SAMPLE_AUDIO))
    found = diarize.diarize(audio.chunks(str(SAMPLE_AUDIO)), segments,
                            num_speakers=len(diarize.introduced_names(segments)))
    turns = json.loads((MEETING_DIR / "sample_turns.json").read_text())

    def truth(s):
        middle = (s.start + s.end) / 2
        return next(t["speaker"] for t in turns if t["start"] - 1 <= middle <= t["end"] + 1)

    names = diarize.names_from_introductions(found)
    assert sorted(names.values()) == ["David", "Maria", "Priya", "Tom"]
    right = sum(names.get(s.speaker) == truth(s) for s in found)
    assert right >= 0.95 * len(found)


def test_the_lesson_text_states_the_voice_prints_own_settings():
    from lessons.widgets import meeting_minutes

    text = prose.lesson_markdown("meeting_minutes", "speakers", **meeting_minutes.speaker_facts())
    lowest, highest = diarize.PITCH_RANGE_HZ
    assert f"{lowest}–{highest} Hz" in text and f"shorter than {diarize.MIN_CLUSTERED_S:g} s" in text
