"""Checkpoint: contextual embeddings. Every answer comes from lib.embeddings run on the bundled MiniLM
(live, for the predict question)."""
from __future__ import annotations

import functools
import random

import pandas as pd
import torch

from lib import embeddings, model_loading
from lib.checkpoints import Question, Reveal
from lib.checkpoints.build import concept, predict

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


def _static_or_contextual(rng: random.Random) -> Question:
    river, money = rng.choice(embeddings.BANK_SENTENCES["river"]), rng.choice(embeddings.BANK_SENTENCES["money"])
    contextual = float(embeddings.cosine_matrix(torch.stack([_bank_vector(river), _bank_vector(money)]))[0, 1])
    return concept(
        rng, f"A static embedding table (Word2Vec, GloVe, or MiniLM's own input embeddings) looks up *bank* in "
        f"{_quoted(river)} and in {_quoted(money)}. What is the cosine similarity of the two vectors it gives?",
        "Exactly 1: a static table has one vector per word, whatever the sentence",
        {"Close to 0: the two meanings are unrelated":
         "Telling the senses apart needs the context; a lookup table never sees it. MiniLM's contextual vectors "
         f"do: their cosine here is {contextual:.2f}.",
         "About 0.5: halfway between the two meanings":
         "A static vector does blend every sense into one, but it is the same blend in both sentences, so the two "
         "vectors are identical.",
         "It depends on how long the sentences are":
         "A lookup ignores everything around the word, the sentence's length included."},
        f"The table's row for *bank* is the same in both sentences: cosine **1.000**. MiniLM's last hidden state "
        f"mixes in the context, so its two *bank* vectors have cosine {contextual:.3f}: the lesson's "
        "static-vs-contextual view shows the gap.")


def _why_search_works(rng: random.Random) -> Question:
    while True:
        query = rng.choice(QUERIES)
        hits = _search(query)
        if hits[0][1] - hits[1][1] >= CLEAR_MARGIN:
            break
    (best, score), shared = hits[0], set(query.lower().strip("?.").split()) & set(hits[0][0].lower().strip(".").split())
    words = ", ".join(f"*{word}*" for word in sorted(shared))
    overlap = f"shares only the word{'s' * (len(shared) > 1)} {words} with it" if shared else "shares no word with it"
    return concept(
        rng, f"Semantic search over the lesson's sentences puts {_quoted(best)} first for the query "
        f"{_quoted(query)}, though it {overlap}. How does it find it?",
        "Each text becomes one vector of its meaning; the sentence whose vector points most the same way wins",
        {"It looks up synonyms of each query word in a dictionary":
         "No dictionary is involved: MiniLM was trained on pairs of related sentences, and similar meanings "
         "ended up with similar vectors.",
         "It counts the word pieces the query and the sentence share":
         f"That is keyword search. Here the winner {overlap}.",
         "MiniLM was trained on the lesson's sentences":
         "It never saw them: the bundled MiniLM was trained elsewhere, and the sentences are embedded only when "
         "the page runs."},
        f"Query and sentences become mean-pooled, normalised MiniLM vectors; the highest cosine wins: "
        f"{_quoted(best)} with **{score:.3f}**, ahead of {_quoted(hits[1][0])} ({hits[1][1]:.3f}).")


def _nearest_bank(rng: random.Random) -> Question:
    sentences = [s for group in embeddings.BANK_SENTENCES.values() for s in group]
    while True:
        reference, *options = rng.sample(sentences, 4)
        cosines = _bank_cosines(reference, tuple(options))
        ranked = sorted(cosines.values(), reverse=True)
        if ranked[0] - ranked[1] >= CLEAR_MARGIN:
            break
    return predict(
        f"Take MiniLM's contextual vector of *bank* in {_quoted(reference)}. Which sentence's *bank* vector has "
        "the highest cosine similarity with it?",
        tuple(options),
        "The last hidden state at *bank* carries its context: a river bank should land near other river banks, a "
        "money bank near money banks. A static embedding would give 1.000 for all three.",
        reveal_nearest_bank, reference, tuple(options))


def _bank_cosines(reference: str, options: tuple[str, ...]) -> dict[str, float]:
    return {s: float(embeddings.cosine_matrix(torch.stack([_bank_vector(reference), _bank_vector(s)]))[0, 1])
            for s in options}


def reveal_nearest_bank(reference: str, options: tuple[str, ...]) -> Reveal:
    encoder = _encoder()
    vectors = [embeddings.contextual_vector(encoder, s, "bank").vector for s in (reference, *options)]
    cosines = embeddings.cosine_matrix(torch.stack(vectors))[0, 1:].tolist()
    nearest = options[max(range(len(options)), key=cosines.__getitem__)]
    return Reveal(
        nearest,
        f"MiniLM, run just now: the closest *bank* is in {_quoted(nearest)} (cosine {max(cosines):.3f}).",
        pd.DataFrame({"sentence": list(options), "cosine with the first bank": [round(c, 3) for c in cosines]}))


def questions(rng: random.Random) -> list[Question]:
    return [_hidden_state_size(rng), _static_or_contextual(rng), _why_search_works(rng), _nearest_bank(rng)]
