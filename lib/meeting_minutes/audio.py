"""Reading audio for speech recognition: any container PyAV (ffmpeg) reads,
decoded to 16 kHz mono float32 and handed out in fixed-length chunks, so an
hour-long recording is never held in memory at once."""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import BinaryIO, Iterator

import numpy as np

SAMPLE_RATE = 16_000
CHUNK_SECONDS = 300  # 5 min of float32 = 19 MB
SILENCE_RMS = 1e-3  # about -60 dBFS
AUDIO_TYPES = ["wav", "mp3", "m4a", "ogg", "opus", "flac", "webm"]


class AudioError(ValueError):
    """The file cannot be used as audio; the message says why."""


@dataclass
class AudioInfo:
    duration: float  # seconds
    codec: str
    sample_rate: int
    channels: int


def _open(source: str | bytes | BinaryIO):
    import av

    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        container = av.open(stream, mode="r")
    except (av.error.InvalidDataError, av.error.FFmpegError, UnicodeDecodeError, ValueError) as err:
        raise AudioError("This file is not audio that can be read (is it really a sound file? "
                         f"the decoder said: {err.__class__.__name__}).") from err
    if not container.streams.audio:
        container.close()
        raise AudioError("This file has no audio track.")
    return container


def probe(source: str | bytes | BinaryIO) -> AudioInfo:
    """Duration and format, read from the header (or by a decode pass when the
    header does not say). Raises AudioError for non-audio and empty files."""
    container = _open(source)
    with container:
        stream = container.streams.audio[0]
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / 1_000_000
        else:
            duration = sum(frame.samples for frame in container.decode(stream)) / stream.rate
        info = AudioInfo(duration, stream.codec_context.name, stream.rate, stream.channels)
    if info.duration <= 0.01:
        raise AudioError("The recording is empty (0 seconds of audio).")
    return info


def chunks(source: str | bytes | BinaryIO, seconds: float = CHUNK_SECONDS) -> Iterator[np.ndarray]:
    """16 kHz mono float32 chunks of `seconds` (the last one shorter)."""
    import av

    size = int(seconds * SAMPLE_RATE)
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    buffer, buffered = [], 0
    with _open(source) as container:
        try:
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    samples = out.to_ndarray().reshape(-1).astype(np.float32) / 32768.0
                    buffer.append(samples)
                    buffered += len(samples)
                    while buffered >= size:
                        joined = np.concatenate(buffer)
                        yield joined[:size]
                        buffer, buffered = [joined[size:]], buffered - size
        except av.error.FFmpegError as err:
            raise AudioError(f"The audio is damaged after {buffered / SAMPLE_RATE:.0f} s "
                             f"({err.__class__.__name__}).") from err
        for out in resampler.resample(None):
            buffer.append(out.to_ndarray().reshape(-1).astype(np.float32) / 32768.0)
    if buffer and sum(map(len, buffer)):
        yield np.concatenate(buffer)


def read_all(source: str | bytes | BinaryIO) -> np.ndarray:
    """The whole recording at 16 kHz (for short clips: diarisation, tests)."""
    parts = list(chunks(source))
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def is_silent(samples: np.ndarray) -> bool:
    return samples.size == 0 or float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) < SILENCE_RMS



def envelope(samples: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """The recording drawn small: (seconds at each bin's start, loudest |sample| in the bin),
    `bins` bins at most (fewer for a clip shorter than that many samples)."""
    bins = max(1, min(bins, samples.size))
    edges = np.linspace(0, samples.size, bins + 1).astype(int)
    peaks = np.array([np.abs(samples[a:b]).max(initial=0.0) for a, b in zip(edges[:-1], edges[1:])], np.float32)
    return edges[:-1] / SAMPLE_RATE, peaks
