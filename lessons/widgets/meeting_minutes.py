"""Streamlit pieces of the meeting-minutes lesson: the settings shared by link,
the live transcription, the segment table that plays the audio from a clicked
segment, the writers' runs and the downloads. The work itself is done by
lib/meeting_minutes."""
from __future__ import annotations

import hashlib
import json
import re
import time

import numpy as np
import pandas as pd
import streamlit as st

from lessons.widgets import common
from lib import inference_server, meeting_minutes, model_loading, model_registry, urlstate
from lib.meeting_minutes import (
    MEETING_DIR,
    audio,
    classic_asr,
    conversation,
    diarize,
    evaluate,
    extractive,
    llm,
    schema,
    transcribe,
    transcript,
)

KEY = "meeting_minutes"
SOURCES = ["The sample meeting", "An audio file", "A recording", "A transcript"]
WRITERS = ["Extractive (MiniLM + rules)", "Local LLM", "Inference server"]
VOICES = ["MFCC statistics (offline)", "GE2E d-vectors (Resemblyzer, offline)", "WavLM x-vectors (Hub)"]
SHORT_MEETING = ("Maria: We agreed to hold the science fair in the gym.\n"
                 "David: I will book the gym by Friday.\n"
                 "Maria: Tom, could you set up the laptops before the fair?\n"
                 "Tom: Sure, I will do it next week.")


def server_secrets() -> dict:
    """[minutes_server] url / model / api_key / context from .streamlit/secrets.toml, if any;
    else the deployment's inference server (GLASSBOX_INFERENCE_URL, README "Deploy for a school")."""
    try:
        secrets = dict(st.secrets.get("minutes_server", {}))
    except Exception:  # noqa: BLE001 - no secrets file is the normal case
        secrets = {}
    server = inference_server.configured()
    if secrets or server is None:
        return secrets
    return {"url": server.url, "model": server.model, "api_key": server.api_key}


def whisper_sizes() -> list[str]:
    return list(transcribe.BUNDLED_SIZES) + (transcribe.HUB_SIZES if common.hub_enabled() else [])


def voice_choices() -> list[str]:
    return VOICES if common.hub_enabled() else VOICES[:2]


SHARED = {
    "src": urlstate.Choice(f"{KEY}_source", SOURCES[0], SOURCES),
    "text": urlstate.Text(f"{KEY}_pasted", ""),
    "whisper": urlstate.Choice(f"{KEY}_whisper", transcribe.DEFAULT_SIZE, whisper_sizes),
    "split": urlstate.Bool(f"{KEY}_split", True),
    "spk": urlstate.Int(f"{KEY}_speakers", 0, 0, 8),
    "voices": urlstate.Choice(f"{KEY}_voices", VOICES[0], voice_choices),
    "writer": urlstate.Choice(f"{KEY}_writer", WRITERS[0], WRITERS),
    "ctx": urlstate.Int(f"{KEY}_server_context", int(server_secrets().get("context", 8192)), 512, 1_000_000),
}
PRESETS = {
    "Sample meeting, four voices": {"spk": 4},
    "Whisper's own segments": {"split": False},
    "A typed transcript, no Whisper": {"src": "A transcript", "text": SHORT_MEETING},
}


def state(name: str, default=None):
    return st.session_state.get(f"{KEY}_{name}", default)


def remember(name: str, value) -> None:
    st.session_state[f"{KEY}_{name}"] = value


RESULTS = ("segments", "minutes", "language", "timings", "segment_table", "actions", "play_bullet", "name_evidence",
           "llm_prompts", "names_spelled")


def keep_results_of(source: str, audio_bytes: bytes | None) -> None:
    """Forget the transcript, the voices' names and the minutes when they were made from another
    source than the one picked now (its kind, and a digest of its audio), so the page never shows
    one meeting's transcript under another's recording."""
    current = source if audio_bytes is None else f"{source}:{hashlib.sha1(audio_bytes).hexdigest()}"
    if state("source_id") != current:
        stale = {f"{KEY}_{name}" for name in RESULTS}
        for key in [k for k in st.session_state if k in stale or k.startswith(f"{KEY}_name_")]:
            del st.session_state[key]
        remember("source_id", current)


