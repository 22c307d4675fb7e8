"""Transcripts as text: pasted `Name: text` lines, SRT and VTT files in, SRT
and VTT out."""
from __future__ import annotations

import re

from lib.minutes.schema import Segment

MAX_TRANSCRIPT_CHARS = 100_000
SPEAKER_LINE = re.compile(r"^\s*([A-Z][\w .'-]{0,30}?)\s*:\s+(\S.*)$")
CUE_TIME = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})\s*-->\s*(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})")
WORDS_PER_SECOND = 2.5  # typical speech, to give pasted text plausible times


class TranscriptError(ValueError):
    """The text cannot be used as a transcript; the message says why."""


def _seconds(hours, minutes, seconds, millis) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def _speaker_and_text(line: str) -> tuple[str, str]:
    match = SPEAKER_LINE.match(line)
    return (match.group(1).strip(), match.group(2).strip()) if match else ("", line.strip())


def parse_cues(text: str) -> list[Segment]:
    """SRT or VTT cues → segments (a `Name:` prefix or a VTT <v Name> tag sets the speaker)."""
    segments = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        lines = block.strip().splitlines()
        times = next((CUE_TIME.search(l) for l in lines if CUE_TIME.search(l)), None)
        if not times:
            continue
        body = " ".join(l for l in lines[[i for i, l in enumerate(lines) if CUE_TIME.search(l)][0] + 1:])
        voice = re.match(r"<v\s+([^>]+)>(.*)", body)
        speaker, words = (voice.group(1).strip(), re.sub(r"</v>", "", voice.group(2)).strip()) if voice \
            else _speaker_and_text(body)
        if words:
            segments.append(Segment(_seconds(*times.groups()[:4]), _seconds(*times.groups()[4:]),
                                    re.sub(r"<[^>]+>", "", words), speaker))
    return segments


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


def parse(text: str) -> list[Segment]:
    """Any pasted or uploaded transcript → segments, or TranscriptError."""
    text = text.strip()
    if not text:
        raise TranscriptError("The transcript is empty.")
    if len(text) > MAX_TRANSCRIPT_CHARS:
        raise TranscriptError(
            f"The transcript has {len(text):,} characters; the limit is {MAX_TRANSCRIPT_CHARS:,} "
            "(about 10 hours of speech). Split it into meetings and write minutes for each.")
    segments = parse_cues(text) if CUE_TIME.search(text) else parse_plain(text)
    if not segments:
        raise TranscriptError("No transcript lines were found in the text.")
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
