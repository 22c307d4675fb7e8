"""The meeting-minutes page in AppTest: the sample through Whisper to minutes,
a pasted transcript that skips speech recognition, bad and hostile input,
links that share the settings, presets and the checkpoint."""
import json
import socket

import pytest

from lib import hub, model_loading, model_registry
from lib.meeting_minutes import MEETING_DIR, evaluate, transcribe
from lib.meeting_minutes.schema import ActionItem, Minutes, Point, Segment
from tests.accessibility import chart_problems, widget_label_problems
from tests.plotly_arrays import chart_title
from tests.test_meeting_minutes import FakeServer, chat_reply, fake_server, save_tiny_speaker_model, script_segments  # noqa: F401 - a fixture

KEY = "meeting_minutes"
SCRIPT = json.loads((MEETING_DIR / "script.json").read_text())
PASTED = "\n".join(f"{speaker}: {text}" for speaker, text in SCRIPT["turns"])


def paste(at, text: str):
    at.radio(key=f"{KEY}_source").set_value("A transcript").run()
    at.text_area(key=f"{KEY}_pasted").input(text).run()
    at.button(key=f"{KEY}_use_transcript").click().run()
    return at


def markdown(at) -> str:
    """The editable Markdown of the minutes (its key carries a digest of the draft)."""
    return next(t for t in at.text_area if t.key.startswith(f"{KEY}_markdown_")).value


def write(at, writer: str | None = None):
    if writer:
        at.radio(key=f"{KEY}_writer").set_value(writer).run()
    at.button(key=f"{KEY}_write").click().run()
    return at


def test_page_renders(open_page):
    at = open_page(KEY)
    assert not at.exception
    assert at.title[0].value.startswith("Meeting minutes")
    assert at.radio(key=f"{KEY}_source").value == "The sample meeting"
    assert at.button(key=f"{KEY}_transcribe")


def test_pasted_transcript_skips_asr_and_gives_minutes(open_page):
    at = write(paste(open_page(KEY, timeout=180), PASTED))
    assert not at.exception and not at.error
    minutes = at.session_state[f"{KEY}_minutes"]
    owners = {a.owner for a in minutes.action_items}
    assert {"David", "Tom", "Priya", "Maria"} <= owners
    assert "| David | Send the final list of projects to all teachers" in markdown(at)
    stages = list(at.session_state[f"{KEY}_timings"])
    assert stages == ["Text → minutes (extractive)"]  # no Whisper stage: ASR was skipped
    numbered = [h.value.split(".")[0] for h in at.header if h.value[0].isdigit()]
    assert numbered == ["1", "2", "3", "4"]  # issue 23: a pasted transcript went from 1 to 3


def test_editing_the_action_table_updates_the_markdown(open_page):
    from lessons.widgets.meeting_minutes import SHORT_MEETING

    at = write(paste(open_page(KEY, timeout=180), SHORT_MEETING))
    assert "| David | Book the gym _(00:04)_ | Friday (20" in markdown(at)  # the spoken form and its date
    at.session_state[f"{KEY}_actions"] = {"edited_rows": {0: {"owner": "Sam"}}, "added_rows": [],
                                          "deleted_rows": [1]}
    at.run()
    assert not at.exception
    assert "| Sam | Book the gym _(00:04)_ | Friday (20" in markdown(at) and "laptops _(" not in markdown(at)


