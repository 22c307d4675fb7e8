"""Meeting-minutes benchmark: speed of each stage on the bundled sample, the
extractive writer's action items after real speech recognition, the page's
own end-to-end time on the sample (AppTest), peak memory on a 2-hour
recording (made by sox), and PocketSphinx beside Whisper on the same clips
(the page's classic-ASR panel). Each figure comes with CPU seconds and the load average.

    PYTHONPATH=. .venv/bin/python benchmarks/meeting_minutes.py [--skip-long]
    PYTHONPATH=. .venv/bin/python benchmarks/meeting_minutes.py --classic   # that comparison alone

Each measurement runs in a fresh process so its peak RSS is its own."""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lib import device_policy, model_loading, model_registry
from lib.meeting_minutes import MEETING_DIR, SAMPLE_AUDIO, audio, classic_asr, diarize, evaluate, extractive, transcribe

TWO_HOURS_S = 2 * 3600


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    """CPU seconds this process used (user + system, all threads): on a shared
    machine a steadier figure than wall time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return round(usage.ru_utime + usage.ru_stime, 1)


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def page_end_to_end() -> dict:
    """The page itself (AppTest, the whole app, cold): the sample meeting,
    Transcribe, then Write the minutes; seconds from the click to the minutes."""
    from streamlit.testing.v1 import AppTest

    from lib import course

    key = "meeting_minutes"
    at = AppTest.from_file(str(course.ROOT / "streamlit_app.py"), default_timeout=600).run()
    at.switch_page(course.lesson(key).page).run()
    started, cpu_before = time.perf_counter(), cpu_s()
    at.button(key=f"{key}_transcribe").click().run()
    transcribed = time.perf_counter()
    at.button(key=f"{key}_write").click().run()
    minutes = at.session_state[f"{key}_minutes"]
    truth = json.loads((MEETING_DIR / "ground_truth.json").read_text())["action_items"]
    table = next(d for d in at.dataframe if d.key == f"{key}_actions").value
    return {"errors": [e.value for e in at.error] + [str(e.value) for e in at.exception],
            "transcribe_click_s": round(transcribed - started, 1),
            "write_click_s": round(time.perf_counter() - transcribed, 1),
            "page_end_to_end_s": round(time.perf_counter() - started, 1),
            "cpu_s": round(cpu_s() - cpu_before, 1), "action_table_rows": len(table),
            "action_items_right_owner": f"{evaluate.action_items_found(minutes.action_items, truth)}/{len(truth)}",
            "peak_rss_mb": round(peak_rss_mb()), "load_average": load_average()}


def sample_end_to_end(split_pauses: str) -> dict:
    """What the page does for the sample: load Whisper, transcribe, diarise, load MiniLM, write."""
    started = time.perf_counter()
    whisper = transcribe.load_whisper(model_registry.bundled_path("whisper-tiny.en"))
    segments, last = transcribe.run(whisper, str(SAMPLE_AUDIO), split_pauses=split_pauses == "split")
    asr_done = time.perf_counter()
    hint = len(diarize.introduced_names(segments)) or None
    segments = diarize.diarize(audio.chunks(str(SAMPLE_AUDIO)), segments, num_speakers=hint)
    segments = diarize.rename(segments, diarize.names_from_introductions(segments))
    diarised = time.perf_counter()
    minutes = extractive.write(model_loading.load("minilm", "encoder"), segments)
    truth = json.loads((MEETING_DIR / "ground_truth.json").read_text())["action_items"]
    return {"audio_s": round(last.total_s, 1), "asr_s": round(last.elapsed_s, 1),
            "real_time_factor": round(last.real_time_factor, 3),
            "diarisation_s": round(diarised - asr_done, 1),
            "writer_s_incl_minilm_load": round(time.perf_counter() - diarised, 1),
            "end_to_end_s": round(time.perf_counter() - started, 1),
            "action_items_right_owner": f"{evaluate.action_items_found(minutes.action_items, truth)}/{len(truth)}",
            "speakers_named": sorted({s.speaker for s in segments}), "cpu_s": cpu_s(),
            "peak_rss_mb": round(peak_rss_mb()), "load_average": load_average()}


def long_file(path: str) -> dict:
    """Transcribe and diarise a 2-hour file chunk by chunk; report progress and peak RSS."""
    started = time.perf_counter()
    whisper = transcribe.load_whisper(model_registry.bundled_path("whisper-tiny.en"))
    segments, last = [], None
    for last in transcribe.transcribe(whisper, path):
        segments += last.segments
        if not last.segments:
            print(f"  {last.done_s / 60:5.0f} min of {last.total_s / 60:.0f} · RTF {last.real_time_factor:.3f} "
                  f"· peak RSS {peak_rss_mb():.0f} MB", file=sys.stderr, flush=True)
    diarize.diarize(audio.chunks(path), segments)
    return {"audio_s": round(last.total_s), "segments": len(segments), "real_time_factor": round(last.real_time_factor, 3),
            "total_s": round(time.perf_counter() - started), "cpu_s": cpu_s(), "peak_rss_mb": round(peak_rss_mb()),
            "load_average": load_average()}


def classic_versus_whisper() -> dict:
    """PocketSphinx and Whisper tiny.en (the page's classic-ASR panel) on the five
    LibriVox clips together (WER weighted by words) and on the sample's first turns."""
    import soundfile as sf

    whisper = transcribe.load_whisper(model_registry.bundled_path("whisper-tiny.en"))
    turns = json.loads((MEETING_DIR / "sample_turns.json").read_text())
    seconds, script = classic_asr.sample_clip(turns, classic_asr.MAX_SECONDS)
    sets = {"librivox": [(sf.read(path, dtype="float32")[0], reference)
                         for path, reference in classic_asr.librivox_clips().values()],
            f"sample first {seconds} s": [(classic_asr.first_seconds(str(SAMPLE_AUDIO), seconds), script)]}
    report = {}
    for name, pairs in sets.items():
        totals: dict[str, list[float]] = {}
        for samples, reference in pairs:
            words = len(evaluate.normalise_words(reference))
            for run in classic_asr.compare(samples, whisper, reference):
                t = totals.setdefault(run.system, [0, 0, 0, 0, 0])
                for i, value in enumerate((run.word_error_rate * words, words, run.elapsed_s, run.cpu_s, run.audio_s)):
                    t[i] += value
        report[name] = {system: {"wer": round(t[0] / t[1], 3), "words": t[1], "audio_s": round(t[4], 1),
                                 "wall_s": round(t[2], 1), "cpu_s": round(t[3], 1), "rtf": round(t[2] / t[4], 3),
                                 "cpu_rtf": round(t[3] / t[4], 3)} for system, t in totals.items()}
    return {**report, "load_average": load_average()}


def make_two_hour_file(folder: Path) -> Path:
    """The sample meeting followed by quiet pink noise up to two hours (opus, 16 kHz mono)."""
    target = folder / "two_hours.ogg"
    subprocess.run(["sox", str(SAMPLE_AUDIO), "-r", "16000", "-c", "1", str(folder / "meeting.wav")], check=True)
    rest = TWO_HOURS_S - audio.probe(str(SAMPLE_AUDIO)).duration
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(folder / "noise.wav"), "synth", str(rest),
                    "pinknoise", "vol", "0.01"], check=True)
    subprocess.run(["sox", str(folder / "meeting.wav"), str(folder / "noise.wav"), str(target)], check=True)
    return target


def in_subprocess(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-P", __file__, *args], capture_output=True, text=True, check=True)
    sys.stderr.write(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    print(f"device: {device_policy.best_device()}, CPU threads: {device_policy.device_report()['cpu_threads']}")
    for mode in ("plain", "split"):
        print(f"sample, {mode} segments:", json.dumps(in_subprocess("--sample", mode)))
    print("sample on the page:", json.dumps(in_subprocess("--page")))
    print("PocketSphinx vs Whisper:", json.dumps(in_subprocess("--classic")))
    if "--skip-long" not in sys.argv:
        with tempfile.TemporaryDirectory() as tmp:
            path = make_two_hour_file(Path(tmp))
            print(f"2-hour file: {path.stat().st_size / 1e6:.1f} MB")
            print("2-hour file:", json.dumps(in_subprocess("--long", str(path))))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--sample"]:
        print(json.dumps(sample_end_to_end(sys.argv[2])))
    elif sys.argv[1:2] == ["--page"]:
        print(json.dumps(page_end_to_end()))
    elif sys.argv[1:2] == ["--classic"]:
        print(json.dumps(classic_versus_whisper()))
    elif sys.argv[1:2] == ["--long"]:
        print(json.dumps(long_file(sys.argv[2])))
    else:
        main()
