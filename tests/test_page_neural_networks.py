"""AppTest of the neural-network lesson: renders, trains, explains backprop,
and answers bad settings with messages instead of tracebacks."""
import json

import pytest
from plotly_arrays import chart_title

K = "neural_networks_"


def chart_titles(app) -> list[str]:
    return [chart_title(json.loads(c.proto.spec)) for c in app.get("plotly_chart")]


def messages(app) -> str:
    return " ".join(e.value for e in [*app.error, *app.warning])


@pytest.fixture
def page(open_page):
    app = open_page("neural_networks", timeout=60)
    assert not app.exception, app.exception
    return app


def test_page_renders_with_the_untrained_boundary(page):
    assert page.title[0].value.startswith("Neural networks")
    assert not page.error and not page.warning
    titles = chart_titles(page)
    assert "Before training: a random network's guess" in titles
    assert "relu and its derivative" in titles


def test_neuron_arithmetic_follows_the_inputs(page):
    page.number_input(key=K + "w2").set_value(1.0).run()
    page.selectbox(key=K + "neuron_act").set_value("sigmoid").run()
    text = " ".join(m.value for m in page.markdown)
    # z = 0.5·1 + 1·2 + 0.1 = 2.6, sigmoid(2.6) = 0.9309
    assert "= **2.6**" in text and "**0.9309**" in text


def boundary_probabilities(app):
    """P(class 1) over the grid, from the playground's contour chart (Plotly sends it base64-encoded)."""
    import base64

    import numpy as np

    charts = [json.loads(c.proto.spec) for c in app.get("plotly_chart")]
    z = next(t for c in charts for t in c["data"] if t["type"] == "contour")["z"]
    shape = tuple(int(n) for n in z["shape"].split(","))
    return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)


def test_training_updates_the_boundary_and_loss(page):
    before = boundary_probabilities(page)
    page.slider(key=K + "steps").set_value(100).run()
    page.button(key=K + "train").click().run()
    assert not page.exception, page.exception
    history = page.session_state[K + "run"]["history"]
    assert history[-1].step == 100 and not history[-1].diverged
    assert history[-1].train_loss < history[0].train_loss
    titles = chart_titles(page)
    assert f"After 100 steps: validation accuracy {history[-1].val_acc:.0%}" in titles
    assert "Loss while training" in titles
    after = boundary_probabilities(page)
    assert after.shape == before.shape == (60, 60)
    assert abs(after - before).max() > 0.5  # the contour itself is redrawn from the trained network
    assert after.min() < 0.1 and after.max() > 0.9  # a confident boundary, where the untrained guess is not
    final = page.dataframe[0].value
    assert final.loc["accuracy", "validation"] == f"{history[-1].val_acc:.1%}"
    # the backpropagation section now uses the trained network
    assert any("network you trained" in c.value for c in page.caption)


def test_hidden_unit_boundaries_on_demand(page):
    page.toggle(key=K + "show_units").set_value(True).run()
    assert "What each unit of hidden layer 1 responds to" in chart_titles(page)


def test_backprop_matches_autograd_and_one_step_lowers_loss(page):
    import numpy as np
    import torch

    from lib import neural_networks

    metrics = {m.label: m.value for m in page.metric}
    assert float(metrics["Max |hand-written − torch.autograd|"]) < 1e-6
    assert float(metrics["Loss after one step"]) < float(metrics["Loss before the step"])
    # every weight's gradient, as the page shows it, is the one autograd computes for that example
    data = neural_networks.split(*neural_networks.make_dataset("circles", 400, noise=0.1))  # the page's defaults
    model = neural_networks.build_model(neural_networks.NetConfig())  # the untrained network the page uses (same seed)
    x = torch.tensor(data.X_train[:1], dtype=torch.float64)
    loss = neural_networks.loss_fn(model.double()(x), torch.tensor(data.y_train[:1]))
    loss.backward()
    layers = list(model.hidden) + [model.out]
    shown = [d.value for d in page.dataframe if "∂L/∂b" in d.value.columns][::-1]  # listed output first
    assert len(shown) == len(layers) == 3
    assert list(shown[0].columns) == ["x₁", "x₂", "∂L/∂b"]
    assert list(shown[2].index) == ["output"] and shown[2].shape == (1, 8 + 1)
    for table, layer in zip(shown, layers):
        np.testing.assert_allclose(table.drop(columns="∂L/∂b").to_numpy(), layer.weight.grad.numpy(), atol=1e-9)
        np.testing.assert_allclose(table["∂L/∂b"].to_numpy(), layer.bias.grad.numpy(), atol=1e-9)


