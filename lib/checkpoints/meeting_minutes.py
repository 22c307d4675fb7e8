"""Checkpoint: meeting minutes. Every answer comes from lib/meeting_minutes: the word
error rate, the real-time factor, Whisper's windows, 16 kHz samples and who
spoke longest in a transcript the page's own SRT writer made."""
from __future__ import annotations

import json
import random

from lib.checkpoints import Question
from lib.meeting_minutes import MEETING_DIR, audio, diarize, evaluate, transcribe, transcript
from lib.meeting_minutes.schema import Segment

FILLERS = ["um", "uh", "so", "like", "well"]  # what speech recognisers often insert
NAMES = ["Maria", "David", "Priya", "Tom", "Ana", "Kofi"]


def _turns() -> list[str]:
    return [text for _, text in json.loads((MEETING_DIR / "script.json").read_text())["turns"]]


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:g} s"


def _misheard(rng: random.Random, reference: list[str], vocabulary: list[str]) -> tuple[list[str], list[str]]:
    """The reference with 1-3 substitutions, deletions or insertions at separate
    places; returns the hypothesis words and what was changed."""
    hypothesis, changes = list(reference), []
    places = sorted(rng.sample(range(0, len(reference), 2), rng.randint(1, 3)), reverse=True)
    for place in places:  # from the end, so earlier places keep their index
        kind = rng.choice(["substituted", "deleted", "inserted"])
        if kind == "substituted":
            new = rng.choice([w for w in vocabulary if w not in reference])
            changes.append(f"substituted *{hypothesis[place]}* → *{new}*")
            hypothesis[place] = new
        elif kind == "deleted":
            changes.append(f"deleted *{hypothesis.pop(place)}*")
        else:
            filler = rng.choice([w for w in FILLERS if w not in reference])
            hypothesis.insert(place, filler)
            changes.append(f"inserted *{filler}*")
    return hypothesis, changes[::-1]


def _word_error_rate(rng: random.Random) -> Question:
    turns = [evaluate.normalise_words(t) for t in _turns()]
    words = rng.choice([t for t in turns if len(t) >= 9])
    length = rng.randint(8, min(len(words), 14))
    start = rng.randint(0, len(words) - length)
    reference = words[start:start + length]
    hypothesis, changes = _misheard(rng, reference, sorted({w for t in turns for w in t}))
    wer = evaluate.word_error_rate(" ".join(reference), " ".join(hypothesis))
    edits = round(wer * len(reference))
    how = "; ".join(changes) if edits == len(changes) else \
        "the fewest edits (a deletion beside an insertion is one substitution)"
    return Question(
        f"Reference: *{' '.join(reference)}*  \nWhisper heard: *{' '.join(hypothesis)}*  \n"
        "What is the word error rate? (as a fraction, to 3 decimals)",
        wer,
        f"The reference has N = {len(reference)} words. Lining the words up: {how}, so "
        f"{edits} edit(s) in all. WER = (substitutions + deletions + insertions) / N = {edits} / {len(reference)} "
        f"= **{wer:.3f}**.",
        tolerance=0.01)


def _real_time_factor(rng: random.Random) -> Question:
    recording = rng.randint(1, 60) * 60 + rng.choice([0, 15, 30, 45])
    computing = round(recording * rng.uniform(0.04, 1.6))
    rtf = transcribe.Progress([], recording, recording, computing).real_time_factor
    verdict = "faster than real time" if rtf < 1 else "slower than real time"
    return Question(
        f"Whisper took {computing:,} s of computing to transcribe a recording of {_clock(recording)}. "
        "What is the real-time factor? (within 1%)",
        rtf,
        f"{_clock(recording)} = {recording:,} s of audio. Real-time factor = computing time / audio time = "
        f"{computing:,} / {recording:,} = **{rtf:.3f}**: {verdict}.",
        tolerance=0.01)


def _whisper_windows(rng: random.Random) -> Question:
    recording = rng.randint(5, 45 * 60)
    window = transcribe.window_seconds()
    windows = transcribe.window_count(recording)
    return Question(
        f"Whisper's encoder reads exactly {window} s of audio at a time (a shorter piece is padded with "
        f"silence). Cut into back-to-back {window}-s windows, without voice-activity detection, how many "
        f"windows does a recording of {_clock(recording)} need?",
        windows,
        f"{_clock(recording)} = {recording:,} s. {recording:,} / {window} = {recording / window:.2f}, rounded up "
        f"(the last window is padded): **{windows:,}** windows.")


def _samples(rng: random.Random) -> Question:
    recording = rng.randint(3, 20 * 60) + rng.randint(0, 9) / 10
    samples = round(recording * audio.SAMPLE_RATE)
    return Question(
        f"The page decodes every recording to {audio.SAMPLE_RATE:,} Hz mono, as Whisper needs. How many samples "
        f"does a recording of {_clock(recording)} become?",
        samples,
        f"{_clock(recording)} = {recording:g} s; {recording:g} s × {audio.SAMPLE_RATE:,} samples/s = "
        f"**{samples:,}** samples. As float32 (4 bytes each) that is {samples * 4 / 1e6:.1f} MB, which is why "
        f"long recordings are read {audio.CHUNK_SECONDS // 60} minutes at a time.")


def _cues(rng: random.Random) -> list[Segment]:
    speakers = rng.sample(NAMES, 3)
    lines = [t.split(".")[0] for t in _turns()]
    clock, cues = 0.0, []
    for speaker in [*speakers, *(rng.choice(speakers) for _ in range(rng.randint(2, 4)))]:
        clock += rng.randint(0, 15) / 10
        length = rng.randint(10, 120) / 10
        cues.append(Segment(round(clock, 1), round(clock + length, 1), rng.choice(lines), speaker))
        clock += length
    return cues


def _longest_speaker(rng: random.Random) -> Question:
    srt = transcript.to_srt(_cues(rng))
    talk = diarize.talk_time(transcript.parse(srt))
    while len(set(talk.values())) < len(talk):  # a tie has no single answer: draw again
        srt = transcript.to_srt(_cues(rng))
        talk = diarize.talk_time(transcript.parse(srt))
    longest = next(iter(talk))
    totals = "; ".join(f"{name}: {seconds:.1f} s" for name, seconds in talk.items())
    return Question(
        f"Who spoke for the longest time in this transcript (as the page writes it, `.srt`)?\n\n```\n{srt}```",
        longest,
        f"Add up end − start of each speaker's cues (the number of cues does not matter): {totals}. "
        f"**{longest}** spoke longest.",
        options=tuple(sorted(talk)))


def questions(rng: random.Random) -> list[Question]:
    return [make(rng) for make in (_word_error_rate, _real_time_factor, _whisper_windows, _samples,
                                   _longest_speaker)]
