"""Recurrent networks, written out: RNN, LSTM and GRU cells step by step (they
match torch.nn.RNN/LSTM/GRU), gradients through time, a trained LSTM's gates,
a character language model, a time-series forecaster, and RNN vs attention
timing. No Streamlit here: lessons/rnn.py draws what these functions compute.

Tensor shapes follow torch.nn.RNN: (seq, batch, features) unless a name says
otherwise. Gate order inside the stacked weights is torch's: LSTM i, f, g, o;
GRU r, z, n.
"""
from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch
from torch import nn

from lib import device_policy, sampling

KINDS = ("rnn", "lstm", "gru")
TORCH_LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
GATES_PER_KIND = {"rnn": 1, "lstm": 4, "gru": 3}


# --- the cells, by hand ---------------------------------------------------------------

def layer_weights(layer: nn.RNNBase) -> dict[str, torch.Tensor]:
    """The first layer's weights of a torch RNN/LSTM/GRU under short names."""
    return {name: getattr(layer, f"{name}_l0") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}


def rnn_terms(x_t, h_prev, w):
    """The three terms inside h_t = tanh(W_x·x_t + W_h·h_{t-1} + b)."""
    input_term = x_t @ w["weight_ih"].T  # (batch, hidden)
    recurrent_term = h_prev @ w["weight_hh"].T  # (batch, hidden)
    return input_term, recurrent_term, w["bias_ih"] + w["bias_hh"]


def rnn_step(x_t, h_prev, w):
    return torch.tanh(sum(rnn_terms(x_t, h_prev, w)))


def lstm_step(x_t, h_prev, c_prev, w):
    """One LSTM step; returns h_t, c_t and the gate activations."""
    pre = x_t @ w["weight_ih"].T + w["bias_ih"] + h_prev @ w["weight_hh"].T + w["bias_hh"]  # (batch, 4*hidden)
    i, f, g, o = pre.chunk(4, dim=-1)
    gates = {"input": torch.sigmoid(i), "forget": torch.sigmoid(f), "candidate": torch.tanh(g),
             "output": torch.sigmoid(o)}
    c_t = gates["forget"] * c_prev + gates["input"] * gates["candidate"]
    h_t = gates["output"] * torch.tanh(c_t)
    return h_t, c_t, gates


def gru_step(x_t, h_prev, w):
    gi = x_t @ w["weight_ih"].T + w["bias_ih"]  # (batch, 3*hidden)
    gh = h_prev @ w["weight_hh"].T + w["bias_hh"]  # (batch, 3*hidden)
    i_r, i_z, i_n = gi.chunk(3, dim=-1)
    h_r, h_z, h_n = gh.chunk(3, dim=-1)
    reset = torch.sigmoid(i_r + h_r)
    update = torch.sigmoid(i_z + h_z)
    candidate = torch.tanh(i_n + reset * h_n)
    return (1 - update) * candidate + update * h_prev


@dataclass
class Unrolled:
    hidden: list  # one (batch, hidden) tensor per step, kept separate so gradients can be read per step
    cell: list = field(default_factory=list)  # LSTM only
    gates: dict = field(default_factory=dict)  # LSTM only: name -> list of (batch, hidden)

    def stacked(self) -> torch.Tensor:
        return torch.stack(self.hidden)  # (seq, batch, hidden)


def unroll(kind: str, w: dict, inputs: torch.Tensor) -> Unrolled:
    """Run a cell over inputs (seq, batch, input_size) from a zero state,
    with the same weights `w` at every step."""
    hidden_size = w["weight_hh"].shape[1]
    h = inputs.new_zeros(inputs.shape[1], hidden_size)  # (batch, hidden)
    c = torch.zeros_like(h)
    out = Unrolled(hidden=[])
    for x_t in inputs:
        if kind == "lstm":
            h, c, gates = lstm_step(x_t, h, c, w)
            out.cell.append(c)
            for name, value in gates.items():
                out.gates.setdefault(name, []).append(value)
        elif kind == "gru":
            h = gru_step(x_t, h, w)
        else:
            h = rnn_step(x_t, h, w)
        out.hidden.append(h)
    return out


# --- 1. unrolling a small RNN over typed text ------------------------------------------

