"""Neural-networks checkpoint: 50 seeds, every answer recomputed here with
torch (float64 autograd) or the layer-size formula, not lib.neural_networks."""
import re

import pytest
import torch
from torch.nn import functional as F

from lib import checkpoints

SEEDS = range(50)
NUMBER = r"-?\d+(?:\.\d+)?"
TORCH_ACTIVATIONS = {"relu": F.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "gelu": F.gelu}


def vector(name: str, prompt: str) -> list[float]:
    return [float(v) for v in re.search(rf"{name} = \(({NUMBER}), ({NUMBER})\)", prompt).groups()]


def scalar(name: str, prompt: str) -> float:
    return float(re.search(rf"{name} = ({NUMBER})", prompt).group(1))


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_match_torch(seed):
    neuron_q, count_q, gradient_q, slope_q = checkpoints.questions("neural_networks", seed)

    x, w = torch.tensor(vector("x", neuron_q.prompt), dtype=torch.float64), torch.tensor(vector("w", neuron_q.prompt), dtype=torch.float64)
    act = re.search(r"activation \*\*(\w+)\*\*", neuron_q.prompt).group(1)
    expected = TORCH_ACTIVATIONS[act](w @ x + scalar("b", neuron_q.prompt)).item()
    assert neuron_q.answer == pytest.approx(expected, abs=1e-12)
    assert neuron_q.check(f"{expected:.6g}") and neuron_q.tolerance == 0.01

    inputs, layers, hidden, outputs = map(int, re.search(
        r"has (\d+) inputs, (\d+) hidden layer\(s\) of (\d+) units and (\d+) output", count_q.prompt).groups())
    sizes = [inputs] + [hidden] * layers + [outputs]
    assert count_q.answer == sum(a * b + b for a, b in zip(sizes, sizes[1:]))

    x = torch.tensor(vector("x", gradient_q.prompt), dtype=torch.float64)
    w = torch.tensor(vector("w", gradient_q.prompt), dtype=torch.float64, requires_grad=True)
    y = torch.tensor(scalar("y", gradient_q.prompt), dtype=torch.float64)
    F.binary_cross_entropy_with_logits(w @ x + scalar("b", gradient_q.prompt), y).backward()
    assert gradient_q.answer == pytest.approx(w.grad[0].item(), rel=1e-9)

    z = torch.tensor(scalar("z", slope_q.prompt), dtype=torch.float64, requires_grad=True)
    slopes = {name: torch.autograd.grad(f(z), z)[0].item() for name, f in TORCH_ACTIVATIONS.items()}
    assert slope_q.answer == max(slopes, key=slopes.get)
    second, first = sorted(slopes.values())[-2:]
    assert first > 1.05 * second  # no near-tie to argue about


def test_questions_change_with_the_seed():
    prompts = {tuple(q.prompt for q in checkpoints.questions("neural_networks", seed)) for seed in SEEDS}
    assert len(prompts) == len(SEEDS)
