"""Minutes written by a language model: a local one (SmolLM2 offline, bigger
instruct models from the Hub) or any OpenAI-compatible inference server.

Both go through the same map-reduce. A transcript longer than the model's
context window is cut into chunks that fit; each chunk is turned into short
notes (map), and the notes are turned into one JSON object (reduce). The
reply is validated into `schema.Minutes`; when it cannot be, the caller falls
back to the extractive writer and says so.

The reduce call asks for the minutes' JSON schema (schema.JSON_SCHEMA). A local
model is held to it by grammar-constrained decoding with llguidance: before
each token, the tokens that could not continue a schema-valid JSON text get
probability 0, so even a 135M-parameter model cannot write malformed JSON. An
inference server is sent the schema as `response_format` (OpenAI's
structured outputs, also served by vLLM, llama.cpp and SGLang)."""
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
    '"open_questions" (list of strings), "location" (string, "" if not said), '
    '"next_meeting" (string, "" if not said). Reply with the JSON only.')
PROMPT_OVERHEAD_TOKENS = 200
MAP_NEW_TOKENS = 160
# The schema's bounds allow about 4,000 characters; the budget covers what models write in practice
# (SmolLM2's constrained replies on the evaluation set: benchmarks/README.md).
REDUCE_NEW_TOKENS = 900
REPETITION_PENALTY = 1.1  # transformers' CTRL penalty on every token already in the prompt or the reply

# (messages, max_new_tokens, JSON schema the reply must match or None) -> text pieces
Complete = Callable[[list[dict], int, "dict | None"], Iterator[str]]


ServerError = inference_server.ServerError


@dataclass
class Event:
    """A step of a map-reduce run, for the page to show as it happens."""
    kind: str  # "stage" | "prompt" | "text" | "done"
    text: str = ""
    minutes: schema.Minutes | None = None
    messages: list[dict] | None = None  # a "prompt" event: exactly what the model is sent


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
        messages = _messages(MAP_PROMPT.format(part=part, parts=len(chunks), text=chunk))
        yield Event("prompt", f"Map call {part}", messages=messages)
        pieces = []
        for piece in complete(messages, MAP_NEW_TOKENS, None):
            pieces.append(piece)
            yield Event("text", piece)
        notes.append("".join(pieces).strip())
    yield Event("stage", "Reduce: the minutes as JSON")
    attendees = ", ".join(dict.fromkeys(s.speaker for s in segments if s.speaker)) or "unknown"
    reply = []
    messages = _messages(REDUCE_PROMPT.format(attendees=attendees, notes="\n\n".join(notes)))
    yield Event("prompt", "Reduce call", messages=messages)
    for piece in complete(messages, REDUCE_NEW_TOKENS, schema.JSON_SCHEMA):
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
    of REPETITION_PENALTY writes; with a JSON schema, only tokens the schema's
    grammar allows (`with_grammar`). On the CPU it runs on one thread: with other
    work on two cores, two OpenMP threads waiting for each other made
    SmolLM2-135M 15x slower (24 tokens: 124 s on two threads, 8 s on one, at
    load average 12).

    The model's lock is held until generation has ended. Each token is computed
    when the reader asks for more text, in the reader's own thread, so a reader
    that stops early (Stop, an error, a closed page) ends generation at once."""
    tokenizer = loaded.tokenizer

    def complete(messages: list[dict], max_new_tokens: int, json_schema: dict | None = None) -> Iterator[str]:
        with loaded.lock, device_policy.cpu_threads(loaded.device):
            ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)["input_ids"]
            next_logits = sampling.with_repetition_penalty(sampling.causal_lm_logits(loaded.model, loaded.device),
                                                           REPETITION_PENALTY)
            if json_schema is not None:
                next_logits = with_grammar(next_logits, grammar_matcher(loaded, json_schema), len(ids))
            steps = sampling.generate(next_logits, ids, max_new_tokens, tokenizer.decode,
                                      stop_ids=sampling.end_of_text_ids(loaded.model, tokenizer))
            yield from sampling.text_pieces(steps, lambda new_ids: tokenizer.decode(new_ids, skip_special_tokens=True))
    return complete


def chat_text(loaded, messages: list[dict]) -> str:
    """The text the model reads: `messages` through its chat template, with the start of the reply."""
    return loaded.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


def grammar_matcher(loaded, json_schema: dict):
    """An llguidance matcher for `json_schema` over the model's vocabulary (compact JSON: no free
    whitespace, so the model cannot stall on spaces and newlines)."""
    import llguidance

    tokenizer = _ll_tokenizer(loaded.tokenizer, int(loaded.model.config.vocab_size))
    grammar = llguidance.LLMatcher.grammar_from_json_schema(json_schema, defaults={"whitespace_flexible": False})
    matcher = llguidance.LLMatcher(tokenizer, grammar)
    if matcher.is_error():
        raise schema.InvalidMinutes(f"the JSON schema cannot be compiled: {matcher.get_error()}")
    return matcher


_LL_TOKENIZERS: dict = {}


def _ll_tokenizer(tokenizer, vocab_size: int):
    """llguidance's view of a tokenizer (about a second to build, so kept per tokenizer)."""
    import llguidance.hf

    key = (id(tokenizer), vocab_size)
    if key not in _LL_TOKENIZERS:
        _LL_TOKENIZERS[key] = llguidance.hf.from_tokenizer(tokenizer, n_vocab=vocab_size)
    return _LL_TOKENIZERS[key]


