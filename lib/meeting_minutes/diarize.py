"""Who spoke: offline speaker diarisation by clustering the voice of each
transcript segment.

Each segment's sound becomes a fixed-length voice print: the mean and spread
of its MFCCs (the spectral envelope on the mel scale, which differs between
vocal tracts) and its median pitch (which tells apart voices whose envelopes
are alike). Prints are standardised and grouped by agglomerative clustering;
the number of speakers is the one with the best silhouette score. Segments
under a second are too short for a steady print: they join the nearest voice
afterwards instead of pulling the clusters.

Offline, a trained speaker network can give the prints instead: Resemblyzer's
GE2E encoder (`ge2e_printer`; its 17 MB of weights ship inside the PyPI wheel),
a 3-layer LSTM trained on thousands of speakers to map 1.6 s of mel spectrogram
to a 256-number "d-vector" that is close for one voice and far for two. With
the Hub, WavLM-base-plus-sv's x-vectors (`xvector_printer`). All feed the same
clustering.
"""
from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from lib.meeting_minutes import conversation
from lib.meeting_minutes.audio import SAMPLE_RATE
from lib.meeting_minutes.schema import Segment

N_FFT = 512  # 32 ms window at 16 kHz
HOP = 160  # 10 ms
N_MELS = 40
N_MFCC = 20
MIN_SEGMENT_S = 0.3
MIN_CLUSTERED_S = 1.0  # shorter segments ("Perfect,") are assigned, not clustered
PITCH_RANGE_HZ = (60, 400)  # low male to high female/child voices
PITCH_WEIGHT = 30  # after standardising, pitch counts as much as 30 of the 38 MFCC statistics


def hz_to_mel(hz):
    return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)


def mel_to_hz(mel):
    return 700.0 * (10 ** (np.asarray(mel) / 2595.0) - 1.0)


def mel_filterbank(n_mels: int = N_MELS, n_fft: int = N_FFT, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Triangular filters evenly spaced in mel, (n_mels, n_fft // 2 + 1)."""
    edges = mel_to_hz(np.linspace(0, hz_to_mel(sample_rate / 2), n_mels + 2))
    bins = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins - lower) / (centre - lower)
    falling = (upper - bins) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling))


def mfcc(samples: np.ndarray, n_mfcc: int = N_MFCC) -> np.ndarray:
    """(frames, n_mfcc) MFCCs: Hann-windowed power spectrum → mel → log → DCT-II."""
    from scipy.fft import dct

    if len(samples) < N_FFT:
        samples = np.pad(samples, (0, N_FFT - len(samples)))
    n_frames = 1 + (len(samples) - N_FFT) // HOP
    index = np.arange(N_FFT)[None, :] + HOP * np.arange(n_frames)[:, None]
    frames = samples[index] * np.hanning(N_FFT)  # (frames, n_fft)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2  # (frames, n_fft // 2 + 1)
    log_mel = np.log(power @ mel_filterbank().T + 1e-10)  # (frames, n_mels)
    return dct(log_mel, type=2, axis=1, norm="ortho")[:, :n_mfcc]


def pitch_track(samples: np.ndarray, frame: int = 640) -> np.ndarray:
    """Pitch in Hz of each clearly voiced 40 ms frame: the autocorrelation peak
    within PITCH_RANGE_HZ, kept where it holds over half the frame's energy."""
    if len(samples) < frame:
        return np.array([])
    shortest, longest = SAMPLE_RATE // PITCH_RANGE_HZ[1], SAMPLE_RATE // PITCH_RANGE_HZ[0]
    index = np.arange(frame)[None, :] + HOP * np.arange(1 + (len(samples) - frame) // HOP)[:, None]
    frames = samples[index]  # (frames, frame)
    frames = frames - frames.mean(axis=1, keepdims=True)
    spectrum = np.fft.rfft(frames, 2 * frame, axis=1)  # zero-padded: no wrap-around
    autocorrelation = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :frame]  # (frames, lags)
    lags = shortest + np.argmax(autocorrelation[:, shortest:longest], axis=1)
    peak = autocorrelation[np.arange(len(lags)), lags]
    voiced = (autocorrelation[:, 0] > 1e-9) & (peak > 0.5 * autocorrelation[:, 0])
    return SAMPLE_RATE / lags[voiced]


def voice_print(samples: np.ndarray) -> np.ndarray:
    """Mean and standard deviation of MFCC 1..19 (c0, the loudness, is left out),
    then the log median pitch PITCH_WEIGHT times (NaN when nothing is voiced)."""
    coeffs = mfcc(samples)[:, 1:]
    pitches = pitch_track(samples)
    log_pitch = np.log(np.median(pitches)) if len(pitches) else np.nan
    return np.concatenate([coeffs.mean(axis=0), coeffs.std(axis=0), np.full(PITCH_WEIGHT, log_pitch)])


Printer = Callable[[np.ndarray], np.ndarray]  # 16 kHz samples -> one fixed-length print


