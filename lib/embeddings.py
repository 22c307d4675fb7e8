"""Contextual and static word vectors, sentence embeddings and semantic search
with an encoder (MiniLM by default). Importable without Streamlit.

Every function takes a `model_loading.Loaded` and holds its lock around
tokenize-and-forward, because the model is shared by the whole class.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

SENTENCES_FILE = Path(__file__).resolve().parent.parent / "assets" / "lessons" / "embeddings" / "search_sentences.txt"
COURSE_MODEL = "bert-base-uncased"  # the encoder of the course's slides; its config ships in assets/configs
# How far the contextual vectors have moved from the static one, by their mean cosine with it (highest first).
DRIFT_WORDS = [(0.8, "barely moved the word from"), (0.5, "moved the word some way from"),
               (-1.0, "moved the word far from")]

# The "bank" example: two senses, a few sentences each.
BANK_SENTENCES = {
    "river": ["We sat on the bank of the river and watched the boats.",
              "The fisherman pulled his boat up onto the muddy bank.",
              "Wild flowers grew along the grassy river bank."],
    "money": ["She went to the bank to deposit her salary.",
              "The bank approved the loan for the new house.",
              "He opened a savings account at the bank downtown."],
}


@dataclass
class WordVector:
    sentence: str
    word: str
    tokens: list[str]  # the word's WordPiece pieces
    vector: torch.Tensor  # (hidden_size,)


def hidden_states(loaded, text: str) -> tuple[dict, torch.Tensor]:
    """The tokenizer's output and the encoder's last_hidden_state for one text."""
    with loaded.lock:
        encoded = loaded.tokenizer(text, return_tensors="pt", truncation=True,
                                   return_offsets_mapping=True)
        offsets = encoded.pop("offset_mapping")
        with torch.no_grad():
            output = loaded.model(**encoded.to(loaded.device))
    encoded["offset_mapping"] = offsets
    return encoded, output.last_hidden_state.float().cpu()  # (1, seq, hidden_size)


def word_token_positions(offsets: torch.Tensor, text: str, word: str) -> list[int]:
    """Positions of the tokens that make up the first whole-word occurrence of `word`."""
    lowered, target = text.lower(), word.lower().strip()
    if not target:  # find("") matches everywhere: the loop below would never end
        return []
    start = 0
    while True:
        start = lowered.find(target, start)
        if start < 0:
            return []
        end = start + len(target)
        before_ok = start == 0 or not lowered[start - 1].isalnum()
        after_ok = end == len(lowered) or not lowered[end].isalnum()
        if before_ok and after_ok:
            break
        start = end
    return [i for i, (a, b) in enumerate(offsets.tolist()) if b > a and a >= start and b <= end]


def contextual_vector(loaded, sentence: str, word: str) -> WordVector:
    """The word's vector in this sentence: the mean of its pieces' last hidden states."""
    if not word.strip():
        raise ValueError("Type a word to follow.")
    encoded, states = hidden_states(loaded, sentence)
    positions = word_token_positions(encoded["offset_mapping"][0], sentence, word)
    if not positions:
        raise ValueError(f"The word '{word}' does not appear in: {sentence!r}")
    pieces = loaded.tokenizer.convert_ids_to_tokens(encoded["input_ids"][0, positions].tolist())
    return WordVector(sentence, word, pieces, states[0, positions].mean(dim=0))


def static_vector(loaded, word: str) -> torch.Tensor:
    """The context-free vector: the word's rows of the input embedding matrix
    (averaged when the word is split into several pieces)."""
    ids = loaded.tokenizer(word.strip(), add_special_tokens=False)["input_ids"]
    if not ids:
        raise ValueError("Type a word to look up.")
    table = loaded.model.get_input_embeddings().weight  # (vocab_size, hidden_size)
    return table[ids].detach().float().cpu().mean(dim=0)


def cosine_matrix(vectors: torch.Tensor) -> torch.Tensor:
    """(n, d) -> (n, n) cosine similarities."""
    unit = torch.nn.functional.normalize(vectors.float(), dim=-1)
    return unit @ unit.T


def pca_2d(vectors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Project (n, d) onto its two principal components via SVD of the centred
    data. Returns the (n, 2) coordinates and the share of variance each axis keeps."""
    centred = vectors.double() - vectors.double().mean(dim=0, keepdim=True)
    _u, singular, v_t = torch.linalg.svd(centred, full_matrices=False)
    explained = singular**2 / (singular**2).sum()
    return (centred @ v_t[:2].T).float(), explained[:2].float()


