"""A toy English → French encoder–decoder Transformer, written out like nanoGPT's
model.py, trained here on sentences generated from a small bilingual lexicon.

The grammar knows what the course's examples need: nouns with gender (le chat,
la souris), adjectives that move after the noun and agree with it ("a black
mouse" → "une souris noire"), and verbs whose French takes two words
("chased" → "a poursuivi"). Because the generator builds each French sentence
word by word from the English one, it also knows the true word alignment, which
the tests compare with the model's cross-attention. No Streamlit.
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import torch
from torch import nn
from torch.nn import functional as F

PAD, BOS, EOS = "<pad>", "<s>", "</s>"
COURSE_PAIRS = [("Your cat is a lovely cat", "Ton chat est un chat adorable"),
                ("The cat chased the mouse", "Le chat a poursuivi la souris")]

# --- the lexicon and the grammar --------------------------------------------

# English determiner -> (masculine, feminine). Every noun starts with a consonant, so no élision (l', cet).
DETERMINERS = {"the": ("le", "la"), "a": ("un", "une"), "your": ("ton", "ta"), "my": ("mon", "ma"),
               "this": ("ce", "cette")}
NOUNS = {"cat": ("chat", "m"), "dog": ("chien", "m"), "mouse": ("souris", "f"), "horse": ("cheval", "m"),
         "cow": ("vache", "f"), "girl": ("fille", "f"), "boy": ("garçon", "m"), "car": ("voiture", "f"),
         "house": ("maison", "f"), "book": ("livre", "m"), "garden": ("jardin", "m"), "flower": ("fleur", "f"),
         "cake": ("gâteau", "m"), "ball": ("balle", "f"), "table": ("table", "f"), "pen": ("stylo", "m")}
# English adjective -> (masculine, feminine); in French they follow the noun.
ADJECTIVES = {"lovely": ("adorable", "adorable"), "black": ("noir", "noire"), "white": ("blanc", "blanche"),
              "green": ("vert", "verte"), "red": ("rouge", "rouge"), "happy": ("heureux", "heureuse"),
              "sad": ("triste", "triste"), "funny": ("drôle", "drôle")}
VERBS = {"chased": ("a", "poursuivi"), "saw": ("a", "vu"), "found": ("a", "trouvé"), "likes": ("aime",),
         "sees": ("voit",), "eats": ("mange",), "is": ("est",)}


@dataclass(frozen=True)
class Pair:
    source: tuple[str, ...]          # English words
    target: tuple[str, ...]          # French words
    alignment: tuple[int, ...]       # for each French word, the English word it translates


def _noun_phrase(rng: random.Random, adjective_chance: float) -> tuple[list[str], list[str], list[int]]:
    """(English words, French words, each French word's index into the English ones)."""
    det, noun = rng.choice(list(DETERMINERS)), rng.choice(list(NOUNS))
    french_noun, gender = NOUNS[noun]
    g = 0 if gender == "m" else 1
    if rng.random() < adjective_chance:
        adj = rng.choice(list(ADJECTIVES))
        return [det, adj, noun], [DETERMINERS[det][g], french_noun, ADJECTIVES[adj][g]], [0, 2, 1]
    return [det, noun], [DETERMINERS[det][g], french_noun], [0, 1]


def translate_words(source: list[str]) -> Pair:
    """The grammar's French for an English sentence it can parse (DET [ADJ] N VERB (DET [ADJ] N | ADJ)),
    with the alignment; ValueError otherwise."""
    words = [w.lower() for w in source]
    french, align = [], []

    def phrase(i: int) -> int:
        if i >= len(words) or words[i] not in DETERMINERS:
            raise ValueError("expected a determiner")
        det, j = words[i], i + 1
        adj = words[j] if j < len(words) and words[j] in ADJECTIVES else None
        j += adj is not None
        if j >= len(words) or words[j] not in NOUNS:
            raise ValueError("expected a noun")
        french_noun, gender = NOUNS[words[j]]
        g = 0 if gender == "m" else 1
        french.extend([DETERMINERS[det][g], french_noun] + ([ADJECTIVES[adj][g]] if adj else []))
        align.extend([i, j] + ([i + 1] if adj else []))
        return j + 1

    i = phrase(0)
    subject_gender = 0 if NOUNS[words[i - 1]][1] == "m" else 1
    if i >= len(words) or words[i] not in VERBS:
        raise ValueError("expected a verb")
    french.extend(VERBS[words[i]])
    align.extend([i] * len(VERBS[words[i]]))
    verb = i
    if words[verb] == "is" and verb + 2 == len(words) and words[verb + 1] in ADJECTIVES:
        french.append(ADJECTIVES[words[verb + 1]][subject_gender])
        align.append(verb + 1)
        i = verb + 2
    else:
        i = phrase(verb + 1)
    if i != len(words):
        raise ValueError("extra words")
    return Pair(tuple(words), tuple(french), tuple(align))


def random_pair(rng: random.Random) -> Pair:
    """One sentence pair from the grammar: "DET [ADJ] N VERB DET [ADJ] N" or "DET [ADJ] N is ADJ"."""
    subject = _noun_phrase(rng, 0.35)[0]
    if rng.random() < 0.15:
        return translate_words(subject + ["is", rng.choice(list(ADJECTIVES))])
    return translate_words(subject + [rng.choice(list(VERBS))] + _noun_phrase(rng, 0.35)[0])


@dataclass
class Corpus:
    train: list[Pair]
    held_out: list[Pair]   # never trained on; the course's two sentences are among them


def make_corpus(seed: int = 0, train_size: int = 6000, held_out_size: int = 200) -> Corpus:
    """Distinct generated pairs, split so no held-out English sentence is ever trained on."""
    rng = random.Random(seed)
    held = [translate_words(s.split()) for s, _ in COURSE_PAIRS]
    seen = {p.source for p in held}
    while len(held) < held_out_size:
        pair = random_pair(rng)
        if pair.source not in seen:
            seen.add(pair.source)
            held.append(pair)
    train = []
    while len(train) < train_size:
        pair = random_pair(rng)
        if pair.source not in seen:
            seen.add(pair.source)
            train.append(pair)
    return Corpus(train, held)


@dataclass(frozen=True)
class Vocab:
    words: tuple[str, ...]

    @classmethod
    def build(cls, words) -> "Vocab":
        return cls((PAD, BOS, EOS, *sorted(set(words))))

    def ids(self, words) -> list[int]:
        index = {w: i for i, w in enumerate(self.words)}
        unknown = [w for w in words if w not in index]
        if unknown:
            raise ValueError(f"not in the toy's vocabulary: {', '.join(unknown)}")
        return [index[w] for w in words]


SOURCE_VOCAB = Vocab.build([*DETERMINERS, *NOUNS, *ADJECTIVES, *VERBS])
TARGET_VOCAB = Vocab.build([w for pair in (*DETERMINERS.values(), *ADJECTIVES.values(), *VERBS.values())
                            for w in pair] + [n for n, _ in NOUNS.values()])


# --- the model -----------------------------------------------------------------

@dataclass
class Seq2SeqConfig:
    hidden_size: int = 64
    num_attention_heads: int = 4
    intermediate_size: int = 128
    num_encoder_layers: int = 2
    num_decoder_layers: int = 2
    max_position_embeddings: int = 16
    batch_size: int = 64
    learning_rate: float = 3e-3
    max_steps: int = 400
    eval_every: int = 50
    train_size: int = 6000
    seed: int = 0


def sinusoidal_positions(length: int, dim: int) -> torch.Tensor:
    """The 2017 paper's sin/cos encoding, (length, dim)."""
    position = torch.arange(length).unsqueeze(1)
    frequency = torch.exp(torch.arange(0, dim, 2) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)
    return table


class MultiHeadAttention(nn.Module):
    """Scaled dot-product attention over several heads; returns the output and the weights."""

    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        self.num_heads = config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.output = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, x, memory, mask):  # x (batch, tgt, hidden), memory (batch, src, hidden), mask broadcasts
        batch, length, hidden = x.shape

        def heads(t):  # (batch, seq, hidden) -> (batch, heads, seq, head_dim)
            return t.view(batch, -1, self.num_heads, hidden // self.num_heads).transpose(1, 2)

        q, k, v = heads(self.query(x)), heads(self.key(memory)), heads(self.value(memory))
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (batch, heads, tgt, src)
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
        out = (weights @ v).transpose(1, 2).reshape(batch, length, hidden)
        return self.output(out), weights


class FeedForward(nn.Module):
    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        self.up = nn.Linear(config.hidden_size, config.intermediate_size)
        self.down = nn.Linear(config.intermediate_size, config.hidden_size)

    def forward(self, x):
        return self.down(F.relu(self.up(x)))  # two linear layers, ReLU between (the 2017 paper)


class EncoderLayer(nn.Module):
    """Self-attention, add & norm, feed-forward, add & norm (post-norm, as in the 2017 paper)."""

    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        self.attention, self.feed_forward = MultiHeadAttention(config), FeedForward(config)
        self.norm1, self.norm2 = nn.LayerNorm(config.hidden_size), nn.LayerNorm(config.hidden_size)

    def forward(self, x, source_mask):
        attended, weights = self.attention(x, x, source_mask)
        x = self.norm1(x + attended)
        return self.norm2(x + self.feed_forward(x)), weights


class DecoderLayer(nn.Module):
    """Masked self-attention, cross-attention to the encoder's output, feed-forward; each with add & norm."""

    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        self.self_attention, self.cross_attention = MultiHeadAttention(config), MultiHeadAttention(config)
        self.feed_forward = FeedForward(config)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(config.hidden_size) for _ in range(3))

    def forward(self, y, memory, causal_mask, source_mask):
        attended, self_weights = self.self_attention(y, y, causal_mask)
        y = self.norm1(y + attended)
        crossed, cross_weights = self.cross_attention(y, memory, source_mask)
        y = self.norm2(y + crossed)
        return self.norm3(y + self.feed_forward(y)), self_weights, cross_weights


