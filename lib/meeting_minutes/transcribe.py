"""Speech recognition with faster-whisper (Whisper in CTranslate2): the
bundled base and tiny.en models offline, bigger sizes from the Hub, GPU when present.

Audio goes through in chunks (audio.chunks); inside each chunk Silero VAD
keeps only the speech, so silence costs almost nothing and Whisper sees
utterances rather than arbitrary 30-second windows."""
from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from lib import device_policy, model_registry
from lib.meeting_minutes import audio
from lib.meeting_minutes.schema import Segment

# Sizes shipped as packages (registry keys). On the evaluation meetings
# (benchmarks/README) base hears names and deadlines better than tiny.en, in about 1.5 times its time.
BUNDLED_SIZES = {"base": "whisper-base", "tiny.en": "whisper-tiny.en"}
DEFAULT_SIZE = "base"
HUB_SIZES = ["base.en", "small.en", "medium.en", "large-v3", "distil-large-v3"]
# The minutes' rules read English, so English is asked for rather than detected: detection on the
# first seconds of a chunk was as unsure as 0.43 on some evaluation meetings (base, espeak voices).
LANGUAGE = "en"
# Whisper's own default. Greedy decoding (1) is about 1.5x faster on this CPU, but on the
# sample meeting it hears "add focus from last year's turn" and loses that action item.
BEAM_SIZE = 5


def model_source(size: str) -> str | Path:
    """The folder of a bundled size, else the size name (faster-whisper fetches it from the Hub)."""
    return model_registry.bundled_path(BUNDLED_SIZES[size]) if size in BUNDLED_SIZES else size


def load_whisper(model_path: str | Path, device: str | None = None, cpu_threads: int = 0):
    """A faster-whisper model from a folder (a bundled size: `model_source("base")`) or a
    size name fetched from the Hub.
    int8 on CPU (fast, small); float16 on CUDA. MPS is not supported by
    CTranslate2, so Apple machines use the CPU."""
    from faster_whisper import WhisperModel

    device = device or device_policy.best_device()
    ct2_device = "cuda" if device.startswith("cuda") else "cpu"
    compute_type = "float16" if ct2_device == "cuda" else "int8"
    try:
        return WhisperModel(str(model_path), device=ct2_device, compute_type=compute_type,
                            cpu_threads=cpu_threads)
    except Exception as err:  # noqa: BLE001 - missing files, download and CUDA errors alike
        raise model_registry.ModelUnavailable(f"Could not load the Whisper model '{model_path}': "
                                      f"{type(err).__name__}: {str(err)[:200]}") from err


@dataclass
class Progress:
    """One step of a transcription: new segments, how far the audio is done."""
    segments: list[Segment]
    done_s: float
    total_s: float
    elapsed_s: float
    language: str = ""

    @property
    def real_time_factor(self) -> float:
        """Seconds of computing per second of audio (below 1 is faster than real time)."""
        return self.elapsed_s / self.done_s if self.done_s else 0.0


@functools.lru_cache(maxsize=1)
def window_seconds() -> int:
    """How much audio Whisper's encoder reads at once (its feature extractor's
    chunk length: 30 s, 3,000 mel frames of 10 ms); shorter input is padded."""
    from faster_whisper.feature_extractor import FeatureExtractor

    return FeatureExtractor().chunk_length


def window_count(duration_s: float) -> int:
    """Back-to-back encoder windows that cover a recording (no VAD), the last one padded."""
    return math.ceil(duration_s / window_seconds())


PAUSE_S = 0.5  # a silence this long inside a Whisper segment starts a new one
# After a full stop, question or exclamation mark any gap at all does: a new speaker often answers
# within 0.2 s, shorter than the pauses inside one person's turn.
SENTENCE_PAUSE_S = 0.0


def split_at_pauses(words, offset: float = 0.0) -> list[Segment]:
    """Whisper segments often run across a change of speaker; cutting them at
    pauses between words gives segments that each have one voice."""
    segments, current = [], []
    for word in list(words) + [None]:
        if current and (word is None or word.start - current[-1].end >
                        (SENTENCE_PAUSE_S if current[-1].word.rstrip().endswith((".", "?", "!")) else PAUSE_S)):
            text = "".join(w.word for w in current).strip()
            if text:
                segments.append(Segment(round(offset + current[0].start, 2),
                                        round(offset + current[-1].end, 2), text))
            current = []
        if word is not None:
            current.append(word)
    return segments


def transcribe(model, source: str | bytes | BinaryIO, chunk_seconds: float = audio.CHUNK_SECONDS,
               beam_size: int = BEAM_SIZE, split_pauses: bool = True) -> Iterator[Progress]:
    """Yield Progress after every recognised segment and at the end of each
    chunk. Timestamps are seconds from the start of the recording.
    `split_pauses` asks Whisper for word times (about 1.5x slower) and cuts
    segments at pauses, which diarisation needs."""
    total = audio.probe(source.getvalue() if hasattr(source, "getvalue") else source).duration
    if hasattr(source, "seek"):
        source.seek(0)
    started = time.perf_counter()
    offset = 0.0
    for chunk in audio.chunks(source, chunk_seconds):
        chunk_s = len(chunk) / audio.SAMPLE_RATE
        if not audio.is_silent(chunk):
            pieces, info = model.transcribe(chunk, beam_size=beam_size, vad_filter=True, language=LANGUAGE,
                                            condition_on_previous_text=False, word_timestamps=split_pauses)
            for piece in pieces:
                found = split_at_pauses(piece.words, offset) if split_pauses else \
                    [Segment(round(offset + piece.start, 2), round(offset + piece.end, 2), piece.text.strip())]
                found = [s for s in found if s.text]
                if found:
                    yield Progress(found, min(offset + piece.end, total), total,
                                   time.perf_counter() - started, info.language)
        offset += chunk_s
        yield Progress([], min(offset, total), total, time.perf_counter() - started)


def run(model, source, **kwargs) -> tuple[list[Segment], Progress]:
    """A whole transcription at once: (segments, the last progress)."""
    segments, last = [], None
    for last in transcribe(model, source, **kwargs):
        segments += last.segments
    return segments, last

