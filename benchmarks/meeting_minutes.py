"""Meeting-minutes benchmark: speed of each stage on the bundled sample, the
extractive writer's action items after real speech recognition, the page's
own end-to-end time on the sample (AppTest), peak memory on a 2-hour
recording (made by sox), and PocketSphinx beside Whisper on the same clips
(the page's classic-ASR panel). Each figure comes with CPU seconds and the load average.

    PYTHONPATH=. .venv/bin/python benchmarks/meeting_minutes.py [--skip-long]
    PYTHONPATH=. .venv/bin/python benchmarks/meeting_minutes.py --classic   # that comparison alone
    PYTHONPATH=. .venv/bin/python benchmarks/meeting_minutes.py --eval [--llm 2] [--cached-only]   # the evaluation set
    PYTHONPATH=. .venv/bin/python benchmarks/meeting_minutes.py --eval-llm 2   # SmolLM2 alone
    PYTHONPATH=. .venv/bin/python benchmarks/meeting_minutes.py --true-speakers   # the voices' ceiling

`--eval` scores the writers on the synthetic evaluation set (assets/meeting/eval/, made by
`python -m lib.meeting_minutes.synthetic`) with the page's defaults: Whisper (each bundled size:
base, the default, and tiny.en) split at pauses, voices clustered with the names heard as a guide
and named from the conversation, the extractive writer; the same on five meetings of new seeds
(NEW_SEEDS, never looked at while writing rules) and on the meetings written by hand
(assets/meeting/handwritten/, in other words than the generator's phrase banks); the default size
once more with each meeting's attendees typed in as its invitation would list them; with `--llm N`,
SmolLM2 (grammar-constrained) on the N shortest generated meetings.
Transcripts are cached by the audio's SHA-1 under .cache/glassbox/meeting_eval/, so reruns and
rule development do not run Whisper again. It also measures both voice prints (MFCC + pitch,
Resemblyzer's GE2E) on the set and on real voices stitched from pocketsphinx-testdata.

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
from lib.meeting_minutes import (
    MEETING_DIR,
    SAMPLE_AUDIO,
    audio,
    classic_asr,
    conversation,
    diarize,
    evaluate,
    extractive,
    llm,
    schema,
    synthetic,
    transcribe,
)

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
    whisper = transcribe.load_whisper(transcribe.model_source(transcribe.DEFAULT_SIZE))
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
    whisper = transcribe.load_whisper(transcribe.model_source(transcribe.DEFAULT_SIZE))
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

    whisper = transcribe.load_whisper(transcribe.model_source(transcribe.DEFAULT_SIZE))
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


def transcript_cache(path: Path, size: str = transcribe.DEFAULT_SIZE) -> Path:
    """The cached transcript of `path`, named for the audio's SHA-1, the size and the pause rules
    (a change to those rules is a new transcript)."""
    import hashlib

    split = f"pause{transcribe.PAUSE_S}-{transcribe.SENTENCE_PAUSE_S}"
    return synthetic.CACHE_DIR / f"{hashlib.sha1(path.read_bytes()).hexdigest()}.{size}.{split}.json"


def cached_transcript(path: Path, size: str = transcribe.DEFAULT_SIZE) -> list[schema.Segment]:
    """Whisper's segments (a bundled size, split at pauses as on the page), cached by the audio's SHA-1."""
    from dataclasses import asdict

    cache = transcript_cache(path, size)
    if not cache.exists():
        whisper = transcribe.load_whisper(transcribe.model_source(size))
        segments, _ = transcribe.run(whisper, str(path), split_pauses=True)
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps([asdict(s) for s in segments]))
    return [schema.Segment(**d) for d in json.loads(cache.read_text())]


PAGE_PRINTER = "MFCC + pitch"  # the page's default voice print


def printers() -> dict:
    return {PAGE_PRINTER: diarize.voice_print,
            "GE2E (Resemblyzer)": diarize.ge2e_printer(model_registry.bundled_path("resemblyzer-ge2e"))}


def diarised(path: Path, segments: list[schema.Segment], printer=diarize.voice_print) -> list[schema.Segment]:
    """Voices clustered as the page does, the number of voices guided by the names heard."""
    return diarize.diarize(audio.chunks(str(path)), segments, printer=printer, **diarize.count_from_names(segments))


def page_named(labelled: list[schema.Segment]) -> list[schema.Segment]:
    """The voices named as the page fills its name boxes."""
    return diarize.rename(labelled, {label: name for label, (name, _) in conversation.name_voices(labelled).items()})


def as_page_does(path: Path, segments: list[schema.Segment], printer=diarize.voice_print) -> list[schema.Segment]:
    return page_named(diarised(path, segments, printer))


# Meetings from the same generator that no rule was written against: scored beside the evaluation
# set to show how much of its score is fitted to it (same fields as synthetic.EVAL_SET).
NEW_SEEDS = [(201, 3, 2, False, "2026-05-20", 0), (202, 4, 2, True, "2026-08-12", 0), (203, 5, 2, False, "2026-10-01", 1),
             (204, 2, 1, False, "2026-01-14", 0), (205, 6, 3, True, "2026-04-02", 0)]


# Each bundled size as a new user runs the page, and the default size once more with the meeting's
# attendees typed in "Who is in the meeting?" (as from its invitation): names heard are spelled as given.
NAMES_GIVEN = " + names"
WHISPER_RUNS = [(size, False) for size in transcribe.BUNDLED_SIZES] + [(transcribe.DEFAULT_SIZE, True)]


def evaluation_sets() -> dict[str, dict]:
    return {"generated": synthetic.eval_scripts(),
            "new seeds": {f"meeting_{args[0]}": synthetic.compose(*args) for args in NEW_SEEDS},
            "handwritten": synthetic.eval_scripts(synthetic.HANDWRITTEN_DIR)}


def true_speakers_ceiling(size: str = transcribe.DEFAULT_SIZE) -> dict:
    """Scores with each Whisper segment given the name of the true speaker it overlaps most: what
    the rules make of these transcripts when clustering and naming the voices cannot be wrong."""
    encoder = model_loading.load("minilm", "encoder")
    totals = {}
    for set_name, scripts in evaluation_sets().items():
        for script in scripts.values():
            path, turns = synthetic.rendered(script)

            def speaker(segment, turns=turns) -> str:
                return max(turns, key=lambda t: min(t["end"], segment.end) - max(t["start"], segment.start))["speaker"]

            named = [schema.Segment(s.start, s.end, s.text, speaker(s)) for s in cached_transcript(path, size)]
            scores = evaluate.score_minutes(extractive.write(encoder, named, date=script["date"]), script["truth"])
            totals[set_name] = {k: totals.get(set_name, {}).get(k, 0) + v for k, v in scores.items()}
    return totals


def evaluation_set(llm_meetings: int, extractive_too: bool = True, cached_only: bool = False) -> dict:
    """Every writer's scores on every meeting of the evaluation set, and the two voice prints' DER
    (`extractive_too=False`: the LLM runs alone; `cached_only`: meetings not transcribed yet are
    listed as skipped, for a busy machine)."""
    encoder = model_loading.load("minilm", "encoder")
    voices = printers()
    rows, llm_rows = [], []
    skipped = []
    sets = evaluation_sets()
    for size, given in WHISPER_RUNS if extractive_too else ():
        for set_name, name, script in ((k, n, sc) for k, found in sets.items() for n, sc in found.items()):
            path, turns = synthetic.rendered(script)
            run = size + (NAMES_GIVEN if given else "")
            if cached_only and not transcript_cache(path, size).exists():
                skipped.append(f"{name} ({run})")
                continue
            segments = cached_transcript(path, size)
            if given:
                segments, _ = conversation.spelled_as_given(segments, script["truth"]["attendees"])
            labelled = {label: diarised(path, segments, printer) for label, printer in voices.items()}
            ders = {label: round(evaluate.diarisation_error_rate(turns, found), 3) for label, found in labelled.items()}
            minutes = extractive.write(encoder, page_named(labelled[PAGE_PRINTER]), date=script["date"])  # not clustered again
            rows.append({"set": set_name, "meeting": name, "whisper": run, "minutes": round(turns[-1]["end"] / 60, 1),
                         "speakers": len(script["voices"]), "introductions": script["introductions"],
                         "writer": "extractive", **evaluate.score_minutes(minutes, script["truth"]), "der": ders,
                         "location": [minutes.location, script["truth"]["location"]],
                         "next_meeting": [minutes.next_meeting, script["truth"]["next_meeting"]]})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    if llm_meetings:
        decoder = model_loading.load("smollm2-135m", "decoder")
        scripts = sets["generated"]
        shortest = sorted(scripts, key=lambda n: len(" ".join(t["text"] for t in scripts[n]["turns"])))[:llm_meetings]
        for name in shortest:
            script = scripts[name]
            path, _ = synthetic.rendered(script)
            named = as_page_does(path, cached_transcript(path))
            started, replies = time.perf_counter(), []
            complete = llm.local_complete(decoder)

            def recording(messages, max_new_tokens, json_schema=None, complete=complete, replies=replies):
                pieces = list(complete(messages, max_new_tokens, json_schema))
                if json_schema is not None:
                    replies.append("".join(pieces))
                yield from pieces

            events = list(llm.map_reduce(recording, named, llm.count_tokens_with(decoder.tokenizer),
                                         llm.context_window(decoder), date=script["date"]))
            valid = schema.matches_schema(json.loads(replies[-1]))
            llm_rows.append({"meeting": name, "writer": "SmolLM2-135M, grammar-constrained", "schema_valid": valid,
                             "seconds": round(time.perf_counter() - started), "reply": replies[-1][:600],
                             **evaluate.score_minutes(events[-1].minutes, script["truth"])})
            print(json.dumps(llm_rows[-1]), file=sys.stderr, flush=True)
    return {"extractive": rows, "skipped": skipped, "llm": llm_rows,
            "real_voices": real_voices_der(voices) if extractive_too else {},
            "cpu_s": cpu_s(), "load_average": load_average()}


def percent(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.0%})" if whole else "-"


def eval_tables(report: dict) -> str:
    """The evaluation set's scores as Markdown: totals per writer, then one row per meeting."""
    def total(key: str, of: str, items) -> str:
        return percent(sum(r[key] for r in items), sum(r[of] for r in items))

    lines = ["| meetings | writer | Whisper | count | attendees recall | action items found | owner correct | "
             "due date correct | decisions recall | DER, MFCC + pitch | DER, GE2E |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    set_names = dict.fromkeys(r["set"] for r in report["extractive"])
    labels = dict.fromkeys(r["whisper"] for r in report["extractive"])
    for set_name, size in ((k, z) for k in set_names for z in labels):
        sized = [r for r in report["extractive"] if r["whisper"] == size and r["set"] == set_name]
        if sized:
            mean = {k: sum(r["der"][k] for r in sized) / len(sized) for k in sized[0]["der"]}
            lines.append(f"| {set_name} | extractive | {size} | {len(sized)} | {total('attendees', 'attendees_total', sized)} | "
                         f"{total('found', 'actions', sized)} | {total('owner', 'actions', sized)} | "
                         f"{total('due', 'dated', sized)} | {total('decisions', 'decisions_total', sized)} | "
                         + " | ".join(f"{v:.3f}" for v in mean.values()) + " |")
    rows = [r for r in report["extractive"] if r["whisper"] == transcribe.DEFAULT_SIZE]  # every set
    llm_rows = report.get("llm", [])
    if llm_rows:
        valid = sum(r["schema_valid"] for r in llm_rows)
        lines.append(f"| generated | SmolLM2-135M, grammar-constrained ({valid}/{len(llm_rows)} schema-valid) | "
                     f"{transcribe.DEFAULT_SIZE} | {len(llm_rows)} | "
                     f"{total('attendees', 'attendees_total', llm_rows)} | {total('found', 'actions', llm_rows)} | "
                     f"{total('owner', 'actions', llm_rows)} | {total('due', 'dated', llm_rows)} | "
                     f"{total('decisions', 'decisions_total', llm_rows)} | - | - |")
    lines += ["", f"Per meeting, Whisper {transcribe.DEFAULT_SIZE}:", "", "| meeting | minutes | speakers | introductions | attendees | found | owner | due | decisions | "
              "DER MFCC / GE2E | location (found / true) | next meeting (found / true) |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['meeting']} | {r['minutes']} | {r['speakers']} | {'yes' if r['introductions'] else 'no'} | "
                     f"{r['attendees']}/{r['attendees_total']} | {r['found']}/{r['actions']} | {r['owner']}/{r['actions']} "
                     f"| {r['due']}/{r['dated']} | {r['decisions']}/{r['decisions_total']} | "
                     + " / ".join(f"{v:.2f}" for v in r["der"].values())
                     + f" | {r['location'][0] or '-'} / {r['location'][1] or '-'} "
                       f"| {r['next_meeting'][0] or '-'} / {r['next_meeting'][1] or '-'} |")
    return "\n".join(lines)


REAL_VOICE_DIR = Path("/usr/share/pocketsphinx/test/data")


def real_voices_der(voices: dict) -> dict:
    """DER of each voice print on real recordings from pocketsphinx-testdata stitched into one
    'meeting': the LibriVox reader's five clips alternating with the three clips of the package's
    own test speaker (goforward, numbers, something: 16 kHz raw), 0.3 s apart."""
    import tempfile

    import numpy as np
    import soundfile as sf

    librivox = sorted((REAL_VOICE_DIR / "librivox").glob("*.wav"))
    other = [REAL_VOICE_DIR / f"{n}.raw" for n in ("goforward", "numbers", "something")]
    if not librivox or not all(p.exists() for p in other):
        return {"skipped": "pocketsphinx-testdata is not installed"}
    clips = [("LibriVox reader", sf.read(p, dtype="float32")[0]) for p in librivox]
    clips_b = [("test speaker", np.fromfile(p, dtype="<i2").astype(np.float32) / 32768) for p in other]
    order = [c for pair in zip(clips, clips_b + clips_b[:2]) for c in pair]
    pause = np.zeros(int(0.3 * audio.SAMPLE_RATE), np.float32)
    turns, parts, clock = [], [], 0.0
    for speaker, samples in order:
        turns.append({"speaker": speaker, "start": round(clock, 2), "end": round(clock + len(samples) / 16000, 2)})
        parts += [samples, pause]
        clock += (len(samples) + len(pause)) / audio.SAMPLE_RATE
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stitched.wav"
        sf.write(path, np.concatenate(parts), audio.SAMPLE_RATE, subtype="PCM_16")
        segments = cached_transcript(path)
        found = {label: round(evaluate.diarisation_error_rate(
            turns, diarize.diarize(audio.chunks(str(path)), segments, printer=printer)), 3)
            for label, printer in voices.items()}
    return {"audio_s": round(clock, 1), "turns": len(turns), "segments": len(segments), **found}


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
    elif sys.argv[1:2] == ["--eval"]:
        found = evaluation_set(int(sys.argv[3]) if sys.argv[2:3] == ["--llm"] else 0,
                               cached_only="--cached-only" in sys.argv)
        print(eval_tables(found), file=sys.stderr)
        print(json.dumps(found))
    elif sys.argv[1:2] == ["--true-speakers"]:
        print(json.dumps(true_speakers_ceiling()))
    elif sys.argv[1:2] == ["--eval-llm"]:
        print(json.dumps(evaluation_set(int(sys.argv[2]), extractive_too=False)))
    elif sys.argv[1:2] == ["--long"]:
        print(json.dumps(long_file(sys.argv[2])))
    else:
        main()