@dataclass
class Attentions:
    encoder: list[torch.Tensor]   # per layer (batch, heads, src, src)
    decoder: list[torch.Tensor]   # per layer (batch, heads, tgt, tgt), causal
    cross: list[torch.Tensor]     # per layer (batch, heads, tgt, src)


class Seq2SeqTransformer(nn.Module):
    def __init__(self, config: Seq2SeqConfig, source_vocab: int, target_vocab: int):
        super().__init__()
        self.config = config
        self.source_embedding = nn.Embedding(source_vocab, config.hidden_size)
        self.target_embedding = nn.Embedding(target_vocab, config.hidden_size)
        self.register_buffer("positions", sinusoidal_positions(config.max_position_embeddings, config.hidden_size),
                             persistent=False)
        self.encoder = nn.ModuleList(EncoderLayer(config) for _ in range(config.num_encoder_layers))
        self.decoder = nn.ModuleList(DecoderLayer(config) for _ in range(config.num_decoder_layers))
        self.lm_head = nn.Linear(config.hidden_size, target_vocab)

    def embed(self, embedding: nn.Embedding, ids):  # (batch, seq) -> (batch, seq, hidden)
        return embedding(ids) * math.sqrt(self.config.hidden_size) + self.positions[: ids.shape[1]]

    def encode(self, source_ids):
        source_mask = (source_ids != 0)[:, None, None, :]  # (batch, 1, 1, src): padding is never attended to
        x, weights = self.embed(self.source_embedding, source_ids), []
        for layer in self.encoder:
            x, w = layer(x, source_mask)
            weights.append(w)
        return x, source_mask, weights

    def forward(self, source_ids, target_ids):
        """Logits (batch, tgt, vocab) for every target position at once (teacher forcing) and the attentions."""
        memory, source_mask, encoder_weights = self.encode(source_ids)
        length = target_ids.shape[1]
        causal_mask = torch.ones(length, length, dtype=torch.bool, device=target_ids.device).tril()  # (tgt, tgt)
        y, self_weights, cross_weights = self.embed(self.target_embedding, target_ids), [], []
        for layer in self.decoder:
            y, s, c = layer(y, memory, causal_mask, source_mask)
            self_weights.append(s)
            cross_weights.append(c)
        return self.lm_head(y), Attentions(encoder_weights, self_weights, cross_weights)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# --- batches and training --------------------------------------------------------