def xvector_printer(loaded) -> Printer:
    """Prints from a speaker-verification network (`model_loading.load(..., role="speaker")`):
    the feature extractor normalises the 16 kHz samples, the model's x-vector
    head pools its frames into one embedding, scaled to length 1."""
    import torch

    def xvector(samples: np.ndarray) -> np.ndarray:
        if len(samples) < SAMPLE_RATE * MIN_SEGMENT_S:  # the conv front end needs a few hundred samples
            samples = np.pad(samples, (0, int(SAMPLE_RATE * MIN_SEGMENT_S) - len(samples)))
        with loaded.lock:
            features = loaded.tokenizer(samples.astype(np.float32), sampling_rate=SAMPLE_RATE,
                                        return_tensors="pt").to(loaded.device)
            with torch.no_grad():
                embedding = loaded.model(**features).embeddings[0]  # (xvector_output_dim,)
        embedding = torch.nn.functional.normalize(embedding.float(), dim=0)
        return embedding.cpu().numpy().astype(np.float64)

    return xvector


GE2E_PARTIAL_FRAMES = 160  # 1.6 s of 10 ms frames: what the encoder was trained on
GE2E_MELS = 40


def slaney_filterbank(n_mels: int = GE2E_MELS, n_fft: int = 400, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) triangles on the Slaney mel scale (linear below 1 kHz, log above),
    each of unit area: librosa's default filterbank, the one Resemblyzer was trained with."""
    def to_mel(hz):
        hz = np.asarray(hz, dtype=np.float64)
        return np.where(hz < 1000, 3 * hz / 200, 15 + 27 * np.log(np.maximum(hz, 1e-9) / 1000) / np.log(6.4))

    def to_hz(mel):
        return np.where(mel < 15, 200 * mel / 3, 1000 * np.exp(np.log(6.4) * (mel - 15) / 27))

    edges = to_hz(np.linspace(to_mel(0), to_mel(sample_rate / 2), n_mels + 2))
    bins = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    triangles = np.maximum(0, np.minimum((bins - lower) / (centre - lower), (upper - bins) / (upper - centre)))
    return triangles * (2.0 / (upper - lower))


