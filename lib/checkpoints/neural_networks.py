"""Checkpoint: neural networks. Every answer comes from lib.neural_networks: the neuron, the
MLP the playground trains, and the hand-written backpropagation."""
from __future__ import annotations

import random

import numpy as np
import torch

from lib import neural_networks
from lib.checkpoints import Question

INPUTS = [-2, -1.5, -1, -0.5, 0.5, 1, 1.5, 2]
WEIGHTS = [-1.5, -1, -0.5, 0.5, 1, 2]
BIASES = [-1, -0.5, 0, 0.5, 1]
FORMULAS = {"relu": "max(0, {z})", "sigmoid": "1 / (1 + e^(−({z})))", "tanh": "tanh({z})",
            "gelu": "{z} · Φ({z}) (Φ: the standard normal CDF)"}
SHAPES = {"2-D points (the playground)": (2, 1), "8×8 digit images": (64, 10), "28×28 digit images": (784, 10)}
# z values where one activation's slope is clearly the largest (no near-ties)
SLOPE_POINTS = [-3, -2, -1, -0.5, 0.25, 0.5, 2]


def _vector(values) -> str:
    return "(" + ", ".join(f"{v:g}" for v in values) + ")"


def _weighted_sum(x, w, b) -> str:
    return " + ".join(f"({wi:g})·({xi:g})" for wi, xi in zip(w, x)) + f" + ({b:g})"


def _neuron(rng: random.Random) -> Question:
    x, w = rng.sample(INPUTS, 2), [rng.choice(WEIGHTS) for _ in range(2)]
    b, act = rng.choice(BIASES), rng.choice(list(neural_networks.ACTIVATIONS))
    neuron = neural_networks.Neuron.compute(x, w, b, act)
    return Question(
        f"A neuron has inputs x = {_vector(x)}, weights w = {_vector(w)}, bias b = {b:g} and activation **{act}**. "
        "What does it output, a = activation(w·x + b)? (within 1%)",
        neuron.a,
        f"Weighted sum z = {_weighted_sum(x, w, b)} = **{neuron.z:g}**; then a = {act}({neuron.z:g}) = "
        f"{FORMULAS[act].format(z=f'{neuron.z:g}')} = **{neuron.a:.4g}**.",
        tolerance=0.01)


def _parameter_count(rng: random.Random) -> Question:
    shape = rng.choice(list(SHAPES))
    inputs, outputs = SHAPES[shape]
    layers, hidden = rng.randint(1, 3), rng.choice([4, 8, 16, 32, 64])
    with torch.device("meta"):
        model = neural_networks.MLP(neural_networks.NetConfig(num_hidden_layers=layers, hidden_size=hidden), inputs, outputs)
    total = sum(p.numel() for p in model.parameters())
    sizes = [inputs] + [hidden] * layers + [outputs]
    terms = " + ".join(f"({a}·{b} + {b})" for a, b in zip(sizes, sizes[1:]))
    return Question(
        f"A feed-forward network for {shape} has {inputs} inputs, {layers} hidden layer(s) of {hidden} units "
        f"and {outputs} output(s). Counting weights and biases, how many parameters does it learn?",
        total,
        f"Each layer from a units to b units holds a·b weights and b biases: {terms} = **{total:,}**.")


def _gradient(rng: random.Random) -> Question:
    x, w = rng.sample(INPUTS, 2), [rng.choice(WEIGHTS[1:-1]) for _ in range(2)]
    b, y = rng.choice(BIASES[1:-1]), rng.randint(0, 1)
    params = [(np.array([w], dtype=np.float64), np.array([b], dtype=np.float64))]  # no hidden layer
    trace = neural_networks.backprop(params, x, y, "tanh")  # the hidden activation is unused without hidden layers
    grad = float(trace.dweights[0][0, 0])
    return Question(
        f"Logistic regression (a network with no hidden layer): z = w·x + b, p = sigmoid(z) and the loss is "
        f"binary cross-entropy. With x = {_vector(x)}, w = {_vector(w)}, b = {b:g} and true class y = {y}, "
        "what is the gradient ∂L/∂w₁? (within 1%)",
        grad,
        f"Forward: z = {_weighted_sum(x, w, b)} = {trace.zs[0][0]:g}, p = sigmoid(z) = {trace.prob:.4f}. "
        f"Backward: for sigmoid with cross-entropy ∂L/∂z = p − y = {trace.dz[0][0]:.4f}, and z depends on w₁ "
        f"through x₁, so ∂L/∂w₁ = (p − y)·x₁ = ({trace.dz[0][0]:.4f})·({x[0]:g}) = **{grad:.4g}**.",
        tolerance=0.01)


def _steepest_activation(rng: random.Random) -> Question:
    z = rng.choice(SLOPE_POINTS)
    slopes = {name: float(neural_networks.activation_grad(name, z)) for name in neural_networks.ACTIVATIONS}
    steepest = max(slopes, key=slopes.get)
    listed = "; ".join(f"{name}′({z:g}) = {slope:.3f}" for name, slope in slopes.items())
    return Question(
        f"Backpropagation multiplies the gradient by the activation's slope. At z = {z:g}, which activation "
        "passes back the largest gradient?",
        steepest,
        f"The slopes at z = {z:g}: {listed}. The largest is **{steepest}**. Slopes near 0 (sigmoid and tanh far "
        "from 0, relu below 0) shrink the gradient: stacked layer after layer, it vanishes.",
        options=tuple(neural_networks.ACTIVATIONS))


def questions(rng: random.Random) -> list[Question]:
    return [make(rng) for make in (_neuron, _parameter_count, _gradient, _steepest_activation)]
