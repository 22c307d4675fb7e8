"""Meeting minutes: audio → transcript (Whisper) → who spoke (diarisation) →
minutes (extractive, local LLM or an inference server), all validated into
one structure (`schema.Minutes`)."""

from pathlib import Path

MEETING_DIR = Path(__file__).resolve().parent.parent.parent / "assets" / "meeting"
SAMPLE_AUDIO = MEETING_DIR / "sample_meeting.ogg"