def ge2e_mel(samples: np.ndarray) -> np.ndarray:
    """(frames, 40) mel power spectrogram, 25 ms Hann windows every 10 ms, centred (librosa's defaults)."""
    n_fft = 400
    padded = np.pad(samples, (n_fft // 2, n_fft // 2))
    n_frames = 1 + (len(padded) - n_fft) // HOP
    index = np.arange(n_fft)[None, :] + HOP * np.arange(n_frames)[:, None]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic Hann
    power = np.abs(np.fft.rfft(padded[index] * window, axis=1)) ** 2  # (frames, n_fft // 2 + 1)
    return (power @ slaney_filterbank().T).astype(np.float32)


class GE2EEncoder:
    """Resemblyzer's speaker encoder (Wan et al. 2018, GE2E loss): LSTM(40 → 256, 3 layers) →
    linear 256 → ReLU → unit length, run on 1.6 s windows and averaged."""

    def __init__(self, weights_path):
        import torch

        state = torch.load(weights_path, map_location="cpu", weights_only=True)["model_state"]
        self.lstm = torch.nn.LSTM(GE2E_MELS, 256, 3, batch_first=True)
        self.linear = torch.nn.Linear(256, 256)
        self.lstm.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
        self.linear.load_state_dict({k[7:]: v for k, v in state.items() if k.startswith("linear.")})
        self.lstm.eval()

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        import torch

        rms = np.sqrt(np.mean(samples ** 2)) if len(samples) else 0.0
        if rms > 0:
            samples = samples * max(1.0, 10 ** (-30 / 20) / rms)  # to -30 dBFS, louder only (as Resemblyzer)
        mel = ge2e_mel(samples)
        if len(mel) < GE2E_PARTIAL_FRAMES:
            mel = np.pad(mel, ((0, GE2E_PARTIAL_FRAMES - len(mel)), (0, 0)))
        starts = range(0, len(mel) - GE2E_PARTIAL_FRAMES + 1, GE2E_PARTIAL_FRAMES // 2)
        windows = np.stack([mel[i:i + GE2E_PARTIAL_FRAMES] for i in starts])  # (windows, 160, 40)
        with torch.inference_mode():
            _, (hidden, _) = self.lstm(torch.from_numpy(windows))
            embeddings = torch.relu(self.linear(hidden[-1]))  # (windows, 256)
            embeddings = embeddings / embeddings.norm(dim=1, keepdim=True).clamp(min=1e-9)
        mean = embeddings.mean(0).numpy().astype(np.float64)
        return mean / max(np.linalg.norm(mean), 1e-9)


def ge2e_printer(weights_path) -> Printer:
    """Prints from Resemblyzer's GE2E encoder (`model_registry.bundled_path("resemblyzer-ge2e")`)."""
    return GE2EEncoder(weights_path)


def voice_prints(chunks: Iterable[np.ndarray], segments: list[Segment], printer: Printer = voice_print) -> np.ndarray:
    """(segments, print size) prints of each segment's stretch of the recording
    (MFCC statistics and pitch by default), read chunk by chunk (audio.chunks) so a
    long recording is never whole in memory. A segment that crosses a chunk
    boundary is printed from its first part."""
    prints: list[np.ndarray | None] = [None] * len(segments)
    offset = 0.0
    for chunk in chunks:
        chunk_end = offset + len(chunk) / SAMPLE_RATE
        for i, s in enumerate(segments):
            if prints[i] is None and offset <= s.start < chunk_end:
                start = int((s.start - offset) * SAMPLE_RATE)
                end = max(int((s.end - offset) * SAMPLE_RATE), start + int(MIN_SEGMENT_S * SAMPLE_RATE))
                prints[i] = printer(chunk[start:end].astype(np.float64))
        offset = chunk_end
    silent = printer(np.zeros(int(MIN_SEGMENT_S * SAMPLE_RATE)))
    return np.array([p if p is not None else silent for p in prints])


def cluster(prints: np.ndarray, max_speakers: int = 8, num_speakers: int | None = None,
            steady: np.ndarray | None = None, at_least: int | None = None) -> np.ndarray:
    """Cluster labels 0..k-1, numbered in order of first appearance. Only the
    `steady` prints (default: all) are clustered; the rest join the nearest
    cluster centre. A missing value (no pitch found) counts as the average.
    Without `num_speakers`, k is the best silhouette among 2..max_speakers, or
    with `at_least` (the names heard) among at_least and at_least + 1 (someone
    may never be named)."""
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    n = len(prints)
    steady = np.ones(n, dtype=bool) if steady is None else np.asarray(steady, dtype=bool)
    if steady.sum() < max(3, num_speakers or 0):
        steady = np.ones(n, dtype=bool)
    if n < 3 or num_speakers == 1:
        return np.zeros(n, dtype=int)
    prints = np.where(np.isnan(prints), np.nanmean(prints[steady], axis=0), prints)
    prints = np.nan_to_num(prints)  # a column with no value anywhere
    scaled = StandardScaler().fit(prints[steady]).transform(prints)  # (segments, print size)
    most = min(max_speakers, int(steady.sum()) - 1, (at_least + 1) if at_least else max_speakers)
    candidates = [num_speakers] if num_speakers else range(min(max(2, at_least or 2), most), most + 1)
    fits = {k: AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(scaled[steady]) for k in candidates}
    best = max(fits, key=lambda k: silhouette_score(scaled[steady], fits[k]))
    centres = np.stack([scaled[steady][fits[best] == k].mean(axis=0) for k in range(best)])  # (k, print size)
    labels = np.argmin(((scaled[:, None, :] - centres[None]) ** 2).sum(axis=-1), axis=1)
    labels[steady] = fits[best]
    order = {label: i for i, label in enumerate(dict.fromkeys(labels))}
    return np.array([order[label] for label in labels])


def diarize(chunks: Iterable[np.ndarray], segments: list[Segment], num_speakers: int | None = None,
            printer: Printer = voice_print, at_least: int | None = None) -> list[Segment]:
    """Copies of `segments` with speaker "Speaker 1".."Speaker N" (`at_least`: see cluster)."""
    if not segments:
        return []
    steady = np.array([s.end - s.start >= MIN_CLUSTERED_S for s in segments])
    labels = cluster(voice_prints(chunks, segments, printer), num_speakers=num_speakers, steady=steady,
                     at_least=at_least)
    return [Segment(s.start, s.end, s.text, f"Speaker {label + 1}") for s, label in zip(segments, labels)]


def count_from_names(segments: list[Segment]) -> dict:
    """diarize()'s count arguments from the names heard (people addressed, thanked or introduced):
    exactly that many voices when every one of them introduced themselves, else at least that many
    (someone may never be named); nothing when fewer than two names were heard."""
    heard = conversation.candidate_attendees(segments)
    if len(heard) < 2:
        return {}
    if set(heard) <= set(introduced_names(segments)):
        return {"num_speakers": len(heard)}
    return {"at_least": len(heard)}


def introduced_names(segments: list[Segment]) -> list[str]:
    """Names people gave for themselves ("I'm Priya"), in order: a hint for the number of voices."""
    return list(dict.fromkeys(name for s in segments for name in conversation.introductions(s.text)))


def names_from_introductions(segments: list[Segment]) -> dict[str, str]:
    """{"Speaker 2": "David"} for speakers who introduced themselves ("Hi, I'm David")."""
    names: dict[str, str] = {}
    for s in segments:
        name = conversation.introduced(s.text)
        if name and s.speaker and s.speaker not in names and name not in names.values():
            names[s.speaker] = name
    return names


def talk_time(segments: list[Segment]) -> dict[str, float]:
    """Seconds each speaker talked, longest first."""
    totals: dict[str, float] = {}
    for s in segments:
        totals[s.speaker] = totals.get(s.speaker, 0.0) + max(s.end - s.start, 0.0)
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def rename(segments: list[Segment], names: dict[str, str]) -> list[Segment]:
    return [Segment(s.start, s.end, s.text, names.get(s.speaker) or s.speaker) for s in segments]
