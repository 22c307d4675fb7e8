"""lib/meeting_minutes: audio reading, Whisper, diarisation, transcripts, the minutes
schema and the writers, checked against independent references."""
import dataclasses
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import soundfile as sf

from lib import model_loading, model_registry
from lib.meeting_minutes import (
    MEETING_DIR,
    SAMPLE_AUDIO,
    audio,
    classic_asr,
    dates,
    diarize,
    evaluate,
    extractive,
    llm,
    schema,
    transcribe,
    transcript,
)

SCRIPT = json.loads((MEETING_DIR / "script.json").read_text())
TRUTH = json.loads((MEETING_DIR / "ground_truth.json").read_text())
TURNS = json.loads((MEETING_DIR / "sample_turns.json").read_text())


def wav_bytes(samples, rate=16_000) -> bytes:
    out = io.BytesIO()
    sf.write(out, np.asarray(samples, dtype=np.float32), rate, format="WAV", subtype="PCM_16")
    return out.getvalue()


def script_segments() -> list[schema.Segment]:
    return [schema.Segment(t["start"], t["end"], t["text"], t["speaker"]) for t in TURNS]


@pytest.fixture(scope="module")
def whisper():
    return transcribe.load_whisper(model_registry.bundled_path("whisper-tiny.en"), "cpu")


# --- audio --------------------------------------------------------------------------

def test_sample_duration_matches_soundfile():
    assert audio.probe(str(SAMPLE_AUDIO)).duration == pytest.approx(sf.info(str(SAMPLE_AUDIO)).duration, abs=0.05)


def test_chunks_join_to_faster_whisper_decoding():
    from faster_whisper import decode_audio

    parts = list(audio.chunks(str(SAMPLE_AUDIO), seconds=60))
    assert [len(p) for p in parts[:-1]] == [60 * audio.SAMPLE_RATE] * (len(parts) - 1)
    np.testing.assert_allclose(np.concatenate(parts), decode_audio(str(SAMPLE_AUDIO)), atol=1e-4)


def test_resampling_to_16k_keeps_duration_and_pitch():
    rate = 44_100
    tone = np.sin(2 * np.pi * 440 * np.arange(rate) / rate) * 0.5  # 1 s of A4
    samples = audio.read_all(wav_bytes(tone, rate))
    assert len(samples) == pytest.approx(audio.SAMPLE_RATE, abs=50)
    spectrum = np.abs(np.fft.rfft(samples))
    assert np.argmax(spectrum) * audio.SAMPLE_RATE / len(samples) == pytest.approx(440, abs=2)


FORMATS = {"wav": ("wav", "pcm_s16le"), "mp3": ("mp3", "libmp3lame"), "m4a": ("ipod", "aac"),
           "ogg": ("ogg", "libopus"), "opus": ("opus", "libopus"), "flac": ("flac", "flac"),
           "webm": ("webm", "libopus")}


