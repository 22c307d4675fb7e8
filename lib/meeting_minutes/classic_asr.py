"""Classic speech recognition beside Whisper: CMU PocketSphinx on the same clip.

PocketSphinx is the recipe from before neural networks: the audio becomes MFCC
frames; a hidden Markov model per phone in context (triphones) scores each frame
with Gaussian mixtures; a pronunciation dictionary (CMUdict) joins phones into
words; a trigram language model scores word sequences; a Viterbi beam search
finds the best path. Each part was built and tuned separately. Whisper replaces
them all with one Transformer trained end to end on 680,000 hours of audio.
The English models ship inside the `pocketsphinx` wheel, so this runs offline.
"""
from __future__ import annotations

import importlib.util
import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from lib.meeting_minutes import audio, evaluate, transcribe

MAX_SECONDS = 40  # the comparison runs on the first 40 s at most: a minute of PocketSphinx is slow
LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")  # Debian's pocketsphinx-testdata


class Unavailable(Exception):
    """PocketSphinx cannot run here; the message is written for the student."""


@dataclass(frozen=True)
class Run:
    """One recogniser's transcript of a clip, its time and, given a reference, its word error rate."""
    system: str
    text: str
    audio_s: float
    elapsed_s: float
    cpu_s: float
    word_error_rate: float | None = None

    @property
    def real_time_factor(self) -> float:
        return self.elapsed_s / max(self.audio_s, 1e-9)


def available() -> bool:
    return importlib.util.find_spec("pocketsphinx") is not None


def _decoder():
    if not available():
        raise Unavailable("The classic recogniser needs the `pocketsphinx` package (its English models come "
                          "inside it): `pip install pocketsphinx`.")
    from pocketsphinx import Decoder

    return Decoder(samprate=audio.SAMPLE_RATE, loglevel="FATAL")  # the bundled en-us HMM, CMUdict and LM


def run_pocketsphinx(samples: np.ndarray, on_progress: Callable[[float, float], None] | None = None) -> Run:
    """Cut 16 kHz float samples into utterances at pauses (PocketSphinx's own voice
    activity detector) and decode each one whole. The time excludes loading the
    models (about half a second), as Whisper's does."""
    decoder = _decoder()  # one per call: a Decoder must not be shared between threads
    from pocketsphinx import Segmenter

    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)  # the 16-bit samples PocketSphinx reads
    total, words = len(pcm) / audio.SAMPLE_RATE, []
    started, cpu = time.perf_counter(), time.process_time()
    for utterance in Segmenter(sample_rate=audio.SAMPLE_RATE).segment(io.BytesIO(pcm.tobytes())):
        decoder.start_utt()
        decoder.process_raw(utterance.pcm, full_utt=True)  # whole: cepstral means from the utterance itself
        decoder.end_utt()
        hypothesis = decoder.hyp()
        words += [hypothesis.hypstr] if hypothesis and hypothesis.hypstr else []
        if on_progress:
            on_progress(min(utterance.end_time, total), total)
    return Run("PocketSphinx (HMM + n-gram)", " ".join(words), total, time.perf_counter() - started,
               time.process_time() - cpu)


def run_whisper(model, samples: np.ndarray, name: str = "Whisper") -> Run:
    """The lesson's own transcription path (transcribe.run, no pause splitting) on the same clip."""
    import soundfile as sf

    wav = io.BytesIO()
    sf.write(wav, samples.astype(np.float32), audio.SAMPLE_RATE, format="WAV", subtype="PCM_16")
    cpu = time.process_time()
    segments, last = transcribe.run(model, wav, split_pauses=False)
    return Run(name, " ".join(s.text for s in segments), len(samples) / audio.SAMPLE_RATE,
               last.elapsed_s if last else 0.0, time.process_time() - cpu)


def scored(run: Run, reference: str | None) -> Run:
    """The run with its word error rate: the same evaluate.word_error_rate that scores Whisper."""
    if not reference:
        return run
    return Run(run.system, run.text, run.audio_s, run.elapsed_s, run.cpu_s,
               evaluate.word_error_rate(reference, run.text))


def compare(samples: np.ndarray, whisper_model, reference: str | None = None, whisper_name: str = "Whisper",
            on_progress: Callable[[float, float], None] | None = None) -> list[Run]:
    """[PocketSphinx, Whisper] on the same samples, scored against `reference` when given."""
    return [scored(run_pocketsphinx(samples, on_progress), reference),
            scored(run_whisper(whisper_model, samples, whisper_name), reference)]


def first_seconds(source, seconds: float = MAX_SECONDS) -> np.ndarray:
    """The first `seconds` of a recording as 16 kHz float samples (nothing more is decoded)."""
    return next(audio.chunks(source, seconds), np.zeros(0, np.float32))


def sample_clip(turns: list[dict], max_s: float = MAX_SECONDS) -> tuple[float, str]:
    """(clip length, reference) for the bundled meeting: the turns that end within
    `max_s`, cut in the pause after the last of them, and their script text."""
    inside = [t for t in turns if t["end"] <= max_s] or turns[:1]
    after = next((t["start"] for t in turns if t["start"] >= inside[-1]["end"]), inside[-1]["end"])
    return round(min((inside[-1]["end"] + after) / 2, max(max_s, inside[-1]["end"])), 2), \
        " ".join(t["text"] for t in inside)


def librivox_clips(folder: Path = LIBRIVOX) -> dict[str, tuple[Path, str]]:
    """{clip name: (wav path, reference)} from pocketsphinx-testdata's `transcription`
    file ("<s> words </s> (clip)"); empty when the package is not installed."""
    index = folder / "transcription"
    if not index.exists():
        return {}
    clips = {}
    for line in index.read_text().splitlines():
        text, _, clip = line.rpartition("(")
        clip = clip.strip(") ")
        if text and (folder / f"{clip}.wav").exists():
            clips[clip] = (folder / f"{clip}.wav", " ".join(text.replace("<s>", "").replace("</s>", "").split()))
    return clips