@dataclass
class TextUnroll:
    chars: list[str]
    vocab: list[str]
    weights: dict  # numpy copies of weight_ih, weight_hh, bias
    hidden: np.ndarray  # (seq, hidden)
    input_terms: np.ndarray  # (seq, hidden): W_x·x_t
    recurrent_terms: np.ndarray  # (seq, hidden): W_h·h_{t-1}


UNROLL_HIDDEN_SIZE = 8


def unroll_text(text: str, hidden_size: int = UNROLL_HIDDEN_SIZE, seed: int = 0) -> TextUnroll:
    """A small random-weight RNN reading `text` one character (one-hot) at a time."""
    vocab = sorted(set(text))
    torch.manual_seed(seed)
    layer = nn.RNN(len(vocab), hidden_size)
    w = {k: v.detach() for k, v in layer_weights(layer).items()}
    inputs = one_hot([vocab.index(ch) for ch in text], len(vocab))  # (seq, 1, vocab)
    h = torch.zeros(1, hidden_size)
    hidden, input_terms, recurrent_terms = [], [], []
    for x_t in inputs:
        input_term, recurrent_term, bias = rnn_terms(x_t, h, w)
        h = torch.tanh(input_term + recurrent_term + bias)
        hidden.append(h[0])
        input_terms.append(input_term[0])
        recurrent_terms.append(recurrent_term[0])
    weights = {"weight_ih": w["weight_ih"].numpy(), "weight_hh": w["weight_hh"].numpy(),
               "bias": (w["bias_ih"] + w["bias_hh"]).numpy()}
    return TextUnroll(list(text), vocab, weights, torch.stack(hidden).numpy(),
                      torch.stack(input_terms).numpy(), torch.stack(recurrent_terms).numpy())


def one_hot(indices: list[int], size: int) -> torch.Tensor:
    return nn.functional.one_hot(torch.tensor(indices), size).float().unsqueeze(1)  # (seq, 1, size)


# --- 2. backpropagation through time ---------------------------------------------------

def scaled_layer(kind: str, input_size: int, hidden_size: int, weight_scale: float,
                 memory_gate_bias: float, seed: int) -> nn.RNNBase:
    """A torch layer whose recurrent matrix is weight_scale × an orthogonal matrix
    per gate, so every singular value of W_h is exactly weight_scale. The LSTM
    forget gate and GRU update gate get `memory_gate_bias` (positive = keep memory)."""
    torch.manual_seed(seed)
    layer = TORCH_LAYERS[kind](input_size, hidden_size)
    with torch.no_grad():
        for block in layer.weight_hh_l0.chunk(GATES_PER_KIND[kind]):
            block.copy_(weight_scale * torch.linalg.qr(torch.randn(hidden_size, hidden_size))[0])
        gate = {"lstm": 1, "gru": 1}.get(kind)  # forget is LSTM block 1, update is GRU block 1
        if gate is not None:
            for bias in (layer.bias_ih_l0, layer.bias_hh_l0):
                bias.chunk(GATES_PER_KIND[kind])[gate].fill_(memory_gate_bias / 2)
    return layer


@dataclass
class GradientReport:
    norms: np.ndarray  # (seq,): ‖∂L/∂h_t‖ for t = 1..T
    weight_grad_norm: float  # ‖∂L/∂θ‖ over all parameters, before clipping
    clipped_grad_norm: float  # the same after torch.nn.utils.clip_grad_norm_


def gradient_norms(kind: str, seq_len: int, weight_scale: float, max_norm: float = 1.0,
                   memory_gate_bias: float = 0.0, hidden_size: int = 32, input_size: int = 8,
                   seed: int = 0) -> GradientReport:
    """‖∂L/∂h_t‖ for every step, where L reads only the last hidden state: how
    much of the final loss's gradient reaches each earlier step."""
    layer = scaled_layer(kind, input_size, hidden_size, weight_scale, memory_gate_bias, seed)
    gen = torch.Generator().manual_seed(seed + 1)
    inputs = torch.randn(seq_len, 1, input_size, generator=gen)  # (seq, batch=1, input)
    readout = torch.randn(hidden_size, generator=gen) / math.sqrt(hidden_size)
    states = unroll(kind, layer_weights(layer), inputs).hidden
    loss = (states[-1] @ readout).sum()
    grads = torch.autograd.grad(loss, states, retain_graph=True)
    loss.backward()
    before = float(torch.nn.utils.clip_grad_norm_(layer.parameters(), max_norm))
    after = float(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in layer.parameters()])))
    return GradientReport(np.array([float(g.norm()) for g in grads]), before, after)


