"""Neural-network fundamentals: one neuron, toy 2-D data sets, a small
multi-layer perceptron trained with torch, and a hand-written float64
forward/backward pass that spells out backpropagation number by number.

Weights follow torch's nn.Linear layout everywhere: `weight` is
(out_features, in_features) and a layer computes z = x @ weight.T + bias.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
from scipy.special import erf
from sklearn import datasets as sk_datasets
from torch import nn
from torch.nn import functional as F

from lib import device_policy

# --- activations -------------------------------------------------------------------


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _gelu(z):
    return 0.5 * z * (1.0 + erf(z / math.sqrt(2.0)))


def _gelu_grad(z):
    return 0.5 * (1.0 + erf(z / math.sqrt(2.0))) + z * np.exp(-0.5 * z**2) / math.sqrt(2.0 * math.pi)


# name -> (activation, its derivative), both on float64 numpy arrays
ACTIVATIONS = {
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1.0 - _sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "gelu": (_gelu, _gelu_grad),
}
TORCH_ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "gelu": nn.GELU}


def activate(name: str, z):
    return ACTIVATIONS[name][0](np.asarray(z, dtype=np.float64))


def activation_grad(name: str, z):
    return ACTIVATIONS[name][1](np.asarray(z, dtype=np.float64))


@dataclass(frozen=True)
class Neuron:
    """One neuron's arithmetic: z = w·x + b, a = activation(z)."""
    z: float
    a: float
    slope: float  # d activation / dz at z

    @classmethod
    def compute(cls, x, w, b: float, hidden_act: str) -> "Neuron":
        z = float(np.dot(np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)) + b)
        return cls(z=z, a=float(activate(hidden_act, z)), slope=float(activation_grad(hidden_act, z)))


# --- data sets -----------------------------------------------------------------------

DATASETS = ["circles", "moons", "xor", "spirals", "linear"]


def make_dataset(name: str, n_samples: int = 400, noise: float = 0.1, seed: int = 0):
    """A 2-D binary classification set: X (n, 2) float, y (n,) in {0, 1}.
    Every set is scaled to roughly [-1, 1]² so one plotting window fits all."""
    rng = np.random.default_rng(seed)
    if name == "circles":
        X, y = sk_datasets.make_circles(n_samples, noise=noise, factor=0.5, random_state=seed)
    elif name == "moons":
        X, y = sk_datasets.make_moons(n_samples, noise=noise, random_state=seed)
        X = (X - [0.5, 0.25]) / 1.5
    elif name == "xor":
        X = rng.uniform(-1, 1, (n_samples, 2))
        y = (X[:, 0] * X[:, 1] > 0).astype(int)
        X = X + rng.normal(0, noise, X.shape)
    elif name == "spirals":
        X, y = _spirals(n_samples, noise, rng)
    elif name == "linear":
        X = rng.uniform(-1, 1, (n_samples, 2))
        y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
        X = X + rng.normal(0, noise, X.shape)
    else:
        raise ValueError(f"Unknown data set {name!r}: choose one of {', '.join(DATASETS)}")
    return X.astype(np.float64), y.astype(np.int64)


def _spirals(n_samples: int, noise: float, rng):
    """Two interleaved spirals, each turning 1.75 times."""
    half = n_samples // 2
    t = np.sqrt(rng.uniform(0, 1, half)) * 1.75 * 2 * np.pi  # sqrt: even density along the arm
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (1.75 * 2 * np.pi)
    X = np.concatenate([arm, -arm]) + rng.normal(0, noise, (2 * half, 2))
    y = np.concatenate([np.zeros(half), np.ones(half)])
    return X, y


@dataclass
class Split:
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray


def train_size(n_samples: int, val_fraction: float = 0.3) -> int:
    """How many of `n_samples` examples split() keeps for training."""
    return n_samples - int(round(n_samples * val_fraction))


def split(X, y, val_fraction: float = 0.3, seed: int = 0) -> Split:
    order = np.random.default_rng(seed).permutation(len(X))
    n_val = len(X) - train_size(len(X), val_fraction)
    val, train = order[:n_val], order[n_val:]
    return Split(X[train], y[train], X[val], y[val])


def load_digits_split(seed: int = 0) -> Split:
    """sklearn's 8×8 hand-written digits, pixels scaled to [0, 1]."""
    digits = sk_datasets.load_digits()
    return split(digits.data / 16.0, digits.target, val_fraction=0.25, seed=seed)


# --- the network -----------------------------------------------------------------------


DEFAULT_STEPS = 300  # the playground's default training budget


