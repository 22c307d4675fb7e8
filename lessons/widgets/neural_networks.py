"""Streamlit widgets of the neural-network lesson: the neuron explorer, the
training playground, the backpropagation walk-through, the fitting
experiment and the digits network. All arithmetic lives in lib/neural_networks.py."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from lessons.widgets import charts, common
from lib import neural_networks, urlstate

KEY = "neural_networks"
LEARNING_RATES = [0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 100]
BATCH_SIZES = [1, 4, 8, 16, 32, 64, 128, 256]
WEIGHT_DECAYS = [0, 0.0001, 0.001, 0.01, 0.1]
STEP_LEARNING_RATES = [0.01, 0.1, 0.5, 1.0, 2.0]
DIGITS_HIDDEN_SIZES = [4, 8, 16, 32, 64]
ACTIVATION_NAMES = list(neural_networks.ACTIVATIONS)
N_SAMPLES = 400
NEURON_LIMIT = 100.0
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
NEURON_INPUTS = {"x1": ("input x₁", 1.0, 0.5), "x2": ("input x₂", 2.0, 0.5),  # name -> (label, default, step)
                 "w1": ("weight w₁", 0.5, 0.1), "w2": ("weight w₂", -1.0, 0.1), "b": ("bias b", 0.1, 0.1)}


def key(name: str) -> str:
    return f"{KEY}_{name}"


def fmt(value: float) -> str:
    return f"{value:.4g}"


# --- settings shared by link, and teacher presets --------------------------------------

DEFAULT = neural_networks.NetConfig()
SHARED = {
    **{name: urlstate.Float(key(name), default, -NEURON_LIMIT, NEURON_LIMIT)
       for name, (_, default, _) in NEURON_INPUTS.items()},
    "neuron": urlstate.Choice(key("neuron_act"), ACTIVATION_NAMES[0], ACTIVATION_NAMES),
    "data": urlstate.Choice(key("dataset"), neural_networks.DATASETS[0], neural_networks.DATASETS),
    "noise": urlstate.Float(key("noise"), 0.1, 0.0, 0.5),
    "layers": urlstate.Int(key("layers"), DEFAULT.num_hidden_layers, 0, 4),
    "units": urlstate.Int(key("units"), DEFAULT.hidden_size, 0, 8),
    "act": urlstate.Choice(key("act"), DEFAULT.hidden_act, ACTIVATION_NAMES),
    "lr": urlstate.Choice(key("lr"), DEFAULT.learning_rate, LEARNING_RATES),
    "steps": urlstate.Int(key("steps"), neural_networks.DEFAULT_STEPS, 50, 1000),
    "batch": urlstate.Choice(key("batch"), DEFAULT.batch_size, BATCH_SIZES),
    "l2": urlstate.Choice(key("l2"), WEIGHT_DECAYS[0], WEIGHT_DECAYS),
    "opt": urlstate.Choice(key("optimizer"), DEFAULT.optimizer, ["adam", "sgd"]),
    "example": urlstate.Int(key("example"), 0, 0, neural_networks.train_size(N_SAMPLES) - 1),
    "step_lr": urlstate.Choice(key("step_lr"), 0.5, STEP_LEARNING_RATES),
    "digits": urlstate.Choice(key("digits_hidden"), 32, DIGITS_HIDDEN_SIZES),
}
PRESETS = {
    "XOR: one straight line fails": {"data": "xor", "layers": 0},
    "Spirals need depth": {"data": "spirals", "noise": 0.0, "layers": 4, "lr": 0.01, "steps": 1000},
    "Learning rate too big": {"lr": 10},
}


def shared(name: str):
    return common.shared_value(SHARED[name])


# --- 1. one neuron ---------------------------------------------------------------------


@common.fragment
def neuron_explorer() -> None:
    cols = st.columns(6)
    x1, x2, w1, w2, b = (col.number_input(label, -NEURON_LIMIT, NEURON_LIMIT, step=step, key=key(name))
                         for col, (name, (label, _, step)) in zip(cols, NEURON_INPUTS.items()))
    x, w = [x1, x2], [w1, w2]
    act = cols[5].selectbox("activation", ACTIVATION_NAMES, key=key("neuron_act"))
    neuron = neural_networks.Neuron.compute(x, w, b, act)
    st.markdown(f"**z** = w₁·x₁ + w₂·x₂ + b = {fmt(w[0])}·{fmt(x[0])} + ({fmt(w[1])})·{fmt(x[1])} + "
                f"{fmt(b)} = **{fmt(neuron.z)}**  \n**a** = {act}(z) = **{fmt(neuron.a)}** "
                f"· slope {act}′(z) = {fmt(neuron.slope)}")
    st.plotly_chart(activation_figure(act, neuron.z), width="stretch", key=key("neuron_chart"))


# --- 2. the playground ---------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    dataset: str
    noise: float
    cfg: neural_networks.NetConfig
    steps: int


def settings() -> Settings:
    """The playground's controls, in two narrow columns beside the boundary (classroom mode
    hides the advanced ones but keeps their values)."""
    left, right = st.columns(2)
    left.selectbox("Data set", neural_networks.DATASETS, key=key("dataset"))
    right.slider("Noise", 0.0, 0.5, step=0.05, key=key("noise"))
    left.number_input("Hidden layers", 0, 4, key=key("layers"))
    right.number_input("Units per layer", 0, 8, key=key("units"))
    left.selectbox("Activation", ACTIVATION_NAMES, key=key("act"))
    right.select_slider("Learning rate", LEARNING_RATES, key=key("lr"))
    st.slider("Training steps", 50, 1000, step=50, key=key("steps"))
    if not common.classroom():
        with st.expander("Advanced: batch size, regularisation, optimiser"):
            st.select_slider("Batch size", BATCH_SIZES, key=key("batch"))
            st.select_slider("L2 regularisation", WEIGHT_DECAYS, key=key("l2"))
            st.radio("Optimiser", SHARED["opt"].options, key=key("optimizer"), horizontal=True)
    return settings_from_state()


def data_for(s: Settings) -> neural_networks.Split:
    return neural_networks.split(*neural_networks.make_dataset(s.dataset, N_SAMPLES, s.noise))


def current_model(s: Settings) -> tuple[neural_networks.MLP, list[neural_networks.Step] | None]:
    """The model trained with these settings (any number of steps) and its history if there is
    one, else a fresh one and None."""
    run = st.session_state.get(key("run"))
    if run and dataclasses.replace(run["settings"], steps=s.steps) == s:
        return run["model"], run["history"]
    return neural_networks.build_model(s.cfg, device=common.device()), None


def draw_boundary(slot, model: neural_networks.MLP, data: neural_networks.Split, title: str, chart_key: str) -> None:
    axis, prob, _ = neural_networks.boundary(model)
    slot.plotly_chart(boundary_figure(axis, prob, data.X_train, data.y_train, title),
                      width="stretch", key=chart_key)


def train_live(s: Settings, data: neural_networks.Split, boundary_slot, loss_slot) -> None:
    model = neural_networks.build_model(s.cfg, device=common.device())
    run = {"settings": s, "model": model, "history": []}
    st.session_state[key("run")] = run
    every = max(s.steps // 12, 5)  # about a dozen redraws: each costs a boundary and two charts

    def on_step(i: int, step: neural_networks.Step) -> None:
        run["history"].append(step)
        draw_boundary(boundary_slot, model, data, f"Step {step.step}: validation accuracy {step.val_acc:.0%}",
                      key(f"live_boundary_{i}"))
        loss_slot.plotly_chart(loss_figure(run["history"]), width="stretch", key=key(f"live_loss_{i}"))

    common.live_run(neural_networks.train(model, data, s.cfg, s.steps, every), -(-s.steps // every), "Training", on_step)


@common.fragment
def playground() -> None:
    controls, picture = st.columns([2, 3])
    with controls:
        s = settings()
        errors, warnings = neural_networks.config_problems(s.cfg)
        train_clicked = not errors and st.button("Train", type="primary", icon=":material/play_arrow:",
                                                 key=key("train"))
    for message in warnings:
        picture.warning(message)
    for message in errors:
        picture.error(message)
    if errors:
        return
    data = data_for(s)
    boundary_slot = picture.empty()
    left, right = st.columns([3, 2])
    loss_slot = left.empty()
    if train_clicked:
        with st.spinner("Training…"):
            train_live(s, data, boundary_slot, loss_slot)
        st.rerun()  # the whole page, so the backpropagation section sees the trained network
    model, history = current_model(s)
    history = history or []
    if history and history[-1].diverged:
        st.error(neural_networks.divergence_message(history[-1]))
    title = (f"After {history[-1].step} steps: validation accuracy {history[-1].val_acc:.0%}" if history
             else "Before training: a random network's guess")
    draw_boundary(boundary_slot, model, data, title, key("boundary"))
    if history:
        loss_slot.plotly_chart(loss_figure(history), width="stretch", key=key("loss"))
        last = history[-1]
        right.dataframe(pd.DataFrame({"training": [f"{last.train_loss:.4f}", f"{last.train_acc:.1%}"],
                                      "validation": [f"{last.val_loss:.4f}", f"{last.val_acc:.1%}"]},
                                     index=["loss", "accuracy"]), key=key("final"))
    if s.cfg.num_hidden_layers and st.toggle("Show each hidden unit's boundary", key=key("show_units")):
        layer = st.radio("Hidden layer", range(s.cfg.num_hidden_layers), format_func=lambda l: f"layer {l + 1}",
                         horizontal=True, key=key("units_layer"))
        axis, _, states = neural_networks.boundary(model)
        st.plotly_chart(units_figure(axis, states[layer], layer), width="stretch", key=key("units_chart"))


def first_screen() -> None:
    """The lesson's opening picture: the playground, its decision boundary redrawn as it trains."""
    st.markdown("**Press Train** and watch the background: it is the network's guess for every point of the "
                "plane, redrawn as it learns. Then try a preset, or change the data set and the hidden layers.")
    playground()