def test_writing_again_shows_the_new_minutes_and_typing_is_kept(open_page, fake_server):  # noqa: F811
    at = write(paste(open_page(KEY, timeout=180), PASTED))
    assert markdown(at).startswith("# Meeting minutes")
    box = next(t for t in at.text_area if t.key.startswith(f"{KEY}_markdown_"))
    box.input(markdown(at) + "\nTyped by the teacher.\n").run()
    assert markdown(at).endswith("Typed by the teacher.\n")  # an edit survives the rerun
    FakeServer.reply = chat_reply(json.dumps({**json.loads((MEETING_DIR / "ground_truth.json").read_text()),
                                              "title": "Minutes from the server"}))
    at.radio(key=f"{KEY}_writer").set_value("Inference server").run()
    at.text_input(key=f"{KEY}_server_url").input(fake_server).run()
    write(at)
    assert not at.exception and FakeServer.seen
    assert markdown(at).startswith("# Minutes from the server")  # not the first writer's text
    assert not at.warning  # every bullet of these minutes is backed by the transcript
    invented = {**json.loads((MEETING_DIR / "ground_truth.json").read_text()),
                "summary": ["The mayor approved <b>five thousand euros</b> for robotics."]}
    FakeServer.reply = chat_reply(json.dumps(invented))
    write(at)
    assert "1 of the model's bullets use words that are not in the transcript" in at.warning[0].value
    assert "summary: The mayor approved \\<b\\>five thousand euros" in at.warning[0].value  # shown as text

@pytest.mark.parametrize("text, message", [("", "empty"), ("word " * 39_999 + "words", "200,000 characters")])
def test_bad_transcripts_are_explained(open_page, text, message):
    at = paste(open_page(KEY), text)
    assert not at.exception
    assert message in at.error[0].value


def test_unreachable_server_keeps_the_transcript(open_page):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    at = paste(open_page(KEY, timeout=180), PASTED)
    at.radio(key=f"{KEY}_writer").set_value("Inference server").run()
    at.text_input(key=f"{KEY}_server_url").input(f"http://127.0.0.1:{port}/v1").run()
    write(at)
    assert not at.exception
    assert "cannot be reached" in at.error[0].value and "transcript is kept" in at.error[0].value
    assert len(at.session_state[f"{KEY}_segments"]) == len(SCRIPT["turns"])
    assert at.session_state[f"{KEY}_minutes"] is None


def test_malformed_server_json_falls_back_to_extractive(open_page, fake_server):  # noqa: F811
    FakeServer.reply = chat_reply('{"summary": [}}} not json')
    at = paste(open_page(KEY, timeout=180), PASTED)
    at.radio(key=f"{KEY}_writer").set_value("Inference server").run()
    at.text_input(key=f"{KEY}_server_url").input(fake_server).run()
    write(at)
    assert not at.exception
    assert "extractive minutes instead" in at.warning[0].value
    assert len(at.session_state[f"{KEY}_minutes"].action_items) >= 5
    assert FakeServer.seen  # the page really called the server



@pytest.mark.slow
def test_local_llm_streams_then_validates_or_falls_back(open_page, monkeypatch):
    """The real SmolLM2-135M, with short replies so the test stays quick: its
    text streams into the page, and whatever it writes ends as minutes: valid
    ones, or the extractive writer's with a notice."""
    from lessons.widgets.meeting_minutes import SHORT_MEETING
    from lib.meeting_minutes import llm

    monkeypatch.setattr(llm, "MAP_NEW_TOKENS", 12)
    monkeypatch.setattr(llm, "REDUCE_NEW_TOKENS", 24)
    at = write(paste(open_page(KEY, timeout=300), SHORT_MEETING), "Local LLM")
    assert not at.exception and not at.error
    assert at.code and at.code[0].value.strip()  # the model's own words, streamed
    notices = [*(s.value for s in at.success), *(w.value for w in at.warning)]
    assert "The reply is valid minutes." in notices or any("extractive minutes instead" in n for n in notices)
    minutes = at.session_state[f"{KEY}_minutes"]  # 24 tokens cut the grammar's JSON short: repaired or fallen back
    assert minutes.action_items or minutes.summary or minutes.discussion_points or minutes.decisions
    assert any("Local LLM" in stage for stage in at.session_state[f"{KEY}_timings"])
    shown = metrics(at)
    assert shown["Map calls"] == "1" and shown["Context window"] == "8,192"  # SmolLM2's max_position_embeddings

