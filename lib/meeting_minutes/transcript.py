"""Transcripts as text: pasted `Name: text` lines, SRT and VTT files in, SRT
and VTT out."""
from __future__ import annotations

import re

from lib.meeting_minutes.conversation import CAPITALS
from lib.meeting_minutes.schema import Segment

# The sample meeting's pace: 2,025 characters of words in its 195.7 s (recomputed by the tests).
SPEECH_CHARS_PER_SECOND = 10.35
# Characters of speech, names and times left out: 4.8 hours at the sample's pace, 3.7 at a brisk 150
# words a minute, so a 3-hour meeting fits. The extractive writer took 37 s on 182,250 (two busy cores);
# SmolLM2 makes 14 map calls of about 45 s each.
MAX_TRANSCRIPT_CHARS = 180_000
# A whole file, cue numbers, times and names included: the sample's turns as SRT are 1.6x their words.
MAX_FILE_CHARS = 5 * MAX_TRANSCRIPT_CHARS
SPEAKER_LINE = re.compile(rf"^\s*([{CAPITALS}][\w .'-]{{0,30}}?)\s*:\s+(\S.*)$")  # "Émile: …" too
TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})(?:[.,](\d{3}))?"  # [hours:]minutes:seconds[,millis]
CUE_TIME = re.compile(TIME + r"\s*-->\s*" + TIME)
CUE_LINE = re.compile(r"^\s*\d\S*\s*-->")  # a line that means to be a cue time, valid or not
CUE_EXAMPLE = "00:01:02,500 --> 00:01:05,000"
WORDS_PER_SECOND = 2.5  # typical speech, to give pasted text plausible times


class TranscriptError(ValueError):
    """The text cannot be used as a transcript; the message says why."""


def _seconds(hours, minutes, seconds, millis) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis or 0) / 1000


def _cue_times(line: str, number: int) -> tuple[float, float]:
    """(start, end) of a cue-time line, or TranscriptError naming the line."""
    match = CUE_TIME.match(line.strip())
    shown = line.strip()[:60]
    if not match or any(int(part) >= 60 for part in match.group(2, 3, 6, 7)):
        raise TranscriptError(f"Line {number} is not a valid cue time: '{shown}' (expected like {CUE_EXAMPLE}).")
    start, end = _seconds(*match.groups()[:4]), _seconds(*match.groups()[4:])
    if end < start:
        raise TranscriptError(f"Line {number}: the cue ends before it starts ('{shown}').")
    return start, end


def _speaker_and_text(line: str) -> tuple[str, str]:
    match = SPEAKER_LINE.match(line)
    return (match.group(1).strip(), match.group(2).strip()) if match else ("", line.strip())


def parse_cues(text: str) -> list[Segment]:
    """SRT or VTT cues → segments (a `Name:` prefix or a VTT <v Name> tag sets
    the speaker). A broken cue time is a TranscriptError naming its line."""
    segments, cue, body = [], None, []
    for number, line in enumerate([*text.replace("\r\n", "\n").split("\n"), ""], start=1):
        if cue and (CUE_LINE.match(line) or not line.strip()):
            if CUE_LINE.match(line) and body and body[-1].isdigit():
                body.pop()  # the next cue's number, with no blank line before it
            segments += _cue_segment(cue, " ".join(body))
            cue = None
        if CUE_LINE.match(line):
            cue, body = _cue_times(line, number), []
        elif line.strip() and cue:
            body.append(line.strip())
    return segments


def _cue_segment(times: tuple[float, float], body: str) -> list[Segment]:
    voice = re.match(r"<v\s+([^>]+)>(.*)", body)
    speaker, words = (voice.group(1).strip(), re.sub(r"</v>", "", voice.group(2)).strip()) if voice \
        else _speaker_and_text(body)
    words = re.sub(r"<[^>]+>", "", words).strip()
    return [Segment(*times, words, speaker)] if words else []


def parse_plain(text: str) -> list[Segment]:
    """Pasted lines; `Name: text` lines carry their speaker, other lines continue
    the previous speaker. Times are estimated from the word count."""
    segments: list[Segment] = []
    clock = 0.0
    for line in filter(str.strip, text.splitlines()):
        speaker, words = _speaker_and_text(line)
        if not speaker and segments:
            speaker = segments[-1].speaker
        duration = max(len(words.split()) / WORDS_PER_SECOND, 1.0)
        segments.append(Segment(round(clock, 2), round(clock + duration, 2), words, speaker))
        clock += duration
    return segments


def decode(data: bytes) -> str:
    """An uploaded transcript's bytes as text: UTF-8 (a byte-order mark dropped),
    UTF-16 when it starts with its byte-order mark (as Windows tools save it),
    else Windows-1252 (older Word and Notepad exports). Binary data is a
    TranscriptError, not a page of garbled characters."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        if b"\x00" not in data:
            return data.decode("cp1252")
    except UnicodeDecodeError:
        pass
    raise TranscriptError("This file is not text (is it really a .txt, .srt or .vtt transcript?). "
                          "Save it as plain text and upload it again.")


def speech_hours(chars: int) -> float:
    """How long `chars` characters of words take to say, at the sample meeting's pace."""
    return chars / SPEECH_CHARS_PER_SECOND / 3600


def _too_long(what: str) -> TranscriptError:
    return TranscriptError(
        f"{what}; the limit is {MAX_TRANSCRIPT_CHARS:,} characters of speech (about "
        f"{speech_hours(MAX_TRANSCRIPT_CHARS):.1f} hours at {SPEECH_CHARS_PER_SECOND} characters a second). "
        "Split it into meetings and write minutes for each.")


def parse(text: str) -> list[Segment]:
    """Any pasted or uploaded transcript → segments, or TranscriptError. The
    limit counts the words spoken, so cue times and names do not use it up."""
    size = len(text.strip())  # the text itself is kept whole, so errors give true line numbers
    if not size:
        raise TranscriptError("The transcript is empty.")
    if size > MAX_FILE_CHARS:
        raise _too_long(f"The file has {size:,} characters")
    is_cues = any(CUE_LINE.match(line) for line in text.splitlines())
    segments = parse_cues(text) if is_cues else parse_plain(text)
    if not segments:
        raise TranscriptError("No transcript lines were found in the text.")
    spoken = sum(len(s.text) for s in segments)
    if spoken > MAX_TRANSCRIPT_CHARS:
        raise _too_long(f"The transcript has {spoken:,} characters of speech (about "
                        f"{speech_hours(spoken):.1f} hours)")
    return segments


def _cue_time(seconds: float, separator: str) -> str:
    millis = int(round(seconds * 1000))
    return (f"{millis // 3_600_000:02d}:{millis // 60_000 % 60:02d}:{millis // 1000 % 60:02d}"
            f"{separator}{millis % 1000:03d}")


def _cue_text(segment: Segment) -> str:
    return f"{segment.speaker}: {segment.text}" if segment.speaker else segment.text


def to_srt(segments: list[Segment]) -> str:
    return "\n".join(f"{i}\n{_cue_time(s.start, ',')} --> {_cue_time(s.end, ',')}\n{_cue_text(s)}\n"
                     for i, s in enumerate(segments, start=1))


def to_vtt(segments: list[Segment]) -> str:
    return "WEBVTT\n\n" + "\n".join(f"{_cue_time(s.start, '.')} --> {_cue_time(s.end, '.')}\n{_cue_text(s)}\n"
                                    for s in segments)


def to_text(segments: list[Segment]) -> str:
    """`Name: text` lines, the form the LLM writers read."""
    return "\n".join(_cue_text(s) for s in segments)
