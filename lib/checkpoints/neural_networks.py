"""Checkpoint: neural networks. Every answer comes from lib.neural_networks: the neuron, the
MLP the playground trains (run live for the predict question) and the activations."""
from __future__ import annotations

import random

import pandas as pd

from lib import neural_networks
from lib.checkpoints import Question, Reveal
from lib.checkpoints.build import concept, predict

INPUTS = [-2, -1.5, -1, -0.5, 0.5, 1, 1.5, 2]
WEIGHTS = [-1.5, -1, -0.5, 0.5, 1, 2]
BIASES = [-1, -0.5, 0, 0.5, 1]
FORMULAS = {"relu": "max(0, {z})", "sigmoid": "1 / (1 + e^(−({z})))", "tanh": "tanh({z})",
            "gelu": "{z} · Φ({z}) (Φ: the standard normal CDF)"}
# z values where one activation's slope is clearly the largest (no near-ties)
SLOPE_POINTS = [-3, -2, -1, -0.5, 0.25, 0.5, 2]
LINE_DATASETS = ["circles", "xor", "linear"]  # the playground's sets a straight line fits clearly well or badly
SAME = 0.05  # validation accuracies closer than this count as "about the same"
WINNERS = ("The network with hidden layers, clearly", "About the same (within 5 points)",
           "The network with no hidden layer, clearly")


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


def _steepest_activation(rng: random.Random) -> Question:
    z = rng.choice(SLOPE_POINTS)
    slopes = {name: float(neural_networks.activation_grad(name, z)) for name in neural_networks.ACTIVATIONS}
    steepest = max(slopes, key=slopes.get)
    listed = "; ".join(f"{name}′({z:g}) = {slope:.3f}" for name, slope in slopes.items())
    why = {"relu": "relu's slope is 1 for z > 0 and 0 for z < 0", "sigmoid": "sigmoid's slope is at most 0.25",
           "tanh": "tanh's slope is 1 at 0 and shrinks fast away from it", "gelu": "gelu's slope is near relu's"}
    wrong = {name: f"{name}′({z:g}) = {slopes[name]:.3f}, smaller than {steepest}′({z:g}) = "
             f"{slopes[steepest]:.3f}: {why[name]}." for name in slopes if name != steepest}
    return concept(
        rng, f"Backpropagation multiplies the gradient by the activation's slope. At z = {z:g}, which activation "
        "passes back the largest gradient?", steepest, wrong,
        f"The slopes at z = {z:g}: {listed}. The largest is **{steepest}**. Slopes near 0 (sigmoid and tanh far "
        "from 0, relu below 0) shrink the gradient: stacked layer after layer, it vanishes.")


def _why_nonlinear(rng: random.Random) -> Question:
    layers = rng.randint(2, 6)
    return concept(
        rng, f"You stack {layers} hidden layers but leave out the activation (each layer is only w·x + b). "
        "What can this network learn?",
        "Only what one linear layer can: the layers multiply out to a single w·x + b",
        {"More than one layer: each extra layer adds curves to the boundary":
         "Curves come from the activation. A linear function of a linear function is linear, so without it the "
         f"{layers} layers collapse into one matrix and one bias.",
         "Nothing at all: without activations the gradients are zero":
         "The gradients are fine (a linear layer's gradient is its input); the network trains, it just can only "
         "draw one straight line.",
         "The same as with activations, only slower to train":
         "Activations change what can be represented, not just the speed: on circles or XOR the linear stack "
         "stays near chance however long it trains."},
        f"W₂(W₁x + b₁) + b₂ = (W₂W₁)x + (W₂b₁ + b₂): still one matrix and one bias, for {layers} layers as for "
        "two. The activation between layers is what lets a network bend its decision boundary; that is why "
        "every hidden layer in the playground has one.")


def _training_loop(rng: random.Random) -> Question:
    right = "forward pass → loss → backpropagation → optimiser step"
    return concept(
        rng, "In what order does one training step of the playground's network run?", right,
        {"loss → forward pass → backpropagation → optimiser step":
         "The loss compares the network's output with the true labels, so the forward pass must come first.",
         "forward pass → backpropagation → loss → optimiser step":
         "Backpropagation computes the gradient *of the loss*: it needs the loss first.",
         "forward pass → loss → optimiser step → backpropagation":
         "The optimiser moves each weight against its gradient, which backpropagation has to compute first."},
        f"**{right}**: the forward pass makes predictions, the loss scores them, backpropagation gives ∂loss/∂w "
        "for every weight, and the optimiser step moves each weight a little downhill. Then again, batch after "
        "batch.")


def _line_or_layers(rng: random.Random) -> Question:
    dataset, noise, seed = rng.choice(LINE_DATASETS), rng.choice([0.05, 0.1, 0.15]), rng.randrange(100)
    deep = neural_networks.NetConfig()
    return predict(
        f"The playground's **{dataset}** data (noise {noise:g}, seed {seed}) is learned by two networks, "
        f"{neural_networks.DEFAULT_STEPS} Adam steps each: one with no hidden layer (logistic regression: one "
        f"straight line) and one with {deep.num_hidden_layers} hidden layers of {deep.hidden_size} "
        f"{deep.hidden_act} units. Which one reaches the higher validation accuracy?",
        WINNERS,
        "A network with no hidden layer draws one straight boundary; hidden layers with a non-linear activation "
        "can bend it. Where a straight line already separates the classes, the extra layers add nothing.",
        reveal_line_or_layers, dataset, noise, seed)


def line_or_layers_accuracy(dataset: str, noise: float, seed: int) -> dict[str, float]:
    """Validation accuracy of no hidden layer vs the playground's default network, trained as the page trains."""
    data = neural_networks.split(*neural_networks.make_dataset(dataset, noise=noise, seed=seed), seed=seed)
    accuracy = {}
    for name, layers in (("no hidden layer", 0), ("hidden layers", neural_networks.NetConfig().num_hidden_layers)):
        cfg = neural_networks.NetConfig(num_hidden_layers=layers)
        model = neural_networks.build_model(cfg, seed=seed)
        *_, last = neural_networks.train(model, data, cfg, neural_networks.DEFAULT_STEPS, every=neural_networks.DEFAULT_STEPS)
        accuracy[name] = last.val_acc
    return accuracy


def winner(accuracy: dict[str, float]) -> str:
    gap = accuracy["hidden layers"] - accuracy["no hidden layer"]
    return WINNERS[0] if gap > SAME else WINNERS[2] if gap < -SAME else WINNERS[1]


def reveal_line_or_layers(dataset: str, noise: float, seed: int) -> Reveal:
    accuracy = line_or_layers_accuracy(dataset, noise, seed)
    answer = winner(accuracy)
    shape = ("a straight line separates its classes, so hidden layers have nothing to add"
             if dataset == "linear" else "no straight line separates its classes")
    return Reveal(
        answer,
        f"Trained here just now: no hidden layer {accuracy['no hidden layer']:.0%}, hidden layers "
        f"{accuracy['hidden layers']:.0%} on the validation points. On **{dataset}** {shape}.",
        pd.DataFrame({"network": list(accuracy), "validation accuracy": [round(a, 3) for a in accuracy.values()]}))


def questions(rng: random.Random) -> list[Question]:
    return [_neuron(rng), _why_nonlinear(rng), _training_loop(rng), _steepest_activation(rng), _line_or_layers(rng)]