@pytest.mark.slow
def test_sample_meeting_end_to_end(open_page):
    at = open_page(KEY, timeout=300)
    at.button(key=f"{KEY}_transcribe").click().run()
    assert not at.exception and not at.error
    segments = at.session_state[f"{KEY}_segments"]
    assert len(segments) > 20 and segments[-1].end > 150
    assert "David" in at.text_input(key=f"{KEY}_name_Speaker 2").value  # named from "Hi, I'm David"
    timeline = next(spec for chart in at.get("plotly_chart") if "Who spoke when" in
                    chart_title(spec := json.loads(chart.proto.spec)))
    assert {bar["name"] for bar in timeline["data"]} == {"Maria", "David", "Priya", "Tom"}
    write(at)
    minutes = at.session_state[f"{KEY}_minutes"]
    truth = json.loads((MEETING_DIR / "ground_truth.json").read_text())["action_items"]
    assert evaluate.action_items_found(minutes.action_items, truth) >= 0.8 * len(truth)  # the bar
    table = next(d for d in at.dataframe if d.key == f"{KEY}_actions").value
    assert len(table) == len(minutes.action_items) and set(table["owner"]) >= {"David", "Tom", "Maria"}
    assert [b.proto.label for b in at.get("download_button")] == \
        ["Minutes (.md)", "Minutes (.json)", "Actions (.csv)", "Transcript (.srt)", "Transcript (.vtt)"]
    assert list(at.session_state[f"{KEY}_timings"])[0] == "Speech → text (Whisper)"


def transcribe_bytes_page(kind: str):
    """A one-widget app: the lesson's transcription step on generated bytes."""
    import io

    import numpy as np
    import soundfile as sf
    import streamlit as st

    from lessons.widgets import meeting_minutes as mm

    def wav(samples):
        out = io.BytesIO()
        sf.write(out, np.asarray(samples, np.float32), 16_000, format="WAV", subtype="PCM_16")
        return out.getvalue()

    def twenty_one_silent_minutes():  # FLAC packs silence into a few KB
        out = io.BytesIO()
        sf.write(out, np.zeros(21 * 60 * 8_000, np.int16), 8_000, format="FLAC")
        return out.getvalue()

    def video_without_sound():
        import av

        out = io.BytesIO()
        with av.open(out, mode="w", format="matroska") as container:
            stream = container.add_stream("mpeg4", rate=1)
            stream.width = stream.height = 16
            frame = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
            for packet in [*stream.encode(frame), *stream.encode(None)]:
                container.mux(packet)
        return out.getvalue()

    payload = {"text": lambda: b"not a recording at all\n" * 100, "empty": lambda: wav([]),
               "silence": lambda: wav(np.zeros(32_000)), "huge": twenty_one_silent_minutes,
               "video": video_without_sound}[kind]()
    found = mm.run_transcription(payload, "tiny.en", split_pauses=True)
    st.write(f"found={found}")


@pytest.mark.parametrize("kind, message, found", [("text", "not audio", "None"), ("empty", "0 seconds", "None"),
                                                   ("video", "no audio track", "None"), ("silence", None, "0"),
                                                   ("huge", None, "0")])
def test_bad_audio_is_explained(kind, message, found):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(transcribe_bytes_page, args=(kind,), default_timeout=120).run()
    assert not at.exception
    assert at.markdown[-1].value == f"found={found}"
    if message:
        assert message in at.error[0].value
    else:
        assert not at.error and at.session_state[f"{KEY}_segments"] == []
    if kind == "huge":  # read in 5-minute chunks, with a notice that it will take a while
        assert "21 minutes long" in at.warning[0].value



# --- who spoke: MFCC offline, WavLM x-vectors from the Hub ----------------------------------

@pytest.fixture
def quick_whisper(monkeypatch):
    """Whisper replaced by the sample's first ten script turns, so diarisation is what is tested."""
    from lib.meeting_minutes import transcribe

    def turns(model, source, split_pauses=True):
        yield transcribe.Progress(script_segments()[:10], 60.0, 195.7, 1.0, "en")

    monkeypatch.setattr(transcribe, "transcribe", turns)


