"""Checkpoint: meeting minutes. Every answer comes from lib/meeting_minutes: the word
error rate and the real-time factor, and (predict) the page's talk-time count run
on an excerpt of the bundled sample meeting."""
from __future__ import annotations

import json
import random

import pandas as pd

from lib.checkpoints import Question, Reveal
from lib.checkpoints.build import concept, predict
from lib.meeting_minutes import MEETING_DIR, diarize, evaluate, transcribe
from lib.meeting_minutes.schema import Segment

FILLERS = ["um", "uh", "so", "like", "well"]  # what speech recognisers often insert


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
    recording = rng.randint(5, 60) * 60
    computing = round(recording * rng.choice([0.05, 0.1, 0.25, 0.5, 2.0, 4.0]))
    rtf = transcribe.Progress([], recording, recording, computing).real_time_factor
    hour = 3600 * rtf / 60
    right = (f"Whisper runs faster than the audio plays: an hour of meeting takes about {hour:.0f} minutes"
             if rtf < 1 else f"Whisper runs slower than the audio plays: an hour of meeting takes about {hour:.0f} "
             "minutes")
    wrong = {f"Whisper makes about {rtf:.2g} errors per word":
             "Errors per word is the word error rate; the real-time factor measures time only.",
             f"Whisper needs {rtf:.2g} GB of memory per minute of audio":
             "The real-time factor is a ratio of two times, computing over audio; it says nothing about memory.",
             ("Whisper runs slower than the audio plays: an hour of meeting takes about "
              f"{3600 / rtf / 60:.0f} minutes" if rtf < 1 else
              f"Whisper runs faster than the audio plays: an hour of meeting takes about {3600 / rtf / 60:.0f} "
              "minutes"):
             "That divides the other way round: the real-time factor is computing time over audio time, so "
             "below 1 means faster than the recording."}
    return concept(
        rng, f"Whisper took {computing:,} s of computing to transcribe a recording of {_clock(recording)}: a "
        f"real-time factor of {rtf:.3g}. What does that mean?", right, wrong,
        f"Real-time factor = computing time / audio time = {computing:,} / {recording:,} = **{rtf:.3f}**, so an "
        f"hour of audio takes 60 × {rtf:.3g} ≈ {hour:.0f} minutes. Below 1 the transcript keeps up with a live "
        "meeting.")


def _wer_above_one(rng: random.Random) -> Question:
    reference = rng.choice([t for t in (evaluate.normalise_words(t) for t in _turns()) if 3 <= len(t) <= 6])
    inserted = rng.randint(len(reference) + 1, 2 * len(reference) + 2)
    hypothesis = [*reference, *(rng.choice(FILLERS) for _ in range(inserted))]
    wer = evaluate.word_error_rate(" ".join(reference), " ".join(hypothesis))
    return concept(
        rng, f"Reference: *{' '.join(reference)}* ({len(reference)} words). The recogniser heard every word, then "
        f"invented {inserted} more (*{' '.join(hypothesis[len(reference):])}*). What is the word error rate?",
        f"{wer:.2f}: above 1, because invented words count as errors against the {len(reference)} reference words",
        {"0: every reference word was recognised":
         "WER counts insertions too; recognising every word is not enough if the recogniser adds words.",
         f"{inserted / len(hypothesis):.2f}: the share of the heard words that are wrong":
         "WER divides by the reference's length N, not the hypothesis's, so insertions can push it past 1.",
         "1.00 at most: an error rate cannot exceed 100%":
         "It can: WER = (S + D + I) / N, and I has no limit. A recogniser that hallucinates text in silence "
         "does exactly this."},
        f"S = 0, D = 0, I = {inserted}: WER = {inserted} / {len(reference)} = **{wer:.2f}**. This is why long "
        "silences are cut out (voice-activity detection) before Whisper hears them.")


def _longest_talker(rng: random.Random) -> Question:
    turns = _sample_turns()
    while True:  # a window whose longest talker wins by over a second
        length = rng.randint(5, 8)
        start = rng.randrange(len(turns) - length + 1)
        window = tuple(range(start, start + length))
        talk = diarize.talk_time([turns[i] for i in window])
        if len(talk) >= 2 and list(talk.values())[0] - list(talk.values())[1] > 1:
            break
    lines = "\n".join(f"{turns[i].speaker}: {turns[i].text}" for i in window)
    return predict(
        f"An excerpt of the bundled sample meeting, {len(window)} turns:\n\n```\n{lines}\n```\n\n"
        "Which speaker talked longest in this excerpt? (The page adds up the seconds of each speaker's turns.)",
        tuple(sorted(talk)),
        "Talk time adds up end − start of each of a speaker's turns: it follows how much each one says, not how "
        "often they speak; a few long turns beat many short ones.",
        reveal_longest_talker, window)


def _sample_turns() -> list[Segment]:
    rows = json.loads((MEETING_DIR / "sample_turns.json").read_text())
    return [Segment(row["start"], row["end"], row["text"], row["speaker"]) for row in rows]


def reveal_longest_talker(window: tuple[int, ...]) -> Reveal:
    turns = _sample_turns()
    excerpt = [turns[i] for i in window]
    talk = diarize.talk_time(excerpt)
    longest = next(iter(talk))
    counts = {name: sum(s.speaker == name for s in excerpt) for name in talk}
    return Reveal(
        longest,
        f"The page's talk-time count, run just now on these {len(excerpt)} turns: **{longest}** "
        f"{talk[longest]:.1f} s in {counts[longest]} turn(s).",
        pd.DataFrame({"speaker": list(talk), "talk time (s)": [round(t, 1) for t in talk.values()],
                      "turns": list(counts.values())}))


def questions(rng: random.Random) -> list[Question]:
    return [_word_error_rate(rng), _real_time_factor(rng), _wer_above_one(rng), _longest_talker(rng)]