def record_time(stage: str, seconds: float, detail: str = "") -> None:
    timings = dict(state("timings", {}))
    timings[stage] = {"seconds": round(seconds, 2), "detail": detail}
    remember("timings", timings)


def run_transcription(audio_bytes: bytes, size: str, split_pauses: bool) -> int | None:
    """Transcribe with a live progress bar, segments appearing as they arrive and
    a Stop button; what was transcribed before a stop or an error is kept.
    Returns the number of segments, or None when the audio or model is unusable."""
    remember("segments", [])
    try:
        info = audio.probe(audio_bytes)
        model = common.whisper(size, common.device())
    except (audio.AudioError, model_registry.ModelUnavailable) as err:
        st.error(str(err))
        return None
    if info.duration > 20 * 60:
        st.warning(f"This recording is {info.duration / 60:.0f} minutes long. It is read in "
                   f"{audio.CHUNK_SECONDS // 60}-minute chunks, so memory stays small, but it will take "
                   "a while: press Stop at any time to keep what is done.")
    controls = st.empty()  # the Stop button and the bar, only while the job runs
    with controls.container():
        st.button("Stop", icon=":material/stop_circle:", key=f"{KEY}_stop")
        bar = st.progress(0.0, text="Transcribing…")
    live = st.empty()
    segments: list[schema.Segment] = []
    remember("segments", segments)
    last = None
    try:
        for last in transcribe.transcribe(model, audio_bytes, split_pauses=split_pauses):
            segments.extend(last.segments)
            bar.progress(min(last.done_s / last.total_s, 1.0),
                         text=f"{last.done_s:,.0f} s of {last.total_s:,.0f} s · real-time factor "
                              f"{last.real_time_factor:.2f} · {len(segments)} segments")
            if last.segments:
                live.dataframe(segment_table(segments[-8:]), hide_index=True, width="stretch")
    except (audio.AudioError, RuntimeError) as err:  # RuntimeError: CTranslate2 (e.g. out of GPU memory)
        st.error(f"{err} The {len(segments)} segments before that point are kept.")
    controls.empty()
    live.empty()
    if last:
        record_time("Speech → text (Whisper)", last.elapsed_s,
                    f"{last.total_s:.0f} s of audio, real-time factor {last.real_time_factor:.2f}")
        remember("language", last.language or "en")
    return len(segments)


def speaker_facts() -> dict:
    """The offline voice print's settings, for the lesson text."""
    lowest, highest = diarize.PITCH_RANGE_HZ
    return dict(lowest_hz=lowest, highest_hz=highest, steady_s=f"{diarize.MIN_CLUSTERED_S:g}")


def voice_picker() -> str:
    """Which voice prints the diarisation clusters: hand-made MFCC statistics, or a trained speaker
    network (GE2E offline, WavLM with the Hub)."""
    return st.selectbox("Voice prints (who spoke)", voice_choices(), key=f"{KEY}_voices",
                        help="MFCC statistics + pitch: hand-made, nothing to load. GE2E: Resemblyzer's LSTM, trained "
                             "to tell thousands of speakers apart (its weights come inside its PyPI package). WavLM "
                             "x-vectors (microsoft/wavlm-base-plus-sv): from the Hub, when the sidebar allows it. "
                             "benchmarks/README.md compares them on synthetic and real voices.")


@st.cache_resource(max_entries=1, show_spinner="Loading the GE2E speaker encoder (once for the whole class)…")
def ge2e_printer() -> diarize.Printer:
    """Resemblyzer's encoder, shared by the class (inference only: nothing in it changes)."""
    return diarize.ge2e_printer(model_registry.bundled_path("resemblyzer-ge2e"))


