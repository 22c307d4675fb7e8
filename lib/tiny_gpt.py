"""Train a tiny character-level GPT-2 from scratch, the way the course's
"train GPT-2 from scratch" guide does it at GPT-2 small's full size
(assets/configs/gpt2.json) — only small enough to learn on a laptop CPU in a minute.

The model is transformers' own `GPT2LMHeadModel`, built from a `GPT2Config`
(no pretrained weights); the data loader and loss are written out here so the
lesson can show each of them, and the generation loop is lib/sampling.py's,
the one every lesson that generates text shares.
"""
from __future__ import annotations

import math
import string
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch

from lib import embeddings, inside_llm, sampling

MIN_CORPUS_CHARS = 2_000
MAX_CORPUS_CHARS = 400_000


class CorpusError(ValueError):
    """The text cannot train a model; the message is for the student."""


def bundled_corpus(max_chars: int = 300_000) -> str:
    """Python's own documentation topics (pydoc_data.topics), a few hundred KB of English."""
    from pydoc_data.topics import topics

    text = "\n\n".join(topics[key] for key in sorted(topics))
    return text[:max_chars]


@dataclass
class CharTokenizer:
    """One token per character: the simplest tokenizer that works."""
    chars: list[str]

    @classmethod
    def from_text(cls, text: str) -> "CharTokenizer":
        return cls(sorted(set(text)))

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        index = {c: i for i, c in enumerate(self.chars)}
        return [index[c] for c in text if c in index]

    def decode(self, ids) -> str:
        return "".join(self.chars[i] for i in ids)


@dataclass
class TinyGPTConfig:
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 128
    block_size: int = 64  # context length, GPT2Config.n_positions
    batch_size: int = 32
    learning_rate: float = 3e-3
    max_steps: int = 600
    eval_every: int = 100
    seed: int = 0

    def gpt2_config(self, vocab_size: int):
        from transformers import GPT2Config

        return GPT2Config(vocab_size=vocab_size, n_positions=self.block_size, n_embd=self.n_embd,
                          n_layer=self.n_layer, n_head=self.n_head, resid_pdrop=0.0, embd_pdrop=0.0,
                          attn_pdrop=0.0, bos_token_id=0, eos_token_id=0)


def describe(arch) -> str:
    """A GPT-2 size in words, from its params.Architecture (the config the parameters lesson counts)."""
    head = "tied to" if arch.tie_word_embeddings else "separate from"
    return (f"{arch.num_hidden_layers} layers, {arch.hidden_size} hidden, {arch.num_attention_heads} heads, "
            f"{arch.vocab_size:,} tokens, {arch.max_position_embeddings:,} positions; LM head {head} the token "
            "embedding.")


def prepare_corpus(text: str, block_size: int) -> str:
    text = text.replace("\r\n", "\n")
    if not text.strip():
        raise CorpusError("The corpus is empty: paste some text or use the bundled one.")
    if len(text) < max(MIN_CORPUS_CHARS, 20 * block_size):
        raise CorpusError(f"The corpus has {len(text):,} characters; give at least "
                          f"{max(MIN_CORPUS_CHARS, 20 * block_size):,} so there is something to learn.")
    return text[:MAX_CORPUS_CHARS]


