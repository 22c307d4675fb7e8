"""Synthesise the bundled sample meeting from assets/meeting/script.json.

Each turn is spoken by espeak-ng with the speaker's own voice, pitch and speed,
resampled by sox to 16 kHz mono, and joined with short pauses into
assets/meeting/sample_meeting.ogg. The turn timings go to
assets/meeting/sample_turns.json (the diarisation reference).

    .venv/bin/python scripts/make_sample_meeting.py
"""
from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import soundfile as sf

MEETING_DIR = Path(__file__).resolve().parent.parent / "assets" / "meeting"
SAMPLE_RATE = 16_000
PAUSE_S = 1.0


def speak(text: str, voice: dict, wav_path: Path) -> None:
    raw = wav_path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice["voice"], "-p", str(voice["pitch"]),
                    "-s", str(voice["speed"]), "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", str(wav_path)],
                   check=True)


def main() -> None:
    script = json.loads((MEETING_DIR / "script.json").read_text())
    pause = [0.0] * int(PAUSE_S * SAMPLE_RATE)
    audio: list[float] = []
    turns = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (speaker, text) in enumerate(script["turns"]):
            wav = Path(tmp) / f"turn{i}.wav"
            speak(text, script["voices"][speaker], wav)
            samples, _ = sf.read(wav, dtype="float32")
            start = len(audio) / SAMPLE_RATE
            audio.extend(samples.tolist())
            turns.append({"speaker": speaker, "start": round(start, 2),
                          "end": round(len(audio) / SAMPLE_RATE, 2), "text": text})
            audio.extend(pause)
        joined = Path(tmp) / "meeting.wav"
        sf.write(joined, audio, SAMPLE_RATE, subtype="PCM_16")
        target = MEETING_DIR / "sample_meeting.ogg"
        subprocess.run(["sox", str(joined), "-C", "3", str(target)], check=True)
    (MEETING_DIR / "sample_turns.json").write_text(json.dumps(turns, indent=1) + "\n")
    print(f"{target}: {len(audio) / SAMPLE_RATE:.1f} s, {target.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