@pytest.mark.parametrize("widget, value, expected", [
    ("units", 0, "at least one unit"),
    ("lr", 0, "learning rate of 0"),
])
def test_impossible_settings_give_an_error_and_no_training(page, widget, value, expected):
    control = page.number_input(key=K + widget) if widget == "units" else page.select_slider(key=K + widget)
    control.set_value(value).run()
    assert not page.exception
    assert expected in messages(page)
    assert all(b.key != K + "train" for b in page.button)


def test_zero_hidden_layers_warns_and_still_trains(page):
    page.number_input(key=K + "layers").set_value(0).run()
    assert "logistic regression" in messages(page)
    page.slider(key=K + "steps").set_value(50).run()
    page.button(key=K + "train").click().run()
    assert not page.exception
    assert page.session_state[K + "run"]["history"][-1].step == 50


def test_huge_learning_rate_says_training_diverged(page):
    page.select_slider(key=K + "lr").set_value(100).run()
    page.button(key=K + "train").click().run()
    assert not page.exception
    assert "Training diverged" in messages(page) and "lower the learning rate" in messages(page)
    assert page.session_state[K + "run"]["history"][-1].step < 300
    # backpropagation says why it has nothing to show, instead of tables of nan
    assert any("last training diverged" in w.value and "Lower the learning rate" in w.value for w in page.warning)
    assert not [d for d in page.dataframe if "∂L/∂b" in d.value.columns]
    assert "Loss before the step" not in {m.label for m in page.metric}
    page.select_slider(key=K + "lr").set_value(0.03).run()
    assert not any("last training diverged" in w.value for w in page.warning)
    assert "untrained network" in " ".join(c.value for c in page.caption)
    assert float({m.label: m.value for m in page.metric}["Loss before the step"]) > 0


def test_the_training_code_is_written_from_the_defaults(page):
    from lessons.widgets import neural_networks as lesson
    from lib import neural_networks

    cfg, code = neural_networks.NetConfig(), lesson.training_code()
    assert code.strip() in [c.value for c in page.code]
    assert f"lr={cfg.learning_rate:g})" in code and f"range({neural_networks.DEFAULT_STEPS}):" in code
    assert f"({cfg.batch_size},))" in code
    namespace = {}
    exec(code.split("optimizer =")[0], namespace)  # the imports and the model
    written = [tuple(p.shape) for p in namespace["model"].parameters()]
    assert written == [tuple(p.shape) for p in neural_networks.build_model(cfg).parameters()]
    assert type(namespace["model"][1]) is neural_networks.TORCH_ACTIVATIONS[cfg.hidden_act]


@pytest.mark.slow
def test_fitting_and_digits_sections(page):
    page.button(key=K + "fit_train").click().run(timeout=120)
    assert not page.exception, page.exception
    runs = page.session_state[K + "fit_runs"]
    assert all(len(h) == 20 for h in runs.values())
    assert "Underfitting and overfitting: the same data, three network sizes" in chart_titles(page)
    page.button(key=K + "digits_train").click().run(timeout=60)
    assert not page.exception, page.exception
    accuracy = {m.label: m.value for m in page.metric}["Validation accuracy"]
    assert float(accuracy.rstrip("%")) > 90
    from accessibility import chart_problems
    assert chart_problems(page) == []  # the fitting and digits charts too