def split_ids(ids: list[int], val_share: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    cut = int(len(ids) * (1 - val_share))
    return torch.tensor(ids[:cut]), torch.tensor(ids[cut:])


def get_batch(data: torch.Tensor, block_size: int, batch_size: int, generator: torch.Generator):
    """Random windows of the text: inputs x and the same windows shifted by one, y."""
    starts = torch.randint(len(data) - block_size - 1, (batch_size,), generator=generator)
    x = torch.stack([data[s:s + block_size] for s in starts])  # (batch, block)
    y = torch.stack([data[s + 1:s + block_size + 1] for s in starts])  # (batch, block)
    return x, y


def unigram_baseline(train: torch.Tensor, val: torch.Tensor, vocab_size: int) -> float:
    """Cross-entropy (nats/char) on val of always predicting the train character
    frequencies: what a model that ignores context achieves."""
    counts = torch.bincount(train, minlength=vocab_size).double() + 1  # add-one smoothing
    log_p = torch.log(counts / counts.sum())
    return float(-log_p[val].mean())


@dataclass
class Progress:
    step: int
    train_loss: float
    val_loss: float | None = None
    sample: str | None = None


SNAPSHOT_PROMPT = "The value is 42, not 7."  # cut to the context; characters the corpus lacks are dropped
SNAPSHOTS = 24  # pictures of the model kept over one run (plus the untrained start)


@dataclass
class Snapshot:
    """What one moment of training looks like inside the model, on SNAPSHOT_PROMPT."""
    step: int
    prompt: list[str]            # the prompt's characters (those the vocabulary has)
    attentions: np.ndarray       # (layers, heads, seq, seq) every head's map
    lens_top: list[list[str]]    # (layers + 1, seq) the character each layer would predict next
    lens_probs: np.ndarray       # (layers + 1, seq) its probability
    embedding_xy: np.ndarray     # (vocab, 2) token embeddings on their two principal axes
    explained: tuple[float, float]  # share of the embeddings' variance each axis shows


@dataclass
class TinyGPTRun:
    config: TinyGPTConfig
    tokenizer: CharTokenizer
    model: torch.nn.Module
    baseline: float
    history: list[Progress] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)


def char_class(char: str) -> str:
    """The colour group of a character in the embedding map."""
    if char.lower() in "aeiou":
        return "vowel"
    if char.isdigit():
        return "digit"
    if char in string.punctuation:
        return "punctuation"
    if char.isspace():
        return "space or newline"
    return "consonant" if char.isalpha() else "other"


def snapshot_steps(max_steps: int, count: int = SNAPSHOTS) -> set[int]:
    """The steps after which a snapshot is kept: about `count` evenly spaced, and the last."""
    every = max(1, math.ceil(max_steps / count))
    return {step for step in range(every, max_steps + 1, every)} | {max_steps}


@torch.no_grad()
def take_snapshot(run: TinyGPTRun, step: int, prompt: str = SNAPSHOT_PROMPT) -> Snapshot:
    """Every head's attention map and the logit lens on `prompt`, and the
    token embeddings projected to 2-D (axes signed to match the previous snapshot,
    so the picture does not flip between frames)."""
    model, block = run.model, run.config.block_size
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    ids = torch.tensor([(run.tokenizer.encode(prompt) or [0])[-block:]], device=device)  # (1, seq)
    implementation = model.config._attn_implementation
    model.set_attn_implementation("eager")  # the only kind that returns attention weights
    try:
        attentions = model(input_ids=ids, output_attentions=True).attentions  # layers × (1, heads, seq, seq)
    finally:
        model.set_attn_implementation(implementation)
    streams, _ = inside_llm.lens_from_ids(model, ids)
    top_ids, top_probs, _ = inside_llm.read_lens(model, streams)
    xy, explained = embeddings.pca_2d(model.get_input_embeddings().weight.detach().cpu())
    if run.snapshots:  # keep each axis pointing the way it pointed in the last frame
        signs = torch.sign((xy * torch.from_numpy(run.snapshots[-1].embedding_xy)).sum(dim=0))
        xy = xy * torch.where(signs == 0, torch.ones_like(signs), signs)
    model.train(was_training)
    return Snapshot(step, [run.tokenizer.chars[i] for i in ids[0].tolist()],
                    torch.cat(attentions).float().cpu().numpy(),
                    [[run.tokenizer.chars[i] for i in row] for row in top_ids.tolist()],
                    top_probs.cpu().numpy(), xy.numpy(), (float(explained[0]), float(explained[1])))


