"""Checkpoint: contextual embeddings. Every answer comes from lib.embeddings run on the bundled MiniLM."""
from __future__ import annotations

import functools
import random

import torch

from lib import embeddings, model_loading
from lib.checkpoints import Question

SHAPE_SENTENCES = ["He went to the bank to deposit money.", "The [MASK] is very cute.",
                   "It is raining heavily.", "I need an umbrella.", "Transformers read every word at once.",
                   "Contextual embeddings change with the sentence.", "Your cat is a lovely cat."]
QUERIES = ["Is it going to be wet outside tonight?", "How do I pay my rent?", "Which city has great trains?",
           "Is my computer fast enough for deep learning?", "Tell me about pets.", "What is a good book to read?",
           "Where can I see old art?", "How do language models work?", "Which sport uses a racket?",
           "Where can we walk by the water?", "Did the economy get worse?"]
CLEAR_MARGIN = 0.02  # a question whose top two cosines are closer than this is drawn again


def _encoder() -> model_loading.Loaded:
    """The class's shared MiniLM on the CPU (the copy the lessons use)."""
    return model_loading.shared("minilm", "encoder", "cpu")


@functools.lru_cache(maxsize=64)
def _bank_vector(sentence: str) -> torch.Tensor:
    return embeddings.contextual_vector(_encoder(), sentence, "bank").vector


@functools.lru_cache(maxsize=1)
def _corpus_vectors() -> torch.Tensor:
    return embeddings.sentence_embeddings(_encoder(), embeddings.bundled_sentences())


@functools.lru_cache(maxsize=64)
def _hidden_states(sentence: str) -> tuple[list[str], torch.Size]:
    """The word pieces between [CLS] and [SEP], and the shape of last_hidden_state."""
    encoded, states = embeddings.hidden_states(_encoder(), sentence)
    return _encoder().tokenizer.convert_ids_to_tokens(encoded["input_ids"][0, 1:-1].tolist()), states.shape


@functools.lru_cache(maxsize=64)
def _search(query: str) -> list[tuple[str, float]]:
    return embeddings.semantic_search(_encoder(), query, embeddings.bundled_sentences(), top_k=2,
                                      corpus_vectors=_corpus_vectors())


def _quoted(sentence: str) -> str:
    return f"“{sentence}”"


def _hidden_state_size(rng: random.Random) -> Question:
    sentence = rng.choice(SHAPE_SENTENCES)
    pieces, shape = _hidden_states(sentence)
    _, tokens, hidden = shape
    shown = " ".join(f"`{piece}`" for piece in pieces)
    return Question(
        f"MiniLM (hidden size {hidden}) reads {_quoted(sentence)}, which its tokenizer splits into {len(pieces)} "
        f"word pieces: {shown}. How many numbers does `last_hidden_state` hold?",
        shape.numel(),
        f"The tokenizer adds `[CLS]` at the start and `[SEP]` at the end: {len(pieces)} + 2 = {tokens} tokens, "
        f"each with one vector of {hidden} numbers. The shape is (1, {tokens}, {hidden}): "
        f"1 × {tokens} × {hidden} = **{shape.numel():,}**.")


def _cosine(rng: random.Random) -> Question:
    while True:
        a = [rng.randint(-4, 4) for _ in range(3)]
        b = [rng.randint(-4, 4) for _ in range(3)]
        cosine = float(embeddings.cosine_matrix(torch.tensor([a, b]))[0, 1])
        if any(a) and any(b) and abs(cosine) >= 0.1:  # near 0, "to 2 decimals" is not a relative tolerance
            break
    dot = sum(x * y for x, y in zip(a, b))
    norms = f"√{sum(x * x for x in a)} · √{sum(y * y for y in b)}"
    return Question(
        f"Two word vectors a = {a} and b = {b}: what is their cosine similarity (to 2 decimals)?",
        cosine,
        f"cos(a, b) = a·b / (‖a‖ ‖b‖) = {dot} / ({norms}) = **{cosine:.2f}**. The cosine ignores length: "
        "1 means the same direction, 0 unrelated, −1 opposite.",
        tolerance=0.006 / abs(cosine))  # any answer within ±0.006, i.e. correct to 2 decimals


def _nearest_bank(rng: random.Random) -> Question:
    sentences = [s for group in embeddings.BANK_SENTENCES.values() for s in group]
    while True:
        reference, *options = rng.sample(sentences, 4)
        cosines = {s: float(embeddings.cosine_matrix(torch.stack([_bank_vector(reference), _bank_vector(s)]))[0, 1])
                   for s in options}
        ranked = sorted(cosines.values(), reverse=True)
        if ranked[0] - ranked[1] >= CLEAR_MARGIN:
            break
    nearest = max(cosines, key=cosines.get)
    shown = "; ".join(f"{_quoted(s)}: {c:.3f}" for s, c in cosines.items())
    return Question(
        f"Take the contextual vector of *bank* in {_quoted(reference)}. Which sentence's *bank* vector has the "
        "highest cosine similarity with it?",
        nearest,
        f"MiniLM's last hidden state at *bank* in each sentence, compared with the cosine: {shown}. The closest is "
        f"**{_quoted(nearest)}**. A static embedding would give 1.000 for all three: only context tells the river "
        "bank from the money bank.",
        options=tuple(options))


def _search_hit(rng: random.Random) -> Question:
    corpus = embeddings.bundled_sentences()
    while True:
        query = rng.choice(QUERIES)
        hits = _search(query)
        if hits[0][1] - hits[1][1] >= CLEAR_MARGIN:
            break
    decoys = rng.sample([s for s in corpus if s not in {h[0] for h in hits}], 2)
    options = [hits[0][0], hits[1][0], *decoys]
    rng.shuffle(options)
    shown = "; ".join(f"{_quoted(s)}: {c:.3f}" for s, c in hits)
    return Question(
        f"Semantic search over the lesson's {len(corpus)} sentences with MiniLM, query {_quoted(query)}: which "
        "sentence comes first?",
        hits[0][0],
        f"Query and sentences become mean-pooled, normalised MiniLM vectors; the highest cosine wins. The top two: "
        f"{shown}. The winner is **{_quoted(hits[0][0])}**: it shares the query's meaning even where it shares "
        "no words.",
        options=tuple(options))


def questions(rng: random.Random) -> list[Question]:
    return [make(rng) for make in (_hidden_state_size, _cosine, _nearest_bank, _search_hit)]
