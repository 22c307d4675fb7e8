"""Attention inside real models (an encoder and a decoder from the registry),
and a decoder's generation loop one token at a time. No Streamlit.

Every function takes a `model_loading.Loaded` and holds its lock around
tokenize-and-forward; the shared model is never modified.
"""
from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch

from lib import device_policy, model_registry, parameters, sampling

DISPLAY_TOKEN_LIMIT = 256  # beyond this a heatmap is unreadable and the memory grows as seq²
ARCHITECTURES = [
    {"family": "Encoder-only", "example": "BERT, MiniLM", "attention": "bidirectional self-attention",
     "trained to": "fill in masked words", "good at": "understanding: classify, search, answer spans",
     "in this lesson": "MiniLM (offline)"},
    {"family": "Decoder-only", "example": "GPT, SmolLM2, Llama", "attention": "causal (masked) self-attention",
     "trained to": "predict the next token", "good at": "generation: chat, completion, code",
     "in this lesson": "SmolLM2-135M (offline)"},
    {"family": "Encoder-decoder", "example": "T5, BART, Whisper, the 2017 Transformer",
     "attention": "encoder self-attention + causal decoder self-attention + cross-attention",
     "trained to": "turn one sequence into another (text → text, audio → text)",
     "good at": "translation, summarisation, speech recognition",
     "in this lesson": "the teacher-forcing table below; the meeting-minutes lesson runs one offline: "
                       f"{model_registry.REGISTRY[model_registry.OFFLINE_DEFAULT['asr']].title}, an audio encoder "
                       "and a text decoder"},
]


# The offline default of each role and its config in assets/configs (read without loading a model;
# tests/test_attention.py checks each against the bundled model's own config).
BUNDLED_CONFIGS = {"encoder": "all-MiniLM-L6-v2", "decoder": "SmolLM2-135M"}


ACTIVATION_NAMES = {"gelu": "GELU", "gelu_new": "GELU", "gelu_pytorch_tanh": "GELU", "relu": "ReLU", "silu": "SiLU",
                    "swish": "SiLU"}
GATED_NAMES = {"SiLU": "SwiGLU", "GELU": "GeGLU", "ReLU": "ReGLU"}


@functools.cache
def block_facts() -> dict[str, str]:
    """How the bundled encoder's and decoder's blocks are built, for the lesson text,
    read from each config (hidden_act) and the model built from it on the meta
    device: gated feed-forward (a gate_proj layer), the norm layer, and positions
    (learned position embeddings or rotary, RoPE)."""
    import transformers

    facts = {}
    for role, name in BUNDLED_CONFIGS.items():
        raw = parameters.shipped_config(name)
        model = model_registry.build_on_meta(transformers.AutoConfig.for_model(**raw), transformers.AutoModel)
        activation = ACTIVATION_NAMES.get(raw["hidden_act"], raw["hidden_act"])
        modules = dict(model.named_modules())
        gated = any(module_name.endswith("gate_proj") for module_name in modules)
        norms = {type(m).__name__ for m in modules.values() if "Norm" in type(m).__name__}
        facts[f"{role}_norm"] = "RMSNorm" if any("RMSNorm" in n for n in norms) else "LayerNorm"
        facts[f"{role}_positions"] = (
            "rotates each query and key by angles that grow with the token's position (rotary embeddings, RoPE), "
            "so a score depends on how far apart two tokens are" if any("rotary" in n for n in modules) else
            f"learns one position vector for each of its {raw['max_position_embeddings']} positions and adds it to "
            "the token's embedding, like the sines but trained")
        facts[f"{role}_activation"] = activation
        facts[f"{role}_ffn"] = (f"{GATED_NAMES.get(activation, 'gated ' + activation)}, three matrices: "
                                f"{activation}(x·W_gate) times x·W_up, element by element, projected back by W_down"
                                if gated else f"two linear layers with {activation} between them")
    return facts


def bundled_shapes() -> dict[str, int]:
    """Layers and heads per layer of the offline encoder and decoder, for the lesson text:
    {"encoder_layers": …, "encoder_heads": …, "decoder_layers": …, "decoder_heads": …}."""
    shapes = {}
    for role, name in BUNDLED_CONFIGS.items():
        config = parameters.shipped_config(name)
        shapes |= {f"{role}_layers": config["num_hidden_layers"], f"{role}_heads": config["num_attention_heads"]}
    return shapes


@dataclass
class ModelAttention:
    tokens: list[str]
    special: list[bool]          # True for [CLS], [SEP], <s>… added by the tokenizer
    attentions: np.ndarray       # (layers, heads, seq, seq) float32
    model_limit: int             # the most tokens the model accepts
    truncated_from: int | None   # the text's token count when it was cut


