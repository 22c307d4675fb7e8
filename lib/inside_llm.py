"""Inside a running language model: the logit lens, switching attention heads
and MLPs off, and the key/value cache.

Works on any transformers decoder laid out like Llama (SmolLM2, Qwen, Mistral)
or GPT-2 (the tiny GPT), and for interventions on BERT-style encoders
(MiniLM). Every size is read from the model's config. Interventions are
forward hooks registered for one request and removed in `finally`: the shared
model itself is never changed.
"""
from __future__ import annotations

import hashlib
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Sequence

import numpy as np
import torch

from lib import device_policy, embeddings

MAX_LENS_TOKENS = 24  # a lens heatmap wider than this stops being readable on a projector
MAX_PROMPT_CHARS = 300


class PromptError(ValueError):
    """A prompt the lesson cannot use; the message is for the student."""


# --- sizes and where the parts live ------------------------------------------------------

@dataclass(frozen=True)
class Sizes:
    """The numbers this lesson uses, under HF config names."""
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    hidden_size: int
    vocab_size: int


def sizes(config) -> Sizes:
    """From a transformers config (GPT-2's n_layer/n_head answer to the HF names too)."""
    heads = config.num_attention_heads
    return Sizes(config.num_hidden_layers, heads, getattr(config, "num_key_value_heads", None) or heads,
                 getattr(config, "head_dim", None) or config.hidden_size // heads, config.hidden_size,
                 config.vocab_size)


@dataclass(frozen=True)
class Blocks:
    """The modules of a transformer that the lens reads and the hooks change."""
    layers: Sequence[torch.nn.Module]      # one block per layer; each returns the residual stream
    head_mixers: Sequence[torch.nn.Module]  # per layer, the projection whose INPUT is the heads side by side
    mlps: Sequence[torch.nn.Module]         # per layer, the module whose OUTPUT is the MLP's contribution
    final_norm: torch.nn.Module | None      # None for encoders (no lens)
    lm_head: torch.nn.Module | None


def blocks(model) -> Blocks:
    """Llama-style (model.layers), GPT-2 (transformer.h) or BERT-style (encoder.layer)."""
    base = model.base_model
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if hasattr(base, "layers"):
        layers = list(base.layers)
        return Blocks(layers, [l.self_attn.o_proj for l in layers], [l.mlp for l in layers], base.norm, head)
    if hasattr(base, "h"):
        layers = list(base.h)
        return Blocks(layers, [l.attn.c_proj for l in layers], [l.mlp for l in layers], base.ln_f, head)
    if hasattr(base, "encoder") and hasattr(base.encoder, "layer"):
        layers = list(base.encoder.layer)
        return Blocks(layers, [l.attention.output.dense for l in layers], [l.output.dense for l in layers],
                      None, None)
    raise ValueError(f"{type(model).__name__} is not laid out like Llama, GPT-2 or BERT.")


def _tensor(output) -> torch.Tensor:
    return output[0] if isinstance(output, tuple) else output


def encode(loaded, text: str, max_tokens: int) -> torch.Tensor:
    """(1, seq) ids of `text`, cut to its last `max_tokens` tokens. Call with the lock held."""
    if not text.strip():
        raise PromptError("Type a prompt first.")
    ids = loaded.tokenizer(text[:MAX_PROMPT_CHARS], return_tensors="pt")["input_ids"][:, -max_tokens:]
    if ids.shape[1] == 0:
        raise PromptError("The prompt has no tokens this model knows.")
    return ids.to(loaded.device)


def token_labels(tokenizer, ids) -> list[str]:
    """Each id as its text, spaces shown as ␣ and newlines as ⏎ so a cell never looks empty."""
    decode = tokenizer.decode if hasattr(tokenizer, "decode") else None
    return [(decode([int(i)]) if decode else str(i)).replace(" ", "␣").replace("\n", "⏎") or "∅" for i in ids]


# --- the logit lens ----------------------------------------------------------------------