def pad(rows: list[list[int]]) -> torch.Tensor:
    width = max(len(r) for r in rows)
    return torch.tensor([r + [0] * (width - len(r)) for r in rows])  # (batch, width)


def encode_source(words) -> list[int]:
    return SOURCE_VOCAB.ids([w.lower() for w in words]) + [SOURCE_VOCAB.ids([EOS])[0]]


def batch(pairs: list[Pair]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Source ids, decoder inputs (<s> y1 … yn) and the words they must predict (y1 … yn </s>)."""
    bos, eos = TARGET_VOCAB.ids([BOS, EOS])
    target = [TARGET_VOCAB.ids(p.target) for p in pairs]
    return pad([encode_source(p.source) for p in pairs]), pad([[bos] + t for t in target]), pad([t + [eos] for t in target])


@dataclass
class Progress:
    step: int
    loss: float
    seconds: float
    exact_match: float | None = None   # held-out sentences translated word for word right


@dataclass
class Run:
    config: Seq2SeqConfig
    model: Seq2SeqTransformer
    corpus: Corpus
    history: list[Progress] = field(default_factory=list)


def new_run(config: Seq2SeqConfig | None = None) -> Run:
    config = config or Seq2SeqConfig()
    torch.manual_seed(config.seed)
    model = Seq2SeqTransformer(config, len(SOURCE_VOCAB.words), len(TARGET_VOCAB.words))
    return Run(config, model, make_corpus(config.seed, config.train_size))


def train(run: Run) -> Iterator[Progress]:
    """Adam with warm-up and cosine decay on teacher-forced cross-entropy; every eval_every steps the
    held-out exact match. Yields one Progress per step."""
    cfg, model = run.config, run.model
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, weight_decay=0.0)
    rng = random.Random(cfg.seed)
    start = time.perf_counter() - (run.history[-1].seconds if run.history else 0.0)
    model.train()
    for step in range(len(run.history) + 1, cfg.max_steps + 1):
        warm = min(1.0, step / 50)
        for group in optimizer.param_groups:
            group["lr"] = cfg.learning_rate * warm * 0.5 * (1 + math.cos(math.pi * step / cfg.max_steps))
        source, decoder_in, labels = batch(rng.sample(run.corpus.train, cfg.batch_size))
        logits, _ = model(source, decoder_in)  # (batch, tgt, vocab)
        loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=0)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        progress = Progress(step, loss.item(), time.perf_counter() - start)
        if step % cfg.eval_every == 0 or step == cfg.max_steps:
            progress.exact_match = exact_match(model, run.corpus.held_out)
            model.train()
        run.history.append(progress)
        yield progress
    model.eval()


# --- decoding ---------------------------------------------------------------------

@torch.no_grad()
def greedy_batch(model: Seq2SeqTransformer, sources: list[tuple[str, ...]], max_len: int = 12) -> list[list[str]]:
    """Token-by-token greedy decoding of many sentences at once, each until </s>."""
    model.eval()
    bos, eos = TARGET_VOCAB.ids([BOS, EOS])
    source = pad([encode_source(s) for s in sources])
    out = torch.full((len(sources), 1), bos)
    for _ in range(max_len):
        logits, _ = model(source, out)
        out = torch.cat([out, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
        if (out == eos).any(1).all():
            break
    words = []
    for row in out[:, 1:].tolist():
        row = row[: row.index(eos)] if eos in row else row
        words.append([TARGET_VOCAB.words[i] for i in row])
    return words


def exact_match(model: Seq2SeqTransformer, pairs: list[Pair]) -> float:
    outputs = greedy_batch(model, [p.source for p in pairs])
    return sum(list(p.target) == o for p, o in zip(pairs, outputs)) / len(pairs)


@dataclass
class DecodeStep:
    prefix: list[str]             # what the decoder has read so far (<s> …)
    candidates: list[str]         # the five most likely next words
    probabilities: list[float]
    chosen: str


@dataclass
class Translation:
    source: list[str]             # English words and </s>
    target: list[str]             # <s> and the French words, as decoded (ending in </s> when it ended)
    steps: list[DecodeStep]
    attentions: Attentions        # of the final pass over the whole output (batch 1)


def source_words(sentence: str) -> list[str]:
    """The sentence's words, lower-cased, as the toy reads them; ValueError names unknown words."""
    words = [w.lower() for w in sentence.replace(".", " ").replace(",", " ").split()]
    if not words:
        raise ValueError("Type an English sentence first.")
    if len(words) > 12:
        raise ValueError(f"The toy reads at most 12 words; this sentence has {len(words)}.")
    SOURCE_VOCAB.ids(words)
    return words


@torch.no_grad()
def translate(model: Seq2SeqTransformer, sentence: str, max_len: int = 14) -> Translation:
    """Greedy decoding one token at a time until </s>, keeping each step's candidates."""
    model.eval()
    words = source_words(sentence)
    source = torch.tensor([encode_source(words)])
    target, steps = [BOS], []
    for _ in range(max_len):
        logits, _ = model(source, torch.tensor([TARGET_VOCAB.ids(target)]))
        probabilities = torch.softmax(logits[0, -1], dim=-1)
        top = probabilities.topk(5)
        chosen = TARGET_VOCAB.words[int(top.indices[0])]
        steps.append(DecodeStep(list(target), [TARGET_VOCAB.words[i] for i in top.indices.tolist()],
                                top.values.tolist(), chosen))
        target.append(chosen)
        if chosen == EOS:
            break
    _, attentions = model(source, torch.tensor([TARGET_VOCAB.ids(target)]))
    return Translation(words + [EOS], target, steps, attentions)


@torch.no_grad()
def teacher_forced(model: Seq2SeqTransformer, source: list[str], target: list[str]) -> tuple[list[str], torch.Tensor]:
    """One pass with the whole right answer as decoder input (<s> y1 … yn): the word predicted at every
    position, and the logits (tgt, vocab). Training sees exactly these predictions."""
    model.eval()
    logits, _ = model(torch.tensor([encode_source(source)]), torch.tensor([TARGET_VOCAB.ids([BOS, *target])]))
    return [TARGET_VOCAB.words[i] for i in logits[0].argmax(-1).tolist()], logits[0]


def cross_weights(translation: Translation, layer: int = -1, head: int | None = None):
    """(French words produced, English words incl. </s>) cross-attention of one decoder layer, one head or
    the mean over heads (head None): row t is the query that produced French word t; each row sums to 1."""
    weights = translation.attentions.cross[layer][0]  # (heads, tgt, src)
    matrix = weights.mean(0) if head is None else weights[head]
    return matrix[: len(translation.target) - 1].numpy()


def alignment_accuracy(model: Seq2SeqTransformer, pairs: list[Pair], layer: int = -1) -> float:
    """Share of French words (teacher-forced on the right answer) whose cross-attention, averaged over the
    heads of `layer`, peaks on the English word the grammar translated them from."""
    hits = total = 0
    model.eval()
    with torch.no_grad():
        source, decoder_in, _ = batch(pairs)
        _, attentions = model(source, decoder_in)
        cross = attentions.cross[layer].mean(1)  # (batch, tgt, src); row t is the query that predicts word t
    for pair, weights in zip(pairs, cross):
        predicted = weights[: len(pair.target), : len(pair.source)].argmax(-1).tolist()
        hits += sum(p == a for p, a in zip(predicted, pair.alignment))
        total += len(pair.target)
    return hits / total


# --- a trained copy, cached on disk --------------------------------------------------

CACHE_DIR = Path(__file__).resolve().parent.parent / ".cache" / "glassbox" / "seq2seq"


def cache_key(config: Seq2SeqConfig) -> str:
    """Changes when this file's code or the config does: a stale cached model is never used."""
    source = inspect.getsource(inspect.getmodule(cache_key))
    return hashlib.sha256((source + repr(config)).encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def class_copy() -> Run:
    """The one trained translator every student and checkpoint in this process shares; never mutated."""
    return trained()


def trained(config: Seq2SeqConfig | None = None) -> Run:
    """A fully trained run: from .cache/glassbox/seq2seq/<hash>.pt when there, else trained now and saved."""
    config = config or Seq2SeqConfig()
    run = new_run(config)
    path = CACHE_DIR / f"{cache_key(config)}.pt"
    if path.exists():
        saved = torch.load(path, weights_only=False)
        run.model.load_state_dict(saved["model"])
        run.history = saved["history"]
        run.model.eval()
        return run
    for _ in train(run):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": run.model.state_dict(), "history": run.history}, path)
    return run


# --- a real translator from the Hub ------------------------------------------------------

def hub_cross_attention(loaded, text: str, max_new_tokens: int = 40) -> dict:
    """A Hub encoder–decoder (opus-mt-en-fr) translates `text` greedily; then one teacher-forced pass over its
    own output gives the last decoder layer's cross-attention, averaged over heads: (target, source)."""
    if not text.strip():
        raise ValueError("Type an English sentence first.")
    tokenizer, model = loaded.tokenizer, loaded.model
    with loaded.lock, torch.inference_mode():
        encoded = tokenizer(text, return_tensors="pt", truncation=True, max_length=128).to(loaded.device)
        output = model.generate(**encoded, max_new_tokens=max_new_tokens, num_beams=1, do_sample=False)
        out = model(**encoded, decoder_input_ids=output[:, :-1], output_attentions=True)
    cross = out.cross_attentions[-1][0].float().mean(0).cpu().numpy()  # (target, source)
    return {"source": tokenizer.convert_ids_to_tokens(encoded["input_ids"][0].tolist()),
            "target": tokenizer.convert_ids_to_tokens(output[0, 1:].tolist()),
            "text": tokenizer.decode(output[0], skip_special_tokens=True), "cross": cross}


def lesson_numbers(run: Run) -> dict:
    """The numbers the lesson text states about the toy and its corpus."""
    return {"parameters": f"{parameter_count(run.model):,}", "steps": run.config.max_steps,
            "train_pairs": f"{len(run.corpus.train):,}", "held_out": len(run.corpus.held_out) - len(COURSE_PAIRS),
            "nouns": len(NOUNS), "adjectives": len(ADJECTIVES), "verbs": len(VERBS)}