def token_limit(loaded) -> int:
    """The most tokens the model itself accepts."""
    limits = [getattr(loaded.model.config, "max_position_embeddings", None),
              getattr(loaded.tokenizer, "model_max_length", None)]
    return min(int(n) for n in limits if n)


def encode(loaded, text: str, max_tokens: int) -> tuple[dict, int]:
    """Token ids cut to `max_tokens` (special tokens included), and the full count."""
    tokenizer = loaded.tokenizer
    full_count = len(tokenizer(text)["input_ids"])
    encoded = tokenizer(text, truncation=True, max_length=max_tokens, return_tensors="pt")
    return encoded, full_count


def model_attention(loaded, text: str, max_tokens: int = DISPLAY_TOKEN_LIMIT) -> ModelAttention:
    """Every layer's and head's attention weights for `text`, as the model computes them.

    Students who ask while another's pass is running share the next pass: whoever gets the
    lock runs every text waiting for it, the short ones as one padded batch
    (`forward_together`). Each student gets the weights of a pass over their text alone
    (to float32 rounding: tests/test_attention_batching.py)."""
    if not text.strip():
        raise ValueError("Type a sentence first: there is nothing to attend to.")
    request = _Request(text, min(token_limit(loaded), max_tokens))
    with _waiting_guard:
        _waiting.setdefault(id(loaded), []).append(request)
    with loaded.lock:
        if not request.done.is_set():  # no pass took it while this thread waited
            with _waiting_guard:
                waiting = _waiting.pop(id(loaded), [])
            _run(loaded, waiting)
    if request.error is not None:
        raise request.error
    return request.result


BATCH_TOKEN_LIMIT = 64  # texts up to this long share a pass; padding a longer one would cost more than it saves
BATCH_SIZE_LIMIT = 8


@dataclass
class _Request:
    text: str
    max_tokens: int
    result: ModelAttention | None = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


_waiting: dict[int, list[_Request]] = {}  # id(loaded) -> texts waiting for that model's lock
_waiting_guard = threading.Lock()


def _run(loaded, requests: list[_Request]) -> None:
    """Answer every request (the caller holds the lock): short texts in batches, long ones alone."""
    try:
        encoded = [encode(loaded, r.text, r.max_tokens) for r in requests]
        short = [i for i, (e, _) in enumerate(encoded) if e["input_ids"].shape[1] <= BATCH_TOKEN_LIMIT]
        groups = [short[i:i + BATCH_SIZE_LIMIT] for i in range(0, len(short), BATCH_SIZE_LIMIT)]
        groups += [[i] for i in range(len(requests)) if i not in short]
        for group in groups:
            try:
                attentions = forward_together(loaded, [encoded[i][0] for i in group])
            except Exception as err:  # each student in a failed pass gets its error; the other passes go on
                for i in group:
                    requests[i].error = err
                continue
            for i, weights in zip(group, attentions):
                requests[i].result = _model_attention(loaded, encoded[i][0], weights, encoded[i][1],
                                                      requests[i].max_tokens)
    finally:  # no waiting student is left without an answer, whatever stopped this thread
        for r in requests:
            if r.result is None and r.error is None:
                r.error = RuntimeError("The model's pass was interrupted: try again.")
            r.done.set()


def forward_together(loaded, encoded: list[dict]) -> list[np.ndarray]:
    """One forward pass over several tokenised texts, padded on the right and masked, so each
    text's weights are those of a pass over it alone: a causal model never looks right, and
    an encoder's padded keys get weight 0. Returns (layers, heads, seq, seq) per text."""
    lengths = [e["input_ids"].shape[1] for e in encoded]
    longest = max(lengths)
    batch = {key: torch.cat([torch.nn.functional.pad(e[key], (0, longest - n)) for e, n in zip(encoded, lengths)])
             for key in encoded[0].keys()}  # (batch, longest); attention_mask pads with 0
    # One thread: the lock serialises the class's forward passes anyway, and two threads
    # per pass fight the other students' reruns for the cores (benchmarks/README.md: MiniLM
    # on 32 tokens at load 8.6 took 961 ms on two threads, 45 ms on one).
    with device_policy.cpu_threads(loaded.device), torch.inference_mode():
        # The base model, without the LM head: SmolLM2's scores its whole vocabulary at every position,
        # a third of its time, for logits this page never shows.
        out = loaded.model.base_model(**{k: v.to(loaded.device) for k, v in batch.items()}, output_attentions=True)
    stacked = torch.stack(out.attentions).float().cpu()  # (layers, batch, heads, longest, longest)
    return [stacked[:, b, :, :n, :n].contiguous().numpy() for b, n in enumerate(lengths)]  # each its own memory


def _model_attention(loaded, encoded: dict, attentions: np.ndarray, full_count: int, limit: int) -> ModelAttention:
    ids = encoded["input_ids"][0].tolist()
    special_ids = set(loaded.tokenizer.all_special_ids)
    return ModelAttention(tokens=loaded.tokenizer.convert_ids_to_tokens(ids),
                          special=[i in special_ids for i in ids],
                          attentions=attentions, model_limit=token_limit(loaded),
                          truncated_from=full_count if full_count > limit else None)


