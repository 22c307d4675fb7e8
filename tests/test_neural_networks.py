"""lib/neural_networks.py against independent references: torch ops and autograd in float64,
closed-form geometry of the data sets, and the lesson's own training claims."""
import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from lib import neural_networks

TORCH_FN = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "gelu": F.gelu}


@pytest.mark.parametrize("name", neural_networks.ACTIVATIONS)
def test_activation_and_derivative_match_torch(name):
    z = torch.linspace(-6, 6, 241, dtype=torch.float64, requires_grad=True)
    out = TORCH_FN[name](z)
    (grad,) = torch.autograd.grad(out.sum(), z)
    np.testing.assert_allclose(neural_networks.activate(name, z.detach().numpy()), out.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(neural_networks.activation_grad(name, z.detach().numpy()), grad.numpy(), atol=1e-12)


def test_neuron_arithmetic():
    neuron = neural_networks.Neuron.compute([1.0, 2.0], [0.5, -1.0], 0.1, "relu")
    assert neuron.z == pytest.approx(0.5 * 1.0 - 1.0 * 2.0 + 0.1)
    assert neuron.a == 0.0 and neuron.slope == 0.0  # z < 0: ReLU is off
    sig = neural_networks.Neuron.compute([3.0], [1.0], -1.0, "sigmoid")
    assert sig.a == pytest.approx(1 / (1 + math.exp(-2.0)))
    assert sig.slope == pytest.approx(sig.a * (1 - sig.a))


@pytest.mark.parametrize("name", neural_networks.DATASETS)
def test_datasets_are_balanced_binary_2d(name):
    X, y = neural_networks.make_dataset(name, 400, noise=0.1, seed=3)
    assert X.shape == (400, 2) and y.shape == (400,)
    assert set(np.unique(y)) == {0, 1}
    assert 0.3 < y.mean() < 0.7
    assert np.abs(X).max() < 2.5  # fits the plotting window (±1.6) up to noise


def test_noise_free_datasets_follow_their_rule():
    X, y = neural_networks.make_dataset("circles", 200, noise=0.0)
    radius = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(radius[y == 0], 1.0)   # outer circle
    np.testing.assert_allclose(radius[y == 1], 0.5)   # inner circle
    X, y = neural_networks.make_dataset("xor", 200, noise=0.0)
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) == np.sign(X[:, 1])).astype(int))
    X, y = neural_networks.make_dataset("spirals", 200, noise=0.0)
    np.testing.assert_allclose(X[y == 1], -X[y == 0])  # the second arm is the first rotated 180°


def test_unknown_dataset_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown data set"):
        neural_networks.make_dataset("bananas")


def test_split_partitions_the_data():
    X, y = neural_networks.make_dataset("moons", 100)
    data = neural_networks.split(X, y, val_fraction=0.3)
    assert len(data.X_train) == 70 and len(data.X_val) == 30
    together = np.concatenate([data.X_train, data.X_val])
    assert sorted(map(tuple, together)) == sorted(map(tuple, X))


@pytest.mark.parametrize("layers", [0, 1, 3])
@pytest.mark.parametrize("act", list(neural_networks.ACTIVATIONS))
def test_handwritten_backprop_equals_autograd_float64(layers, act):
    model = neural_networks.build_model(neural_networks.NetConfig(num_hidden_layers=layers, hidden_size=5, hidden_act=act), seed=layers)
    params = neural_networks.numpy_params(model)
    x, y = np.array([0.3, -0.7]), 1
    trace = neural_networks.backprop(params, x, y, act)
    loss, grads = neural_networks.autograd_gradients(params, x, y, act)
    assert trace.loss == pytest.approx(loss, abs=1e-12)
    assert neural_networks.max_gradient_error(trace, params, act) < 1e-6
    # and the hand-written forward pass is the torch model's forward pass
    logit = model(torch.tensor(x[None], dtype=torch.float32)).item()
    assert trace.zs[-1][0] == pytest.approx(logit, abs=1e-5)
    assert [d.shape for d in trace.dweights] == [g[0].shape for g in grads]


def test_backprop_gradient_matches_finite_differences():
    model = neural_networks.build_model(neural_networks.NetConfig(num_hidden_layers=2, hidden_size=3, hidden_act="tanh"), seed=7)
    params = neural_networks.numpy_params(model)
    x, y = np.array([0.5, 0.2]), 0
    trace = neural_networks.backprop(params, x, y, "tanh")
    eps = 1e-6
    bumped = [(w.copy(), b.copy()) for w, b in params]
    bumped[1][0][2, 1] += eps
    numeric = (neural_networks.backprop(bumped, x, y, "tanh").loss - trace.loss) / eps
    assert trace.dweights[1][2, 1] == pytest.approx(numeric, abs=1e-5)