# --- 3. backpropagation ---------------------------------------------------------------------


def layer_table(trace: neural_networks.Trace, layer: int, hidden_act: str) -> pd.DataFrame:
    is_output = layer == len(trace.zs) - 1
    table = {"z (forward)": trace.zs[layer]}
    if not is_output:
        table[f"a = {hidden_act}(z)"] = trace.acts[layer + 1]
        table["∂L/∂a (from the layer above)"] = trace.da[layer]
        table[f"{hidden_act}′(z)"] = neural_networks.activation_grad(hidden_act, trace.zs[layer])
    table["∂L/∂z = ∂L/∂a · act′(z)" if not is_output else "∂L/∂z = p − y"] = trace.dz[layer]
    index = ["output"] if is_output else [f"unit {u + 1}" for u in range(len(trace.zs[layer]))]
    return pd.DataFrame(table, index=index)


def factor(value: float) -> str:
    """A number as a factor in a product: negative ones in parentheses."""
    return f"({fmt(value)})" if value < 0 else fmt(value)


def chain_rule_line(trace: neural_networks.Trace) -> str:
    """∂L/∂w for the first weight of the first layer, with the numbers."""
    dz, x = trace.dz[0][0], trace.acts[0][0]
    name = "the output" if len(trace.zs) == 1 else "unit 1 of hidden layer 1"
    return (f"For the weight from input x₁ to {name}: ∂L/∂w = ∂L/∂z · x₁ = {factor(dz)} × {factor(x)} = "
            f"**{fmt(trace.dweights[0][0, 0])}**")


