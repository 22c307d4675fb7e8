"""Neural-networks checkpoint: 50 seeds, every answer recomputed here with
torch (float64 autograd), and the predict question's trained networks
checked against scikit-learn's own logistic regression and MLP."""
import re
import warnings

import pytest
import torch
from checkpoint_kinds import assert_well_taught, predict_on_page, the_predict_question
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from torch.nn import functional as F

from lib import checkpoints, neural_networks
from lib.checkpoints import neural_networks as nn_checkpoint

SEEDS = range(50)
NUMBER = r"-?\d+(?:\.\d+)?"
TORCH_ACTIVATIONS = {"relu": F.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "gelu": F.gelu}


def vector(name: str, prompt: str) -> list[float]:
    return [float(v) for v in re.search(rf"{name} = \(({NUMBER}), ({NUMBER})\)", prompt).groups()]


def scalar(name: str, prompt: str) -> float:
    return float(re.search(rf"{name} = ({NUMBER})", prompt).group(1))


@pytest.mark.parametrize("seed", SEEDS)
def test_answers_match_torch(seed):
    questions = checkpoints.questions("neural_networks", seed)
    assert_well_taught(questions)
    neuron_q, linear_q, loop_q, slope_q, _ = questions

    x, w = torch.tensor(vector("x", neuron_q.prompt), dtype=torch.float64), torch.tensor(vector("w", neuron_q.prompt), dtype=torch.float64)
    act = re.search(r"activation \*\*(\w+)\*\*", neuron_q.prompt).group(1)
    expected = TORCH_ACTIVATIONS[act](w @ x + scalar("b", neuron_q.prompt)).item()
    assert neuron_q.answer == pytest.approx(expected, abs=1e-12)
    assert neuron_q.check(f"{expected:.6g}") and neuron_q.tolerance == 0.01

    layers = int(re.search(r"stack (\d+) hidden layers", linear_q.prompt).group(1))
    stack = torch.nn.Sequential(*(torch.nn.Linear(3, 3, dtype=torch.float64) for _ in range(layers)))
    inputs = torch.randn(5, 3, dtype=torch.float64)
    one = stack(inputs) - stack(torch.zeros(1, 3, dtype=torch.float64))  # W·x with W the product of the matrices
    product = torch.linalg.multi_dot([layer.weight for layer in reversed(stack)]) if layers > 1 else stack[0].weight
    assert torch.allclose(one, inputs @ product.T) and linear_q.answer.startswith("Only what one linear layer")

    assert loop_q.answer.split(" → ") == ["forward pass", "loss", "backpropagation", "optimiser step"]

    z = torch.tensor(scalar("z", slope_q.prompt), dtype=torch.float64, requires_grad=True)
    slopes = {name: torch.autograd.grad(f(z), z)[0].item() for name, f in TORCH_ACTIVATIONS.items()}
    assert slope_q.answer == max(slopes, key=slopes.get)
    second, first = sorted(slopes.values())[-2:]
    assert first > 1.05 * second  # no near-tie to argue about


def sklearn_winner(dataset: str, noise: float, seed: int) -> str:
    """The same comparison with scikit-learn's own logistic regression and MLP."""
    X, y = neural_networks.make_dataset(dataset, noise=noise, seed=seed)
    data = neural_networks.split(X, y, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        line = LogisticRegression().fit(data.X_train, data.y_train).score(data.X_val, data.y_val)
        layers = MLPClassifier((8, 8), activation="tanh", max_iter=2000, random_state=seed).fit(
            data.X_train, data.y_train).score(data.X_val, data.y_val)
    return nn_checkpoint.winner({"no hidden layer": line, "hidden layers": layers})


@pytest.mark.parametrize("seed", [0])
def test_the_predict_question_trains_the_playground_networks(seed, one_cpu_thread):
    question = the_predict_question(checkpoints.questions("neural_networks", seed))
    dataset, noise, data_seed = re.search(r"\*\*(\w+)\*\* data \(noise ([\d.]+), seed (\d+)\)", question.prompt).groups()
    reveal = question.reveal()
    assert reveal.answer in question.options
    assert reveal.answer == sklearn_winner(dataset, float(noise), int(data_seed))
    accuracy = dict(zip(reveal.table["network"], reveal.table["validation accuracy"]))
    assert reveal.answer == nn_checkpoint.winner(accuracy)


def test_questions_change_with_the_seed():
    prompts = {tuple(q.prompt for q in checkpoints.questions("neural_networks", seed)) for seed in SEEDS}
    assert len(prompts) == len(SEEDS)


def test_the_page_runs_the_predict_question(open_page, one_cpu_thread):
    """On the lesson page: lock in a prediction, the page trains both networks, and shows what scikit-learn finds."""
    questions = checkpoints.questions("neural_networks", 1)
    question = the_predict_question(questions)
    dataset, noise, data_seed = re.search(r"\*\*(\w+)\*\* data \(noise ([\d.]+), seed (\d+)\)", question.prompt).groups()
    at = open_page("neural_networks")
    prediction, revealed = predict_on_page(at, "neural_networks", questions)
    assert revealed == sklearn_winner(dataset, float(noise), int(data_seed))
    verdict = "Correct." if prediction == revealed else "Not this time."
    assert [s.value for s in at.success if s.value == "Correct."] + [e.value for e in at.error if e.value == "Not this time."] == [verdict]