def with_grammar(next_logits: sampling.NextLogits, matcher, prompt_length: int) -> sampling.NextLogits:
    """`next_logits` with every token the grammar does not allow next set to -inf. The matcher
    follows the reply: the ids after the prompt are fed to it as they are chosen."""
    import llguidance.torch

    fed, mask = prompt_length, None

    def constrained(ids: list[int]):
        nonlocal fed, mask
        for token in ids[fed:]:
            if not matcher.consume_token(token):
                raise schema.InvalidMinutes(f"the grammar refused token {token}: {matcher.get_error()}")
        fed = len(ids)
        logits = next_logits(ids)  # (vocab,)
        if mask is None:
            mask = llguidance.torch.allocate_token_bitmask(1, logits.shape[-1])  # (1, vocab / 32) int32
        llguidance.torch.fill_next_token_bitmask(matcher, mask, 0)
        logits = logits.unsqueeze(0).clone()  # (1, vocab)
        llguidance.torch.apply_token_bitmask_inplace(logits, mask.to(logits.device))
        return logits[0]
    return constrained


def context_window(loaded) -> int:
    return int(loaded.model.config.max_position_embeddings)  # GPT-2's n_positions answers to this name too


def count_tokens_with(tokenizer) -> Callable[[str], int]:
    return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])


# --- an OpenAI-compatible server --------------------------------------------------------

def request_body(model: str, messages: list[dict], max_new_tokens: int, json_schema: dict | None) -> dict:
    """The /chat/completions request; with a schema, OpenAI's structured-output `response_format`."""
    body = {"model": model, "messages": messages, "max_tokens": max_new_tokens, "temperature": 0}
    if json_schema is not None:
        body["response_format"] = {"type": "json_schema",
                                   "json_schema": {"name": "minutes", "strict": True, "schema": json_schema}}
    return body


def server_complete(base_url: str, model: str, api_key: str = "", timeout: float = 120) -> Complete:
    """One POST to /chat/completions per call (the reply arrives whole)."""
    server = inference_server.Server(inference_server.api_base(base_url), model, api_key, timeout)

    def complete(messages: list[dict], max_new_tokens: int, json_schema: dict | None = None) -> Iterator[str]:
        reply = inference_server.post(server, "/chat/completions",
                                      request_body(model, messages, max_new_tokens, json_schema))
        yield inference_server.answer(reply, lambda choice: choice["message"]["content"], server)
    return complete


def rough_token_count(text: str) -> int:
    """About 4 characters a token for English, for servers whose tokenizer is unknown here."""
    return max(1, len(text) // 4)