def test_names_typed_before_transcribing_are_how_the_transcript_spells_them(open_page, quick_whisper):
    at = open_page(KEY, timeout=180)
    at.button(key=f"{KEY}_transcribe").click().run()
    assert "Tom" in " ".join(s.text for s in at.session_state[f"{KEY}_segments"])
    at.text_input(key=f"{KEY}_names").input("Maria, Thom;  Priya\nmaria, 1234").run()
    at.button(key=f"{KEY}_transcribe").click().run()
    text = " ".join(s.text for s in at.session_state[f"{KEY}_segments"])
    assert not at.exception and "Thom" in text and "Tom" not in text.replace("Thom", "")
    assert any(c.value == "Written as the names you gave: Tom → Thom" for c in at.caption)


@pytest.fixture
def fake_hub(monkeypatch, tmp_path):
    """The Hub "on", and wavlm-sv resolving to a tiny random WavLM saved in tmp_path."""
    from collections import OrderedDict

    monkeypatch.setattr(hub, "hub_reachable", lambda *a, **k: True)
    monkeypatch.setattr(model_loading, "check_hub_model", lambda *a, **k: None)
    monkeypatch.setitem(model_registry.REGISTRY, "wavlm-sv", save_tiny_speaker_model(tmp_path))
    monkeypatch.setattr(model_loading, "_shared", OrderedDict())


def test_offline_the_speaker_network_is_not_offered(open_page):
    from lessons.widgets.meeting_minutes import VOICES

    at = open_page(KEY)
    assert at.selectbox(key=f"{KEY}_voices").options == VOICES[:2]  # MFCC and GE2E; WavLM needs the Hub


def test_with_the_hub_diarisation_runs_through_the_speaker_network(open_page, quick_whisper, fake_hub):
    at = open_page(KEY, timeout=180)
    at.session_state["model_source"] = "Hub when available"
    at.run()
    at.selectbox(key=f"{KEY}_voices").set_value("WavLM x-vectors (Hub)").run()
    at.button(key=f"{KEY}_transcribe").click().run()
    assert not at.exception and not at.error and not at.warning
    assert "Who spoke (WavLM x-vectors + clustering)" in at.session_state[f"{KEY}_timings"]
    assert all(s.speaker.startswith("Speaker ") for s in at.session_state[f"{KEY}_segments"])
    (loaded,) = model_loading._shared.values()  # the class's one copy: the tiny local WavLM
    assert type(loaded.model).__name__ == "WavLMForXVector" and loaded.spec.title == "tiny WavLM x-vectors"


def test_a_speaker_network_that_cannot_load_falls_back_to_mfcc(open_page, quick_whisper, fake_hub, monkeypatch):
    def unreachable(*a, **k):
        raise model_registry.ModelUnavailable("Downloading 'microsoft/wavlm-base-plus-sv' from the HuggingFace Hub failed.")

    monkeypatch.setattr(model_loading, "check_hub_model", unreachable)
    at = open_page(KEY, timeout=180)
    at.session_state["model_source"] = "Hub when available"
    at.run()
    at.selectbox(key=f"{KEY}_voices").set_value("WavLM x-vectors (Hub)").run()
    at.button(key=f"{KEY}_transcribe").click().run()
    assert not at.exception and not at.error
    assert "wavlm-base-plus-sv' from the HuggingFace Hub failed. Telling the voices apart with MFCC statistics " \
           "instead." in at.warning[0].value
    assert "Who spoke (MFCC statistics + clustering)" in at.session_state[f"{KEY}_timings"]
    assert len({s.speaker for s in at.session_state[f"{KEY}_segments"]}) >= 2



# --- classic ASR beside Whisper ------------------------------------------------------------------