def voice_printer(voices: str) -> tuple[diarize.Printer, str]:
    """The chosen voice-print function and its name; MFCC, with a notice, when the network cannot load."""
    if voices == VOICES[0]:
        return diarize.voice_print, "MFCC statistics"
    if voices == VOICES[1]:
        try:
            return ge2e_printer(), "GE2E d-vectors"
        except model_registry.ModelUnavailable as err:
            st.warning(f"{err} Telling the voices apart with MFCC statistics instead.", icon=":material/extension:")
            return diarize.voice_print, "MFCC statistics"
    try:
        if not common.hub_enabled():
            raise model_registry.ModelUnavailable("The HuggingFace Hub is not enabled or not reachable.")
        with st.spinner("Loading WavLM x-vectors (once for the whole class)…"):
            loaded = model_loading.shared("wavlm-sv", role="speaker", device=common.device())
    except model_registry.ModelUnavailable as err:
        st.warning(f"{err} Telling the voices apart with MFCC statistics instead.", icon=":material/cloud_off:")
        return diarize.voice_print, "MFCC statistics"
    return diarize.xvector_printer(loaded), "WavLM x-vectors"


def spell_names_as_given(names: list[str]) -> None:
    """Names Whisper spelled by their sound, written as the student typed them (kept to be shown)."""
    segments, changed = conversation.spelled_as_given(state("segments", []), names)
    remember("segments", segments)
    remember("names_spelled", changed)


def run_diarization(audio_bytes: bytes, num_speakers: int, voices: str = VOICES[0]) -> None:
    segments = state("segments", [])
    if not segments:
        return
    printer, name = voice_printer(voices)
    started = time.perf_counter()
    with st.spinner("Telling the voices apart…"):
        count = {"num_speakers": num_speakers} if num_speakers else diarize.count_from_names(segments)
        try:
            labelled = diarize.diarize(audio.chunks(audio_bytes), segments, printer=printer, **count)
        except RuntimeError as err:  # the speaker network failed (e.g. out of GPU memory)
            st.warning(f"The speaker network failed ({str(err)[:160]}). Telling the voices apart with MFCC "
                       "statistics instead.", icon=":material/error:")
            name = "MFCC statistics"
            labelled = diarize.diarize(audio.chunks(audio_bytes), segments, **count)
    record_time(f"Who spoke ({name} + clustering)", time.perf_counter() - started,
                f"{len(set(s.speaker for s in labelled))} voices in {len(labelled)} segments")
    remember("segments", labelled)
    named = conversation.name_voices(labelled)
    remember("name_evidence", {label: evidence for label, (_, evidence) in named.items()})
    for label, (person, _) in named.items():
        st.session_state[f"{KEY}_name_{label}"] = person


CLASSIC = "Compare with classic ASR (pocketsphinx, HMM + n-gram)"


def comparison_clips(audio_bytes: bytes, sample: bool) -> dict[str, tuple]:
    """{label: (source, seconds, reference or None)}: the current audio's first
    seconds (with the script as reference for the sample), and the LibriVox clips."""
    if sample:
        seconds, reference = classic_asr.sample_clip(json.loads((MEETING_DIR / "sample_turns.json").read_text()),
                                                     classic_asr.MAX_SECONDS)
        clips = {f"The sample meeting, first {seconds:.1f} s": (audio_bytes, seconds, reference)}
    else:
        clips = {f"This recording, first {classic_asr.MAX_SECONDS} s": (audio_bytes, classic_asr.MAX_SECONDS, None)}
    for name, (path, reference) in classic_asr.librivox_clips().items():
        clips[f"LibriVox: Sense and Sensibility, clip {name.rsplit('-', 1)[-1]}"] = \
            (str(path), classic_asr.MAX_SECONDS, reference)
    return clips


