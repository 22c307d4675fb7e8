"""Meeting minutes: audio → transcript (Whisper) → who spoke (diarisation) →
minutes (extractive, local LLM or an inference server), all validated into
one structure (`schema.Minutes`)."""