def test_classic_asr_panel_shows_both_transcripts_scored_against_the_script(open_page, monkeypatch):
    from lib.meeting_minutes import classic_asr

    monkeypatch.setattr(classic_asr, "MAX_SECONDS", 10)  # the sample's first turn (9.3 s), to stay quick
    at = open_page(KEY, timeout=180)
    assert at.selectbox(key=f"{KEY}_classic_clip").value == "The sample meeting, first 9.8 s"
    at.button(key=f"{KEY}_classic").click().run()
    assert not at.exception and not at.error
    (tag, runs) = at.session_state[f"{KEY}_classic_runs"]
    assert [r.system for r in runs] == ["PocketSphinx (HMM + n-gram)", f"Whisper {transcribe.DEFAULT_SIZE}"]
    assert [c.value for c in at.code] == [r.text for r in runs] and all(r.text for r in runs)
    first_turn = SCRIPT["turns"][0][1]
    shown = [m.value for m in at.metric if m.label == "Word error rate"]
    assert shown == [f"{evaluate.word_error_rate(first_turn, r.text):.0%}" for r in runs]
    assert runs[1].word_error_rate < runs[0].word_error_rate  # on these synthetic voices, by far


def test_without_pocketsphinx_the_panel_says_how_to_install_it(open_page, monkeypatch):
    from lib.meeting_minutes import classic_asr

    monkeypatch.setattr(classic_asr, "available", lambda: False)
    at = open_page(KEY)
    assert not at.exception
    assert any("`pip install pocketsphinx`" in i.value for i in at.info)
    assert f"{KEY}_classic" not in [b.key for b in at.button]


# --- hostile input -----------------------------------------------------------------------

HOSTILE = ("Maria: <script>alert('owned')</script> We agreed to meet <img src=x onerror=alert(1)> in the gym.\n"
           "David: I will send the <b>list</b> by Friday.")


def test_script_in_a_transcript_stays_text_and_a_file_url_is_refused(open_page):
    at = write(paste(open_page(KEY, timeout=180), HOSTILE))
    assert not at.exception and not at.error
    assert "<script>alert('owned')</script>" in at.session_state[f"{KEY}_segments"][0].text  # kept as words
    assert "<script>" in markdown(at)  # the minutes show it as plain text
    shown = [e.value for kind in ("markdown", "caption", "html") for e in at.get(kind)]
    assert not [v for v in shown if "owned" in v or "onerror" in v]  # never rendered as Markdown or HTML
    at.radio(key=f"{KEY}_writer").set_value("Inference server").run()
    at.text_input(key=f"{KEY}_server_url").input("file:///etc/passwd").run()
    write(at)
    assert not at.exception
    assert "not an http(s) URL" in at.error[0].value


def test_uploads_with_path_traversal_names_and_broken_content(open_page, tmp_path):
    at = open_page(KEY)
    at.radio(key=f"{KEY}_source").set_value("An audio file").run()
    junk = (f"../../../../..{tmp_path}/escaped.ogg", b"MZ\x90\x00 not a recording" * 50, "audio/ogg")
    at.file_uploader(key=f"{KEY}_upload").set_value(junk).run()
    at.button(key=f"{KEY}_transcribe").click().run()
    assert not at.exception and "not audio" in at.error[0].value
    at.radio(key=f"{KEY}_source").set_value("A transcript").run()
    broken = b"1\n00:00:01,000 --> 00:00:02,000\nMaria: Hello.\n\n2\n00:00:0x,000 --> 00:00:05,000\nTom: Hi.\n"
    escape = f"..\\..\\..\\..\\..{tmp_path}/escaped.srt"
    at.file_uploader(key=f"{KEY}_transcript_file").set_value((escape, broken, "application/x-subrip")).run()
    at.button(key=f"{KEY}_use_transcript").click().run()
    assert not at.exception
    assert "Line 6 is not a valid cue time" in at.error[0].value
    assert not list(tmp_path.iterdir())  # uploads stay in memory: a file name is never used as a path
    backwards = b"1\n00:00:05,000 --> 00:00:02,000\nMaria: Hello.\n"
    at.file_uploader(key=f"{KEY}_transcript_file").set_value(("minutes.srt", backwards, "text/plain")).run()
    at.button(key=f"{KEY}_use_transcript").click().run()
    assert "ends before it starts" in at.error[0].value
    assert not at.dataframe  # no transcript was taken from either file