def decay_rate(norms: np.ndarray) -> float:
    """Geometric factor per step going back in time, fitted on log norms."""
    steps_back = np.arange(len(norms))[::-1]
    kept = norms > 0  # far back, float32 gradients underflow to exactly 0
    slope = np.polyfit(steps_back[kept], np.log(norms[kept]), 1)[0]
    return float(np.exp(slope))


BPTT_SCALES = {"shrinking": 0.75, "just above one": 1.25, "exploding": 2.0}  # the scales the lesson text names


def bptt_facts(seq_len: int) -> dict[str, str]:
    """The vanilla RNN demo measured at the scales the lesson text names:
    {"scale_<i>", "rate_<i>" (factor per step back), "ratio_<i>" (‖∂L/∂h_1‖ / ‖∂L/∂h_T‖)}."""
    facts = {"bptt_steps": str(seq_len)}
    for i, scale in enumerate(BPTT_SCALES.values(), start=1):
        norms = gradient_norms("rnn", seq_len, scale).norms
        ratio = norms[0] / norms[-1]
        facts |= {f"scale_{i}": f"{scale:g}", f"rate_{i}": f"{decay_rate(norms):.2f}",
                  f"ratio_{i}": f"{ratio:.2g}" if ratio < 1 else f"{ratio:,.0f}"}
    return facts


# --- 3. a trained LSTM's gates: counting brackets ---------------------------------------

BRACKET_VOCAB = "()x"


def bracket_strings(count: int, length: int, seed: int = 0):
    """Random strings of ( ) x whose depth never goes below zero, with the depth
    after each character as the target: a task that needs a counter in memory."""
    draws = np.random.default_rng(seed).random((count, length))
    idx = np.full((count, length), 2)
    depth = np.zeros((count, length))
    current = np.zeros(count)
    for t in range(length):
        opens = draws[:, t] < 0.4
        closes = (draws[:, t] >= 0.4) & (draws[:, t] < 0.75) & (current > 0)
        current += opens.astype(float) - closes
        idx[opens, t], idx[closes, t] = 0, 1
        depth[:, t] = current
    return torch.tensor(idx.T), torch.tensor(depth.T, dtype=torch.float32)  # (seq, count) each


class DepthLSTM(nn.Module):
    training_seconds: float = 0.0  # how long train_depth_lstm took

    def __init__(self, hidden_size: int = 8):
        super().__init__()
        self.lstm = nn.LSTM(len(BRACKET_VOCAB), hidden_size)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, idx):  # idx (seq, batch)
        x = nn.functional.one_hot(idx, len(BRACKET_VOCAB)).float()  # (seq, batch, 3)
        return self.head(self.lstm(x)[0]).squeeze(-1)  # (seq, batch)