def input_names(trace: neural_networks.Trace, layer: int) -> list[str]:
    """What feeds `layer`: the inputs x₁, x₂ … or the units of the layer below."""
    width = len(trace.acts[layer])
    if layer == 0:
        return [f"x{i + 1}".translate(SUBSCRIPTS) for i in range(width)]
    return [f"from unit {i + 1}" for i in range(width)]


def gradient_table(trace: neural_networks.Trace, layer: int) -> pd.DataFrame:
    """∂L/∂W (one row per unit, one column per input) and ∂L/∂b for one layer."""
    is_output = layer == len(trace.zs) - 1
    index = ["output"] if is_output else [f"unit {u + 1}" for u in range(len(trace.zs[layer]))]
    table = pd.DataFrame(trace.dweights[layer], index=index, columns=input_names(trace, layer))
    table["∂L/∂b"] = trace.dbiases[layer]
    return table


def layer_name(trace: neural_networks.Trace, layer: int) -> str:
    return "Output layer" if layer == len(trace.zs) - 1 else f"Hidden layer {layer + 1}"


DIVERGED_BACKPROP = ("The last training diverged, so its weights hold no gradients worth following. Lower the "
                     "learning rate above: this section then follows the untrained network, and the one you "
                     "train next.")


@common.fragment
def backprop_walkthrough() -> None:
    s = settings_from_state()
    errors, _ = neural_networks.config_problems(s.cfg)
    if errors:
        st.info("Fix the network settings above to follow backpropagation through it.")
        return
    data = data_for(s)
    model, history = current_model(s)
    if history and history[-1].diverged:
        st.warning(DIVERGED_BACKPROP, icon=":material/warning:")
        return
    st.caption("Using the network you trained above." if history is not None else "Using the untrained network "
               "(train it above to see the gradients of a trained one).")
    left, right = st.columns(2)
    index = left.number_input("Training example", 0, len(data.X_train) - 1, key=key("example"))
    lr = right.select_slider("Learning rate for one step", STEP_LEARNING_RATES, key=key("step_lr"))
    wrong = (neural_networks.predict_classes(model, data.X_train) != data.y_train).nonzero()[0]
    if len(wrong):
        left.caption("Examples this network gets wrong (their gradients are larger): "
                     + ", ".join(map(str, wrong[:12])) + (" …" if len(wrong) > 12 else ""))
    x, y = data.X_train[index], int(data.y_train[index])
    params = neural_networks.numpy_params(model)
    trace = neural_networks.backprop(params, x, y, s.cfg.hidden_act)
    st.markdown(f"Input x = ({fmt(x[0])}, {fmt(x[1])}), true class y = {y}. Forward pass gives "
                f"p = sigmoid(z) = {fmt(trace.prob)} and loss L = −[y·log p + (1−y)·log(1−p)] = {fmt(trace.loss)}.")
    st.caption("The layers are listed in the order the backward pass visits them: the output first, then down "
               "to the first hidden layer.")
    for layer in reversed(range(len(trace.zs))):
        st.markdown(f"**{layer_name(trace, layer)}**")
        st.dataframe(layer_table(trace, layer, s.cfg.hidden_act), key=key(f"layer_{layer}"))
    st.markdown(chain_rule_line(trace))
    with st.expander("Every weight's and bias's gradient: ∂L/∂W = ∂L/∂z · (the input it multiplies)"):
        for layer in reversed(range(len(trace.zs))):
            st.markdown(f"**{layer_name(trace, layer)}**: ∂L/∂W, one row per unit, one column per input")
            st.dataframe(gradient_table(trace, layer), key=key(f"grads_{layer}"))
    error = neural_networks.max_gradient_error(trace, params, s.cfg.hidden_act)
    after = neural_networks.backprop(neural_networks.sgd_step(params, trace, lr), x, y, s.cfg.hidden_act)
    cols = st.columns(3)
    cols[0].metric("Max |hand-written − torch.autograd|", f"{error:.1e}")
    cols[1].metric("Loss before the step", fmt(trace.loss))
    cols[2].metric("Loss after one step", fmt(after.loss), fmt(after.loss - trace.loss), delta_color="inverse")