def classic_asr_panel(audio_bytes: bytes, size: str, sample: bool) -> None:
    """One click: PocketSphinx and Whisper on the same clip, side by side."""
    with st.expander(CLASSIC):
        common.lesson_text(KEY, "classic")
        if not classic_asr.available():
            st.info("The classic recogniser needs the `pocketsphinx` package (its English models come inside "
                    "it): `pip install pocketsphinx`, then reload the page.", icon=":material/extension:")
            return
        clips = comparison_clips(audio_bytes, sample)
        label = st.selectbox("Clip", list(clips), key=f"{KEY}_classic_clip")
        tag = (label, state("source_id"), size)
        if st.button(CLASSIC, key=f"{KEY}_classic"):
            remember("classic_runs", (tag, run_comparison(size, *clips[label])))
        done = state("classic_runs")
        if done and done[0] == tag and done[1]:
            show_comparison(done[1], clips[label][2])


def run_comparison(size: str, source, seconds: float, reference: str | None) -> list | None:
    """PocketSphinx (with a progress bar), then Whisper, on the first `seconds` of `source`."""
    try:
        samples = classic_asr.first_seconds(source, seconds)
        model = common.whisper(size, common.device())
    except (audio.AudioError, model_registry.ModelUnavailable) as err:
        st.error(str(err))
        return None
    bar = st.progress(0.0, text="PocketSphinx…")

    def step(done: float, total: float) -> None:
        bar.progress(min(done / max(total, 1e-9), 1.0), text=f"PocketSphinx: {done:.0f} s of {total:.0f} s")

    try:
        with st.spinner("Transcribing the clip with PocketSphinx, then Whisper…"):
            runs = classic_asr.compare(samples, model, reference, f"Whisper {size}", step)
    except (classic_asr.Unavailable, audio.AudioError) as err:
        st.error(str(err))
        return None
    finally:
        bar.empty()
    return runs


def show_comparison(runs: list, reference: str | None) -> None:
    for column, run in zip(st.columns(len(runs)), runs):
        column.markdown(f"**{run.system}**")
        left, right = column.columns(2)
        left.metric("Word error rate", "—" if run.word_error_rate is None else f"{run.word_error_rate:.0%}")
        right.metric("Real-time factor", f"{run.real_time_factor:.2f}",
                     help=f"{run.elapsed_s:.1f} s of computing for {run.audio_s:.1f} s of audio")
        column.code(run.text or "(no words)", language=None, wrap_lines=True)
    if reference:
        st.caption(f"Reference (what was said): {escape_markdown(reference)}")
    else:
        st.caption("This recording has no reference transcript, so there is no word error rate: "
                   "pick the sample meeting or a LibriVox clip to score both.")


def segment_table(segments: list[schema.Segment]) -> pd.DataFrame:
    return pd.DataFrame({"start": [f"{int(s.start // 60):02d}:{s.start % 60:04.1f}" for s in segments],
                         "speaker": [s.speaker for s in segments], "text": [s.text for s in segments]})


def named_segments() -> list[schema.Segment]:
    """The transcript with the speaker names the student typed."""
    segments = state("segments", [])
    names = {s.speaker: st.session_state.get(f"{KEY}_name_{s.speaker}", "").strip() for s in segments}
    return diarize.rename(segments, names)


def speaker_names() -> None:
    """A name box per clustered voice, filled in from introductions."""
    labels = list(dict.fromkeys(s.speaker for s in state("segments", []) if s.speaker.startswith("Speaker ")))
    if not labels:
        return
    st.caption("Rename the voices. Names heard in the conversation are filled in (an introduction, an answer "
               "just after someone was addressed by name, thanks just after speaking): hover over the ⓘ to see why.")
    evidence = state("name_evidence", {})
    for column, label in zip(st.columns(min(len(labels), 4)) * 2, labels):
        column.text_input(label, key=f"{KEY}_name_{label}", placeholder=label,
                          help=evidence.get(label, "Nothing said in the meeting names this voice: type a name."))


@st.cache_data(show_spinner=False)
def sample_picture() -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """The sample meeting's loudness over time, and who speaks when as its script wrote it."""
    times, peaks = audio.envelope(audio.read_all(meeting_minutes.SAMPLE_AUDIO), 1500)
    return times, peaks, json.loads((MEETING_DIR / "sample_turns.json").read_text())