@functools.cache
def train_depth_lstm(steps: int = 300, hidden_size: int = 8, seed: int = 0) -> DepthLSTM:
    """Deterministic, so trained once per process; callers must not modify it."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    idx, depth = bracket_strings(2048, 40, seed)  # (seq, 2048)
    model = DepthLSTM(hidden_size)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    started = time.perf_counter()
    with device_policy.cpu_threads("cpu"):
        for _ in range(steps):
            batch = torch.randint(0, idx.shape[1], (32,), generator=gen)
            loss = nn.functional.mse_loss(model(idx[:, batch]), depth[:, batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.training_seconds = time.perf_counter() - started
    return model.eval()


def bracket_indices(text: str) -> list[int]:
    """Characters other than ( and ) count as 'x' (no change in depth)."""
    return [BRACKET_VOCAB.index(ch) if ch in "()" else 2 for ch in text]


def true_depth(text: str) -> np.ndarray:
    depth, out = 0, []
    for ch in text:
        depth += (ch == "(") - (ch == ")" and depth > 0)
        out.append(depth)
    return np.array(out, dtype=float)


@dataclass
class GateTrace:
    gates: dict[str, np.ndarray]  # name -> (seq, hidden)
    cell: np.ndarray  # (seq, hidden)
    prediction: np.ndarray  # (seq,)
    counter_unit: int  # the cell unit that best tracks the depth
    counter_correlation: float


def lstm_gate_trace(model: DepthLSTM, text: str) -> GateTrace:
    """Run our own LSTM cell with the trained weights and record every gate."""
    with torch.no_grad():
        inputs = one_hot(bracket_indices(text), len(BRACKET_VOCAB))  # (seq, 1, 3)
        run = unroll("lstm", layer_weights(model.lstm), inputs)
        prediction = model.head(run.stacked()).squeeze(-1)[:, 0]
    gates = {name: torch.stack(values)[:, 0].numpy() for name, values in run.gates.items()}
    cell = torch.stack(run.cell)[:, 0].numpy()
    depth = true_depth(text)
    correlations = [abs(np.corrcoef(cell[:, u], depth)[0, 1]) if cell[:, u].std() > 0 and depth.std() > 0
                    else 0.0 for u in range(cell.shape[1])]
    best = int(np.argmax(correlations))
    return GateTrace(gates, cell, prediction.numpy(), best, float(correlations[best]))


# --- 4a. a character language model -----------------------------------------------------

MAX_CORPUS_CHARS = 1_000_000


class CorpusError(ValueError):
    """The text cannot be used to train; the message is written for the student."""


def bundled_corpus() -> str:
    """Python's own help texts (pydoc_data.topics): ~465k characters of English and code."""
    from pydoc_data import topics
    return "\n".join(topics.topics[k] for k in sorted(topics.topics))


UTF16_BOMS = {b"\xff\xfe": "utf-16", b"\xfe\xff": "utf-16"}  # the codec reads the mark and drops it


def decode_upload(data: bytes) -> str:
    """Text from an uploaded file, or CorpusError when it is not text. UTF-8
    (with or without a byte-order mark) and UTF-16 with its byte-order mark
    (what Windows Notepad saves as "Unicode") are read; anything else is refused."""
    encoding = UTF16_BOMS.get(data[:2], "utf-8-sig")
    if encoding == "utf-8-sig" and b"\x00" in data[:4096]:
        raise CorpusError("This file looks binary (it contains NUL bytes). Upload a plain-text file (.txt).")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as err:
        name = "UTF-16" if encoding == "utf-16" else "UTF-8"
        raise CorpusError(f"This file is not {name} text (byte {err.start} cannot be decoded). "
                          "Upload a plain-text file saved as UTF-8.") from None
    printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in text)
    if text and printable / len(text) < 0.9:
        raise CorpusError("This file is mostly control characters, not text. Upload a plain-text file.")
    return text


@dataclass
class Corpus:
    vocab: list[str]
    train: torch.Tensor  # (n_train,) character ids
    val: torch.Tensor  # (n_val,)
    truncated: bool

    def encode(self, text: str) -> list[int]:
        return [self.vocab.index(ch) for ch in text if ch in self.vocab]

    def decode(self, ids) -> str:
        return "".join(self.vocab[i] for i in ids)


def build_corpus(text: str, seq_len: int) -> Corpus:
    """Split text 90/10 into train and validation character ids."""
    if not text.strip():
        raise CorpusError("The corpus is empty: type or upload some text.")
    truncated = len(text) > MAX_CORPUS_CHARS
    text = text[:MAX_CORPUS_CHARS]
    if len(text) <= seq_len:
        raise CorpusError(f"The corpus has {len(text)} characters, fewer than the sequence length "
                          f"({seq_len}): the model needs at least one full sequence to learn from.")
    n_val = max(len(text) // 10, seq_len + 1)
    if len(text) - n_val < seq_len + 1:
        raise CorpusError(f"The corpus has {len(text)} characters: too short to keep {seq_len + 1} for "
                          f"training and {n_val} for validation. Use at least {2 * (seq_len + 1)} characters "
                          "or a shorter sequence length.")
    vocab = sorted(set(text))
    index = {ch: i for i, ch in enumerate(vocab)}
    ids = torch.tensor([index[ch] for ch in text])
    return Corpus(vocab, ids[:-n_val], ids[-n_val:], truncated)


def unigram_loss(corpus: Corpus) -> float:
    """Validation cross-entropy (nats/char) of character frequencies counted on
    the training split (add-one smoothed): the baseline a model must beat."""
    counts = torch.bincount(corpus.train, minlength=len(corpus.vocab)).double() + 1
    log_probs = torch.log(counts / counts.sum())
    return float(-log_probs[corpus.val].mean())


class CharModel(nn.Module):
    def __init__(self, vocab_size: int, kind: str = "lstm", hidden_size: int = 128, embedding_size: int = 32):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embedding_size)
        self.rnn = TORCH_LAYERS[kind](embedding_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, idx, state=None):  # idx (batch, seq)
        out, state = self.rnn(self.embed(idx), state)  # (batch, seq, hidden)
        return self.head(out), state  # (batch, seq, vocab)


