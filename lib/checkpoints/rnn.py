"""Checkpoint: recurrent networks. Every answer comes from lib.rnn: its
hand-written cell, torch's layers as the lesson counts them, and the
backpropagation-through-time demo run live for the predict question."""
from __future__ import annotations

import math
import random

import pandas as pd
import torch

from lib import rnn
from lib.checkpoints import Question, Reveal
from lib.checkpoints.build import concept, predict

LAYER_NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
GATE_NAMES = {"rnn": "one block (no gates)", "lstm": "4 blocks: input, forget and output gates and the candidate",
              "gru": "3 blocks: reset and update gates and the candidate"}
WEIGHTS = [-2, -1.5, -1, -0.5, 0.5, 1, 1.5, 2]
FATE_SCALES = [0.5, 0.9, 1.25, 2.0, 3.0]  # the weight-scale slider's range, both sides of 1
FATE_LENGTHS = [20, 50]
FATE_LIMIT = 10.0  # ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ below 1/10 "vanishes", above 10 "explodes"
FATES = ("It vanishes: ‖∂L/∂h₁‖ under 1/10 of ‖∂L/∂h_T‖", "Neither: within 10× either way",
         "It explodes: ‖∂L/∂h₁‖ over 10 × ‖∂L/∂h_T‖")


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


def _same_weights(rng: random.Random) -> Question:
    kind = rng.choice(rnn.KINDS)
    short, long = rng.choice([5, 10, 20]), rng.choice([500, 1000, 5000])
    inputs, hidden = rng.choice([8, 32, 100]), rng.choice([16, 64, 128])
    with torch.device("meta"):
        total = rnn.count_parameters(rnn.TORCH_LAYERS[kind](inputs, hidden))
    return concept(
        rng, f"A one-layer `nn.{LAYER_NAMES[kind]}` (input size {inputs}, hidden size {hidden}) first reads "
        f"sequences of {short} tokens, then of {long:,}. What happens to its number of parameters?",
        "It stays the same: one set of weights serves every time step",
        {f"It grows {long // short}×, one copy of the cell per step":
         "Unrolling draws one copy of the cell per step, but every copy is the same cell with the same weights.",
         "It grows with the hidden state it has to store":
         "The hidden state is an activation, recomputed at each step; it is not learned, so it is no parameter.",
         "It grows a little: one extra bias per step":
         "There is no per-step bias: b_ih and b_hh are shared by every step like the matrices."},
        f"`nn.{LAYER_NAMES[kind]}` holds **{total:,}** parameters for any length: {GATE_NAMES[kind]}, each with "
        "an input matrix, a recurrent matrix and two biases, reused at every step. A longer sequence costs "
        "more time and memory for activations, not more weights.")


def _tanh_slows_growth(rng: random.Random) -> Question:
    scale = rng.choice([1.1, 1.25])
    return concept(
        rng, f"Every singular value of the vanilla RNN's W_h is s = {scale:g}, above 1, yet in the demo the "
        "gradient can still shrink going back in time. Why?",
        "Each step back also multiplies by tanh′ = 1 − h², which is below 1",
        {"It cannot: singular values above 1 always make the gradient explode":
         "That holds without the tanh. With it, each step back multiplies by diag(1 − h_t²)·W_hᵀ, and "
         "1 − h² < 1 wherever h ≠ 0, so the product can stay below 1.",
         "Gradient clipping shrinks it at every step":
         "Clipping rescales the weights' total gradient once, after backpropagation; it never touches "
         "‖∂L/∂h_t‖ at each step, and it only ever shrinks gradients that are too large.",
         "The forget gate closes and cuts the gradient":
         "A vanilla RNN has no gates; the forget gate is the LSTM's."},
        f"Going back one step multiplies ∂L/∂h by W_hᵀ and by the tanh's slope 1 − h_t² (at most 1, less where "
        f"the unit is busy). s = {scale:g} grows the gradient by at most {scale:g}× per step; a slope of "
        f"{1 / scale:.2f} or less undoes it. Only a larger scale (2 or more) wins against the tanh and the "
        "gradient explodes.")


def _lstm_memory(rng: random.Random) -> Question:
    return concept(
        rng, "Why does the LSTM's gradient survive many more steps than the vanilla RNN's?",
        "Its cell state is updated by addition, scaled only by the forget gate, which can stay near 1",
        {"It has four times as many parameters":
         "More weights do not stop a product of small factors from vanishing; the GRU has three blocks, not "
         "four, and survives too.",
         "It uses ReLU instead of tanh, whose slope is 1":
         "The LSTM uses sigmoid gates and tanh; its trick is the additive cell path, not a different activation.",
         "It reads the whole sequence at once, like attention":
         "An LSTM still reads one step at a time; only attention connects distant tokens directly."},
        "c_t = f_t ⊙ c_(t−1) + i_t ⊙ g_t: going back along the cell state multiplies the gradient only by the "
        "forget gate f_t. With the keep-memory bias set, f_t stays near 1 and the gradient survives; set the bias "
        "to 0 in the demo and the LSTM loses much of that advantage.")


def _fate_norms(scale: float, steps: int, seed: int):
    """‖∂L/∂h_t‖ for t = 1..T from the lesson's demo (which seeds torch: keep the session's generator)."""
    with torch.random.fork_rng(devices=[]):
        return rnn.gradient_norms("rnn", steps, scale, seed=seed).norms


def fate(ratio: float) -> str:
    return FATES[0] if ratio < 1 / FATE_LIMIT else FATES[2] if ratio > FATE_LIMIT else FATES[1]


def _gradient_fate(rng: random.Random) -> Question:
    while True:  # a ratio within 2× of a limit would hinge on the seed: draw again
        scale, steps, seed = rng.choice(FATE_SCALES), rng.choice(FATE_LENGTHS), rng.randrange(100)
        norms = _fate_norms(scale, steps, seed)
        ratio = norms[0] / norms[-1]
        if all(abs(math.log10(ratio) - limit) > math.log10(2) for limit in (-1, 1)):
            break
    return predict(
        f"The lesson's vanilla RNN (tanh, hidden size 32) has every singular value of W_h equal to s = {scale:g} "
        f"(seed {seed}). The loss reads only the last of T = {steps} steps. Going back to step 1, what happens "
        "to the gradient ‖∂L/∂h_t‖?",
        FATES,
        "Each step back multiplies ∂L/∂h by W_hᵀ (every singular value s) and by tanh′ = 1 − h² ≤ 1. Below "
        "s = 1 both shrink it; above, the tanh can still hold it down unless s is large.",
        reveal_gradient_fate, scale, steps, seed)


def reveal_gradient_fate(scale: float, steps: int, seed: int) -> Reveal:
    norms = _fate_norms(scale, steps, seed)
    ratio = float(norms[0] / norms[-1])
    shown = sorted({0, steps // 4, steps // 2, 3 * steps // 4, steps - 1})
    return Reveal(
        fate(ratio),
        f"Backpropagated just now through {steps} steps: ‖∂L/∂h_1‖ / ‖∂L/∂h_{steps}‖ = **{ratio:.3g}**, about "
        f"{rnn.decay_rate(norms):.3f}× per step back (s = {scale:g}).",
        pd.DataFrame({"step t": [t + 1 for t in shown], "‖∂L/∂h_t‖": [float(norms[t]) for t in shown]}))


def questions(rng: random.Random) -> list[Question]:
    return [_one_unit_rnn(rng), _same_weights(rng), _tanh_slows_growth(rng), _lstm_memory(rng), _gradient_fate(rng)]