def settings_from_state() -> Settings:
    """The playground's settings as last chosen (from the link, or the defaults, before it ran)."""
    cfg = neural_networks.NetConfig(num_hidden_layers=int(shared("layers")), hidden_size=int(shared("units")),
                       hidden_act=shared("act"), learning_rate=shared("lr"), batch_size=shared("batch"),
                       weight_decay=shared("l2"), optimizer=shared("opt"))
    return Settings(shared("data"), shared("noise"), cfg, shared("steps"))


TORCH_OPTIMIZERS = {"adam": "Adam", "sgd": "SGD"}


def training_code(cfg: neural_networks.NetConfig = DEFAULT, steps: int = neural_networks.DEFAULT_STEPS) -> str:
    """The playground's training loop in plain torch, written out for these settings."""
    sizes = [2] + [cfg.hidden_size] * cfg.num_hidden_layers + [1]
    act = f", nn.{neural_networks.TORCH_ACTIVATIONS[cfg.hidden_act].__name__}(), "
    layers = act.join(f"nn.Linear({n_in}, {n_out})" for n_in, n_out in zip(sizes, sizes[1:]))
    return f"""
import torch
from torch import nn
model = nn.Sequential({layers})
optimizer = torch.optim.{TORCH_OPTIMIZERS[cfg.optimizer]}(model.parameters(), lr={cfg.learning_rate:g})
for step in range({steps}):
    batch = torch.randint(len(X), ({cfg.batch_size},))
    logits = model(X[batch]).squeeze(-1)                                      # 1. forward propagation
    loss = nn.functional.binary_cross_entropy_with_logits(logits, y[batch])  # 2. loss
    optimizer.zero_grad()
    loss.backward()                                                          # 3. backpropagation
    optimizer.step()                                                         # 4. optimisation step
"""


def run_without_leftovers(steps, total: int, label: str, on_step) -> None:
    """common.live_run whose progress bar and Stop button vanish once the run is over."""
    holder = st.empty()
    with holder.container():
        common.live_run(steps, total, label, on_step)
    holder.empty()