def random_windows(ids: torch.Tensor, seq_len: int, batch_size: int, gen: torch.Generator):
    starts = torch.randint(0, len(ids) - seq_len, (batch_size,), generator=gen)
    rows = torch.stack([ids[s:s + seq_len + 1] for s in starts.tolist()])  # (batch, seq+1)
    return rows[:, :-1], rows[:, 1:]


def char_loss(model: CharModel, x, y) -> torch.Tensor:
    logits = model(x)[0]
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


@torch.no_grad()
def validation_loss(model: CharModel, corpus: Corpus, seq_len: int, device: str, max_windows: int = 64) -> float:
    n = min((len(corpus.val) - 1) // seq_len, max_windows)
    rows = corpus.val[:n * seq_len + 1]
    x = rows[:-1].reshape(n, seq_len).to(device)
    y = rows[1:].reshape(n, seq_len).to(device)
    return float(char_loss(model, x, y))


@torch.no_grad()
def sample(model: CharModel, corpus: Corpus, prompt: str, length: int, temperature: float,
           seed: int = 0) -> str:
    """Generate `length` characters after `prompt`, one at a time; the
    recurrent state carries the context, so each step feeds the newest character only."""
    device = next(model.parameters()).device
    state, seen = None, 0

    def next_logits(ids: list[int]) -> torch.Tensor:
        nonlocal state, seen
        logits, state = model(torch.tensor([ids[seen:]], device=device), state)  # (1, new, vocab)
        seen = len(ids)
        return logits[0, -1]  # (vocab,)

    steps = sampling.generate(next_logits, corpus.encode(prompt) or [int(corpus.train[0])], length, corpus.decode,
                              temperature, seed=seed)
    return corpus.decode([step.token_id for step in steps])


@dataclass
class CharReport:
    step: int
    train_loss: float
    val_loss: float
    sample: str
    seconds: float
    model: CharModel


def train_char_model(corpus: Corpus, kind: str = "lstm", steps: int = 1000, time_budget_s: float | None = 60,
                     seq_len: int = 48, batch_size: int = 32, hidden_size: int = 96, lr: float = 0.005,
                     eval_every: int = 25, temperature: float = 0.8, prompt: str = "The ",
                     device: str = "cpu", seed: int = 0) -> Iterator[CharReport]:
    """Train with Adam on random windows until `steps` or `time_budget_s` runs
    out; every `eval_every` steps and at the end yield the validation loss and
    a fresh sample."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = CharModel(len(corpus.vocab), kind, hidden_size).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    with device_policy.cpu_threads(device):
        start, recent = time.perf_counter(), []
        for step in range(1, steps + 1):
            x, y = random_windows(corpus.train, seq_len, batch_size, gen)
            loss = char_loss(model, x.to(device), y.to(device))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            recent.append(loss.item())
            out_of_time = time_budget_s is not None and time.perf_counter() - start >= time_budget_s
            if step % eval_every == 0 or step == steps or out_of_time:
                model.eval()
                report = CharReport(step, float(np.mean(recent)), validation_loss(model, corpus, seq_len, device),
                                    sample(model, corpus, prompt, 120, temperature, seed=step),
                                    time.perf_counter() - start, model)
                model.train()
                recent = []
                yield report
            if out_of_time:
                return


# --- 4b. forecasting a time series -------------------------------------------------------

SERIES = ("noisy sine", "random walk")


def make_series(kind: str, length: int = 800, noise: float = 0.1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "noisy sine":
        t = np.arange(length)
        return np.sin(2 * np.pi * t / 40) + noise * rng.standard_normal(length)
    return 100 + np.cumsum(rng.standard_normal(length))


def series_windows(series: np.ndarray, window: int):
    """Inputs (n, window, 1) of past values and targets (n,): the next value."""
    x = np.lib.stride_tricks.sliding_window_view(series[:-1], window)
    return torch.tensor(x, dtype=torch.float32).unsqueeze(-1), torch.tensor(series[window:], dtype=torch.float32)


class Forecaster(nn.Module):
    def __init__(self, kind: str, hidden_size: int = 32):
        super().__init__()
        self.rnn = TORCH_LAYERS[kind](1, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x):  # x (batch, window, 1)
        return self.head(self.rnn(x)[0][:, -1]).squeeze(-1)  # (batch,)


@dataclass
class ForecastReport:
    step: int
    train_losses: dict[str, float]
    test_mse: dict[str, float]  # includes "last value"
    truth: np.ndarray
    predictions: dict[str, np.ndarray]


FORECAST_WINDOW = 20  # past values each forecaster reads


def train_forecasters(series: np.ndarray, window: int = FORECAST_WINDOW, steps: int = 300, kinds=KINDS,
                      eval_every: int = 50, hidden_size: int = 32, device: str = "cpu",
                      seed: int = 0) -> Iterator[ForecastReport]:
    """Train one model per kind on the first 80% (one-step-ahead, standardised),
    and score one-step forecasts on the last 20% against 'tomorrow = today'."""
    split = int(len(series) * 0.8)
    mean, std = series[:split].mean(), series[:split].std() or 1.0
    x, y = series_windows((series - mean) / std, window)
    n_train = split - window
    x_train, y_train, x_test, y_test = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
    baseline = x_test[:, -1, 0]
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    forecasters = {kind: Forecaster(kind, hidden_size).to(device) for kind in kinds}
    optims = {kind: torch.optim.Adam(m.parameters(), lr=0.01) for kind, m in forecasters.items()}
    with device_policy.cpu_threads(device):
        for step in range(1, steps + 1):
            batch = torch.randint(0, n_train, (64,), generator=gen)
            losses = {}
            for kind, model in forecasters.items():
                loss = nn.functional.mse_loss(model(x_train[batch].to(device)), y_train[batch].to(device))
                optims[kind].zero_grad()
                loss.backward()
                optims[kind].step()
                losses[kind] = loss.item()
            if step % eval_every == 0 or step == steps:
                with torch.no_grad():
                    preds = {kind: m(x_test.to(device)).cpu() for kind, m in forecasters.items()}
                preds["last value"] = baseline
                yield ForecastReport(
                    step, losses,
                    {k: float(((p - y_test) ** 2).mean()) * std ** 2 for k, p in preds.items()},
                    (y_test * std + mean).numpy(),
                    {k: (p * std + mean).numpy() for k, p in preds.items()})


# --- 5. recurrence vs attention: time one forward pass -------------------------------------

def comparable_layers(d_model: int = 128, num_attention_heads: int = 4):
    """An LSTM and a Transformer encoder layer of similar size (batch_first)."""
    lstm = nn.LSTM(d_model, d_model, batch_first=True)
    encoder = nn.TransformerEncoderLayer(d_model, num_attention_heads, dim_feedforward=2 * d_model,
                                         dropout=0.0, batch_first=True)
    return {"LSTM": lstm.eval(), "Transformer encoder layer": encoder.eval()}


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@torch.no_grad()
def time_forward(module: nn.Module, seq_len: int, d_model: int, device: str = "cpu", repeats: int = 3) -> float:
    """Best-of-`repeats` wall time (ms) of one forward pass over a (1, seq_len, d_model)
    batch: on a shared machine the minimum is the least disturbed by other work."""
    x = torch.randn(1, seq_len, d_model, device=device)
    module(x)  # warm-up
    times = []
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        module(x)
        if device == "cuda":
            torch.cuda.synchronize()
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


def forward_timings(lengths, d_model: int = 128, device: str = "cpu", repeats: int = 3) -> list[dict]:
    layers = {name: layer.to(device) for name, layer in comparable_layers(d_model).items()}
    return [{"layer": name, "seq_len": n, "ms": time_forward(layer, n, d_model, device, repeats),
             "parameters": count_parameters(layer)}
            for n in lengths for name, layer in layers.items()]


def path_lengths(seq_len: int) -> dict[str, int]:
    """Operations a signal crosses from the first token to the last."""
    return {"RNN (sequential steps)": seq_len - 1, "Self-attention (one layer)": 1}
