"""Self-attention from scratch, one step at a time: dot products, scaled
dot-product attention, masks, multi-head attention and sinusoidal positional
encoding. Pure torch, no Streamlit; float64 by default so every step can be
checked by hand.

Convention: a projection is `x @ W` with W of shape (in, out), as written on
the blackboard (Q = X·W_Q). nn.Linear stores the transpose.
"""
from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass

import torch

DTYPE = torch.float64
REFERENCE_VECTOR = (3.0, 4.0)
COURSE_VECTORS = {"v1": (4.0, 3.0), "v2": (1.0, 4.0), "v3": (-4.0, 3.0), "v4": (-2.0, -3.0)}
DEFAULT_SENTENCE = "Your cat is a lovely cat"
DEFAULT_TRANSLATION = "Ton chat est un chat adorable."
MAX_TOY_WORDS = 24


# --- 1. the dot product as similarity ---------------------------------------

def similarity_label(cosine: float) -> str:
    """A word for how aligned two vectors are, from their cosine."""
    if cosine > 0.95:  # the course calls [4, 3] (cos 0.96) "same direction", [1, 4] (0.92) "similar"
        return "high positive (same direction)"
    if cosine > 0.05:
        return "positive (similar)"
    if cosine >= -0.05:
        return "zero (perpendicular)"
    return "negative (opposite)"


def dot_products(reference, vectors: dict) -> list[dict]:
    """Dot product and cosine of each named vector with the reference."""
    ref = torch.tensor(reference, dtype=DTYPE)
    rows = []
    for name, vec in vectors.items():
        v = torch.tensor(vec, dtype=DTYPE)
        dot = float(ref @ v)
        norms = float(ref.norm() * v.norm())
        cosine = dot / norms if norms else 0.0
        rows.append({"vector": name, "x": float(v[0]), "y": float(v[1]), "dot": dot,
                     "cosine": cosine, "similarity": similarity_label(cosine)})
    return rows


# --- 2. the toy model: words, embeddings, weights ---------------------------------

def split_words(sentence: str) -> list[str]:
    """Words and punctuation marks of a sentence (any script: emoji, CJK, RTL)."""
    return re.findall(r"\w+|[^\w\s]", sentence)


def word_embeddings(words: list[str], d_model: int, seed: int) -> torch.Tensor:
    """A random but fixed vector per distinct word (case-insensitive): the
    same word always gets the same embedding, wherever it stands."""
    rows = []
    for word in words:
        generator = torch.Generator().manual_seed(zlib.crc32(word.lower().encode()) ^ seed)
        rows.append(torch.randn(d_model, generator=generator, dtype=DTYPE))
    return torch.stack(rows)  # (seq, d_model)


@dataclass
class Projections:
    w_q: torch.Tensor  # (d_model, num_heads * d_k)
    w_k: torch.Tensor  # (d_model, num_heads * d_k)
    w_v: torch.Tensor  # (d_model, num_heads * d_k)
    w_o: torch.Tensor  # (num_heads * d_k, d_model)


def random_projections(d_model: int, d_k: int, seed: int, num_heads: int = 1) -> Projections:
    """Xavier-style random weights, as an untrained layer would start."""
    generator = torch.Generator().manual_seed(seed)
    inner = num_heads * d_k

    def weight(rows: int, cols: int) -> torch.Tensor:
        return torch.randn(rows, cols, generator=generator, dtype=DTYPE) / math.sqrt(rows)

    return Projections(weight(d_model, inner), weight(d_model, inner), weight(d_model, inner),
                       weight(inner, d_model))


# --- 3. scaled dot-product attention, step by step --------------------------------

def causal_mask(seq_len: int) -> torch.Tensor:
    """True where attention is allowed: each token sees itself and the past."""
    return torch.ones(seq_len, seq_len, dtype=torch.bool).tril()  # (seq, seq)


def padding_mask(seq_len: int, num_real: int) -> torch.Tensor:
    """True where attention is allowed: every query may look only at the first
    `num_real` keys; the rest are [PAD] tokens added to fill a batch."""
    allowed = torch.zeros(seq_len, seq_len, dtype=torch.bool)
    allowed[:, :num_real] = True
    return allowed  # (seq, seq)


@dataclass
class AttentionSteps:
    """Every intermediate matrix of one attention head."""
    x: torch.Tensor        # (seq, d_model) embeddings
    q: torch.Tensor        # (seq, d_k)
    k: torch.Tensor        # (seq, d_k)
    v: torch.Tensor        # (seq, d_k)
    scores: torch.Tensor   # (seq, seq) Q·Kᵀ
    scaled: torch.Tensor   # (seq, seq) Q·Kᵀ / √d_k (or unscaled), masked with -inf
    weights: torch.Tensor  # (seq, seq) softmax over each row
    output: torch.Tensor   # (seq, d_k) weights·V


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None,
           scale: bool = True) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """softmax(Q·Kᵀ/√d_k + mask)·V for (..., seq, d_k) tensors.
    Returns scores, scaled-and-masked scores, weights, output."""
    scores = q @ k.transpose(-2, -1)  # (..., seq_q, seq_k)
    scaled = scores / math.sqrt(q.shape[-1]) if scale else scores
    if mask is not None:
        scaled = scaled.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scaled, dim=-1)
    return scores, scaled, weights, weights @ v


