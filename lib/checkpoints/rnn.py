"""Checkpoint: recurrent networks. Every answer comes from lib.rnn: torch's
layers as the lesson counts them, its hand-written cell, its scaled recurrent
matrices, its bracket data and its path lengths."""
from __future__ import annotations

import random

import torch

from lib import rnn
from lib.checkpoints import Question

LAYER_NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
GATE_NAMES = {"rnn": "one block (no gates)", "lstm": "4 blocks: input, forget and output gates and the candidate",
              "gru": "3 blocks: reset and update gates and the candidate"}
WEIGHTS = [-2, -1.5, -1, -0.5, 0.5, 1, 1.5, 2]
SCALES = [0.5, 0.8, 0.9, 1.1, 1.25, 1.5, 2.0]


def _parameter_count(rng: random.Random) -> Question:
    kind = rng.choice(rnn.KINDS)
    inputs, hidden = rng.choice([1, 8, 32, 100, 300]), rng.choice([16, 32, 64, 128, 256])
    with torch.device("meta"):
        total = rnn.count_parameters(rnn.TORCH_LAYERS[kind](inputs, hidden))
    blocks = rnn.GATES_PER_KIND[kind]
    return Question(
        f"A one-layer PyTorch `nn.{LAYER_NAMES[kind]}` with input size I = {inputs} and hidden size H = {hidden} "
        "(PyTorch keeps two bias vectors, b_ih and b_hh): how many parameters does it hold?",
        total,
        f"`nn.{LAYER_NAMES[kind]}` has {GATE_NAMES[kind]}. Each block has an H×I input matrix, an H×H recurrent "
        f"matrix and two biases of H: {blocks}·(H·I + H·H + 2·H) = {blocks}·({hidden}·{inputs} + {hidden}·{hidden} "
        f"+ 2·{hidden}) = **{total:,}**. The same weights serve every time step, so the count does not depend on "
        "the sequence length.")


def _scalar(value: float) -> torch.Tensor:
    return torch.tensor([float(value)], dtype=torch.float64)


def _one_unit_rnn(rng: random.Random) -> Question:
    while True:  # redraw until h_3 is far enough from 0 for a 1% tolerance to be fair
        w_x, w_h, b = rng.choice(WEIGHTS), rng.choice(WEIGHTS), rng.choice([-0.5, 0, 0.5])
        xs = [rng.choice([-1, 0, 1, 2]) for _ in range(3)]
        weights = {"weight_ih": _scalar(w_x)[None], "weight_hh": _scalar(w_h)[None], "bias_ih": _scalar(b),
                   "bias_hh": _scalar(0)}
        inputs = torch.tensor(xs, dtype=torch.float64).reshape(3, 1, 1)  # (seq, batch, input)
        states = [h.item() for h in rnn.unroll("rnn", weights, inputs).hidden]
        if abs(states[-1]) >= 0.05:
            break
    lines = [f"h_{t} = tanh(({w_x:g})·({x:g}) + ({w_h:g})·({h_prev:.4f}) + ({b:g})) = "
             + (f"**{h:.4f}**." if t == len(xs) else f"{h:.4f}")
             for t, (x, h_prev, h) in enumerate(zip(xs, [0.0] + states, states), start=1)]
    return Question(
        f"A vanilla RNN with one hidden unit computes h_t = tanh(w_x·x_t + w_h·h_(t−1) + b) with w_x = {w_x:g}, "
        f"w_h = {w_h:g} and b = {b:g}. Starting from h_0 = 0 it reads x = ({', '.join(f'{x:g}' for x in xs)}). "
        "What is h_3? (within 1%)",
        states[-1],
        "The same three numbers at every step, each step feeding its h into the next:  \n" + "  \n".join(lines),
        tolerance=0.01)


def _gradient_through_time(rng: random.Random) -> Question:
    scale, steps = rng.choice(SCALES), rng.choice([5, 10, 20, 30])
    with torch.random.fork_rng(devices=[]):  # scaled_layer seeds torch: keep the session's generator as it was
        layer = rnn.scaled_layer("rnn", 1, 16, scale, 0.0, seed=rng.randrange(1000))
    w_h = layer.weight_hh_l0.detach().double()  # (16, 16), every singular value == scale
    gradient = torch.ones(16, dtype=torch.float64)
    back = torch.linalg.matrix_power(w_h.T, steps) @ gradient  # ∂L/∂h, `steps` steps earlier
    factor = (back.norm() / gradient.norm()).item()
    fate = "vanishes" if scale < 1 else "explodes"
    return Question(
        f"Leave out the tanh: going back one time step multiplies the gradient ∂L/∂h by W_hᵀ. Every singular "
        f"value of W_h is s = {scale:g} (the lesson's weight-scale slider builds W_h this way). By what factor does "
        f"‖∂L/∂h‖ change going back n = {steps} steps? (within 1%)",
        factor,
        f"W_h is s times an orthogonal matrix, so each step back scales every gradient's length by exactly s: "
        f"after n steps, sⁿ = {scale:g}^{steps} = **{factor:.4g}**. The gradient {fate}: that is why a vanilla "
        "RNN struggles with long-range dependencies (and why gradients get clipped).",
        tolerance=0.01)


def _bracket_depth(rng: random.Random) -> Question:
    indices, _ = rnn.bracket_strings(1, rng.randint(12, 20), seed=rng.randrange(10**6))  # (seq, 1)
    text = "".join(rnn.BRACKET_VOCAB[i] for i in indices[:, 0].tolist())
    depth = rnn.true_depth(text)
    deepest = int(depth.max())
    return Question(
        f"The LSTM in section 3 learned to track bracket depth (`(` opens, `)` closes, `x` changes nothing). "
        f"Reading `{text}`, what is the deepest nesting its counting cell must hold?",
        deepest,
        f"The depth after each character: {', '.join(str(int(d)) for d in depth)}. The largest is **{deepest}**. "
        "The cell state can hold this count for many steps because the forget gate stays near 1.")


def _path_length(rng: random.Random) -> Question:
    tokens = rng.choice([16, 50, 100, 512, 1000, 2048])
    steps = rnn.path_lengths(tokens)["RNN (sequential steps)"]
    return Question(
        f"In a sequence of {tokens:,} tokens, how many sequential RNN steps must a signal from the first token "
        "cross to reach the last one?",
        steps,
        f"The RNN passes information one step at a time: token 1 → 2 → … → {tokens:,} is {tokens:,} − 1 = "
        f"**{steps:,}** steps, each one multiplying the gradient again. One self-attention layer connects them "
        "directly: a path of 1, and all positions are computed in parallel.")


def questions(rng: random.Random) -> list[Question]:
    return [make(rng) for make in (_parameter_count, _one_unit_rnn, _gradient_through_time, _bracket_depth,
                                   _path_length)]