def test_a_recording_uploaded_as_a_transcript_is_refused_and_utf16_is_read(open_page):
    from lib.meeting_minutes import SAMPLE_AUDIO

    at = open_page(KEY)
    at.radio(key=f"{KEY}_source").set_value("A transcript").run()
    at.file_uploader(key=f"{KEY}_transcript_file").set_value(("notes.txt", SAMPLE_AUDIO.read_bytes(), "text/plain")).run()
    at.button(key=f"{KEY}_use_transcript").click().run()
    assert not at.exception and "This file is not text" in at.error[0].value
    assert f"{KEY}_segments" not in at.session_state  # nothing was taken
    utf16 = "Maria: We agreed to meet in the café.\nDavid: I will book it by Friday.".encode("utf-16")
    at.file_uploader(key=f"{KEY}_transcript_file").set_value(("notes.txt", utf16, "text/plain")).run()
    at.button(key=f"{KEY}_use_transcript").click().run()
    assert not at.error
    assert [(s.speaker, s.text) for s in at.session_state[f"{KEY}_segments"]] == [
        ("Maria", "We agreed to meet in the café."), ("David", "I will book it by Friday.")]

# --- the classroom layer: links, presets, checkpoint -----------------------------------------

def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_a_shared_link_restores_the_view(open_page):
    from lessons.widgets.meeting_minutes import SHORT_MEETING

    at = paste(open_page(KEY, timeout=180), SHORT_MEETING)
    at.radio(key=f"{KEY}_writer").set_value("Inference server").run()
    at.number_input(key=f"{KEY}_server_context").set_value(512).run()
    link = dict(at.query_params)
    assert link == {"src": "A transcript", "text": SHORT_MEETING, "writer": "Inference server", "ctx": "512"}
    opened = open_page(KEY, query=link)
    assert not opened.exception and not opened.info
    assert opened.radio(key=f"{KEY}_source").value == "A transcript"
    assert opened.text_area(key=f"{KEY}_pasted").value == SHORT_MEETING
    opened.button(key=f"{KEY}_use_transcript").click().run()
    assert opened.radio(key=f"{KEY}_writer").value == "Inference server"
    assert opened.number_input(key=f"{KEY}_server_context").value == 512
    assert metrics(opened) == metrics(at) and metrics(at)["Context window"] == "512"
    assert opened.dataframe[0].value.equals(at.dataframe[0].value)
    assert dict(opened.query_params) == link


def test_malformed_links_are_ignored_with_a_notice(open_page):
    at = open_page(KEY, query={"seed": "abc", "spk": "999", "text": "x" * 10_240, "whisper": "../../etc/passwd"})
    assert not at.exception
    notice = at.info[0].value
    assert "`seed` is not a setting" in notice and "outside 0–8" in notice and "too long" in notice
    assert "`whisper=../../etc/passwd` is not one of the choices" in notice
    assert dict(at.query_params) == {}
    assert at.number_input(key=f"{KEY}_speakers").value == 0
    assert at.selectbox(key=f"{KEY}_whisper").value == "base"
    assert at.session_state[f"{KEY}_pasted"] == ""