def test_classroom_mode_hides_the_advanced_controls(page):
    assert any(e.label.startswith("Advanced") for e in page.expander)
    page.sidebar.toggle(key="classroom").set_value(True).run()
    assert not page.exception
    assert not any(e.label.startswith("Advanced") for e in page.expander)
    assert "Before training: a random network's guess" in chart_titles(page)


def test_a_shared_link_restores_the_view(page, open_page):
    from accessibility import chart_problems, widget_label_problems

    page.number_input(key=K + "x1").set_value(3.0)
    page.selectbox(key=K + "neuron_act").set_value("sigmoid")
    page.selectbox(key=K + "dataset").set_value("moons")
    page.number_input(key=K + "layers").set_value(1)
    page.select_slider(key=K + "lr").set_value(0.1)
    page.number_input(key=K + "example").set_value(5).run()
    link = dict(page.query_params)
    assert link == {"x1": "3.0", "neuron": "sigmoid", "data": "moons", "layers": "1", "lr": "0.1", "example": "5"}
    opened = open_page("neural_networks", timeout=60, query=link)
    assert not opened.exception and not opened.info
    for kind, name, value in [("number_input", "x1", 3.0), ("selectbox", "neuron_act", "sigmoid"),
                              ("selectbox", "dataset", "moons"), ("number_input", "layers", 1),
                              ("select_slider", "lr", 0.1), ("number_input", "example", 5)]:
        assert getattr(opened, kind)(key=K + name).value == value, name
    # the same neuron arithmetic, backpropagation numbers and charts
    neuron = [m.value for m in page.markdown if "**z**" in m.value]
    assert "= **-0.4**" in neuron[0] and "**0.4013**" in neuron[0]  # z = 0.5·3 − 1·2 + 0.1, sigmoid(z)
    assert [m.value for m in opened.markdown if "**z**" in m.value] == neuron
    metrics = {m.label: m.value for m in page.metric}
    assert "Loss before the step" in metrics and {m.label: m.value for m in opened.metric} == metrics
    assert chart_titles(opened) == chart_titles(page)
    assert dict(opened.query_params) == link
    opened.toggle(key=K + "show_units").set_value(True).run()
    assert chart_problems(opened) == [] and widget_label_problems(opened) == []


def test_malformed_links_and_presets(open_page):
    at = open_page("neural_networks", timeout=60,
                   query={"seed": "abc", "layers": "999", "x1": "nan", "data": "x" * 10_240})
    assert not at.exception
    notice = at.info[0].value
    assert "`seed` is not a setting" in notice and "outside 0–4" in notice and "`x1=nan`" in notice
    assert "`data` is too long" in notice
    assert dict(at.query_params) == {}  # the link is cleaned
    assert at.number_input(key=K + "layers").value == 2 and at.selectbox(key=K + "dataset").value == "circles"
    next(b for b in at.button if b.label == "XOR: one straight line fails").click().run()
    assert dict(at.query_params) == {"data": "xor", "layers": "0"}
    assert "logistic regression" in messages(at)
    next(b for b in at.button if b.label == "Learning rate too big").click().run()
    assert dict(at.query_params) == {"lr": "10"}  # a preset starts from the defaults
    assert at.select_slider(key=K + "lr").value == 10 and at.selectbox(key=K + "dataset").value == "circles"


def test_checkpoint_answer_gets_feedback(page):
    from lib import checkpoints

    first = checkpoints.questions("neural_networks", 1)[0]
    page.text_input(key="neural_networks_a1_1").input(f"{first.answer:.6g}")
    next(b for b in page.button if b.label == "Check").click().run()
    assert [s.value for s in page.success] == ["Correct."]
    assert page.session_state["progress"]["neural_networks"]["first_try"] == 1