def first_screen() -> None:
    """The lesson's opening picture, before any click: the sample meeting's waveform with each
    speaker's turns from the script that made it, the answer that transcription and
    diarisation below try to find from the sound alone."""
    import plotly.graph_objects as go
    from plotly.colors import qualitative

    times, peaks, turns = sample_picture()
    speakers = list(dict.fromkeys(t["speaker"] for t in turns))
    colours = dict(zip(speakers, qualitative.Safe))
    fig = go.Figure(go.Scatter(x=np.repeat(times, 2), y=np.stack([-peaks, peaks], 1).ravel(), mode="lines",
                               line=dict(color="#888888", width=1), name="sound", hoverinfo="skip"))
    for speaker in speakers:
        mine = [t for t in turns if t["speaker"] == speaker]
        fig.add_trace(go.Bar(x=[t["end"] - t["start"] for t in mine], base=[t["start"] for t in mine],
                             y=[1.15] * len(mine), orientation="h", width=0.2, marker_color=colours[speaker],
                             name=speaker, customdata=[t["text"][:90] for t in mine],
                             hovertemplate=f"{speaker}, %{{base:.1f}} s: %{{customdata}}<extra></extra>"))
    fig.update_layout(title="The sample meeting: its sound, and who speaks when (from the script that made it)",
                      xaxis_title="time in the meeting (s)", yaxis=dict(visible=False, range=[-1.05, 1.3]),
                      height=360, legend=dict(orientation="h", y=-0.25), margin=dict(t=50, b=10))
    minutes, seconds = divmod(round(times[-1]), 60)
    st.markdown(f"**{minutes} min {seconds} s of sound and {len(speakers)} voices**: the grey trace is how loud the "
                "meeting is, the coloured bars who is talking. Press **Transcribe** below to make Glassbox find the words and the "
                "speakers from the sound alone, then compare with these bars.")
    st.plotly_chart(fig, width="stretch", key=f"{KEY}_first_picture")


def speaker_timeline(segments: list[schema.Segment]) -> None:
    """Who spoke when: one bar per segment, one row and colour per speaker."""
    import plotly.express as px

    table = pd.DataFrame({"speaker": [s.speaker or "?" for s in segments],
                          "start": [s.start for s in segments],
                          "length": [max(s.end - s.start, 0.1) for s in segments],
                          "text": [s.text[:80] for s in segments]})
    fig = px.bar(table, x="length", y="speaker", base="start", orientation="h", color="speaker",
                 hover_data={"text": True, "start": ":.1f", "length": ":.1f"},
                 color_discrete_sequence=px.colors.qualitative.Safe,
                 labels={"length": "time in the meeting (s)", "speaker": "speaker"},
                 title="Who spoke when (one bar per transcript segment)")
    fig.update_layout(height=120 + 40 * table["speaker"].nunique(), showlegend=False, bargap=0.3)
    st.plotly_chart(fig, width="stretch", key=f"{KEY}_timeline")
    st.caption("Talk time: " + " · ".join(f"{name or '?'} {seconds:.0f} s"
                                          for name, seconds in diarize.talk_time(segments).items()))


def transcript_player(segments: list[schema.Segment], audio_bytes: bytes | None) -> None:
    """The transcript as a table; clicking a row plays the audio from there."""
    picked = st.dataframe(segment_table(segments), hide_index=True, width="stretch", height=300,
                          on_select="rerun", selection_mode="single-row", key=f"{KEY}_segment_table")
    if audio_bytes:
        rows = [row for row in (picked.selection.rows if picked else []) if row < len(segments)]
        play(audio_bytes, segments[rows[0]].start if rows else 0, "Click a row to play that segment.")


def bullet_player(minutes: schema.Minutes, segments: list[schema.Segment], audio_bytes: bytes) -> None:
    """Pick a bullet of the minutes: the recording plays from the segment it came from."""
    cited = schema.cited_points(minutes, segments)
    if not cited:
        return
    picked = st.selectbox("Play the source of…", range(len(cited)), format_func=lambda i: cited[i][0],
                          index=None, placeholder="Pick a bullet of the minutes", key=f"{KEY}_play_bullet")
    if picked is not None:
        play(audio_bytes, cited[picked][1], "Pick another bullet to hear where it came from.")