def test_presets_accessibility_and_checkpoint(open_page):
    from lessons.widgets.meeting_minutes import SHORT_MEETING
    from lib import checkpoints

    at = open_page(KEY)
    next(b for b in at.button if b.label == "Sample meeting, four voices").click().run()
    assert at.number_input(key=f"{KEY}_speakers").value == 4 and dict(at.query_params) == {"spk": "4"}
    at.session_state[f"{KEY}_segments"] = [Segment(0.0, 4.0, "Hi, I'm Maria.", "Speaker 1"),
                                           Segment(4.5, 7.5, "I'm Tom.", "Speaker 2"),
                                           Segment(8.0, 14.0, "Let's start.", "Speaker 1")]
    at.run()  # a transcribed sample without running Whisper: the timeline and the name boxes show
    assert at.get("plotly_chart") and at.text_input(key=f"{KEY}_name_Speaker 2")
    assert "Talk time: Speaker 1 10 s · Speaker 2 3 s" in [c.value for c in at.caption]
    assert chart_problems(at) == [] and widget_label_problems(at) == []
    first = checkpoints.questions(KEY, 1)[0]
    at.text_input(key=f"{KEY}_a1_1").input(f"{first.answer:.3f}")
    next(b for b in at.button if b.label == "Check").click().run()
    assert [s.value for s in at.success] == ["Correct."]
    next(b for b in at.button if b.label == "A typed transcript, no Whisper").click().run()
    assert at.radio(key=f"{KEY}_source").value == "A transcript"
    assert at.text_area(key=f"{KEY}_pasted").value == SHORT_MEETING
    assert dict(at.query_params) == {"src": "A transcript", "text": SHORT_MEETING}


# --- playing from a segment, and what is kept when things go wrong --------------------------