@dataclass
class QueriesKeys:
    """Each head's query and key vectors, the inputs of Q·Kᵀ inside the model."""
    queries: np.ndarray  # (layers, heads, seq, head_dim) float32
    keys: np.ndarray     # (layers, heads, seq, head_dim) float32


def bert_style_attentions(loaded) -> list | None:
    """Each layer's self-attention module when its scores are exactly
    softmax(query(x)·key(x)ᵀ/√d_head), as in BERT and MiniLM; None otherwise.
    SmolLM2 and other Llama-style decoders rotate Q and K by position (RoPE)
    after projecting, so their raw projections would give the wrong products."""
    layers = getattr(getattr(loaded.model.base_model, "encoder", None), "layer", None)
    if layers is None:
        return None
    modules = [getattr(getattr(layer, "attention", None), "self", None) for layer in layers]
    return modules if all(hasattr(m, "query") and hasattr(m, "key") for m in modules) else None


def queries_and_keys(loaded, text: str, max_tokens: int = DISPLAY_TOKEN_LIMIT) -> QueriesKeys:
    """The query and key vectors of every head for `text` (cut as model_attention
    cuts it): each layer's own projections applied to that layer's input."""
    modules = bert_style_attentions(loaded)
    if modules is None:
        raise ValueError(f"{loaded.spec.title} does not compute attention as plain Q·Kᵀ.")
    num_heads = modules[0].num_attention_heads

    def split(t: torch.Tensor) -> torch.Tensor:  # (1, seq, heads*head_dim) -> (heads, seq, head_dim)
        return t[0].view(t.shape[1], num_heads, -1).transpose(0, 1)

    with loaded.lock, device_policy.cpu_threads(loaded.device):
        encoded, _ = encode(loaded, text, min(token_limit(loaded), max_tokens))
        with torch.inference_mode():
            hidden = loaded.model.base_model(**encoded.to(loaded.device), output_hidden_states=True).hidden_states
            pairs = [(split(m.query(x)), split(m.key(x))) for m, x in zip(modules, hidden)]  # x: layer input
    queries, keys = (torch.stack(t).float().cpu().numpy() for t in zip(*pairs))  # (layers, heads, seq, d)
    return QueriesKeys(queries, keys)


def readable_tokens(attention: ModelAttention) -> list[str]:
    """Token labels for axes: position-numbered (repeated words stay apart),
    byte-level markers shown as spaces, special tokens marked."""
    labels = []
    for i, (token, special) in enumerate(zip(attention.tokens, attention.special)):
        text = token.replace("Ġ", "␣").replace("▁", "␣").replace("Ċ", "⏎")
        labels.append(f"{i}:{text}" + (" (special)" if special else ""))
    return labels


def head_roles(attention: ModelAttention) -> list[dict]:
    """For each layer and head, the mean attention a token pays to the first
    token ([CLS] / <s>), to the last special token ([SEP]), to the previous
    token and to itself. High values name what that head does."""
    weights = attention.attentions  # (layers, heads, seq, seq)
    seq_len = weights.shape[-1]
    last_special = max((i for i, s in enumerate(attention.special) if s and i > 0), default=None)
    rows = []
    for layer in range(weights.shape[0]):
        for head in range(weights.shape[1]):
            w = weights[layer, head]  # (seq, seq)
            row = {"layer": layer, "head": head,
                   "to first token": float(w[:, 0].mean()),
                   "to previous token": float(np.diagonal(w, -1).mean()) if seq_len > 1 else 0.0,
                   "to itself": float(np.diagonal(w).mean())}
            if last_special is not None:
                row["to last special ([SEP])"] = float(w[:, last_special].mean())
            rows.append(row)
    return rows


# --- generation, one token at a time ----------------------------------------

def generate_steps(loaded, prompt: str, max_new_tokens: int, temperature: float = 0.0, top_k: int = 0,
                   top_p: float = 1.0, seed: int = 0, shown: int = 10) -> Iterator[sampling.GenerationStep]:
    """Yield one GenerationStep per new token. Each step runs the decoder once
    on the new token only, reusing the keys and values cached from before."""
    if not prompt.strip():
        raise ValueError("Type a prompt first.")
    tokenizer = loaded.tokenizer
    with loaded.lock:
        ids = tokenizer(prompt)["input_ids"][-512:]
    next_logits = sampling.causal_lm_logits(loaded.model, loaded.device, loaded.lock)
    yield from sampling.generate(next_logits, ids, max_new_tokens, tokenizer.decode, temperature, top_k, top_p,
                                 seed, sampling.end_of_text_ids(loaded.model, tokenizer), shown)
