import streamlit as st

from lessons.widgets import common
from lessons.widgets import meeting_minutes as widgets
from lib.meeting_minutes import SAMPLE_AUDIO, audio, conversation, transcript

KEY = "meeting_minutes"

st.title("Meeting minutes: audio → transcript → minutes")
common.shared_state(KEY, widgets.SHARED, widgets.PRESETS)
widgets.first_screen()
common.lesson_text(KEY, "intro")

st.header("1. The meeting")
source = st.radio("What do you have?", widgets.SOURCES, horizontal=True, key=f"{KEY}_source")
audio_bytes = None
if source == "The sample meeting":
    audio_bytes = SAMPLE_AUDIO.read_bytes()
    st.caption("Four synthetic voices (espeak-ng) in a staff meeting; regenerate with "
               "`scripts/make_sample_meeting.py`.")
elif source == "An audio file":
    upload = st.file_uploader("Upload a recording", type=audio.AUDIO_TYPES, key=f"{KEY}_upload")
    audio_bytes = upload.getvalue() if upload else None
elif source == "A recording":
    recording = st.audio_input("Record the meeting", key=f"{KEY}_record")
    audio_bytes = recording.getvalue() if recording else None
else:
    pasted = st.text_area("Paste a transcript (`Name: text` lines carry the speaker)", height=180,
                          key=f"{KEY}_pasted", placeholder="Maria: Let's start.\nDavid: I will send the list by Friday.")
    upload = st.file_uploader("…or upload one", type=["txt", "srt", "vtt"], key=f"{KEY}_transcript_file")
    if st.button("Use this transcript", key=f"{KEY}_use_transcript", type="primary"):
        try:
            widgets.remember("segments", transcript.parse(transcript.decode(upload.getvalue()) if upload else pasted))
            widgets.remember("minutes", None)
        except transcript.TranscriptError as err:
            st.error(str(err))
widgets.keep_results_of(source, audio_bytes)  # a transcript or minutes of another meeting are dropped

st.header("2. Speech → text")
if audio_bytes is None:
    st.caption("A transcript needs no speech recognition: *Use this transcript* takes it straight to section 3."
               if source == widgets.SOURCES[-1] else "Upload or record the meeting above first.")
else:
    if not widgets.state("segments"):
        st.audio(audio_bytes)
    common.lesson_text(KEY, "transcribe")
    left, middle, right = st.columns(3)
    size = left.selectbox("Whisper model", widgets.whisper_sizes(), key=f"{KEY}_whisper",
                          help="base and tiny.en are bundled; bigger ones come from the Hub when it is enabled.")
    split = middle.toggle("Split at pauses", key=f"{KEY}_split")
    speakers = right.number_input("Number of speakers (0 = guess)", 0, 8, key=f"{KEY}_speakers")
    names = conversation.names_given(st.text_input(
        "Who is in the meeting? (optional)", key=f"{KEY}_names", max_chars=600, placeholder="Ana, Kwame, Leila",
        help="Names as the invitation writes them, separated by commas, typed before you press Transcribe: "
             "a name Whisper spells by its sound ('Quame') is written as you typed it ('Kwame')."))
    voices = widgets.voice_picker()
    if st.button("Transcribe", type="primary", key=f"{KEY}_transcribe"):
        widgets.remember("minutes", None)
        found = widgets.run_transcription(audio_bytes, size, split)
        if found:
            widgets.spell_names_as_given(names)
            widgets.run_diarization(audio_bytes, int(speakers), voices)
        elif found == 0:
            st.warning("No speech was found in this recording (is it silent?).")
    widgets.classic_asr_panel(audio_bytes, size, sample=source == widgets.SOURCES[0])

segments = widgets.named_segments()
if segments:
    st.subheader("Transcript")
    st.caption(f"{len(segments)} segments · language: {widgets.state('language', 'en')}")
    if widgets.state("names_spelled"):
        st.caption("Written as the names you gave: " + ", ".join(
            f"{heard} → {given}" for heard, given in widgets.state("names_spelled").items()))
    if audio_bytes is not None:
        common.lesson_text(KEY, "speakers", **widgets.speaker_facts())
        widgets.speaker_names()
        segments = widgets.named_segments()
        widgets.speaker_timeline(segments)
    widgets.transcript_player(segments, audio_bytes)

    st.header("3. Text → minutes")
    common.lesson_text(KEY, "writers")
    writer = st.radio("Writer", widgets.WRITERS, horizontal=True, key=f"{KEY}_writer")
    server = {"local_model": "smollm2-135m"}
    if writer == "Local LLM":
        server["local_model"] = common.model_picker("decoder", "Language model", key=f"{KEY}_llm")
    elif writer == "Inference server":
        secrets = widgets.server_secrets()
        with st.sidebar:
            st.subheader("Inference server")
            server["url"] = st.text_input("Base URL", secrets.get("url", "http://127.0.0.1:8000/v1"),
                                          key=f"{KEY}_server_url")
            server["model"] = st.text_input("Model", secrets.get("model", ""), key=f"{KEY}_server_model")
            server["key"] = st.text_input("API key", secrets.get("api_key", ""), type="password",
                                          key=f"{KEY}_server_key")
            server["context"] = st.number_input("Context window (tokens)", 512, 1_000_000,
                                                key=f"{KEY}_server_context")
    meeting_date = st.date_input("Meeting date (due dates are counted from it)", key=f"{KEY}_date")
    if st.button("Write the minutes", type="primary", key=f"{KEY}_write"):
        widgets.remember("minutes", widgets.write_minutes(writer, segments, server, meeting_date.isoformat())
                         or widgets.state("minutes"))
    minutes = widgets.state("minutes")
    if minutes:
        st.header("4. The minutes")
        minutes = widgets.downloads(minutes, segments)
        if audio_bytes is not None:
            widgets.bullet_player(minutes, segments, audio_bytes)

    st.header("The pipeline, measured")
    common.lesson_text(KEY, "panel")
    st.dataframe(widgets.stage_table(), hide_index=True, width="stretch")
    if writer != "Extractive (MiniLM + rules)":
        widgets.token_panel(segments, writer, server)
        widgets.prompt_panel(writer, server)

common.checkpoint(KEY)
common.next_lesson(KEY)