def test_one_sgd_step_lowers_the_loss_of_that_example():
    model = neural_networks.build_model(neural_networks.NetConfig(), seed=1)
    params = neural_networks.numpy_params(model)
    x, y = np.array([0.9, -0.1]), 1
    before = neural_networks.backprop(params, x, y, "tanh")
    after = neural_networks.backprop(neural_networks.sgd_step(params, before, 0.5), x, y, "tanh")
    assert after.loss < before.loss
    np.testing.assert_allclose(neural_networks.sgd_step(params, before, 0.5)[0][0], params[0][0] - 0.5 * before.dweights[0])


def test_default_network_separates_circles():
    data = neural_networks.split(*neural_networks.make_dataset("circles", 400, noise=0.1))
    cfg = neural_networks.NetConfig()
    history = list(neural_networks.train(neural_networks.build_model(cfg), data, cfg, neural_networks.DEFAULT_STEPS, every=50))
    assert history[-1].step == neural_networks.DEFAULT_STEPS and not history[-1].diverged
    assert history[-1].val_acc >= 0.95
    assert history[-1].train_loss < history[0].train_loss


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_huge_learning_rate_diverges_and_stops_early(optimizer):
    data = neural_networks.split(*neural_networks.make_dataset("circles"))
    cfg = neural_networks.NetConfig(learning_rate=100, optimizer=optimizer)
    history = list(neural_networks.train(neural_networks.build_model(cfg), data, cfg, 300, every=10))
    assert history[-1].diverged and history[-1].step < 300
    assert not any(s.diverged for s in history[:-1])
    assert not history[-1].train_loss <= neural_networks.DIVERGENCE_FACTOR * math.log(2) * 1.1


def test_nan_weights_are_reported_as_diverged():
    data = neural_networks.split(*neural_networks.make_dataset("circles"))
    cfg = neural_networks.NetConfig()
    model = neural_networks.build_model(cfg)
    with torch.no_grad():
        model.out.weight[0, 0] = float("nan")
    history = list(neural_networks.train(model, data, cfg, 100, every=10))
    assert len(history) == 1 and history[0].diverged and history[0].step == 1


def test_divergence_message_names_the_step_and_the_cure():
    blown_up = neural_networks.divergence_message(neural_networks.Step(20, 55.1, 60.0, 0.5, 0.5, diverged=True))
    assert "step 20" in blown_up and "55.1" in blown_up and "lower the learning rate" in blown_up
    for loss in [float("nan"), float("inf")]:
        message = neural_networks.divergence_message(neural_networks.Step(3, loss, loss, 0.5, 0.5, diverged=True))
        assert "step 3" in message and "stopped being a number" in message and "nan" not in message


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_default_network_trains_on_the_gpu():
    data = neural_networks.split(*neural_networks.make_dataset("circles", 400, noise=0.1))
    cfg = neural_networks.NetConfig()
    model = neural_networks.build_model(cfg, device="cuda")
    history = list(neural_networks.train(model, data, cfg, neural_networks.DEFAULT_STEPS, every=100))
    assert history[-1].val_acc >= 0.95 and not history[-1].diverged
    axis, prob, states = neural_networks.boundary(model)
    assert prob.shape == (60, 60) and len(states) == cfg.num_hidden_layers
    assert (neural_networks.predict_classes(model, data.X_val) == data.y_val).mean() == pytest.approx(history[-1].val_acc)
    trace = neural_networks.backprop(neural_networks.numpy_params(model), data.X_train[0], int(data.y_train[0]), cfg.hidden_act)
    assert neural_networks.max_gradient_error(trace, neural_networks.numpy_params(model), cfg.hidden_act) < 1e-6


def test_config_problems():
    assert neural_networks.config_problems(neural_networks.NetConfig()) == ([], [])
    errors, _ = neural_networks.config_problems(neural_networks.NetConfig(hidden_size=0))
    assert "at least one unit" in errors[0]
    errors, _ = neural_networks.config_problems(neural_networks.NetConfig(learning_rate=0))
    assert "learning rate of 0" in errors[0]
    errors, _ = neural_networks.config_problems(neural_networks.NetConfig(learning_rate=float("nan")))
    assert errors
    errors, warnings = neural_networks.config_problems(neural_networks.NetConfig(num_hidden_layers=0, hidden_size=0))
    assert errors == [] and "logistic regression" in warnings[0]


def test_zero_hidden_layers_is_a_straight_line():
    cfg = neural_networks.NetConfig(num_hidden_layers=0)
    circles = neural_networks.split(*neural_networks.make_dataset("circles"))
    linear = neural_networks.split(*neural_networks.make_dataset("linear", noise=0.0))
    on_circles = list(neural_networks.train(neural_networks.build_model(cfg), circles, cfg, 200, every=200))[-1]
    on_linear = list(neural_networks.train(neural_networks.build_model(cfg), linear, cfg, 200, every=200))[-1]
    assert on_circles.val_acc < 0.75 < 0.95 < on_linear.val_acc