def test_clicking_a_segment_plays_the_audio_from_there(open_page):
    at = open_page(KEY)
    at.session_state[f"{KEY}_segments"] = [Segment(0.0, 4.0, "Hi, I'm Maria.", "Speaker 1"),
                                           Segment(38.4, 45.0, "The fair is on the 14th of March.", "Speaker 2")]
    at.run()
    player = at.get("audio")[-1].proto
    assert player.start_time == 0 and any("Playing from 0 s" in c.value for c in at.caption)
    at.session_state[f"{KEY}_segment_table"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    assert at.get("audio")[-1].proto.start_time == 38
    assert any("Playing from 38 s" in c.value for c in at.caption)


def test_a_bullet_of_the_minutes_plays_the_recording_from_its_source(open_page):
    at = open_page(KEY)
    at.session_state[f"{KEY}_segments"] = [Segment(0.0, 4.0, "Hi, I'm Maria.", "Maria"),
                                           Segment(38.4, 45.0, "We agreed to hold the fair in the gym.", "Maria"),
                                           Segment(61.2, 66.0, "I will book the gym by Friday.", "David")]
    at.session_state[f"{KEY}_minutes"] = Minutes(decisions=[Point("We agreed to hold the fair in the gym.", [1])],
                                                 action_items=[ActionItem("David", "Book the gym", "Friday", [2])])
    at.run()
    picker = at.selectbox(key=f"{KEY}_play_bullet")
    assert picker.options == ["Decisions · 00:38 · We agreed to hold the fair in the gym.",
                              "Action items · 01:01 · David: Book the gym"] and picker.value is None
    picker.set_value(1).run()
    assert not at.exception
    assert at.get("audio")[-1].proto.start_time == 61
    assert any("Playing from 61 s. Pick another bullet" in c.value for c in at.caption)
    assert widget_label_problems(at) == []


def test_a_new_source_drops_the_old_transcript_and_minutes(open_page, quick_whisper):
    from lessons.widgets.meeting_minutes import SHORT_MEETING

    at = open_page(KEY, timeout=180)
    at.button(key=f"{KEY}_transcribe").click().run()
    write(at)
    assert at.session_state[f"{KEY}_minutes"] and at.text_input(key=f"{KEY}_name_Speaker 1")
    at.radio(key=f"{KEY}_source").set_value("An audio file").run()
    at.file_uploader(key=f"{KEY}_upload").set_value(silent_upload(3.0)).run()
    assert not at.exception
    assert f"{KEY}_segments" not in at.session_state and f"{KEY}_minutes" not in at.session_state
    assert len(at.get("audio")) == 1 and not any("Playing from" in c.value for c in at.caption)  # its own audio
    assert not at.dataframe and f"{KEY}_write" not in [b.key for b in at.button]
    at.radio(key=f"{KEY}_source").set_value("The sample meeting").run()
    assert f"{KEY}_segments" not in at.session_state  # the sample must be transcribed again
    paste(at, SHORT_MEETING)
    write(at)
    assert f"{KEY}_play_bullet" not in [s.key for s in at.selectbox]  # a transcript alone has nothing to play
    at.radio(key=f"{KEY}_writer").set_value("Inference server").run()  # the same source: the results stay
    assert len(at.session_state[f"{KEY}_segments"]) == 4 and at.session_state[f"{KEY}_minutes"]


def silent_upload(seconds: float) -> tuple[str, bytes, str]:
    import io

    import numpy as np
    import soundfile as sf

    out = io.BytesIO()
    sf.write(out, np.zeros(int(seconds * 16_000), np.float32), 16_000, format="WAV", subtype="PCM_16")
    return "meeting.wav", out.getvalue(), "audio/wav"


@pytest.mark.parametrize("seconds, shown", [(3.0, "No speech was found"), (0.0, "The recording is empty")])
def test_silent_and_empty_uploads_on_the_page(open_page, seconds, shown):
    at = open_page(KEY)
    at.radio(key=f"{KEY}_source").set_value("An audio file").run()
    at.file_uploader(key=f"{KEY}_upload").set_value(silent_upload(seconds)).run()
    at.button(key=f"{KEY}_transcribe").click().run()
    assert not at.exception
    assert shown in " ".join(m.value for m in [*at.warning, *at.error])
    assert f"{KEY}_write" not in [b.key for b in at.button]  # no transcript, so no minutes step
    assert at.session_state[f"{KEY}_segments"] == []


def transcription_fails_half_way(error: str):
    """The lesson's transcription step when decoding (or Whisper) fails after the first minute."""
    import streamlit as st

    from lessons.widgets import meeting_minutes as mm
    from lib.meeting_minutes import SAMPLE_AUDIO, schema, transcribe

    def broken(model, source, split_pauses=True):
        yield transcribe.Progress([schema.Segment(0.0, 3.0, "Good morning, everyone.")], 3.0, 195.7, 0.5, "en")
        yield transcribe.Progress([schema.Segment(3.5, 6.0, "Let's start.")], 60.0, 195.7, 4.0, "en")
        raise {"audio": mm.audio.AudioError("The audio is damaged after 60 s (InvalidDataError)."),
               "whisper": RuntimeError("CUDA failed with error out of memory")}[error]

    transcribe.transcribe = broken
    found = mm.run_transcription(SAMPLE_AUDIO.read_bytes(), "tiny.en", split_pauses=True)
    st.write(f"found={found}")


@pytest.mark.parametrize("error, shown", [("audio", "damaged after 60 s"), ("whisper", "out of memory")])
def test_a_failure_half_way_keeps_the_segments_before_it(error, shown):
    from streamlit.testing.v1 import AppTest

    from lib.meeting_minutes import transcribe

    real = transcribe.transcribe
    try:
        at = AppTest.from_function(transcription_fails_half_way, args=(error,), default_timeout=120).run()
    finally:
        transcribe.transcribe = real
    assert not at.exception
    assert shown in at.error[0].value and "2 segments before that point are kept" in at.error[0].value
    assert [s.text for s in at.session_state[f"{KEY}_segments"]] == ["Good morning, everyone.", "Let's start."]
    assert at.markdown[-1].value == "found=2"
    assert "Speech → text (Whisper)" in at.session_state[f"{KEY}_timings"]  # the time of what was done


def test_the_local_llm_panel_shows_its_chat_template(open_page, smollm2):
    """Before a run: SmolLM2's chat template, and where each call's prompt will appear."""
    at = paste(open_page(KEY, timeout=180), "Ana: Lea, could you book the hall by Friday?\nLea: Sure.")
    at.radio(key=f"{KEY}_writer").set_value("Local LLM").run()
    assert not at.exception
    assert any(c.value == smollm2.tokenizer.chat_template for c in at.code)
    assert any("Press **Write the minutes**" in c.value for c in at.caption)