def attention_steps(x: torch.Tensor, projections: Projections, mask: torch.Tensor | None = None,
                    scale: bool = True) -> AttentionSteps:
    """One head (the first d_k columns of the projections), all steps kept."""
    q, k, v = x @ projections.w_q, x @ projections.w_k, x @ projections.w_v  # (seq, d_k)
    scores, scaled, weights, output = attend(q, k, v, mask, scale)
    return AttentionSteps(x, q, k, v, scores, scaled, weights, output)


def toy_steps(sentence: str, d_model: int, d_k: int, seed: int, causal: bool = False,
              scale: bool = True, positions: bool = False) -> AttentionSteps:
    """The whole toy pipeline for a sentence: embed (+ positions), project, attend."""
    words = split_words(sentence)
    x = word_embeddings(words, d_model, seed)
    if positions:
        x = x + positional_encoding(len(words), d_model)
    mask = causal_mask(len(words)) if causal else None
    return attention_steps(x, random_projections(d_model, d_k, seed), mask, scale)


def row_entropy_bits(weights: torch.Tensor) -> torch.Tensor:
    """How spread out each row's attention is: log2(seq) bits when uniform,
    0 when all the weight sits on one word (a saturated softmax)."""
    return -(weights * torch.log2(weights.clamp_min(1e-300))).sum(-1)  # (seq,)


def weighted_sum_terms(steps: AttentionSteps, row: int) -> torch.Tensor:
    """The terms weight_ij · v_j whose sum is output row i."""
    return steps.weights[row].unsqueeze(-1) * steps.v  # (seq, d_k)


# --- 4. multi-head attention ---------------------------------------------------------

@dataclass
class MultiHead:
    weights: torch.Tensor   # (heads, seq, seq)
    heads: torch.Tensor     # (heads, seq, d_k) each head's output
    concat: torch.Tensor    # (seq, heads * d_k)
    output: torch.Tensor    # (seq, d_model) concat · W_O


def multi_head_attention(x: torch.Tensor, projections: Projections, num_attention_heads: int,
                         mask: torch.Tensor | None = None) -> MultiHead:
    """Split Q, K, V into heads, attend in each, concatenate, project with W_O."""
    seq_len = x.shape[0]
    d_k = projections.w_q.shape[1] // num_attention_heads

    def split(t: torch.Tensor) -> torch.Tensor:  # (seq, heads*d_k) -> (heads, seq, d_k)
        return t.view(seq_len, num_attention_heads, d_k).transpose(0, 1)

    q, k, v = split(x @ projections.w_q), split(x @ projections.w_k), split(x @ projections.w_v)
    _, _, weights, heads = attend(q, k, v, mask)
    concat = heads.transpose(0, 1).reshape(seq_len, num_attention_heads * d_k)
    return MultiHead(weights, heads, concat, concat @ projections.w_o)


# --- 5. positional encoding ------------------------------------------------------------

def positional_encoding(seq_len: int, d_model: int) -> torch.Tensor:
    """The sinusoidal encoding of "Attention Is All You Need":
    PE[pos, 2i] = sin(pos / 10000^(2i/d_model)), PE[pos, 2i+1] = cos(same)."""
    position = torch.arange(seq_len, dtype=DTYPE).unsqueeze(1)  # (seq, 1)
    frequency = torch.exp(torch.arange(0, d_model, 2, dtype=DTYPE) * (-math.log(10000.0) / d_model))
    angles = position * frequency  # (seq, ceil(d_model/2))
    encoding = torch.zeros(seq_len, d_model, dtype=DTYPE)
    encoding[:, 0::2] = torch.sin(angles)
    encoding[:, 1::2] = torch.cos(angles[:, : d_model // 2])
    return encoding  # (seq, d_model)


def shuffled_attention(words: list[str], order: list[int], d_model: int, d_k: int, seed: int,
                       positions: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The attention weights of the shuffled sentence, and the original sentence's
    weights with rows and columns shuffled the same way: (seq, seq) each."""
    sentence = " ".join(words)
    shuffled = " ".join(words[i] for i in order)
    original = toy_steps(sentence, d_model, d_k, seed, positions=positions).weights
    permuted = toy_steps(shuffled, d_model, d_k, seed, positions=positions).weights
    index = torch.tensor(order)
    return permuted, original[index][:, index]


def permutation_check(words: list[str], order: list[int], d_model: int, d_k: int, seed: int,
                      positions: bool) -> float:
    """Largest difference between the two matrices of shuffled_attention. Zero (up
    to rounding) without positional encoding: attention alone sees a bag of words."""
    permuted, reordered = shuffled_attention(words, order, d_model, d_k, seed, positions)
    return float((permuted - reordered).abs().max())


# --- 6. the decoder's training examples --------------------------------------------

def teacher_forcing(target: str, bos: str = "<s>", eos: str = "</s>") -> list[tuple[str, str]]:
    """(decoder input, word it must predict) pairs for one target sentence: in
    training the decoder always gets the *correct* previous words, and the
    causal mask lets one forward pass learn every pair at once."""
    words = split_words(target) + [eos]
    return [(" ".join([bos] + words[:i]), word) for i, word in enumerate(words)]
