"""The meeting-minutes page in AppTest: the sample through Whisper to minutes,
a pasted transcript that skips speech recognition, and bad input."""
import json
import socket

import pytest

from lib.minutes import MEETING_DIR
from tests.test_minutes import FakeServer, chat_reply, fake_server  # noqa: F401 - a fixture

KEY = "meeting_minutes"
SCRIPT = json.loads((MEETING_DIR / "script.json").read_text())
PASTED = "\n".join(f"{speaker}: {text}" for speaker, text in SCRIPT["turns"])


def paste(at, text: str):
    at.radio(key=f"{KEY}_source").set_value("A transcript").run()
    at.text_area(key=f"{KEY}_pasted").input(text).run()
    at.button(key=f"{KEY}_use_transcript").click().run()
    return at


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
    assert "| David | Send the final list of projects to all teachers" in at.text_area(key=f"{KEY}_markdown").value
    stages = list(at.session_state[f"{KEY}_timings"])
    assert stages == ["Text → minutes (extractive)"]  # no Whisper stage: ASR was skipped


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
def test_sample_meeting_end_to_end(open_page):
    at = open_page(KEY, timeout=300)
    at.button(key=f"{KEY}_transcribe").click().run()
    assert not at.exception and not at.error
    segments = at.session_state[f"{KEY}_segments"]
    assert len(segments) > 20 and segments[-1].end > 150
    assert "David" in at.text_input(key=f"{KEY}_name_Speaker 2").value  # named from "Hi, I'm David"
    timeline = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {bar["name"] for bar in timeline["data"]} == {"Maria", "David", "Priya", "Tom"}
    write(at)
    minutes = at.session_state[f"{KEY}_minutes"]
    assert len(minutes.action_items) >= 4
    assert list(at.session_state[f"{KEY}_timings"])[0] == "Speech → text (Whisper)"