def play(audio_bytes: bytes, seconds: float, hint: str) -> None:
    start = int(seconds)
    st.audio(audio_bytes, start_time=start)
    st.caption(f"Playing from {start} s. {hint}")


def write_minutes(writer: str, segments: list[schema.Segment], server: dict, date: str) -> schema.Minutes | None:
    """Run the chosen writer; an LLM that fails falls back to extractive, with a notice.
    `date` (ISO) is the meeting's: due dates are counted from it."""
    encoder = common.load_model("minilm", role="encoder")
    started = time.perf_counter()
    if writer == "Extractive (MiniLM + rules)":
        with st.spinner("Embedding every sentence with MiniLM, then TextRank and the rules…"):
            minutes = extractive.write(encoder, segments, date=date)
        record_time("Text → minutes (extractive)", time.perf_counter() - started,
                    f"{len(segments)} segments")
        return minutes
    stage, stream = st.empty(), st.empty()
    text = ""
    try:
        if writer == "Local LLM":
            loaded = common.load_model(server["local_model"], role="decoder")
            complete, count, window = llm.local_complete(loaded), llm.count_tokens_with(loaded.tokenizer), \
                llm.context_window(loaded)
        else:
            complete, count, window = llm.server_complete(server["url"], server["model"], server["key"]), \
                llm.rough_token_count, server["context"]
        prompts = []
        remember("llm_prompts", prompts)
        for event in llm.map_reduce(complete, segments, count, window, date=date):
            if event.kind == "prompt":
                prompts.append((event.text, event.messages))
            elif event.kind == "stage":
                stage.info(event.text, icon=":material/hourglass_top:")
                text = ""
            elif event.kind == "text":
                text += event.text
                stream.code(text[-1500:], language=None, wrap_lines=True)
            else:
                stage.success("The reply is valid minutes.", icon=":material/check_circle:")
                record_time(f"Text → minutes ({writer})", time.perf_counter() - started)
                warn_unsupported(event.minutes, segments)
                return event.minutes
    except llm.ServerError as err:
        st.error(f"{err} The transcript is kept; check the URL and model, or pick another writer.")
        return None
    except schema.InvalidMinutes as err:
        st.warning(f"The model's reply could not be used as minutes ({err}). Showing the extractive "
                   "minutes instead.", icon=":material/rule:")
    minutes = extractive.write(encoder, segments, date=date)
    record_time(f"Text → minutes ({writer}, fell back to extractive)", time.perf_counter() - started)
    return minutes


def warn_unsupported(minutes: schema.Minutes, segments: list[schema.Segment]) -> None:
    """Generated bullets whose words the transcript does not contain: maybe invented."""
    doubtful = evaluate.unsupported(minutes, segments)
    if doubtful:
        st.warning(f"{len(doubtful)} of the model's bullets use words that are not in the transcript: the "
                   "model may have invented them. Check them before sending the minutes:\n\n" +
                   "\n".join(f"- {escape_markdown(text[:160])}" for text in doubtful[:8]),
                   icon=":material/fact_check:")


def escape_markdown(text: str) -> str:
    return re.sub(r"([\\`*_{}\[\]<>()#+\-.!|~])", r"\\\1", text)


