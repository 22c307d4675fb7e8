"""RNN checkpoint: 50 seeds, every answer recomputed here from float64 arithmetic or a plain count,
and the predict question's vanishing or exploding gradient from a float64 backward pass written
out step by step (W_hᵀ and tanh′ once per step), not lib.rnn's autograd."""
import math
import re

import pytest
import torch
from checkpoint_kinds import assert_well_taught, predict_on_page, the_predict_question

from lib import checkpoints, rnn
from lib.checkpoints import rnn as rnn_checkpoint

SEEDS = range(50)
NUMBER = r"-?\d+(?:\.\d+)?"
BLOCKS = {"RNN": 1, "LSTM": 4, "GRU": 3}  # gate blocks stacked in PyTorch's weight matrices


def named(name: str, prompt: str) -> float:
    return float(re.search(rf"{name} = ({NUMBER})", prompt).group(1))


@pytest.fixture(scope="module")
def sets():
    return [checkpoints.questions("rnn", seed) for seed in SEEDS]


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_match_independent_computations(seed, sets):
    assert_well_taught(sets[seed])
    unit_q, weights_q, tanh_q, lstm_q, _ = sets[seed]

    w_x, w_h, b = (named(n, unit_q.prompt) for n in ("w_x", "w_h", "b"))
    h = 0.0
    for x in re.search(rf"x = \(({NUMBER}), ({NUMBER}), ({NUMBER})\)", unit_q.prompt).groups():
        h = math.tanh(w_x * float(x) + w_h * h + b)
    assert unit_q.answer == pytest.approx(h, rel=1e-12) and abs(h) >= 0.05
    assert unit_q.check(f"{h:.4f}")

    layer = re.search(r"`nn\.(\w+)`", weights_q.prompt).group(1)
    inputs, hidden = map(int, re.search(r"input size (\d+), hidden size (\d+)", weights_q.prompt).groups())
    count = BLOCKS[layer] * (hidden * inputs + hidden * hidden + 2 * hidden)
    assert weights_q.answer.startswith("It stays the same") and f"**{count:,}**" in weights_q.solution

    assert tanh_q.answer.startswith("Each step back also multiplies by tanh′")
    assert lstm_q.answer.startswith("Its cell state is updated by addition")


def float64_ratio(scale: float, steps: int, seed: int) -> float:
    """‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ for the demo's RNN: its weights and inputs, backpropagated by hand."""
    with torch.random.fork_rng(devices=[]):
        layer = rnn.scaled_layer("rnn", 8, 32, scale, 0.0, seed)
    w_ih, w_hh = layer.weight_ih_l0.detach().double(), layer.weight_hh_l0.detach().double()
    bias = (layer.bias_ih_l0 + layer.bias_hh_l0).detach().double()
    gen = torch.Generator().manual_seed(seed + 1)  # the demo's inputs and read-out
    inputs = torch.randn(steps, 1, 8, generator=gen)[:, 0].double()
    readout = (torch.randn(32, generator=gen) / math.sqrt(32)).double()
    h, states = torch.zeros(32, dtype=torch.float64), []
    for x in inputs:
        h = torch.tanh(w_ih @ x + w_hh @ h + bias)
        states.append(h)
    grad = readout  # ∂L/∂h_T: the loss is h_T · readout
    last = grad.norm()
    for h_next in reversed(states[1:]):  # ∂L/∂h_t = W_hhᵀ (tanh′ ⊙ ∂L/∂h_(t+1))
        grad = w_hh.T @ ((1 - h_next**2) * grad)
    return float(grad.norm() / last)


@pytest.mark.parametrize("seed", [0, 1, 2, 5])
def test_the_predict_question_runs_the_gradient_demo(seed, sets):
    question = the_predict_question(sets[seed])
    scale, steps = named("s", question.prompt), int(named("T", question.prompt))
    demo_seed = int(re.search(r"\(seed (\d+)\)", question.prompt).group(1))
    reveal = question.reveal()
    ratio = float64_ratio(scale, steps, demo_seed)
    assert reveal.answer in question.options and reveal.answer == rnn_checkpoint.fate(ratio)
    shown = float(re.search(r"\*\*([\d.e+-]+)\*\*", reveal.explanation).group(1))
    assert shown == pytest.approx(ratio, rel=1e-2)  # the demo runs in float32, 3 significant digits shown


def test_tanh_lets_a_scale_above_one_vanish():
    """The lesson's claim, measured: at s = 1.25 over 50 steps the gradient still vanishes; at 3 it explodes."""
    assert float64_ratio(1.25, 50, 0) < 0.1 and float64_ratio(3.0, 50, 0) > 10


def test_questions_change_with_the_seed(sets):
    prompts = {tuple(q.prompt for q in questions) for questions in sets}
    assert len(prompts) == len(SEEDS)


def test_the_page_runs_the_predict_question(open_page):
    questions = checkpoints.questions("rnn", 1)
    question = the_predict_question(questions)
    scale, steps = named("s", question.prompt), int(named("T", question.prompt))
    demo_seed = int(re.search(r"\(seed (\d+)\)", question.prompt).group(1))
    at = open_page("rnn")
    _, revealed = predict_on_page(at, "rnn", questions)
    assert revealed == rnn_checkpoint.fate(float64_ratio(scale, steps, demo_seed))