@dataclass(frozen=True)
class NetConfig:
    num_hidden_layers: int = 2
    hidden_size: int = 8
    hidden_act: str = "tanh"
    learning_rate: float = 0.03
    batch_size: int = 32
    weight_decay: float = 0.0  # L2 penalty: weight_decay · Σ w² added to the loss
    optimizer: str = "adam"


def config_problems(cfg: NetConfig) -> tuple[list[str], list[str]]:
    """(errors that make training impossible, warnings about settings that work oddly)."""
    errors, warnings = [], []
    if cfg.num_hidden_layers < 0:
        errors.append("The number of hidden layers cannot be negative.")
    if cfg.num_hidden_layers > 0 and cfg.hidden_size < 1:
        errors.append("A hidden layer needs at least one unit: with zero units no signal reaches the output.")
    if cfg.batch_size < 1:
        errors.append("The batch size must be at least 1.")
    if not math.isfinite(cfg.learning_rate) or cfg.learning_rate < 0:
        errors.append("The learning rate must be a finite number ≥ 0.")
    elif cfg.learning_rate == 0:
        errors.append("With a learning rate of 0 every step moves the weights by 0 × gradient: nothing can be learned.")
    if cfg.num_hidden_layers == 0:
        warnings.append("No hidden layers: the network is logistic regression and can only draw one straight line.")
    if cfg.hidden_act not in ACTIVATIONS:
        errors.append(f"Unknown activation {cfg.hidden_act!r}.")
    return errors, warnings