@dataclass
class Lens:
    """What the model would predict if it stopped after each layer."""
    tokens: list[str]          # the prompt's tokens
    layer_names: list[str]     # "embeddings", "layer 1" … "layer L"
    top_ids: np.ndarray        # (layers + 1, seq) most likely next token at each layer and position
    top_tokens: list[list[str]]
    top_probs: np.ndarray      # (layers + 1, seq) its probability
    last_logits: torch.Tensor  # (layers + 1, vocab) float32: the lens at the last position
    model_logits: torch.Tensor  # (vocab,) the model's own next-token logits

    @cached_property
    def last_probs(self) -> torch.Tensor:
        """(layers + 1, vocab) the lens's probabilities at the last position."""
        return self.last_logits.softmax(dim=-1)

    def first_top_layer(self, token_id: int) -> int | None:
        """The first row where `token_id` is the top prediction at the last position."""
        hits = np.flatnonzero(self.top_ids[:, -1] == token_id)
        return int(hits[0]) if hits.size else None


@torch.inference_mode()
def lens_from_ids(model, ids: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Each layer's residual stream (the embeddings first) and the model's own logits, for (1, seq) ids."""
    parts = blocks(model)
    streams: list[torch.Tensor] = []
    handles = [layer.register_forward_hook(lambda _m, _i, out: streams.append(_tensor(out)[0]))
               for layer in parts.layers]
    embed = model.get_input_embeddings().register_forward_hook(lambda _m, _i, out: streams.append(out[0]))
    try:
        logits = model(input_ids=ids, use_cache=False).logits[0, -1]  # (vocab,)
    finally:
        for handle in handles + [embed]:
            handle.remove()
    return streams, logits


@torch.inference_mode()
def read_lens(model, streams: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Final norm and LM head applied to every layer's stream: top ids, their
    probabilities, both (layers + 1, seq), and the last position's logits (layers + 1, vocab).
    Each layer is read with the same shapes as the model's own last step, so the
    last row is bit for bit the model's logits."""
    parts = blocks(model)
    streams = list(streams)
    if hasattr(model.base_model, "wpe"):  # GPT-2 adds positions inside its embedding step: read the sum
        streams[0] = streams[0] + model.base_model.wpe(torch.arange(streams[0].shape[0], device=streams[0].device))
    top_ids, top_probs, last = [], [], []
    for stream in streams:  # (seq, hidden)
        logits = parts.lm_head(parts.final_norm(stream.unsqueeze(0)))[0].float()  # (seq, vocab)
        probability, index = logits.softmax(dim=-1).max(dim=-1)
        top_ids.append(index)
        top_probs.append(probability)
        last.append(logits[-1])
    return torch.stack(top_ids), torch.stack(top_probs), torch.stack(last)


def logit_lens(loaded, text: str, max_tokens: int = MAX_LENS_TOKENS) -> Lens:
    """The logit lens of `loaded`'s decoder on `text`: every layer read through the final norm and LM head."""
    with loaded.lock, device_policy.cpu_threads(loaded.device):
        ids = encode(loaded, text, max_tokens)
        streams, model_logits = lens_from_ids(loaded.model, ids)
        top_ids, top_probs, last = read_lens(loaded.model, streams)
        tokens = token_labels(loaded.tokenizer, ids[0].tolist())
        top_tokens = [token_labels(loaded.tokenizer, row) for row in top_ids.tolist()]
    names = ["embeddings"] + [f"layer {i}" for i in range(1, len(streams))]
    return Lens(tokens, names, top_ids.cpu().numpy(), top_tokens, top_probs.cpu().numpy(), last.cpu(),
                model_logits.float().cpu())


def embedding_row_note(config) -> str:
    """What the lens's embeddings row shows for this model, from its config."""
    if getattr(config, "tie_word_embeddings", False):
        return ("this model's LM head *is* its embedding matrix (tied weights), so a token's own vector often "
                "scores highest against itself and the row mostly repeats the token just read.")
    return ("this model's LM head is a matrix of its own, separate from the embeddings, so the row shows what "
            "that head makes of the raw token vectors.")


def token_track(lens: Lens, token_id: int) -> list[dict]:
    """The rank (1 = top) and probability of one token at the last position, layer by layer."""
    probs = lens.last_probs  # (layers + 1, vocab)
    ranks = (probs > probs[:, token_id : token_id + 1]).sum(dim=-1) + 1
    return [{"layer": name, "rank": int(r), "probability": float(p)}
            for name, r, p in zip(lens.layer_names, ranks, probs[:, token_id])]


def first_token_id(loaded, word: str) -> int:
    """The id of the first token of `word` as it would follow a prompt (" Paris")."""
    if not word.strip():
        raise PromptError("Type the token to follow.")
    with loaded.lock:
        ids = loaded.tokenizer(word, add_special_tokens=False)["input_ids"]
    if not ids:
        raise PromptError(f"{word!r} has no tokens in this model's vocabulary.")
    return ids[0]


# --- interventions -------------------------------------------------------------------------

@dataclass(frozen=True)
class Ablation:
    layer: int           # 0-based
    head: int | None     # None: the layer's whole MLP
    mode: str = "zero"   # "zero": set to 0; "mean": set to its mean over the prompt's positions

    @property
    def label(self) -> str:
        part = "MLP" if self.head is None else f"head {self.head}"
        return f"layer {self.layer + 1} {part} ({self.mode})"


def _knock_out(x: torch.Tensor, mode: str) -> torch.Tensor:
    """(seq, d) -> zeros, or the mean over positions at every position."""
    return torch.zeros_like(x) if mode == "zero" else x.mean(dim=0, keepdim=True).expand_as(x)


@contextmanager
def ablated(model, ablations: Sequence[Ablation], head_dim: int, batch_rows: Sequence[int] | None = None):
    """Forward hooks that knock out heads (before the projection that mixes them)
    and MLPs (their output). Ablation i applies to batch row batch_rows[i]
    (every row when None). The hooks are removed on exit, whatever happens."""
    parts, handles = blocks(model), []

    def rows(i: int, x: torch.Tensor) -> range | list[int]:
        return range(x.shape[0]) if batch_rows is None else [batch_rows[i]]

    def head_hook(items):
        def hook(_module, args):
            x = args[0].clone()  # (batch, seq, heads * head_dim)
            for i, a in items:
                cols = slice(a.head * head_dim, (a.head + 1) * head_dim)
                for r in rows(i, x):
                    x[r, :, cols] = _knock_out(x[r, :, cols], a.mode)
            return (x,) + tuple(args[1:])
        return hook

    def mlp_hook(items):
        def hook(_module, _args, output):
            out = output.clone()  # (batch, seq, hidden)
            for i, a in items:
                for r in rows(i, out):
                    out[r] = _knock_out(out[r], a.mode)
            return out
        return hook

    by_layer: dict[tuple[int, bool], list] = {}
    for i, a in enumerate(ablations):
        by_layer.setdefault((a.layer, a.head is None), []).append((i, a))
    try:
        for (layer, is_mlp), items in by_layer.items():
            if is_mlp:
                handles.append(parts.mlps[layer].register_forward_hook(mlp_hook(items)))
            else:
                handles.append(parts.head_mixers[layer].register_forward_pre_hook(head_hook(items)))
        yield
    finally:
        for handle in handles:
            handle.remove()


def check_ablation(config, ablation: Ablation) -> None:
    s = sizes(config)
    if not 0 <= ablation.layer < s.num_hidden_layers or (
            ablation.head is not None and not 0 <= ablation.head < s.num_attention_heads):
        raise ValueError(f"{ablation.label} does not exist in a model of {s.num_hidden_layers} layers × "
                         f"{s.num_attention_heads} heads.")
    if ablation.mode not in ("zero", "mean"):
        raise ValueError(f"unknown ablation mode {ablation.mode!r}")


@dataclass
class NextTokenChange:
    before: torch.Tensor  # (vocab,) probabilities
    after: torch.Tensor
    kl: float             # KL(before ‖ after), nats

    def top(self, tokenizer, k: int = 8) -> list[dict]:
        """The k tokens most likely before or after, with both probabilities."""
        ids = torch.cat([self.before.topk(k).indices, self.after.topk(k).indices]).unique()
        ids = ids[self.before[ids].argsort(descending=True)][: k + 4]
        return [{"token": label, "before": float(self.before[i]), "after": float(self.after[i])}
                for i, label in zip(ids.tolist(), token_labels(tokenizer, ids.tolist()))]


def kl_divergence(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """KL(p ‖ q) in nats over the last axis, for probability tensors."""
    p, q = p.double(), q.double()
    return (p * (p.clamp_min(1e-30).log() - q.clamp_min(1e-30).log())).sum(dim=-1)


def next_token_change(loaded, text: str, ablations: Sequence[Ablation], max_tokens: int = 64) -> NextTokenChange:
    """The decoder's next-token distribution with and without the ablations."""
    for a in ablations:
        check_ablation(loaded.model.config, a)
    head_dim = sizes(loaded.model.config).head_dim
    with loaded.lock, torch.inference_mode(), device_policy.cpu_threads(loaded.device):
        ids = encode(loaded, text, max_tokens)
        before = loaded.model(input_ids=ids, use_cache=False).logits[0, -1].float().softmax(-1)
        with ablated(loaded.model, ablations, head_dim):
            after = loaded.model(input_ids=ids, use_cache=False).logits[0, -1].float().softmax(-1)
    return NextTokenChange(before.cpu(), after.cpu(), float(kl_divergence(before, after)))


def _pooled(loaded, encoded) -> torch.Tensor:
    states = loaded.model(**encoded).last_hidden_state.float()  # (batch, seq, hidden)
    return embeddings.mean_pooled(states, encoded["attention_mask"])


def embedding_change(loaded, sentences: Sequence[str], ablations: Sequence[Ablation]) -> dict:
    """An encoder's sentence embeddings with and without the ablations: each
    sentence's cosine to its own original, and the pair similarity before and after."""
    if not all(s.strip() for s in sentences):
        raise PromptError("Type both sentences first.")
    for a in ablations:
        check_ablation(loaded.model.config, a)
    head_dim = sizes(loaded.model.config).head_dim
    with loaded.lock, torch.inference_mode(), device_policy.cpu_threads(loaded.device):
        encoded = loaded.tokenizer([s[:MAX_PROMPT_CHARS] for s in sentences], padding=True, truncation=True,
                                   return_tensors="pt").to(loaded.device)
        before = _pooled(loaded, encoded)
        with ablated(loaded.model, ablations, head_dim):
            after = _pooled(loaded, encoded)
    own = (before * after).sum(-1)  # both unit length: cosine
    return {"cosine to original": own.tolist(), "pair similarity before": float(before[0] @ before[1]),
            "pair similarity after": float(after[0] @ after[1])}


@dataclass
class ScanResult:
    rows: list[dict]   # one per head scanned: layer, head, KL, top-token probability after
    layers_done: int
    layers_total: int
    seconds: float

    @property
    def complete(self) -> bool:
        return self.layers_done == self.layers_total


def head_scan(loaded, text: str, mode: str = "zero", time_budget_s: float = 30.0,
              on_layer: Callable[[int, int], None] | None = None, max_tokens: int = 32) -> ScanResult:
    """Knock out every head in turn and measure how far the next-token
    distribution moves (KL). One batched forward per layer, each batch row with
    a different head knocked out; stops after the layer that passes the time
    budget. on_layer(done, total) reports progress."""
    s = sizes(loaded.model.config)
    start, rows, done = time.perf_counter(), [], 0
    with loaded.lock:
        ids = encode(loaded, text, max_tokens)
    with torch.inference_mode(), device_policy.cpu_threads(loaded.device):
        with loaded.lock:
            before = loaded.model(input_ids=ids, use_cache=False).logits[0, -1].float().softmax(-1)
        top = int(before.argmax())
        batch = ids.expand(s.num_attention_heads, -1)  # (heads, seq): row h knocks out head h
        for layer in range(s.num_hidden_layers):
            heads = [Ablation(layer, h, mode) for h in range(s.num_attention_heads)]
            with loaded.lock, ablated(loaded.model, heads, s.head_dim, batch_rows=range(len(heads))):
                after = loaded.model(input_ids=batch, use_cache=False).logits[:, -1].float().softmax(-1)
            kl = kl_divergence(before.unsqueeze(0), after)
            rows += [{"layer": layer + 1, "head": h, "KL (nats)": float(kl[h]),
                      "top token before → after": float(after[h, top])} for h in range(len(heads))]
            done = layer + 1
            if on_layer:
                on_layer(done, s.num_hidden_layers)
            if time.perf_counter() - start > time_budget_s:
                break
    rows.sort(key=lambda r: -r["KL (nats)"])
    return ScanResult(rows, done, s.num_hidden_layers, time.perf_counter() - start)


# --- the key/value cache -------------------------------------------------------------------

def cache_bytes_formula(config, tokens: int, bytes_per_value: int, kv_heads: int | None = None) -> int:
    """2 (keys and values) × layers × key-value heads × head dim × tokens × bytes."""
    s = sizes(config)
    return 2 * s.num_hidden_layers * (kv_heads or s.num_key_value_heads) * s.head_dim * tokens * bytes_per_value


def cache_tensors_bytes(cache) -> int:
    """The bytes of every key and value tensor a transformers cache holds."""
    return sum(t.numel() * t.element_size() for layer in cache.layers for t in (layer.keys, layer.values))


@dataclass
class Generation:
    ids: list[int]            # the new tokens
    seconds: list[float]      # per new token
    lengths: list[int]        # tokens the model attended over for each new token
    cache_bytes: int          # measured at the end (0 without a cache)
    cache_tokens: int
    bytes_per_value: int      # of the cache's tensors (the model's dtype)


def generate_timed(loaded, text: str, new_tokens: int, use_cache: bool, max_prompt_tokens: int = 64,
                   on_token: Callable[[int], None] | None = None) -> Generation:
    """Greedy generation token by token, timing each new token. With the cache
    each step feeds the model only the newest token; without, the whole
    sequence again. The model lock is held for each step."""
    from transformers import DynamicCache

    with loaded.lock:
        ids = encode(loaded, text, max_prompt_tokens)
    cache = DynamicCache(config=loaded.model.config) if use_cache else None
    sequence, fresh = ids, ids
    out, seconds, lengths = [], [], []
    with torch.inference_mode(), device_policy.cpu_threads(loaded.device):
        for step in range(new_tokens):
            with loaded.lock:
                start = time.perf_counter()
                logits = loaded.model(input_ids=fresh if use_cache else sequence, cache=cache,
                                      use_cache=use_cache).logits[0, -1]
                token = int(logits.argmax())
                seconds.append(time.perf_counter() - start)
            lengths.append(sequence.shape[1])
            out.append(token)
            fresh = torch.tensor([[token]], device=ids.device)
            sequence = torch.cat([sequence, fresh], dim=1)
            if on_token:
                on_token(step + 1)
    if cache is None:
        return Generation(out, seconds, lengths, 0, 0, loaded.model.dtype.itemsize)
    return Generation(out, seconds, lengths, cache_tensors_bytes(cache), cache.get_seq_length(),
                      cache.layers[0].keys.element_size())


def growth_ratio(generation: Generation) -> float:
    """Time of the last quarter of the steps over the first quarter (prefill left out)."""
    times = generation.seconds[1:]
    quarter = max(1, len(times) // 4)
    return float(np.median(times[-quarter:]) / np.median(times[:quarter]))


def per_token_seconds(loaded, length: int, use_cache: bool, repeats: int = 3) -> float:
    """Median seconds for one new token when the sequence already holds `length`
    tokens: one step on a filled cache, or one forward over `length` + 1 tokens."""
    from transformers import DynamicCache

    vocab = sizes(loaded.model.config).vocab_size
    ids = torch.randint(vocab, (1, length + 1), generator=torch.Generator().manual_seed(length), device="cpu")
    ids = ids.to(loaded.device)
    times = []
    with loaded.lock, torch.inference_mode(), device_policy.cpu_threads(loaded.device):
        for _ in range(repeats):
            if use_cache:
                cache = DynamicCache(config=loaded.model.config)
                loaded.model(input_ids=ids[:, :-1], cache=cache, use_cache=True)
                start = time.perf_counter()
                loaded.model(input_ids=ids[:, -1:], cache=cache, use_cache=True)
            else:
                start = time.perf_counter()
                loaded.model(input_ids=ids, use_cache=False)
            times.append(time.perf_counter() - start)
    return float(np.median(times))


def state_fingerprint(model) -> dict[str, str]:
    """A digest of every parameter's and buffer's raw bytes: equal fingerprints mean byte-identical weights."""
    return {name: hashlib.blake2b(t.detach().cpu().contiguous().view(torch.uint8).numpy()).hexdigest()
            for name, t in model.state_dict().items()}