def downloads(minutes: schema.Minutes, segments: list[schema.Segment]) -> schema.Minutes:
    """The action items as an editable table, the minutes as editable Markdown
    that follows the table, and the downloads; returns the minutes as edited."""
    st.subheader("Action items")
    st.caption("Fix owners, tasks and dates here first: the Markdown, JSON and CSV below follow the table "
               "(a change here rewrites the Markdown box).")
    table = st.data_editor(schema.action_table(minutes), num_rows="dynamic", width="stretch",
                           key=f"{KEY}_actions")
    edited = schema.with_actions(minutes, table.to_dict("records"))
    drafted = schema.to_markdown(edited, segments)
    # A keyed text box keeps its text when its starting value changes (Streamlit identifies it
    # by the key alone): a key per draft shows new minutes and table edits, and keeps typing.
    markdown = st.text_area("Minutes (Markdown, editable)", drafted, height=420,
                            key=f"{KEY}_markdown_{hashlib.sha1(drafted.encode()).hexdigest()[:12]}")
    columns = st.columns(5)
    columns[0].download_button("Minutes (.md)", markdown, "minutes.md", "text/markdown", key=f"{KEY}_dl_md")
    columns[1].download_button("Minutes (.json)", edited.to_json(), "minutes.json", "application/json",
                               key=f"{KEY}_dl_json")
    columns[2].download_button("Actions (.csv)", table.to_csv(index=False), "action_items.csv", "text/csv",
                               key=f"{KEY}_dl_csv")
    columns[3].download_button("Transcript (.srt)", transcript.to_srt(segments), "transcript.srt",
                               "application/x-subrip", key=f"{KEY}_dl_srt")
    columns[4].download_button("Transcript (.vtt)", transcript.to_vtt(segments), "transcript.vtt", "text/vtt",
                               key=f"{KEY}_dl_vtt")
    return edited


def prompt_panel(writer: str, server: dict) -> None:
    """What the model reads: the chat template, and the last run's messages through it (or, for a
    server, the request sent)."""
    with st.expander("What the model reads: the exact prompts and the chat template"):
        loaded = common.load_model(server["local_model"], role="decoder") if writer == "Local LLM" else None
        if loaded is not None:
            st.markdown("The model's **chat template** (Jinja) turns the list of messages into one text, with "
                        "the special tokens that mark who speaks:")
            st.code(loaded.tokenizer.chat_template or "(this tokenizer has no chat template)", language="jinja",
                    wrap_lines=True)
        else:
            st.markdown("The server applies its own chat template; this is the request body it is sent. "
                        "`response_format` asks for JSON that matches the minutes' schema.")
        prompts = state("llm_prompts") or []
        if not prompts:
            st.caption("Press **Write the minutes** to see each call's prompt here.")
        for label, messages in prompts:
            st.markdown(f"**{label}**")
            if loaded is not None:
                st.code(llm.chat_text(loaded, messages), language=None, wrap_lines=True)
            else:
                schema_wanted = schema.JSON_SCHEMA if label.startswith("Reduce") else None
                st.code(json.dumps(llm.request_body(server["model"], messages, llm.REDUCE_NEW_TOKENS
                                                    if schema_wanted else llm.MAP_NEW_TOKENS, schema_wanted),
                                   indent=1), language="json", wrap_lines=True)
        if loaded is not None:
            st.caption("The reduce call is decoded under a grammar (llguidance) built from the minutes' JSON schema: "
                       "at every step, tokens that would break the schema get probability zero.")


def token_panel(segments: list[schema.Segment], writer: str, server: dict) -> None:
    """Transcript tokens against the model's context window, and the chunks that follow."""
    if writer == "Local LLM":
        loaded = common.load_model(server["local_model"], role="decoder")
        with loaded.lock:
            report = llm.token_report(segments, llm.count_tokens_with(loaded.tokenizer),
                                      llm.context_window(loaded))
    else:
        report = llm.token_report(segments, llm.rough_token_count, int(server["context"]))
    columns = st.columns(4)
    columns[0].metric("Transcript tokens", f"{report['transcript_tokens']:,}")
    columns[1].metric("Context window", f"{report['context_window']:,}")
    columns[2].metric("Tokens per chunk", f"{report['chunk_budget']:,}")
    columns[3].metric("Map calls", report["chunks"])
    if writer != "Local LLM":
        st.caption("Server tokens are estimated at four characters per token.")


def stage_table() -> pd.DataFrame:
    rows = [{"stage": stage, "measured time (s)": t["seconds"], "detail": t["detail"]}
            for stage, t in state("timings", {}).items()]
    return pd.DataFrame(rows, columns=["stage", "measured time (s)", "detail"])
