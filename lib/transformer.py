"""One Transformer block, every tensor: layer 0 of a real model recomputed step by
step from its own weights, so each intermediate can be shown, and checked
against the model's own output (`hidden_states[1]`).

Two blocks are walked: a post-norm BERT block (MiniLM: attention → add →
LayerNorm → GELU feed-forward → add → LayerNorm) and a pre-norm Llama block
(SmolLM2: RMSNorm → attention with rotary positions and grouped-query heads →
add → RMSNorm → SwiGLU feed-forward → add). The walk calls the model's own
Linear and norm modules and never changes them. No Streamlit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from lib import device_policy

MAX_WALK_TOKENS = 64  # the walk keeps every tensor of the block; 64 tokens stay readable and small


@dataclass
class Step:
    name: str
    formula: str
    values: np.ndarray          # (seq, dim), or (heads, seq, dim) / (heads, seq, seq) per head
    axes: tuple[str, ...]       # what each axis of `values` counts
    note: str = ""

    @property
    def per_head(self) -> bool:
        return self.axes[0] == "head"


@dataclass
class BlockWalk:
    tokens: list[str]
    steps: list[Step]
    kind: str                   # "post-norm BERT block" | "pre-norm Llama block"
    num_heads: int
    max_difference: float       # max |walk output - model's hidden_states[1]|
    truncated_from: int | None  # the sentence's token count when it was cut to MAX_WALK_TOKENS


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().float().cpu().numpy()


def _heads(t: torch.Tensor, num_heads: int) -> torch.Tensor:
    """(seq, heads*head_dim) -> (heads, seq, head_dim)"""
    return t.view(t.shape[0], num_heads, -1).transpose(0, 1)


def _attention_steps(q, k, v, mask, scale_note: str = "") -> tuple[list[Step], torch.Tensor]:
    """Scores, mask, softmax and weighted values for (heads, seq, d) queries, keys and values."""
    d = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)  # (heads, seq, seq)
    weights = torch.softmax(scores + mask, dim=-1, dtype=torch.float32).to(q.dtype)
    mixed = weights @ v  # (heads, seq, d)
    steps = [
        Step("Scores", f"S = Q·Kᵀ / √d_k  (√{d} = {math.sqrt(d):.1f})", _numpy(scores), ("head", "query", "key"),
             scale_note),
        Step("Mask", "M = 0 where a query may look, −∞ where it may not", _numpy(mask), ("query", "key")),
        Step("Softmax", "A = softmax(S + M) row by row: each row sums to 1", _numpy(weights), ("head", "query", "key")),
        Step("Weighted values", "Z = A·V", _numpy(mixed), ("head", "token", "dimension")),
    ]
    return steps, mixed


def _concat(mixed: torch.Tensor) -> torch.Tensor:
    """(heads, seq, d) -> (seq, heads*d)"""
    return mixed.transpose(0, 1).reshape(mixed.shape[1], -1)


def bert_block(model, encoded) -> tuple[list[Step], torch.Tensor, torch.Tensor]:
    """Embeddings and layer 0 of a BERT encoder (MiniLM), step by step; the steps, the walk's output and
    hidden_states[1] from the model itself."""
    base = model.base_model
    emb, layer = base.embeddings, base.encoder.layer[0]
    attention = layer.attention.self
    heads = attention.num_attention_heads
    ids = encoded["input_ids"][0]
    seq = len(ids)
    positions = torch.arange(seq, device=ids.device)
    words = emb.word_embeddings(ids)  # (seq, hidden)
    summed = words + emb.position_embeddings(positions) + emb.token_type_embeddings(encoded["token_type_ids"][0])
    x = emb.LayerNorm(summed)
    q, k, v = (_heads(m(x), heads) for m in (attention.query, attention.key, attention.value))
    mask = torch.zeros(seq, seq, device=x.device)  # an encoder looks both ways: nothing masked
    attention_steps, mixed = _attention_steps(q, k, v, mask)
    concat = _concat(mixed)
    projected = layer.attention.output.dense(concat)
    added = x + projected
    normed = layer.attention.output.LayerNorm(added)
    up = layer.intermediate.dense(normed)
    activated = layer.intermediate.intermediate_act_fn(up)
    down = layer.output.dense(activated)
    added2 = normed + down
    out = layer.output.LayerNorm(added2)
    hidden = base(**encoded, output_hidden_states=True).hidden_states[1][0]
    per_token = ("token", "dimension")
    steps = [
        Step("Token embeddings", "E = W_E[token ids]", _numpy(words), per_token, "one learned row per token id"),
        Step("+ positions + segment", "E + P[position] + T[segment]", _numpy(summed), per_token,
             "learned position rows: without them the block would see a bag of words"),
        Step("LayerNorm (embeddings)", "X = γ·(x − mean) / √(var + ε) + β, per token", _numpy(x), per_token,
             "the block's input, hidden_states[0]"),
        Step("Queries", "Q = X·W_Q + b_Q, split into heads", _numpy(q), ("head", "token", "dimension")),
        Step("Keys", "K = X·W_K + b_K, split into heads", _numpy(k), ("head", "token", "dimension")),
        Step("Values", "V = X·W_V + b_V, split into heads", _numpy(v), ("head", "token", "dimension")),
        *attention_steps,
        Step("Heads concatenated", "concat(Z₁ … Z_h)", _numpy(concat), per_token),
        Step("Output projection", "O = concat·W_O + b_O", _numpy(projected), per_token),
        Step("Residual add", "X + O", _numpy(added), per_token, "the block adds to its input rather than replacing it"),
        Step("LayerNorm (after attention)", "H = LayerNorm(X + O)", _numpy(normed), per_token,
             "post-norm: BERT normalises after each residual add"),
        Step("Feed-forward up", "H·W₁ + b₁", _numpy(up), ("token", "hidden unit"), "4× wider"),
        Step("GELU", "GELU(u) = u·Φ(u)", _numpy(activated), ("token", "hidden unit"), "BERT's activation"),
        Step("Feed-forward down", "F = GELU(…)·W₂ + b₂", _numpy(down), per_token),
        Step("Residual add", "H + F", _numpy(added2), per_token),
        Step("LayerNorm: block output", "LayerNorm(H + F) = hidden_states[1]", _numpy(out), per_token),
    ]
    return steps, out, hidden


def llama_block(model, encoded) -> tuple[list[Step], torch.Tensor, torch.Tensor]:
    """Layer 0 of a Llama decoder (SmolLM2): RMSNorm, rotary positions, grouped-query attention, SwiGLU."""
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    base = model.base_model
    layer = base.layers[0]
    attention, config = layer.self_attn, base.config
    heads, kv_heads = config.num_attention_heads, config.num_key_value_heads
    ids = encoded["input_ids"]
    seq = ids.shape[1]
    x = base.embed_tokens(ids)[0]  # (seq, hidden)
    normed = layer.input_layernorm(x)
    q, k, v = _heads(attention.q_proj(normed), heads), _heads(attention.k_proj(normed), kv_heads), \
        _heads(attention.v_proj(normed), kv_heads)
    cos, sin = base.rotary_emb(x[None], torch.arange(seq, device=x.device)[None])  # (1, seq, head_dim)
    q_rot, k_rot = apply_rotary_pos_emb(q[None], k[None], cos, sin)
    q_rot, k_rot = q_rot[0], k_rot[0]
    groups = heads // kv_heads
    k_all, v_all = k_rot.repeat_interleave(groups, 0), v.repeat_interleave(groups, 0)  # (heads, seq, head_dim)
    mask = torch.full((seq, seq), float("-inf"), device=x.device).triu(1)  # causal: no looking ahead
    attention_steps, mixed = _attention_steps(q_rot, k_all, v_all, mask)
    concat = _concat(mixed)
    projected = attention.o_proj(concat)
    added = x + projected
    normed2 = layer.post_attention_layernorm(added)
    gate, up = layer.mlp.gate_proj(normed2), layer.mlp.up_proj(normed2)
    swiglu = layer.mlp.act_fn(gate) * up
    down = layer.mlp.down_proj(swiglu)
    out = added + down
    hidden = base(**encoded, output_hidden_states=True).hidden_states[1][0]
    per_token, head_axes = ("token", "dimension"), ("head", "token", "dimension")
    steps = [
        Step("Token embeddings", "X = W_E[token ids]", _numpy(x), per_token,
             "no position is added here: positions enter by rotating Q and K", ),
        Step("RMSNorm (before attention)", "x · γ / √(mean(x²) + ε)", _numpy(normed), per_token,
             "pre-norm: normalise the input of each sub-layer, leave the residual stream alone"),
        Step("Queries", f"Q = RMSNorm(X)·W_Q, {heads} heads", _numpy(q), head_axes),
        Step("Keys", f"K = RMSNorm(X)·W_K, {kv_heads} key/value heads", _numpy(k), head_axes,
             "grouped-query attention: fewer key/value heads than query heads"),
        Step("Values", f"V = RMSNorm(X)·W_V, {kv_heads} key/value heads", _numpy(v), head_axes),
        Step("Rotary positions on Q", "q·cos(pθ) + rotate_half(q)·sin(pθ)", _numpy(q_rot), head_axes,
             "each pair of dimensions is turned by an angle that grows with the position p"),
        Step("Rotary positions on K", "k·cos(pθ) + rotate_half(k)·sin(pθ)", _numpy(k_rot), head_axes,
             "so Q·Kᵀ depends on how far apart two tokens are"),
        Step("Keys shared across heads", f"each key/value head serves {groups} query heads", _numpy(k_all),
             head_axes, f"K and V repeated from {kv_heads} to {heads} heads"),
        *attention_steps,
        Step("Heads concatenated", "concat(Z₁ … Z_h)", _numpy(concat), per_token),
        Step("Output projection", "O = concat·W_O (no bias)", _numpy(projected), per_token),
        Step("Residual add", "R = X + O", _numpy(added), per_token, "the residual stream itself is never normalised"),
        Step("RMSNorm (before feed-forward)", "RMSNorm(R)", _numpy(normed2), per_token),
        Step("Gate and up projections", "G = RMSNorm(R)·W_gate, U = RMSNorm(R)·W_up", _numpy(gate),
             ("token", "hidden unit"), "G shown; U has the same shape"),
        Step("SwiGLU", "SiLU(G) ⊙ U, SiLU(g) = g·σ(g)", _numpy(swiglu), ("token", "hidden unit"),
             "the gate decides how much of each unit passes"),
        Step("Feed-forward down", "F = (SiLU(G) ⊙ U)·W_down", _numpy(down), per_token),
        Step("Residual add: block output", "R + F = hidden_states[1]", _numpy(out), per_token),
    ]
    return steps, out, hidden


def block_kind(model) -> str:
    base = getattr(model, "base_model", model)
    if hasattr(getattr(base, "encoder", None), "layer") and hasattr(base, "embeddings"):
        return "post-norm BERT block"
    if hasattr(base, "layers") and hasattr(base, "rotary_emb") and hasattr(base.layers[0], "mlp"):
        return "pre-norm Llama block"
    raise ValueError(f"The block walk knows BERT and Llama blocks, not {type(base).__name__}.")


def walk(loaded, text: str, max_tokens: int = MAX_WALK_TOKENS) -> BlockWalk:
    """Layer 0 of the loaded model on `text` (cut to `max_tokens`), every step kept."""
    if not text.strip():
        raise ValueError("Type a sentence first: the block needs at least one token.")
    kind = block_kind(loaded.model)
    compute = bert_block if kind.endswith("BERT block") else llama_block
    with loaded.lock, device_policy.cpu_threads(loaded.device), torch.inference_mode():
        full = len(loaded.tokenizer(text)["input_ids"])
        encoded = loaded.tokenizer(text, truncation=True, max_length=max_tokens, return_tensors="pt").to(loaded.device)
        encoded = {k: v for k, v in encoded.items() if k in ("input_ids", "token_type_ids", "attention_mask")}
        steps, out, hidden = compute(loaded.model, encoded)
    tokens = loaded.tokenizer.convert_ids_to_tokens(encoded["input_ids"][0].tolist())
    num_heads = loaded.model.config.num_attention_heads
    return BlockWalk(tokens, steps, kind, num_heads, float((out.float() - hidden.float()).abs().max()),
                     full if full > max_tokens else None)



def block_shapes() -> dict[str, int]:
    """Layers and heads of the bundled MiniLM and SmolLM2, for the lesson text, from their configs."""
    from lib import parameters

    encoder, decoder = parameters.shipped_config("all-MiniLM-L6-v2"), parameters.shipped_config("SmolLM2-135M")
    return {"encoder_layers": encoder["num_hidden_layers"], "encoder_heads": encoder["num_attention_heads"],
            "encoder_head_dim": encoder["hidden_size"] // encoder["num_attention_heads"],
            "decoder_layers": decoder["num_hidden_layers"], "decoder_heads": decoder["num_attention_heads"],
            "decoder_kv_heads": decoder["num_key_value_heads"]}