def new_run(text: str, config: TinyGPTConfig, device: str = "cpu") -> tuple[TinyGPTRun, torch.Tensor, torch.Tensor]:
    from transformers import GPT2LMHeadModel

    text = prepare_corpus(text, config.block_size)
    tokenizer = CharTokenizer.from_text(text)
    train, val = split_ids(tokenizer.encode(text))
    torch.manual_seed(config.seed)
    model = GPT2LMHeadModel(config.gpt2_config(tokenizer.vocab_size)).to(device)
    run = TinyGPTRun(config, tokenizer, model, unigram_baseline(train, val, tokenizer.vocab_size))
    return run, train, val


def train(run: TinyGPTRun, train_data: torch.Tensor, val_data: torch.Tensor,
          prompt: str = "The ", temperature: float = 0.8, snapshots: bool = False) -> Iterator[Progress]:
    """AdamW on next-character prediction; every eval_every steps, the
    validation loss and a sample. Yields one Progress per step. With
    `snapshots`, run.snapshots gains the untrained model and about SNAPSHOTS
    moments of training (take_snapshot)."""
    cfg, model = run.config, run.model
    keep = snapshot_steps(cfg.max_steps) if snapshots else set()
    if snapshots and not run.snapshots:
        run.snapshots.append(take_snapshot(run, 0))
    device = next(model.parameters()).device
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, weight_decay=0.01)
    generator = torch.Generator().manual_seed(cfg.seed)
    model.train()
    for step in range(1, cfg.max_steps + 1):
        lr = cfg.learning_rate * 0.5 * (1 + math.cos(math.pi * step / cfg.max_steps))  # cosine decay
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = get_batch(train_data, cfg.block_size, cfg.batch_size, generator)
        # GPT2LMHeadModel shifts labels itself; y is already shifted, so compute the loss here.
        logits = model(input_ids=x.to(device)).logits  # (batch, block, vocab)
        loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), y.to(device).flatten())
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        progress = Progress(step, loss.item())
        if step % cfg.eval_every == 0 or step == cfg.max_steps:
            progress.val_loss = validation_loss(model, val_data, cfg)
            progress.sample = prompt + "".join(
                s.token for s in generate(run, prompt, 120, temperature, top_k=None, seed=step))
        run.history.append(progress)
        if step in keep:
            run.snapshots.append(take_snapshot(run, step))
        yield progress
    model.eval()


@torch.no_grad()
def validation_loss(model, data: torch.Tensor, config: TinyGPTConfig, batches: int = 8) -> float:
    """Mean next-character cross-entropy on fixed validation windows."""
    was_training = model.training
    model.eval()
    generator = torch.Generator().manual_seed(1234)
    device = next(model.parameters()).device
    losses = []
    for _ in range(batches):
        x, y = get_batch(data, config.block_size, config.batch_size, generator)
        logits = model(input_ids=x.to(device)).logits
        losses.append(torch.nn.functional.cross_entropy(logits.flatten(0, 1), y.to(device).flatten()).item())
    model.train(was_training)
    return float(np.mean(losses))


@torch.no_grad()
def generate(run: TinyGPTRun, prompt: str, max_new_tokens: int, temperature: float = 1.0,
             top_k: int | None = None, top_p: float = 1.0, seed: int = 0) -> Iterator[sampling.GenerationStep]:
    """The generation loop, one character at a time; temperature 0 means greedy.
    Yields each step with the five most likely candidates."""
    model, tok, block = run.model, run.tokenizer, run.config.block_size
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()

    def next_logits(ids: list[int]) -> torch.Tensor:
        context = torch.tensor([ids[-block:]], device=device)  # (1, ≤ block)
        return model(input_ids=context).logits[0, -1].float()  # (vocab,)

    yield from sampling.generate(next_logits, tok.encode(prompt) or [0], max_new_tokens, tok.decode,
                                 temperature, top_k, top_p, seed)
    model.train(was_training)