class MLP(nn.Module):
    """in_features → num_hidden_layers × (Linear, activation) → Linear → logits."""

    def __init__(self, cfg: NetConfig, in_features: int = 2, out_features: int = 1):
        super().__init__()
        sizes = [in_features] + [cfg.hidden_size] * cfg.num_hidden_layers
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.act = TORCH_ACTIVATIONS[cfg.hidden_act]()
        self.out = nn.Linear(sizes[-1], out_features)

    def hidden_states(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The activations of every hidden layer, each (batch, hidden_size)."""
        states = []
        for layer in self.hidden:
            x = self.act(layer(x))
            states.append(x)
        return states

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states = self.hidden_states(x)
        return self.out(states[-1] if states else x)  # (batch, out_features)


def build_model(cfg: NetConfig, in_features: int = 2, out_features: int = 1, seed: int = 0,
                device: str = "cpu") -> MLP:
    torch.manual_seed(seed)
    return MLP(cfg, in_features, out_features).to(device)


def loss_fn(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy for one output, cross-entropy for several."""
    if logits.shape[-1] == 1:
        return F.binary_cross_entropy_with_logits(logits.squeeze(-1), y.to(logits.dtype))
    return F.cross_entropy(logits, y)


def predict(logits: torch.Tensor) -> torch.Tensor:
    return (logits.squeeze(-1) > 0).long() if logits.shape[-1] == 1 else logits.argmax(-1)


@torch.no_grad()
def predict_classes(model: MLP, X: np.ndarray) -> np.ndarray:
    device = next(model.parameters()).device
    return predict(model(torch.as_tensor(X, dtype=torch.float32, device=device))).cpu().numpy()


def l2_penalty(model: MLP) -> torch.Tensor:
    return sum((p**2).sum() for name, p in model.named_parameters() if name.endswith("weight"))


class Optimizer:
    """Plain gradient descent ("sgd") or Adam, written out. torch.optim does the
    same arithmetic, but its first use in a process imports torch._dynamo, which
    takes many seconds on a small CPU: longer than this lesson's whole training."""

    def __init__(self, params, name: str, lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
        self.params, self.name, self.lr, self.betas, self.eps = list(params), name, lr, betas, eps
        self.t = 0
        self.m = [torch.zeros_like(p) for p in self.params]  # running mean of gradients
        self.v = [torch.zeros_like(p) for p in self.params]  # running mean of squared gradients

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        beta1, beta2 = self.betas
        for p, m, v in zip(self.params, self.m, self.v):
            if self.name == "sgd":
                p.sub_(self.lr * p.grad)  # w ← w − lr · ∂L/∂w
                continue
            m.mul_(beta1).add_(p.grad, alpha=1 - beta1)
            v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
            m_hat, v_hat = m / (1 - beta1**self.t), v / (1 - beta2**self.t)  # undo the zero start
            p.sub_(self.lr * m_hat / (v_hat.sqrt() + self.eps))


@dataclass
class Step:
    step: int
    train_loss: float
    val_loss: float
    train_acc: float
    val_acc: float
    diverged: bool = False


# the loss is said to have diverged once it is not finite, or this many times
# its value before training (≈ ln 2 for a fresh binary classifier)
DIVERGENCE_FACTOR = 5.0


def divergence_message(step: Step) -> str:
    """What the page says when training stopped at a diverged Step."""
    if math.isfinite(step.train_loss):
        what = (f"the loss reached {step.train_loss:.3g}, over {DIVERGENCE_FACTOR:g}× where it started (a fresh "
                f"network starts near ln 2 ≈ {math.log(2):.2f})")
    else:
        what = "the loss stopped being a number (NaN or infinity): the weights overflowed"
    return (f"Training diverged at step {step.step} and was stopped: {what}. The steps were too big: lower the "
            "learning rate and train again.")


def _tensors(data: Split, device: str):
    as_x = lambda a: torch.as_tensor(a, dtype=torch.float32, device=device)
    as_y = lambda a: torch.as_tensor(a, dtype=torch.long, device=device)
    return as_x(data.X_train), as_y(data.y_train), as_x(data.X_val), as_y(data.y_val)


@torch.no_grad()
def evaluate(model: MLP, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    logits = model(X)
    return loss_fn(logits, y).item(), (predict(logits) == y).float().mean().item()


def train(model: MLP, data: Split, cfg: NetConfig, steps: int, every: int = 10, seed: int = 0) -> Iterator[Step]:
    """Mini-batch training: forward → loss → backward → optimiser step.
    Yields a Step every `every` steps (and at the end); stops early, yielding a
    Step with diverged=True, once the loss or the weights stop being finite or
    the loss climbs past DIVERGENCE_FACTOR × its starting value."""
    device = next(model.parameters()).device
    with device_policy.cpu_threads(device):
        yield from _train(model, data, cfg, steps, every, seed, device)


def _train(model: MLP, data: Split, cfg: NetConfig, steps: int, every: int, seed: int, device) -> Iterator[Step]:
    X, y, X_val, y_val = _tensors(data, device)
    initial_loss, _ = evaluate(model, X, y)
    optimizer = Optimizer(model.parameters(), cfg.optimizer, cfg.learning_rate)
    generator = torch.Generator().manual_seed(seed)
    batch_size = min(cfg.batch_size, len(X))
    order, cursor = torch.randperm(len(X), generator=generator), 0
    for step in range(1, steps + 1):
        if cursor + batch_size > len(X):
            order, cursor = torch.randperm(len(X), generator=generator), 0
        batch = order[cursor:cursor + batch_size].to(device)
        cursor += batch_size
        loss = loss_fn(model(X[batch]), y[batch])
        if cfg.weight_decay:
            loss = loss + cfg.weight_decay * l2_penalty(model)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        finite = math.isfinite(loss.item())  # non-finite weights show up in the next step's loss
        if not finite or step % every == 0 or step == steps:
            train_loss, train_acc = evaluate(model, X, y)
            val_loss, val_acc = evaluate(model, X_val, y_val)
            diverged = not (finite and train_loss <= DIVERGENCE_FACTOR * initial_loss)
            yield Step(step, train_loss, val_loss, train_acc, val_acc, diverged)
            if diverged:
                return


# --- underfitting and overfitting ------------------------------------------------------

# Three sizes of network on one small, noisy training set (60 points, 340 for validation)
FIT_NETWORKS = {
    "too small: 1 unit": NetConfig(num_hidden_layers=1, hidden_size=1, learning_rate=0.01),
    "about right: 4 units": NetConfig(num_hidden_layers=1, hidden_size=4, learning_rate=0.01),
    "too large: 3 × 64 units": NetConfig(num_hidden_layers=3, hidden_size=64, learning_rate=0.01),
}


def fitting_data(seed: int = 1) -> Split:
    X, y = make_dataset("circles", 400, noise=0.2, seed=seed)
    return split(X, y, val_fraction=0.85, seed=seed)


def fitting_experiment(steps: int = 400, every: int = 20, device: str = "cpu") -> Iterator[tuple[str, Step]]:
    """Full-batch training of every FIT_NETWORKS entry on fitting_data(): yields (name, Step)."""
    data = fitting_data()
    for name, cfg in FIT_NETWORKS.items():
        cfg = dataclasses.replace(cfg, batch_size=len(data.X_train))
        for step in train(build_model(cfg, device=device), data, cfg, steps, every):
            yield name, step


# --- the decision boundary -----------------------------------------------------------------


def grid(extent: float = 1.6, resolution: int = 60) -> tuple[np.ndarray, np.ndarray]:
    axis = np.linspace(-extent, extent, resolution)
    xx, yy = np.meshgrid(axis, axis)
    return axis, np.stack([xx.ravel(), yy.ravel()], axis=1)  # (resolution², 2)


@torch.no_grad()
def boundary(model: MLP, extent: float = 1.6, resolution: int = 60):
    """(axis, P(class 1) on the grid (resolution, resolution), each hidden
    unit's activation on the grid (layers, units, resolution, resolution))."""
    axis, points = grid(extent, resolution)
    device = next(model.parameters()).device
    x = torch.as_tensor(points, dtype=torch.float32, device=device)
    with device_policy.cpu_threads(device):
        prob = torch.sigmoid(model(x)).reshape(resolution, resolution).cpu().numpy()
        states = [s.T.reshape(-1, resolution, resolution).cpu().numpy() for s in model.hidden_states(x)]
    return axis, prob, states


# --- backpropagation by hand (float64) -----------------------------------------------------


def numpy_params(model: MLP) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(weight (out, in), bias (out,)), …] as float64 copies, hidden layers then output."""
    layers = list(model.hidden) + [model.out]
    return [(l.weight.detach().cpu().double().numpy().copy(), l.bias.detach().cpu().double().numpy().copy())
            for l in layers]


@dataclass
class Trace:
    """Forward and backward values of one example through the network."""
    x: np.ndarray
    y: int
    zs: list[np.ndarray]       # pre-activation of each layer (output layer last: the logit)
    acts: list[np.ndarray]     # input x, then each hidden layer's activation
    prob: float                # sigmoid(logit)
    loss: float
    dz: list[np.ndarray]       # ∂L/∂z for each layer
    da: list[np.ndarray]       # ∂L/∂a for each hidden layer
    dweights: list[np.ndarray]
    dbiases: list[np.ndarray]


def backprop(params, x, y: int, hidden_act: str) -> Trace:
    """Forward then backward pass for one example, binary cross-entropy on a
    sigmoid output, written out with the chain rule in float64."""
    act, act_grad = ACTIVATIONS[hidden_act]
    x = np.asarray(x, dtype=np.float64)
    zs, acts = [], [x]
    for i, (weight, bias) in enumerate(params):
        z = weight @ acts[-1] + bias  # (out,)
        zs.append(z)
        if i < len(params) - 1:
            acts.append(act(z))
    logit = zs[-1][0]
    prob = float(_sigmoid(logit))
    # log(1 + e^-|t|) form: finite for any logit
    loss = float(np.logaddexp(0.0, logit) - y * logit)

    dz = [None] * len(params)
    da = [None] * (len(params) - 1)
    dz[-1] = np.array([prob - y])  # ∂L/∂logit for sigmoid + cross-entropy
    for i in range(len(params) - 1, 0, -1):
        da[i - 1] = params[i][0].T @ dz[i]          # (in,) = (in, out) @ (out,)
        dz[i - 1] = da[i - 1] * act_grad(zs[i - 1])  # chain rule through the activation
    dweights = [np.outer(dz[i], acts[i]) for i in range(len(params))]  # (out, in)
    return Trace(x, int(y), zs, acts, prob, loss, dz, da, dweights, [d.copy() for d in dz])


def sgd_step(params, trace: Trace, learning_rate: float):
    """One plain gradient-descent step: w ← w − learning_rate · ∂L/∂w."""
    return [(w - learning_rate * dw, b - learning_rate * db)
            for (w, b), dw, db in zip(params, trace.dweights, trace.dbiases)]


def autograd_gradients(params, x, y: int, hidden_act: str):
    """The same gradients from torch.autograd, float64: (loss, [(∂L/∂W, ∂L/∂b), …])."""
    tensors = [(torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)) for w, b in params]
    h = torch.tensor(np.asarray(x, dtype=np.float64))
    act = TORCH_ACTIVATIONS[hidden_act]()
    for i, (w, b) in enumerate(tensors):
        h = w @ h + b
        if i < len(tensors) - 1:
            h = act(h)
    loss = F.binary_cross_entropy_with_logits(h, torch.tensor([float(y)], dtype=torch.float64))
    loss.backward()
    return loss.item(), [(w.grad.numpy(), b.grad.numpy()) for w, b in tensors]


def max_gradient_error(trace: Trace, params, hidden_act: str) -> float:
    """Largest |hand-written − autograd| over every weight and bias gradient."""
    _, grads = autograd_gradients(params, trace.x, trace.y, hidden_act)
    return max(max(np.abs(dw - gw).max(), np.abs(db - gb).max())
               for dw, db, (gw, gb) in zip(trace.dweights, trace.dbiases, grads))