# --- 4. underfitting and overfitting ----------------------------------------------------


@common.fragment
def fitting_experiment(steps: int = 400, every: int = 20) -> None:
    slot = st.empty()
    if st.button("Train the three networks", icon=":material/play_arrow:", key=key("fit_train")):
        runs: dict[str, list[neural_networks.Step]] = {name: [] for name in neural_networks.FIT_NETWORKS}
        st.session_state[key("fit_runs")] = runs

        def on_step(i: int, item) -> None:
            name, step = item
            runs[name].append(step)
            if step.step == steps:
                slot.plotly_chart(fit_figure(runs), width="stretch", key=key(f"fit_live_{i}"))

        run_without_leftovers(neural_networks.fitting_experiment(steps, every, common.device()), len(runs) * steps // every,
                              "Training three networks", on_step)
    runs = st.session_state.get(key("fit_runs"))
    if runs:
        slot.plotly_chart(fit_figure(runs), width="stretch", key=key("fit_chart"))
        st.dataframe(pd.DataFrame({name: {"final training loss": h[-1].train_loss,
                                          "final validation loss": h[-1].val_loss,
                                          "lowest validation loss": min(s.val_loss for s in h),
                                          "validation accuracy": h[-1].val_acc}
                                   for name, h in runs.items() if h}).T, key=key("fit_table"))


# --- 5. digits ------------------------------------------------------------------------------


@common.fragment
def digits_network(steps: int = 300) -> None:
    hidden = st.select_slider("Hidden units", DIGITS_HIDDEN_SIZES, key=key("digits_hidden"))
    if st.button("Train on the digits", icon=":material/play_arrow:", key=key("digits_train")):
        data = neural_networks.load_digits_split()
        cfg = neural_networks.NetConfig(num_hidden_layers=1, hidden_size=hidden, hidden_act="relu", learning_rate=0.01,
                           batch_size=64)
        model = neural_networks.build_model(cfg, in_features=64, out_features=10, device=common.device())
        history: list[neural_networks.Step] = []
        run_without_leftovers(neural_networks.train(model, data, cfg, steps, every=20), steps // 20, "Training on digits",
                              lambda i, step: history.append(step))
        st.session_state[key("digits")] = (hidden, data, model, history)
    if key("digits") not in st.session_state:
        return
    hidden, data, model, history = st.session_state[key("digits")]
    cols = st.columns(3)
    cols[0].metric("Parameters", f"{sum(p.numel() for p in model.parameters()):,}",
                   help=f"64·{hidden} + {hidden} + {hidden}·10 + 10")
    cols[1].metric("Validation accuracy", f"{history[-1].val_acc:.1%}")
    cols[2].metric("Validation images", len(data.y_val))
    guesses = neural_networks.predict_classes(model, data.X_val[:8])
    st.plotly_chart(digits_figure(data.X_val[:8], data.y_val[:8], guesses), width="stretch",
                    key=key("digits_chart"))


# --- figures ----------------------------------------------------------------------

CLASS_STYLE = {0: dict(color="#1f77b4", symbol="circle"), 1: dict(color="#ff7f0e", symbol="x")}


def activation_figure(hidden_act: str, z: float) -> go.Figure:
    zs = np.linspace(-5, 5, 401)
    fig = go.Figure()
    fig.add_scatter(x=zs, y=neural_networks.activate(hidden_act, zs), name=f"{hidden_act}(z)", line=dict(width=3))
    fig.add_scatter(x=zs, y=neural_networks.activation_grad(hidden_act, zs), name=f"{hidden_act}′(z) (slope)",
                    line=dict(dash="dash"))
    fig.add_scatter(x=[z], y=[float(neural_networks.activate(hidden_act, z))], mode="markers", name="this neuron",
                    marker=dict(size=14, color="black"))
    fig.update_layout(title=f"{hidden_act} and its derivative", xaxis_title="z = w·x + b",
                      yaxis_title="output", height=340, margin=dict(t=50, b=40))
    return fig


def _points(fig: go.Figure, X, y, row=None, col=None, showlegend=True) -> None:
    for label, style in CLASS_STYLE.items():
        mask = y == label
        fig.add_scatter(x=X[mask, 0], y=X[mask, 1], mode="markers", name=f"class {label}",
                        marker=dict(size=6, line=dict(width=1, color="white"), **style),
                        showlegend=showlegend, row=row, col=col)