def sentence_embeddings(loaded, sentences: list[str], batch_size: int = 32) -> torch.Tensor:
    """Mean-pooled, L2-normalised sentence vectors, as sentence-transformers
    computes them for all-MiniLM-L6-v2. (n, hidden_size)"""
    chunks = []
    for i in range(0, len(sentences), batch_size):
        with loaded.lock:
            encoded = loaded.tokenizer(sentences[i:i + batch_size], padding=True, truncation=True,
                                       return_tensors="pt").to(loaded.device)
            with torch.no_grad():
                states = loaded.model(**encoded).last_hidden_state.float()  # (batch, seq, hidden)
        chunks.append(mean_pooled(states, encoded["attention_mask"]).cpu())
    return torch.cat(chunks)


def mean_pooled(states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """(batch, seq, hidden) token vectors -> (batch, hidden) unit vectors: the mean over real tokens."""
    mask = attention_mask.unsqueeze(-1).float()  # (batch, seq, 1)
    pooled = (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1)


def bundled_sentences() -> list[str]:
    lines = SENTENCES_FILE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


def semantic_search(loaded, query: str, corpus: list[str], top_k: int = 5,
                    corpus_vectors: torch.Tensor | None = None) -> list[tuple[str, float]]:
    """The `top_k` corpus sentences closest to the query by cosine similarity."""
    if not query.strip():
        raise ValueError("Type a question or sentence to search for.")
    if corpus_vectors is None:
        corpus_vectors = sentence_embeddings(loaded, corpus)
    scores = corpus_vectors @ sentence_embeddings(loaded, [query])[0]  # (n,)
    best = scores.topk(min(top_k, len(corpus)))
    return [(corpus[i], float(s)) for s, i in zip(best.values, best.indices)]


def sense_vectors(loaded, word: str, sentences_by_sense: dict[str, list[str]]):
    """Contextual vectors of `word` in every sentence. Returns (senses, sentences, (n, hidden_size))."""
    senses, sentences, vectors = [], [], []
    for sense, group in sentences_by_sense.items():
        for sentence in group:
            vectors.append(contextual_vector(loaded, sentence, word).vector)
            senses.append(sense)
            sentences.append(sentence)
    return senses, sentences, torch.stack(vectors)


def drift_words(mean_cosine: float) -> str:
    """DRIFT_WORDS for a mean cosine between the static vector and the contextual ones."""
    return next(words for floor, words in DRIFT_WORDS if mean_cosine >= floor)


def course_model_shape(num_tokens: int) -> tuple[int, int, int]:
    """last_hidden_state.shape of one sentence of `num_tokens` tokens in bert-base-uncased. It has
    MiniLM's uncased WordPiece vocabulary, so it cuts a sentence into the same tokens; only the
    hidden size differs (read from its shipped config)."""
    from lib import parameters

    return 1, num_tokens, parameters.shipped_config(COURSE_MODEL)["hidden_size"]


def within_and_across(similarity: torch.Tensor, senses: list[str]) -> tuple[float, float]:
    """Mean cosine between different sentences of the same sense, and of different senses."""
    same = torch.tensor([[a == b for b in senses] for a in senses])
    off_diagonal = ~torch.eye(len(senses), dtype=torch.bool)
    return float(similarity[same & off_diagonal].mean()), float(similarity[~same].mean())
