"""Minutes written by a language model: a local one (SmolLM2 offline, bigger
instruct models from the Hub) or any OpenAI-compatible inference server.

Both go through the same map-reduce. A transcript longer than the model's
context window is cut into chunks that fit; each chunk is turned into short
notes (map), and the notes are turned into one JSON object (reduce). The
reply is validated into `schema.Minutes`; when it cannot be, the caller falls
back to the extractive writer and says so."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

from lib import device_policy, inference_server, sampling
from lib.meeting_minutes import schema, transcript
from lib.meeting_minutes.schema import Segment

SYSTEM = "You write concise, accurate meeting minutes. Use only facts from the transcript."
MAP_PROMPT = ("Here is part {part} of {parts} of a meeting transcript.\n\n{text}\n\n"
              "Write short bullet notes: topics discussed, decisions, action items with owner and due "
              "date, open questions.")
REDUCE_PROMPT = (
    "Notes from a meeting with attendees {attendees}:\n\n{notes}\n\n"
    "Write the minutes as one JSON object with these keys: "
    '"title" (string), "summary" (list of strings), "discussion_points" (list of strings), '
    '"decisions" (list of strings), "action_items" (list of objects with "owner", "task", "due"), '
    '"open_questions" (list of strings). Reply with the JSON only.')
PROMPT_OVERHEAD_TOKENS = 200
MAP_NEW_TOKENS = 160
REDUCE_NEW_TOKENS = 400
REPETITION_PENALTY = 1.1  # transformers' CTRL penalty on every token already in the prompt or the reply

Complete = Callable[[list[dict], int], Iterator[str]]  # (messages, max_new_tokens) -> text pieces


ServerError = inference_server.ServerError


@dataclass
class Event:
    """A step of a map-reduce run, for the page to show as it happens."""
    kind: str  # "stage" | "text" | "done"
    text: str = ""
    minutes: schema.Minutes | None = None


def chunk_texts(lines: list[str], count_tokens: Callable[[str], int], budget: int) -> list[str]:
    """Consecutive transcript lines packed into chunks of at most `budget` tokens
    (a single longer line becomes a chunk of its own)."""
    chunks, current, used = [], [], 0
    for line in lines:
        size = count_tokens(line) + 1
        if current and used + size > budget:
            chunks.append("\n".join(current))
            current, used = [], 0
        current.append(line)
        used += size
    if current:
        chunks.append("\n".join(current))
    return chunks


def chunk_budget(context_window: int) -> int:
    """Transcript tokens per map call: the window less the prompt and the reply."""
    return max(256, min(context_window, 4096) - PROMPT_OVERHEAD_TOKENS - MAP_NEW_TOKENS)


def token_report(segments: list[Segment], count_tokens: Callable[[str], int], context_window: int) -> dict:
    """How the transcript compares with the model's context window."""
    lines = transcript.to_text(segments).splitlines()
    tokens = sum(count_tokens(line) + 1 for line in lines)
    return {"transcript_tokens": tokens, "context_window": context_window,
            "chunk_budget": chunk_budget(context_window),
            "chunks": len(chunk_texts(lines, count_tokens, chunk_budget(context_window)))}


def map_reduce(complete: Complete, segments: list[Segment], count_tokens: Callable[[str], int],
               context_window: int, title: str = "", date: str = "") -> Iterator[Event]:
    """Run the map and reduce calls, streaming their text; the last event
    carries the validated minutes, or raises schema.InvalidMinutes."""
    lines = transcript.to_text(segments).splitlines()
    chunks = chunk_texts(lines, count_tokens, chunk_budget(context_window))
    notes = []
    for part, chunk in enumerate(chunks, start=1):
        yield Event("stage", f"Map: notes on part {part} of {len(chunks)}")
        prompt = MAP_PROMPT.format(part=part, parts=len(chunks), text=chunk)
        pieces = []
        for piece in complete(_messages(prompt), MAP_NEW_TOKENS):
            pieces.append(piece)
            yield Event("text", piece)
        notes.append("".join(pieces).strip())
    yield Event("stage", "Reduce: the minutes as JSON")
    attendees = ", ".join(dict.fromkeys(s.speaker for s in segments if s.speaker)) or "unknown"
    reply = []
    for piece in complete(_messages(REDUCE_PROMPT.format(attendees=attendees, notes="\n\n".join(notes))),
                          REDUCE_NEW_TOKENS):
        reply.append(piece)
        yield Event("text", piece)
    minutes = schema.parse_reply("".join(reply))
    minutes.date = minutes.date or date
    minutes.title = title or minutes.title
    minutes.attendees = minutes.attendees or [a for a in attendees.split(", ") if a != "unknown"]
    yield Event("done", minutes=minutes)


def _messages(prompt: str) -> list[dict]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]


# --- a local model -------------------------------------------------------------------

def local_complete(loaded) -> Complete:
    """Greedy generation with a transformers causal LM, streamed piece by piece:
    the text greedy `model.generate` with transformers' `repetition_penalty`
    of REPETITION_PENALTY writes. On the CPU it runs on one thread: with other
    work on two cores, two OpenMP threads waiting for each other made
    SmolLM2-135M 15x slower (24 tokens: 124 s on two threads, 8 s on one, at
    load average 12).

    The model's lock is held until generation has ended. Each token is computed
    when the reader asks for more text, in the reader's own thread, so a reader
    that stops early (Stop, an error, a closed page) ends generation at once."""
    tokenizer = loaded.tokenizer

    def complete(messages: list[dict], max_new_tokens: int) -> Iterator[str]:
        with loaded.lock, device_policy.cpu_threads(loaded.device):
            ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)["input_ids"]
            next_logits = sampling.with_repetition_penalty(sampling.causal_lm_logits(loaded.model, loaded.device),
                                                           REPETITION_PENALTY)
            steps = sampling.generate(next_logits, ids, max_new_tokens, tokenizer.decode,
                                      stop_ids=sampling.end_of_text_ids(loaded.model, tokenizer))
            yield from sampling.text_pieces(steps, lambda new_ids: tokenizer.decode(new_ids, skip_special_tokens=True))
    return complete


def context_window(loaded) -> int:
    return int(loaded.model.config.max_position_embeddings)  # GPT-2's n_positions answers to this name too


def count_tokens_with(tokenizer) -> Callable[[str], int]:
    return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])


# --- an OpenAI-compatible server --------------------------------------------------------

def server_complete(base_url: str, model: str, api_key: str = "", timeout: float = 120) -> Complete:
    """One POST to /chat/completions per call (the reply arrives whole)."""
    server = inference_server.Server(inference_server.api_base(base_url), model, api_key, timeout)

    def complete(messages: list[dict], max_new_tokens: int) -> Iterator[str]:
        yield inference_server.chat(server, messages, max_new_tokens)
    return complete


def rough_token_count(text: str) -> int:
    """About 4 characters a token for English, for servers whose tokenizer is unknown here."""
    return max(1, len(text) // 4)