def encode(samples: np.ndarray, rate: int, container_format: str, codec: str) -> bytes:
    """Mono float samples → a file in that container and codec, made by PyAV (FFmpeg)."""
    import av

    out = io.BytesIO()
    with av.open(out, mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        fmt = stream.codec_context.codec.audio_formats[0].name  # the encoder's own sample format
        resampler = av.AudioResampler(format=fmt, layout="mono", rate=rate,
                                      frame_size=stream.codec_context.frame_size or 1024)
        pcm = (np.asarray(samples) * 32767).astype(np.int16)[None, :]  # (1, samples)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = rate
        for part in [*resampler.resample(frame), *resampler.resample(None), None]:
            for packet in stream.encode(part):
                container.mux(packet)
    return out.getvalue()


@pytest.mark.parametrize("extension", audio.AUDIO_TYPES)
def test_every_upload_type_decodes(extension):
    assert extension in FORMATS  # a type the uploader offers must have a test here
    rate = 48_000 if FORMATS[extension][1] == "libopus" else 44_100
    tone = np.sin(2 * np.pi * 440 * np.arange(2 * rate) / rate) * 0.5  # 2 s of A4
    data = encode(tone, rate, *FORMATS[extension])
    assert audio.probe(data).duration == pytest.approx(2.0, abs=0.1)
    samples = audio.read_all(data)
    assert len(samples) / audio.SAMPLE_RATE == pytest.approx(2.0, abs=0.1)
    spectrum = np.abs(np.fft.rfft(samples))
    assert np.argmax(spectrum) * audio.SAMPLE_RATE / len(samples) == pytest.approx(440, abs=3)


def test_non_audio_with_audio_extension_is_refused(tmp_path):
    fake = tmp_path / "meeting.mp3"
    fake.write_text("this is a text file, not a recording\n" * 50)
    with pytest.raises(audio.AudioError, match="not audio"):
        audio.probe(str(fake))


def test_zero_second_file_is_refused():
    with pytest.raises(audio.AudioError, match="0 seconds"):
        audio.probe(wav_bytes([]))


def test_silence_only_gives_no_segments(whisper):
    silence = wav_bytes(np.zeros(5 * audio.SAMPLE_RATE))
    assert audio.is_silent(audio.read_all(silence))
    segments, last = transcribe.run(whisper, silence)
    assert segments == [] and last.done_s == pytest.approx(5, abs=0.1)


# --- speech recognition ---------------------------------------------------------------

def test_action_items_found_needs_the_right_owner():
    truth = [{"owner": "Tom", "task": "Install the software on all laptops"}]
    right = [schema.ActionItem("Tom", "install software on the laptops")]
    assert evaluate.action_items_found(right, truth) == 1
    assert evaluate.action_items_found([schema.ActionItem("Maria", right[0].task)], truth) == 0
    assert evaluate.action_items_found([schema.ActionItem("Tom", "buy new chargers")], truth) == 0


def test_unsupported_bullets_are_the_invented_ones():
    truth = schema.validate(TRUTH)  # written from the script: every bullet is backed by it
    assert evaluate.unsupported(truth, script_segments()) == []
    invented = schema.validate({**TRUTH, "decisions": TRUTH["decisions"] + [
        "The mayor approved a budget of five thousand euros for robotics."], "action_items": TRUTH["action_items"] + [
        {"owner": "Kevin", "task": "Send the final list of projects", "due": "Friday"},
        {"owner": "Tom", "task": "Renovate the swimming pool roof", "due": ""}]})
    assert evaluate.unsupported(invented, script_segments()) == [
        "decisions: The mayor approved a budget of five thousand euros for robotics.",
        "action item: Kevin: Send the final list of projects",  # nobody called Kevin was there
        "action item: Tom: Renovate the swimming pool roof"]

def test_word_error_rate_by_hand():
    assert evaluate.word_error_rate("the cat sat on the mat", "the cat sat on the mat") == 0
    # one substitution (sat→sit), one deletion (the), one insertion (down): 3 / 6
    assert evaluate.word_error_rate("the cat sat on the mat", "the cat sit down on mat") == pytest.approx(0.5)
    assert evaluate.word_error_rate("Ill-disposed, young man!", "ill disposed young man") == 0


def test_split_at_pauses():
    from types import SimpleNamespace as Word

    words = [Word(start=0.0, end=0.4, word=" Yes,"), Word(start=0.5, end=0.9, word=" fine."),
             Word(start=2.0, end=2.5, word=" Next"), Word(start=2.6, end=3.0, word=" topic.")]
    got = transcribe.split_at_pauses(words, offset=10)
    assert [(s.start, s.end, s.text) for s in got] == [(10.0, 10.9, "Yes, fine."), (12.0, 13.0, "Next topic.")]
    quick_answer = [Word(start=0.0, end=0.9, word=" Could you?"), Word(start=1.0, end=1.3, word=" Sure,"),
                    Word(start=1.4, end=1.8, word=" fine.")]  # 0.1 s after a question, 0.1 s after a comma
    assert [s.text for s in transcribe.split_at_pauses(quick_answer)] == ["Could you?", "Sure, fine."]


@pytest.mark.slow
def test_librivox_word_error_rate(whisper):
    if not classic_asr.librivox_clips():
        pytest.skip("Debian pocketsphinx-testdata is not installed (apt-get install pocketsphinx-testdata)")
    errors = words = 0
    for path, reference in classic_asr.librivox_clips().values():
        segments, _ = transcribe.run(whisper, str(path), split_pauses=False)
        hypothesis = " ".join(s.text for s in segments)
        n = len(evaluate.normalise_words(reference))
        errors += evaluate.word_error_rate(reference, hypothesis) * n
        words += n
    assert errors / words <= 0.15


# --- classic ASR: PocketSphinx beside Whisper ----------------------------------------------

def test_pocketsphinx_on_a_librivox_clip_is_scored_like_whisper(whisper):
    clips = classic_asr.librivox_clips()
    if not clips:
        pytest.skip("Debian pocketsphinx-testdata is not installed (apt-get install pocketsphinx-testdata)")
    path, reference = clips["sense_and_sensibility_01_austen_64kb-0920"]
    samples, rate = sf.read(path, dtype="float32")
    steps = []
    classic, neural = classic_asr.compare(samples, whisper, reference, on_progress=lambda *a: steps.append(a))
    assert rate == 16_000 and classic.system.startswith("PocketSphinx") and len(classic.text.split()) >= 10
    assert classic.word_error_rate == evaluate.word_error_rate(reference, classic.text) < 0.6
    assert neural.word_error_rate == evaluate.word_error_rate(reference, neural.text)
    assert classic.audio_s == neural.audio_s == pytest.approx(len(samples) / 16_000)
    assert steps and steps[-1][1] == pytest.approx(classic.audio_s) and classic.real_time_factor > 0


def test_librivox_transcription_file_is_read(tmp_path):
    (tmp_path / "transcription").write_text("<s> he was not an ill disposed young man </s> (clip-0880)\n"
                                            "<s> a missing clip </s> (clip-0999)\n")
    sf.write(tmp_path / "clip-0880.wav", np.zeros(1600, np.float32), 16_000)
    assert classic_asr.librivox_clips(tmp_path) == {
        "clip-0880": (tmp_path / "clip-0880.wav", "he was not an ill disposed young man")}
    assert classic_asr.librivox_clips(tmp_path / "absent") == {}


def test_the_sample_clip_ends_in_the_pause_after_a_turn():
    seconds, reference = classic_asr.sample_clip(TURNS, 40)
    inside = [t for t in TURNS if t["end"] <= 40]
    assert inside[-1]["end"] < seconds < TURNS[len(inside)]["start"]
    assert reference == " ".join(t["text"] for t in inside) and reference.startswith("Good morning, everyone.")


def test_without_pocketsphinx_the_message_says_how_to_install_it(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pocketsphinx" else real(name, *a))
    assert not classic_asr.available()
    with pytest.raises(classic_asr.Unavailable, match="pip install pocketsphinx"):
        classic_asr.run_pocketsphinx(np.zeros(16_000, np.float32))


# --- diarisation ----------------------------------------------------------------------

def test_mel_scale_round_trip_and_filterbank():
    hz = np.array([0, 300, 1000, 4000, 8000])
    np.testing.assert_allclose(diarize.mel_to_hz(diarize.hz_to_mel(hz)), hz, atol=1e-6)
    assert diarize.hz_to_mel(1000) == pytest.approx(1000, abs=1)  # the mel scale's anchor
    bank = diarize.mel_filterbank()
    assert bank.shape == (diarize.N_MELS, diarize.N_FFT // 2 + 1)
    assert bank.min() >= 0 and bank.max() <= 1 and (bank.max(axis=1) > 0.5).all()
    centres = np.argmax(bank, axis=1)
    assert (np.diff(centres) >= 0).all() and (np.diff(np.diff(centres)) >= -1).mean() > 0.8  # wider up high


def test_mfcc_matches_explicit_dct_float64():
    rng = np.random.default_rng(0)
    samples = rng.standard_normal(4000)
    got = diarize.mfcc(samples)
    frame = samples[:diarize.N_FFT] * np.hanning(diarize.N_FFT)
    log_mel = np.log(diarize.mel_filterbank() @ (np.abs(np.fft.rfft(frame)) ** 2) + 1e-10)
    n, k = diarize.N_MELS, np.arange(diarize.N_MFCC)[:, None]
    basis = np.sqrt(2 / n) * np.cos(np.pi * k * (2 * np.arange(n) + 1) / (2 * n))
    basis[0] /= np.sqrt(2)
    np.testing.assert_allclose(got[0], basis @ log_mel, rtol=1e-6, atol=1e-6)
    assert got.shape == (1 + (4000 - diarize.N_FFT) // diarize.HOP, diarize.N_MFCC)


@pytest.mark.slow
def test_diarisation_of_the_sample_turns():
    """Segments at the true turn times: the voices must be grouped like the script's speakers."""
    segments = script_segments()
    found = diarize.diarize(audio.chunks(str(SAMPLE_AUDIO), 60), segments,
                            num_speakers=len(diarize.introduced_names(segments)))
    pairs = list(zip((s.speaker for s in found), (t["speaker"] for t in TURNS)))
    majority = {label: max(set(t for l, t in pairs if l == label), key=[t for l, t in pairs if l == label].count)
                for label, _ in pairs}
    purity = sum(majority[l] == t for l, t in pairs) / len(pairs)
    assert len(set(majority.values())) == 4 and purity >= 0.9


def test_names_from_introductions():
    segments = [schema.Segment(0, 1, "Hi, I'm David. I teach physics.", "Speaker 2"),
                schema.Segment(1, 2, "I'm not sure.", "Speaker 3"),
                schema.Segment(2, 3, "And I'm Tom.", "Speaker 3")]
    assert diarize.names_from_introductions(segments) == {"Speaker 2": "David", "Speaker 3": "Tom"}
    assert diarize.introduced_names(segments) == ["David", "Tom"]
    assert [s.speaker for s in diarize.rename(segments, {"Speaker 2": "David"})] == ["David", "Speaker 3", "Speaker 3"]



TINY_WAVLM = dict(
    hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=48, num_conv_pos_embeddings=16,
    conv_dim=(32, 32), conv_kernel=(10, 32), conv_stride=(10, 32),  # one frame per 320 samples, as in WavLM-base
    tdnn_dim=(32, 32, 48), tdnn_kernel=(5, 3, 1), tdnn_dilation=(1, 2, 1), xvector_output_dim=16)


def save_tiny_speaker_model(folder: Path) -> model_registry.ModelSpec:
    """A random WavLMForXVector a few hundred KB big, with WavLM-base-plus-sv's
    classes and feature extractor, saved in `folder` (the Hub is not reachable here)."""
    import transformers

    transformers.WavLMForXVector(transformers.WavLMConfig(**TINY_WAVLM)).save_pretrained(folder)
    transformers.Wav2Vec2FeatureExtractor(sampling_rate=16_000).save_pretrained(folder)
    return model_registry.ModelSpec("wavlm-sv", "tiny WavLM x-vectors", "speaker", "hub", str(folder), "test")


@pytest.fixture(scope="module")
def tiny_speaker(tmp_path_factory):
    spec = save_tiny_speaker_model(tmp_path_factory.mktemp("tiny-sv"))
    return model_loading._load_spec(spec, "speaker", "cpu", attentions=True, model_kwargs={})


def test_xvector_prints_one_per_segment_into_the_same_clustering(tiny_speaker):
    import torch

    segments = script_segments()[:12]
    printer = diarize.xvector_printer(tiny_speaker)
    prints = diarize.voice_prints(audio.chunks(str(SAMPLE_AUDIO), 60), segments, printer)
    assert prints.shape == (len(segments), 16)  # (segments, xvector_output_dim)
    np.testing.assert_allclose(np.linalg.norm(prints, axis=1), 1.0, atol=1e-5)
    first = next(audio.chunks(str(SAMPLE_AUDIO), 60))[int(segments[0].start * 16_000):int(segments[0].end * 16_000)]
    features = tiny_speaker.tokenizer(first, sampling_rate=16_000, return_tensors="pt")
    with torch.no_grad():
        direct = tiny_speaker.model(**features).embeddings[0].numpy()  # (16,)
    np.testing.assert_allclose(prints[0], direct / np.linalg.norm(direct), atol=1e-4)
    found = diarize.diarize(audio.chunks(str(SAMPLE_AUDIO), 60), segments, num_speakers=3, printer=printer)
    expected = diarize.cluster(prints, num_speakers=3)
    assert [s.speaker for s in found] == [f"Speaker {k + 1}" for k in expected]
    assert prints.shape[1] != diarize.voice_prints(audio.chunks(str(SAMPLE_AUDIO), 60), segments[:3]).shape[1]


def test_xvector_forward_pass_waits_for_the_models_lock(tiny_speaker):
    printer, done = diarize.xvector_printer(tiny_speaker), threading.Event()
    with tiny_speaker.lock:
        worker = threading.Thread(target=lambda: (printer(np.zeros(8_000)), done.set()))
        worker.start()
        assert not done.wait(0.3)  # another student's forward pass holds the model
    assert done.wait(30)
    worker.join()


# --- transcripts ------------------------------------------------------------------------

def test_pasted_transcript_carries_speakers():
    got = transcript.parse("Maria: Let's start.\nDavid: I will send it by Friday.\nand the list too")
    assert [(s.speaker, s.text) for s in got] == [("Maria", "Let's start."), ("David", "I will send it by Friday."),
                                                 ("David", "and the list too")]
    assert all(a.end <= b.start for a, b in zip(got, got[1:]))
    accented = transcript.parse("Émile: Bonjour.\nŁukasz Nowak: Hi.\nnote: not a speaker")
    assert [(s.speaker, s.text) for s in accented] == [("Émile", "Bonjour."), ("Łukasz Nowak", "Hi."),
                                                      ("Łukasz Nowak", "note: not a speaker")]



@pytest.mark.parametrize("data, text", [
    ("Maria: Café at 10.".encode("utf-8"), "Maria: Café at 10."),
    ("\ufeffMaria: Café at 10.".encode("utf-8"), "Maria: Café at 10."),  # a BOM would hide the name
    ("Maria: Café at 10.".encode("utf-16"), "Maria: Café at 10."),  # Windows "Unicode"
    ("Maria: Café at 10.".encode("cp1252"), "Maria: Café at 10."),  # older Windows exports
])
def test_uploaded_transcripts_in_every_usual_encoding(data, text):
    assert transcript.decode(data) == text
    assert transcript.parse(transcript.decode(data))[0].speaker == "Maria"


def test_binary_uploaded_as_a_transcript_is_refused():
    with pytest.raises(transcript.TranscriptError, match="not text"):
        transcript.decode(SAMPLE_AUDIO.read_bytes()[:4000])

def test_srt_and_vtt_round_trip():
    segments = [schema.Segment(0.0, 2.5, "Hello.", "Maria"), schema.Segment(3661.25, 3662.0, "Bye.", "Tom")]
    assert "01:01:01,250 --> 01:01:02,000" in transcript.to_srt(segments)
    assert transcript.parse(transcript.to_srt(segments)) == segments
    assert transcript.parse(transcript.to_vtt(segments)) == segments
    vtt_voice = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Priya>Sure.</v>\n"
    assert transcript.parse(vtt_voice) == [schema.Segment(1.0, 2.0, "Sure.", "Priya")]
    no_millis = "1\n00:00:01 --> 00:00:02\nTom: Hi.\n2\n00:00:03 --> 00:00:04\nPriya: Hello.\n"  # no blank line
    assert transcript.parse(no_millis) == [schema.Segment(1.0, 2.0, "Hi.", "Tom"),
                                           schema.Segment(3.0, 4.0, "Hello.", "Priya")]


@pytest.mark.parametrize("text, message", [
    ("", "empty"), ("   \n ", "empty"), ("x" * 200_000, "200,000 characters"),
    ("x" * 1_000_000, "The file has 1,000,000 characters"),  # refused before it is read
    ("1\n00:00:01,000 --> 00:00:02,000\nHi.\n\n2\n00:00:0x,000 --> 00:00:05,000\nBye.",
     "Line 6 is not a valid cue time"),
    ("1\n00:00:xx --> 00:00:yy\nHi.", "Line 2 is not a valid cue time"),  # all cues broken: not read as plain text
    ("WEBVTT\n\n00:01:75.000 --> 00:01:80.000\nHi.", "Line 3 is not a valid cue time"),  # 75 seconds
    ("1\n00:00:05,000 --> 00:00:02,000\nHi.", "Line 2: the cue ends before it starts"),
    ("\n\n1\n00:00:01,000 --> 00:00:02,000\n", "No transcript lines")])
def test_bad_transcripts(text, message):
    with pytest.raises(transcript.TranscriptError, match=message):
        transcript.parse(text)


def test_the_speech_pace_is_the_sample_meetings():
    spoken = sum(len(turn["text"]) for turn in TURNS)
    assert round(spoken / audio.probe(SAMPLE_AUDIO.read_bytes()).duration, 2) == transcript.SPEECH_CHARS_PER_SECOND


def srt_of(hours: float, words_per_second: float) -> str:
    """`hours` of the sample's words as SRT, in 5-second cues like Whisper's."""
    words = " ".join(turn["text"] for turn in TURNS).split()
    per_cue = round(5 * words_per_second)
    return transcript.to_srt([schema.Segment(5 * i, 5 * i + 5, " ".join(
        words[(i * per_cue + k) % len(words)] for k in range(per_cue)), "Maria") for i in range(int(hours * 720))])


def test_a_three_hour_meeting_fits_and_a_longer_one_is_refused_with_true_hours():
    brisk = srt_of(3, transcript.WORDS_PER_SECOND)  # 150 words a minute: faster than the sample's 114
    assert len(brisk) > 200_000 and len(transcript.parse(brisk)) == 3 * 720  # cue times are not speech
    with pytest.raises(transcript.TranscriptError) as refused:
        transcript.parse("word " * 39_999 + "words")
    pace = sum(len(turn["text"]) for turn in TURNS) / audio.probe(SAMPLE_AUDIO.read_bytes()).duration
    assert str(refused.value).startswith(
        f"The transcript has 200,000 characters of speech (about {200_000 / pace / 3600:.1f} hours); the limit "
        f"is 180,000 characters of speech (about {180_000 / pace / 3600:.1f} hours at 10.35 characters a second).")


# --- schema ----------------------------------------------------------------------------

def test_validate_repairs_loose_json():
    minutes = schema.validate({"title": "T", "summary": "One line.", "key_discussion_points": [{"text": "A"}, ""],
                               "actions": [{"assignee": "Tom", "task": "Book the room", "deadline": "Monday"},
                                           "Write it up", {"owner": "x"}]})
    assert [p.text for p in minutes.summary] == ["One line."]
    assert [p.text for p in minutes.discussion_points] == ["A"]
    assert [(a.owner, a.task, a.due) for a in minutes.action_items] == [("Tom", "Book the room", "Monday"),
                                                                          ("", "Write it up", "")]
    with pytest.raises(schema.InvalidMinutes):
        schema.validate({"title": "only a title"})
    with pytest.raises(schema.InvalidMinutes):
        schema.validate(["not", "an", "object"])


@pytest.mark.parametrize("reply", [
    'Sure! ```json\n{"summary": ["Fine."], "decisions": ["Go"],}\n``` Hope this helps.',
    '{"summary": ["Fine."], "decisions": ["Go", "Stay',  # cut off mid-string
])
def test_extract_json_repairs(reply):
    minutes = schema.parse_reply(reply)
    assert minutes.summary[0].text == "Fine." and minutes.decisions[0].text == "Go"


@pytest.mark.parametrize("reply", ["No JSON here.", '{"summary": [}}}'])
def test_extract_json_refuses(reply):
    with pytest.raises(schema.InvalidMinutes):
        schema.parse_reply(reply)


def test_an_edited_action_table_becomes_the_minutes_action_items():
    minutes = schema.validate({"summary": ["Fair in the gym."], "action_items": [
        {"owner": "David", "task": "Book the gym", "due": "Friday", "segments": [1]},
        {"owner": "Tom", "task": "Set up the laptops", "due": "", "segments": [2]}]})
    rows = [{"owner": "Sam", "task": "Book the gym", "due": "Friday"},  # owner fixed: the link stays
            {"owner": "Tom", "task": "Set up all the laptops", "due": float("nan")},  # task reworded
            {"owner": "Ann", "task": None, "due": None},  # a new row left empty
            {"owner": None, "task": " Order  chargers ", "due": "Monday"}]  # a new row
    edited = schema.with_actions(minutes, rows)
    assert [(a.owner, a.task, a.due, a.segments) for a in edited.action_items] == [
        ("Sam", "Book the gym", "Friday", [1]), ("Tom", "Set up all the laptops", "", []),
        ("", "Order chargers", "Monday", [])]
    assert edited.summary == minutes.summary and minutes.action_items[0].owner == "David"  # a copy
    assert json.loads(edited.to_json())["action_items"][0]["owner"] == "Sam"

def test_markdown_and_json_render_every_part():
    minutes = schema.validate(TRUTH)
    markdown = schema.to_markdown(minutes)
    for part in ["# " + TRUTH["title"], "## Decisions", "| David | Ask three parents to be judges | next Wednesday |",
                 "## Open questions", "- Should we invite the local newspaper to the fair?"]:
        assert part in markdown
    assert schema.validate(json.loads(minutes.to_json())) == minutes
    assert list(schema.action_table(minutes)["owner"]) == [a["owner"] for a in TRUTH["action_items"]]


def test_each_cited_bullet_plays_from_its_first_segment():
    segments = script_segments()
    minutes = schema.Minutes(summary=[schema.Point("The fair moves.", [3, 1])], decisions=[schema.Point("Nope.", [99])],
                             action_items=[schema.ActionItem("", "Install it", "Friday", [5])],
                             open_questions=[schema.Point("Press?", [2]), schema.Point("Uncited.")])

    def shown(i):
        return f"{int(TURNS[i]['start'] // 60):02d}:{int(TURNS[i]['start'] % 60):02d}"

    assert schema.cited_points(minutes, segments) == [
        (f"Summary · {shown(3)} · The fair moves.", TURNS[3]["start"]),
        (f"Action items · {shown(5)} · ?: Install it", TURNS[5]["start"]),
        (f"Open questions · {shown(2)} · Press?", TURNS[2]["start"])]  # a segment that is not there: left out


# --- the extractive writer ---------------------------------------------------------------

def test_pagerank_matches_networkx():
    rng = np.random.default_rng(1)
    weights = rng.random((7, 7))
    np.fill_diagonal(weights, 0)
    expected = nx.pagerank(nx.from_numpy_array(weights, create_using=nx.DiGraph), alpha=0.85, tol=1e-12)
    np.testing.assert_allclose(extractive.pagerank(weights), [expected[i] for i in range(7)], atol=1e-6)


def test_topic_boundaries_find_a_planted_change():
    rng = np.random.default_rng(2)
    topic_a, topic_b = rng.standard_normal(16), rng.standard_normal(16)
    rows = [topic_a + 0.3 * rng.standard_normal(16) for _ in range(8)] + \
           [topic_b + 0.3 * rng.standard_normal(16) for _ in range(8)]
    vectors = np.array(rows) / np.linalg.norm(rows, axis=1, keepdims=True)
    assert extractive.topic_boundaries(vectors) == [8]


def test_agenda_cues_start_topics():
    segments = [schema.Segment(0, 1, "Welcome all. First topic: the fair."), schema.Segment(1, 2, "It is big."),
                schema.Segment(2, 3, "Next topic: laptops. They came.")]
    sents = extractive.sentences(segments)
    kept = [s for s in sents if s.text != "Welcome all."]
    assert extractive.agenda_boundaries(sents, sents) == [1, 3]
    assert extractive.agenda_boundaries(sents, kept) == [2]  # a cue at the start of `kept` is no boundary


@pytest.mark.parametrize("text, task, due", [
    ("send the list by Friday", "send the list", "Friday"),
    ("install it by the end of next week", "install it", "the end of next week"),
    ("ask three parents to be judges by next Wednesday", "ask three parents to be judges", "next Wednesday"),
    ("book the hall before 14th of March, please", "book the hall, please", "14th of March"),
    ("add photos", "add photos", ""),
])
def test_due_dates(text, task, due):
    assert dates.split_due(text) == (task, due)


def test_extractive_minutes_of_the_sample_script(minilm):
    minutes = extractive.write(minilm, script_segments(), title=TRUTH["title"])
    assert evaluate.action_items_found(minutes.action_items, TRUTH["action_items"]) >= 0.8 * len(TRUTH["action_items"])
    assert minutes.attendees == TRUTH["attendees"]
    assert len(minutes.decisions) == len(TRUTH["decisions"])
    assert len(minutes.open_questions) >= 2
    assert len(minutes.summary) == 3 and minutes.discussion_points
    assert not any(extractive.AGENDA_CUE.search(p.text) for p in minutes.summary + minutes.discussion_points)
    for item in minutes.action_items:  # every bullet points at the segment it came from
        assert item.task.split()[1].lower() in TURNS[item.segments[0]]["text"].lower()


def test_sentence_embeddings_are_as_wide_as_the_encoder_even_when_there_are_none(minilm):
    width = minilm.model.get_input_embeddings().weight.shape[1]  # the real tensor's hidden size
    assert extractive.embed(minilm, ["We agreed on Friday."]).shape == (1, width)
    assert extractive.embed(minilm, []).shape == (0, width)


# --- the LLM writers ----------------------------------------------------------------------

def test_chunks_respect_the_budget():
    lines = [f"Speaker {i % 3}: " + "word " * (i % 17 + 1) for i in range(200)]
    chunks = llm.chunk_texts(lines, llm.rough_token_count, 100)
    assert "\n".join(chunks).splitlines() == lines
    assert all(sum(llm.rough_token_count(l) + 1 for l in c.splitlines()) <= 100 for c in chunks)
    report = llm.token_report(script_segments(), llm.rough_token_count, 2048)
    assert report["chunks"] == 1 and report["transcript_tokens"] > 100


def canned(replies):
    calls = []

    def complete(messages, max_new_tokens, json_schema=None):
        calls.append(messages[-1]["content"])
        yield from replies[min(len(calls) - 1, len(replies) - 1)].split(" ")
    return complete, calls


def test_map_reduce_with_many_chunks():
    segments = script_segments() * 20
    complete, calls = canned(["- notes", '{"summary": ["All good."], "action_items": '
                                         '[{"owner": "Tom", "task": "Install the software", "due": "Friday"}]}'])
    events = list(llm.map_reduce(complete, segments, llm.rough_token_count, 1024, date="2026-03-02"))
    maps = llm.token_report(segments, llm.rough_token_count, 1024)["chunks"]
    assert maps > 1 and len(calls) == maps + 1 and "Tom" in calls[-1]
    minutes = events[-1].minutes
    assert minutes.date == "2026-03-02" and minutes.action_items[0].owner == "Tom"
    assert minutes.attendees == TRUTH["attendees"]


def test_map_reduce_refuses_prose():
    complete, _ = canned(["- notes", "The meeting went well."])
    with pytest.raises(schema.InvalidMinutes):
        list(llm.map_reduce(complete, script_segments(), llm.rough_token_count, 4096))


def test_smollm2_streams_text(smollm2):
    pieces = list(llm.local_complete(smollm2)([{"role": "user", "content": "Say hello."}], 8))
    assert len(pieces) >= 2 and "".join(pieces).strip()
    assert llm.context_window(smollm2) == smollm2.model.config.max_position_embeddings


@pytest.mark.parametrize("request_text, new_tokens", [("Say hello.", 40), ("Count from one to twenty, in words.", 12)])
def test_the_local_llm_writes_what_greedy_generate_writes(smollm2, request_text, new_tokens):
    """The same text as transformers' greedy generate with the repetition penalty it was given,
    whether the reply ends at the end-of-turn token or at the token limit."""
    import torch

    messages = [{"role": "user", "content": request_text}]
    streamed = "".join(llm.local_complete(smollm2)(messages, new_tokens))
    inputs = smollm2.tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                                   return_dict=True)
    with torch.no_grad():
        reference = smollm2.model.generate(**inputs, max_new_tokens=new_tokens, do_sample=False,
                                           repetition_penalty=1.1, pad_token_id=smollm2.tokenizer.eos_token_id)
    assert streamed == smollm2.tokenizer.decode(reference[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)


class WatchedLock:
    """A model lock that notes, at each release, the threads started while it was held that still run."""
    def __init__(self):
        self.lock, self.running_at_release = threading.Lock(), []

    def __enter__(self):
        self.lock.acquire()
        self.before = set(threading.enumerate())

    def __exit__(self, *exc):
        self.running_at_release.append([t for t in threading.enumerate() if t not in self.before and t.is_alive()])
        self.lock.release()


def test_stopping_the_local_llm_early_frees_the_model_only_once_generation_has_ended(smollm2):
    watched = WatchedLock()
    pieces = llm.local_complete(dataclasses.replace(smollm2, lock=watched))(
        [{"role": "user", "content": "Count from one to one hundred, in words."}], 400)
    next(pieces)  # generation is under way and holds the model
    assert watched.lock.locked()
    started = time.perf_counter()
    pieces.close()  # the reader stops early: Stop, an error, a closed page
    assert watched.running_at_release == [[]] and not watched.lock.locked()  # no generation left running
    assert time.perf_counter() - started < 20  # it stopped at the next token, not after 400


def test_a_local_llm_that_fails_raises_and_frees_the_model(smollm2):
    class OutOfMemory:
        def __call__(self, **kwargs):
            raise RuntimeError("CUDA failed with error out of memory")

    broken = dataclasses.replace(smollm2, model=OutOfMemory(), lock=threading.Lock())
    with pytest.raises(RuntimeError, match="out of memory"):  # not a reader waiting forever
        list(llm.local_complete(broken)([{"role": "user", "content": "Say hello."}], 8))
    assert not broken.lock.locked()


class FakeServer(BaseHTTPRequestHandler):
    reply = b""
    seen: list = []

    def do_POST(self):  # noqa: N802 - the http.server name
        FakeServer.seen.append((self.path, self.headers.get("Authorization"),
                                json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(FakeServer.reply)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_server():
    server = HTTPServer(("127.0.0.1", 0), FakeServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    FakeServer.seen = []
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()


def chat_reply(content: str) -> bytes:
    return json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()


def test_server_writer_against_a_fake_server(fake_server):
    FakeServer.reply = chat_reply(json.dumps(TRUTH))
    complete = llm.server_complete(fake_server, "tiny", api_key="secret")
    events = list(llm.map_reduce(complete, script_segments(), llm.rough_token_count, 8192))
    assert events[-1].minutes.action_items[0].owner == "David"
    path, auth, body = FakeServer.seen[0]
    assert path == "/v1/chat/completions" and auth == "Bearer secret" and body["model"] == "tiny"


def test_server_that_is_not_openai_style(fake_server):
    FakeServer.reply = b"<html>hello</html>"
    with pytest.raises(llm.ServerError, match="OpenAI-style"):
        list(llm.server_complete(fake_server, "tiny")([{"role": "user", "content": "hi"}], 5))


def test_server_with_malformed_minutes_json(fake_server):
    FakeServer.reply = chat_reply('{"summary": [}}}')
    with pytest.raises(schema.InvalidMinutes):
        list(llm.map_reduce(llm.server_complete(fake_server, "tiny"), script_segments(), llm.rough_token_count, 8192))


def test_unreachable_server():
    with socket_closed_port() as port:
        with pytest.raises(llm.ServerError, match="cannot be reached"):
            list(llm.server_complete(f"http://127.0.0.1:{port}/v1", "m", timeout=5)([{"role": "user", "content": "x"}], 5))
    with pytest.raises(llm.ServerError, match="not an http"):
        llm.server_complete("ftp://example", "m")


class socket_closed_port:
    """A loopback port with nothing listening."""
    def __enter__(self):
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def __exit__(self, *exc):
        return False


def test_envelope_keeps_each_bins_loudest_sample_and_its_start_time():
    samples = np.zeros(audio.SAMPLE_RATE * 2, np.float32)  # 2 s of silence
    samples[100], samples[audio.SAMPLE_RATE + 5] = -0.5, 0.25
    times, peaks = audio.envelope(samples, 4)
    np.testing.assert_allclose(times, [0, 0.5, 1.0, 1.5])
    np.testing.assert_allclose(peaks, [0.5, 0, 0.25, 0])
    assert len(audio.envelope(samples[:3], 10)[1]) == 3  # never more bins than samples