def test_l2_penalty_is_sum_of_squared_weights():
    model = neural_networks.build_model(neural_networks.NetConfig(num_hidden_layers=1, hidden_size=3))
    expected = sum((w**2).sum() for w, _ in neural_networks.numpy_params(model))
    assert neural_networks.l2_penalty(model).item() == pytest.approx(expected, rel=1e-5)


def test_boundary_and_hidden_unit_maps():
    model = neural_networks.build_model(neural_networks.NetConfig(num_hidden_layers=2, hidden_size=3), seed=2)
    axis, prob, states = neural_networks.boundary(model, resolution=21)
    assert prob.shape == (21, 21) and ((prob > 0) & (prob < 1)).all()
    assert [s.shape for s in states] == [(3, 21, 21), (3, 21, 21)]
    # grid cell (row i, col j) is the point (axis[j], axis[i])
    point = torch.tensor([[axis[4], axis[17]]], dtype=torch.float32)
    assert prob[17, 4] == pytest.approx(torch.sigmoid(model(point)).item(), abs=1e-6)
    assert states[0][1, 17, 4] == pytest.approx(model.hidden_states(point)[0][0, 1].item(), abs=1e-6)


@pytest.mark.slow
def test_fitting_experiment_shows_under_and_overfitting():
    runs = {name: [] for name in neural_networks.FIT_NETWORKS}
    for name, step in neural_networks.fitting_experiment(steps=200, every=20):
        runs[name].append(step)
    small, right, large = runs.values()
    assert large[-1].train_loss < right[-1].train_loss < small[-1].train_loss  # capacity
    assert large[-1].val_loss > 1.5 * min(s.val_loss for s in large)         # validation loss turns up
    assert large[-1].val_loss > right[-1].val_loss
    assert small[-1].val_loss > right[-1].val_loss                            # too small underfits


def test_digits_network_learns():
    data = neural_networks.load_digits_split()
    assert data.X_train.shape[1] == 64 and data.X_train.max() == 1.0
    cfg = neural_networks.NetConfig(num_hidden_layers=1, hidden_size=32, hidden_act="relu", learning_rate=0.01, batch_size=64)
    model = neural_networks.build_model(cfg, in_features=64, out_features=10)
    history = list(neural_networks.train(model, data, cfg, 300, every=100))
    assert history[-1].val_acc > 0.9
    assert (neural_networks.predict_classes(model, data.X_val) == data.y_val).mean() == pytest.approx(history[-1].val_acc)


def test_training_uses_one_cpu_thread_and_restores_the_count():
    before = torch.get_num_threads()
    data = neural_networks.split(*neural_networks.make_dataset("circles", 40))
    cfg = neural_networks.NetConfig()
    seen = [torch.get_num_threads() for _ in neural_networks.train(neural_networks.build_model(cfg), data, cfg, 20, every=10)]
    assert seen == [1, 1]
    assert torch.get_num_threads() == before


@pytest.mark.slow  # the first torch.optim use in a process imports torch._dynamo (seconds)
@pytest.mark.parametrize("name, reference", [("sgd", torch.optim.SGD), ("adam", torch.optim.Adam)])
def test_optimizer_matches_torch_optim(name, reference):
    torch.manual_seed(0)
    ours = [torch.randn(4, 3, dtype=torch.float64, requires_grad=True)]
    theirs = [ours[0].detach().clone().requires_grad_(True)]
    mine, ref = neural_networks.Optimizer(ours, name, 0.05), reference(theirs, lr=0.05)
    for step in range(5):
        for params, opt in [(ours, mine), (theirs, ref)]:
            opt.zero_grad()
            loss = ((params[0] ** 3).sum() - step * params[0].sum())
            loss.backward()
            opt.step()
    torch.testing.assert_close(ours[0], theirs[0], rtol=0, atol=1e-12)


def test_overlapping_trainings_restore_the_thread_count_once_all_end():
    before = torch.get_num_threads()
    data = neural_networks.split(*neural_networks.make_dataset("circles", 40))
    cfg = neural_networks.NetConfig()
    first = neural_networks.train(neural_networks.build_model(cfg), data, cfg, 20, every=10)
    second = neural_networks.train(neural_networks.build_model(cfg), data, cfg, 20, every=10)
    next(first), next(second)
    list(first)  # the first student finishes while the second is still training
    assert torch.get_num_threads() == 1
    list(second)
    assert torch.get_num_threads() == before