def boundary_figure(axis, prob, X, y, title: str) -> go.Figure:
    """P(class 1) over the plane, in the diverging colours: a probability is sequential, but here
    it says which class, two-sided around the 0.5 threshold. White is the decision boundary,
    blue leans to class 0 and red to class 1, equally strongly at equal distances from 0.5."""
    fig = go.Figure()
    fig.add_contour(x=axis, y=axis, z=prob, colorscale=charts.DIVERGING, zmin=0, zmax=1, opacity=0.75,
                    contours=dict(start=0, end=1, size=0.1), colorbar=dict(title="P(class 1)"))
    _points(fig, X, y)
    fig.update_layout(title=title, xaxis_title="x₁", yaxis_title="x₂", height=460,
                      legend=dict(orientation="h", y=-0.15), margin=dict(t=50))
    fig.update_yaxes(scaleanchor="x")
    return fig


def units_figure(axis, layer_states, layer: int) -> go.Figure:
    """Each unit of hidden layer `layer`: its activation over the input plane, one colour range for
    every unit; diverging when a unit goes negative (tanh, GELU), sequential otherwise (ReLU, sigmoid)."""
    units = layer_states.shape[0]
    cols = min(units, 4)
    rows = -(-units // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[f"unit {u + 1}" for u in range(units)],
                        horizontal_spacing=0.04, vertical_spacing=0.12)
    kind = "diverging" if layer_states.min() < 0 else "sequential"
    shared = charts.colour_range(layer_states, kind)
    for u in range(units):
        fig.add_trace(charts.heatmap_trace(layer_states[u], axis, axis, kind, zrange=shared, showscale=u == 0,
                                           colorbar_title="activation"), row=u // cols + 1, col=u % cols + 1)
    fig.update_layout(title=f"What each unit of hidden layer {layer + 1} responds to",
                      height=220 * rows + 100, margin=dict(t=80))
    fig.update_xaxes(showticklabels=False, title=dict(text="x₁", standoff=0))
    fig.update_yaxes(showticklabels=False, title=dict(text="x₂", standoff=0))
    return fig


def loss_figure(history: list[neural_networks.Step], title: str = "Loss while training") -> go.Figure:
    steps = [s.step for s in history]
    fig = go.Figure()
    fig.add_scatter(x=steps, y=[s.train_loss for s in history], name="training loss")
    fig.add_scatter(x=steps, y=[s.val_loss for s in history], name="validation loss", line=dict(dash="dash"))
    fig.update_layout(title=title, xaxis_title="step", yaxis_title="cross-entropy loss", height=340,
                      margin=dict(t=50))
    return fig


def fit_figure(runs: dict[str, list[neural_networks.Step]]) -> go.Figure:
    """Training vs validation loss for several networks on the same data."""
    fig = make_subplots(rows=1, cols=len(runs), subplot_titles=list(runs), shared_yaxes=True)
    for col, history in enumerate(runs.values(), start=1):
        steps = [s.step for s in history]
        fig.add_scatter(x=steps, y=[s.train_loss for s in history], name="training loss",
                        line=dict(color="#1f77b4"), showlegend=col == 1, row=1, col=col)
        fig.add_scatter(x=steps, y=[s.val_loss for s in history], name="validation loss",
                        line=dict(color="#ff7f0e", dash="dash"), showlegend=col == 1, row=1, col=col)
        fig.update_xaxes(title_text="step", row=1, col=col)
    fig.update_yaxes(title_text="cross-entropy loss")
    fig.update_layout(title="Underfitting and overfitting: the same data, three network sizes", height=380,
                      margin=dict(t=80))
    return fig


def digits_figure(images, labels, predictions) -> go.Figure:
    """A row of 8×8 digit images titled with the network's guess."""
    n = len(images)
    titles = [f"{'right' if p == t else 'wrong'}: guess {p} (is {t})" for p, t in zip(predictions, labels)]
    fig = make_subplots(rows=1, cols=n, subplot_titles=titles, horizontal_spacing=0.02)
    for i, image in enumerate(images):
        fig.add_trace(charts.heatmap_trace(np.asarray(image).reshape(8, 8)[::-1], kind="image", showscale=False),
                      row=1, col=i + 1)
    fig.update_xaxes(visible=False)  # pixel grids: the axes carry nothing to read
    fig.update_yaxes(visible=False, scaleanchor="x")
    fig.update_layout(title="Validation digits and the network's guesses", height=220, margin=dict(t=80),
                      font=dict(size=11))
    return fig
