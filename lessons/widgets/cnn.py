"""Streamlit widgets and Plotly figures for the CNN lesson; the numbers come from lib/cnn.py
and lib/efficientnet.py."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from lessons.widgets import charts, common
from lib import cnn, device_policy, efficientnet, urlstate


def key(name: str) -> str:
    return f"cnn_{name}"


# --- settings shared by link ----------------------------------------------------------------

UPLOAD = "Upload your own…"
PICTURES = [*cnn.SAMPLE_IMAGES, UPLOAD]
POOL_SIZES = [2, 4, 8]
KERNEL_SIZES = [1, 3, 5, 7]
FIRST_FILTERS = [4, 8, 16, 32]
LEARNING_RATES = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1]
SHARED = {
    "stride": urlstate.Int(key("stride"), 1, 1, 3),
    "pad": urlstate.Int(key("padding"), 0, 0, 2),
    "dil": urlstate.Int(key("dilation"), 1, 1, 2),
    "pic": urlstate.Choice(key("kernels_picture"), "Camera man (grayscale)", PICTURES),
    "kernel": urlstate.Choice(key("preset"), next(iter(cnn.PRESET_KERNELS)), list(cnn.PRESET_KERNELS)),
    "pool": urlstate.Choice(key("pool_size"), 2, POOL_SIZES),
    "h": urlstate.Int(key("height"), 224, 1, 4096),
    "w": urlstate.Int(key("width"), 224, 1, 4096),
    "ch": urlstate.Int(key("channels"), 3, 1, 512),
    "filters": urlstate.Int(key("filters"), 64, 1, 1024),
    "k": urlstate.Choice(key("kernel_size"), 3, KERNEL_SIZES),
    "data": urlstate.Choice(key("dataset"), "digits", lambda: list(dataset_names())),
    "layers": urlstate.Int(key("layers"), 2, 1, 3),
    "first": urlstate.Choice(key("first_filters"), 16, FIRST_FILTERS),
    "epochs": urlstate.Int(key("epochs_digits"), 10, 1, 30),
    "fepochs": urlstate.Int(key("epochs_fashion"), 2, 1, 30),
    "lr": urlstate.Choice(key("learning_rate"), 3e-3, LEARNING_RATES),
    "photo": urlstate.Choice(key("pretrained_picture"), "Chelsea the cat", PICTURES),
    "cam": urlstate.Choice(key("cam_layer"), efficientnet.LAYER_NAMES[-1], efficientnet.LAYER_NAMES),
    "maps": urlstate.Choice(key("map_layer"), "block 2", efficientnet.LAYER_NAMES),
}
PRESETS = {
    "Stride 2 and padding": {"stride": 2, "pad": 1},
    "Edge detectors on coins": {"pic": "Coins (grayscale)", "kernel": "Sobel x (vertical edges)", "pool": 4},
    "Weight sharing in full HD": {"h": 1080, "w": 1920, "ch": 3, "filters": 64, "k": 3},
}


def heatmap_grid(images: list[np.ndarray], titles: list[str], columns: int, title: str,
                 kinds: str | list[str] = "image", height: int | None = None) -> go.Figure:
    """Small multiples of 2-D arrays, image-style (row 0 at the top), each with its own colour range;
    `kinds`: the charts kind of every panel, or one per panel."""
    rows = -(-len(images) // columns)
    fig = make_subplots(rows, columns, subplot_titles=titles, horizontal_spacing=0.02, vertical_spacing=0.08)
    for i, (image, kind) in enumerate(zip(images, [kinds] * len(images) if isinstance(kinds, str) else kinds)):
        fig.add_trace(charts.heatmap_trace(image, kind=kind, showscale=False,
                                           hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra></extra>"),
                      i // columns + 1, i % columns + 1)
    # pixel grids: no axes to read (the subplot titles say what each shows; hovering gives row and column)
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(autorange="reversed", visible=False, constrain="domain")
    fig.for_each_yaxis(lambda axis: axis.update(scaleanchor=axis.anchor))  # square pixels in every panel
    fig.update_layout(title=title, height=height or 60 + 170 * rows, margin=dict(l=10, r=10, t=70, b=10))
    return fig


# --- 1. convolution by hand ---------------------------------------------------------------

def number_grid(values: np.ndarray, label: str, name: str) -> np.ndarray | None:
    columns = [f"col {j}" for j in range(values.shape[1])]
    edited = st.data_editor(pd.DataFrame(values, columns=columns), key=key(name), width="content")
    grid = edited.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isnan(grid).any():
        st.error(f"Every cell of the {label} needs a number.")
        return None
    return grid


def animation_figure(image: np.ndarray, kernel: np.ndarray, padding: int,
                     steps: list[cnn.WindowStep], out_shape: tuple[int, int]) -> go.Figure:
    """Padded input with the window outlined, the kernel, and the output filling in, one frame per cell."""
    padded = np.pad(image, padding)
    fig = make_subplots(1, 3, subplot_titles=["Input (padding in grey)", "Kernel", "Output"],
                        column_widths=[0.45, 0.25, 0.3], horizontal_spacing=0.06)
    is_pad = np.pad(np.zeros_like(image), padding, constant_values=1)
    text = np.where(is_pad == 1, "0", np.vectorize(cnn.format_number)(padded))
    numbers = dict(showscale=False, hoverinfo="skip", textfont=dict(size=16))
    fig.add_trace(charts.heatmap_trace(np.where(is_pad == 1, np.nan, padded), cell_text=text, **numbers), 1, 1)
    fig.add_trace(charts.heatmap_trace(kernel, kind="diverging", cell_text=np.vectorize(cnn.format_number)(kernel),
                                       **numbers), 1, 2)
    output_range = charts.colour_range([s.value for s in steps], "diverging")  # the same in every frame

    def output_trace(done: int) -> dict:
        z, text = np.full(out_shape, np.nan), np.full(out_shape, "", dtype=object)
        for s in steps[:done]:
            z[s.row, s.col], text[s.row, s.col] = s.value, cnn.format_number(s.value)
        return charts.heatmap_trace(z, kind="diverging", zrange=output_range, cell_text=text, **numbers)

    def window(step: cnn.WindowStep) -> list[dict]:
        cells = [dict(type="rect", xref="x", yref="y", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5,
                      line=dict(color="#e66100", width=3)) for r in step.rows for c in step.cols]
        target = dict(type="rect", xref="x3", yref="y3", x0=step.col - 0.5, x1=step.col + 0.5,
                      y0=step.row - 0.5, y1=step.row + 0.5, line=dict(color="#e66100", width=3))
        return cells + [target]

    fig.add_trace(output_trace(1), 1, 3)
    fig.frames = [go.Frame(name=str(i), data=[output_trace(i)], traces=[2],
                           layout=dict(shapes=window(s), title_text=f"Cell ({s.row}, {s.col}): {s.arithmetic}"))
                  for i, s in enumerate(steps, start=1)]
    fig.update_layout(shapes=window(steps[0]), title_text=f"Cell (0, 0): {steps[0].arithmetic}", height=470,
                      margin=dict(l=10, r=10, t=60, b=130), plot_bgcolor="#d9d9d9",
                      updatemenus=[dict(type="buttons", direction="left", x=0, y=-0.3, xanchor="left", yanchor="top",
                                        showactive=False, buttons=[
                          dict(label="▶ Play", method="animate",
                               args=[None, dict(frame=dict(duration=900, redraw=True), fromcurrent=True)]),
                          dict(label="Pause", method="animate",
                               args=[[None], dict(mode="immediate", frame=dict(duration=0))])])],
                      sliders=[dict(x=0.22, y=-0.22, len=0.78, yanchor="top", currentvalue=dict(prefix="Window "),
                                    steps=[dict(label=f.name, method="animate",
                                                args=[[f.name], dict(mode="immediate", frame=dict(redraw=True))])
                                           for f in fig.frames])])
    fig.update_yaxes(autorange="reversed", dtick=1, showgrid=False)
    fig.update_xaxes(title_text="column", dtick=1, showgrid=False)
    fig.update_yaxes(title_text="row")
    return fig


def arithmetic_table(steps: list[cnn.WindowStep]) -> pd.DataFrame:
    """One row per output cell: the rows and columns its window reads (numbered as in
    the figure, padding included) and its sum of products."""
    return pd.DataFrame({"output cell": [f"({s.row}, {s.col})" for s in steps],
                         "input rows": [", ".join(map(str, s.rows)) for s in steps],
                         "input columns": [", ".join(map(str, s.cols)) for s in steps],
                         "input × kernel, summed": [s.arithmetic for s in steps]})


@common.fragment
def convolution_by_hand() -> None:
    cols = st.columns(3)
    stride = cols[0].slider("Stride", 1, 3, key=key("stride"), help="How far the window moves each step.")
    padding = cols[1].slider("Padding", 0, 2, key=key("padding"), help="Rings of zeros added around the input.")
    dilation = cols[2].slider("Dilation", 1, 2, key=key("dilation"), help="Gaps between the kernel's taps.")
    with st.expander("Change the numbers", icon=":material/edit:"):
        left, right = st.columns([5, 3])
        with left:
            st.caption("Input (5×5)")
            image = number_grid(cnn.EXAMPLE_INPUT, "input", "input_grid")
        with right:
            st.caption("Kernel (3×3)")
            kernel = number_grid(cnn.EXAMPLE_KERNEL, "kernel", "kernel_grid")
    if image is None or kernel is None:
        return
    try:
        steps = cnn.window_steps(image, kernel, stride, padding, dilation)
    except ValueError as err:
        st.error(str(err))
        return
    size = cnn.output_size(image.shape[0], kernel.shape[0], stride, padding, dilation)
    st.plotly_chart(animation_figure(image, kernel, padding, steps, (size, size)), width="stretch",
                    key=key("animation"))
    st.latex(rf"\text{{output}} = \left\lfloor \frac{{n + 2p - d(k-1) - 1}}{{s}} \right\rfloor + 1"
             rf"= \left\lfloor \frac{{{image.shape[0]} + 2\cdot{padding} - {dilation}\cdot({kernel.shape[0]}-1) - 1}}"
             rf"{{{stride}}} \right\rfloor + 1 = {size}")
    result = cnn.conv2d(image, kernel, stride, padding, dilation)
    st.table(pd.DataFrame(result.astype(int) if np.all(result == np.round(result)) else result.round(3)))
    with st.expander(f"The arithmetic of all {len(steps)} output cells", icon=":material/calculate:"):
        st.caption("Rows and columns are numbered as in the figure" + (", padding included." if padding else "."))
        st.dataframe(arithmetic_table(steps), hide_index=True, key=key("arithmetic"))
    reference = cnn.torch_conv2d(image, kernel, stride, padding, dilation)
    if reference.shape == result.shape and np.allclose(reference, result):
        st.success(f"`torch.nn.functional.conv2d` gives the same {size}×{size} result.",
                   icon=":material/check_circle:")
    else:
        st.error("torch.nn.functional.conv2d disagrees with the hand computation.")


def one_thread():
    """Small CPU work runs on one thread per student: with several students (or
    engineers) on two cores, OpenMP threads waiting for each other made every
    forward pass 10-20× slower than one thread (measured under load)."""
    return device_policy.cpu_threads(common.device())


# --- images (sections 2 and 5) -------------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def sample_image(name: str):
    """Decoded once for everyone; never modified (lib functions copy before changing)."""
    return cnn.sample_image(name)


def image_picker(section: str) -> object | None:
    """A bundled picture or an upload; bad uploads give a message and None."""
    choice = st.selectbox("Picture", PICTURES, key=key(f"{section}_picture"))
    if choice != UPLOAD:
        return sample_image(choice)
    upload = st.file_uploader("An image file (PNG, JPEG, GIF, BMP, TIFF, WebP…)", key=key(f"{section}_upload"))
    if upload is None:
        st.info("Choose a file to upload, or pick one of the bundled pictures.")
        return None
    try:
        image, notes = cnn.read_image(upload.getvalue())
    except ValueError as err:
        st.error(str(err))
        return None
    for note in notes:
        st.info(note, icon=":material/info:")
    return image


# --- 2. kernels on real images ------------------------------------------------------------------

@common.fragment
def kernel_playground() -> None:
    left, right = st.columns([1, 2])
    with left:
        image = image_picker("kernels")
        preset = st.selectbox("Kernel", list(cnn.PRESET_KERNELS), key=key("preset"))
        st.caption("Edit any weight to design your own kernel.")
        kernel = number_grid(np.array(cnn.PRESET_KERNELS[preset]), "kernel", f"kernel_{preset}")
        pooling = st.select_slider("Pooling window", POOL_SIZES, key=key("pool_size"))
    if image is None or kernel is None:
        return
    gray = cnn.to_grayscale(image)
    feature_map = cnn.conv2d(gray, kernel, padding=1)
    rectified = cnn.relu(feature_map)
    right.plotly_chart(heatmap_grid([gray, feature_map, rectified],
                                    [f"Input {gray.shape[1]}×{gray.shape[0]}", "Feature map", "ReLU(feature map)"],
                                    3, "Convolution, then ReLU", ["image", "diverging", "sequential"]),
                       width="stretch", key=key("feature_maps"))
    if min(rectified.shape) < pooling:
        right.warning(f"The image is {gray.shape[1]}×{gray.shape[0]} pixels, smaller than the {pooling}×{pooling} "
                      "pooling window: there is nothing to pool. Pick a smaller window or a bigger picture.")
        return
    pooled = [cnn.pool(rectified, pooling, mode) for mode in ("max", "avg")]
    titles = [f"Max-pool {pooling}×{pooling}: {pooled[0].shape[1]}×{pooled[0].shape[0]}",
              f"Average-pool {pooling}×{pooling}: {pooled[1].shape[1]}×{pooled[1].shape[0]}"]
    right.plotly_chart(heatmap_grid(pooled, titles, 2, "Pooling shrinks the map and keeps the strong responses",
                                    "sequential"), width="stretch", key=key("pooled"))


def first_screen() -> None:
    """The lesson's opening picture: a 3×3 kernel slid over a real photo, and what it finds."""
    st.markdown("**A 3×3 kernel slides over every pixel of the picture**; the feature map is high where the "
                "picture looks like the kernel. Pick another kernel or picture, or edit a weight.")
    kernel_playground()


# --- 3. weight sharing ---------------------------------------------------------------------------

@common.fragment
def parameter_sharing() -> None:
    cols = st.columns(5)
    height = cols[0].number_input("Image height", 1, 4096, key=key("height"))
    width = cols[1].number_input("Image width", 1, 4096, key=key("width"))
    channels = cols[2].number_input("Input channels", 1, 512, key=key("channels"))
    filters = cols[3].number_input("Filters", 1, 1024, key=key("filters"))
    size = cols[4].select_slider("Kernel size", KERNEL_SIZES, key=key("kernel_size"))
    conv = cnn.conv_parameters(channels, filters, size)
    dense = cnn.dense_parameters(height, width, channels, filters)
    metrics = st.columns(3)
    metrics[0].metric("Convolutional layer", f"{conv:,}", help=f"{filters} × ({channels}·{size}·{size} + 1)")
    metrics[1].metric("Fully connected layer, same output", f"{dense:,}",
                      help=f"{height}·{width}·{filters} outputs × ({height}·{width}·{channels} inputs + 1)")
    metrics[2].metric("Ratio", f"{dense / conv:,.0f}×")
    fig = go.Figure(go.Bar(x=["convolution", "fully connected"], y=[conv, dense], marker_color=["#1b9e77", "#7570b3"],
                           text=[f"{conv:,}", f"{dense:,}"]))
    fig.update_layout(title="Parameters to produce the same output (log scale)", yaxis_type="log",
                      yaxis_title="parameters", xaxis_title="layer", height=320)
    st.plotly_chart(fig, width="stretch", key=key("parameters_chart"))
    memory = dense * 4 / 2**30
    st.caption(f"In float32 the fully connected layer would need {memory:,.1f} GiB of weights; "
               f"the convolution needs {conv * 4 / 1024:,.1f} KiB.")
    common.show_code(sharing_code(height, width, channels, filters, size))


def sharing_code(height: int, width: int, channels: int, filters: int, size: int) -> str:
    """Torch code that counts both layers' parameters; the dense layer is built on the meta
    device (shapes only), as its weights may not fit in memory."""
    return f"""
import torch
# {filters} filters × ({channels}·{size}·{size} weights + 1 bias)
conv = torch.nn.Conv2d({channels}, {filters}, kernel_size={size}, padding={size // 2})
with torch.device("meta"):  # shapes only, no memory: the same outputs, each from every input value
    dense = torch.nn.Linear({height} * {width} * {channels}, {height} * {width} * {filters})
print([sum(p.numel() for p in layer.parameters()) for layer in (conv, dense)])
"""


# --- 4. train a CNN live -------------------------------------------------------------------------

@st.cache_resource(show_spinner="Loading the data set…")
def dataset(name: str) -> cnn.Dataset:
    """Shared read-only by every student."""
    return cnn.load_digits() if name == "digits" else cnn.load_fashion_mnist()


def digits_facts() -> dict:
    """The size of the digits set, counted from the data, for the lesson text."""
    digits = dataset("digits")
    return dict(digits=f"{len(digits.x_train) + len(digits.x_test):,}", side=digits.x_train.shape[-1])


def training_code() -> str:
    """The page's default CNN and its training loop in plain torch, written out from the defaults."""
    layers, filters, epochs, lr = (SHARED[name].default for name in ("layers", "first", "epochs", "lr"))
    digits = dataset(SHARED["data"].default)
    channels = [1] + [filters * 2 ** i for i in range(layers)]
    sides = [digits.x_train.shape[-1] // 2 ** i for i in range(layers + 1)]
    blocks = [f"nn.Conv2d({c_in}, {c_out}, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # {s}×{s} → {t}×{t}"
              for c_in, c_out, s, t in zip(channels, channels[1:], sides, sides[1:])]
    head = f"nn.Flatten(), nn.Linear({channels[-1]} * {sides[-1]} * {sides[-1]}, {len(digits.classes)}))"
    model = ("\n" + " " * len("model = nn.Sequential(")).join(blocks + [head])
    return f"""
from torch import nn
model = nn.Sequential({model}
optimizer = torch.optim.Adam(model.parameters(), lr={lr:g})
for epoch in range({epochs}):
    for x, y in batches:                       # x: ({cnn.BATCH_SIZE}, 1, {sides[0]}, {sides[0]})
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(); loss.backward(); optimizer.step()
"""


def dataset_names() -> dict[str, str]:
    """The data sets this machine has: Fashion-MNIST only where Debian's package is installed."""
    names = {"digits": "Digits (8×8, sklearn)"}
    if cnn.fashion_mnist_available():
        names["fashion"] = f"Fashion-MNIST (28×28, first {cnn.FASHION_TRAIN_SIZE:,} training images)"
    return names


def training_settings() -> dict:
    names = dataset_names()
    cols = st.columns(4)
    name = cols[0].radio("Data set", list(names), format_func=names.get, key=key("dataset"))
    if len(names) == 1:
        cols[0].caption("Fashion-MNIST appears here when Debian's `dataset-fashion-mnist` is installed.")
    layers = cols[1].slider("Conv layers", 1, 3, key=key("layers"), help="Each: 3×3 conv → ReLU → 2×2 max-pool.")
    filters = cols[1].select_slider("Filters in the first layer", FIRST_FILTERS, key=key("first_filters"),
                                    help="Each further layer doubles them.")
    epochs = cols[2].slider("Epochs", 1, 30, key=key(f"epochs_{name}"))
    learning_rate = common.shared_value(SHARED["lr"])
    if not common.classroom():
        learning_rate = cols[3].select_slider("Learning rate", LEARNING_RATES, key=key("learning_rate"))
    return dict(name=name, layers=layers, filters=filters, epochs=epochs, learning_rate=learning_rate)


def curve_figure(history: list[cnn.EpochResult], epochs: int) -> go.Figure:
    fig = make_subplots(1, 2, subplot_titles=["Training loss", "Accuracy"])
    x = [r.epoch for r in history]
    fig.add_trace(go.Scatter(x=x, y=[r.loss for r in history], name="loss", mode="lines+markers",
                             line_color="#0072b2"), 1, 1)
    fig.add_trace(go.Scatter(x=x, y=[r.train_accuracy for r in history], name="train accuracy",
                             mode="lines+markers", line_color="#e69f00"), 1, 2)
    fig.add_trace(go.Scatter(x=x, y=[r.test_accuracy for r in history], name="test accuracy",
                             mode="lines+markers", line_color="#009e73"), 1, 2)
    fig.update_xaxes(title_text="epoch", range=[0.5, epochs + 0.5])
    fig.update_yaxes(title_text="cross-entropy", col=1)
    fig.update_yaxes(title_text="accuracy", range=[0, 1.02], col=2)
    fig.update_layout(title="Learning curves", height=330, margin=dict(t=70))
    return fig


@common.fragment
def train_cnn() -> None:
    settings = training_settings()
    data = dataset(settings["name"])
    try:
        model = cnn.build_model(data.x_train.shape[-1], len(data.classes), settings["layers"], settings["filters"])
    except ValueError as err:
        st.error(str(err))
        return
    st.caption(f"{sum(p.numel() for p in model.parameters()):,} parameters · {len(data.x_train):,} training and "
               f"{len(data.x_test):,} test images · device {common.device().upper()}")
    if st.button("Train", type="primary", icon=":material/play_arrow:", key=key("train")):
        history: list[cnn.EpochResult] = []
        st.session_state[key("run")] = dict(settings=settings, model=model, history=history)
        slot = st.empty()

        def on_step(_: int, result: cnn.EpochResult) -> None:
            history.append(result)
            slot.plotly_chart(curve_figure(history, settings["epochs"]), width="stretch", key=key(f"live_{len(history)}"))

        steps = cnn.train(model, data, settings["epochs"], settings["learning_rate"], device=common.device())
        common.live_run(steps, settings["epochs"], "Training the CNN", on_step)
        slot.empty()
    run = st.session_state.get(key("run"))
    if run and run["history"]:
        show_training_results(run, dataset(run["settings"]["name"]))


def show_training_results(run: dict, data: cnn.Dataset) -> None:
    history, model = run["history"], run["model"].cpu()
    st.plotly_chart(curve_figure(history, run["settings"]["epochs"]), width="stretch", key=key("curves"))
    last = history[-1]
    cols = st.columns(3)
    cols[0].metric("Test accuracy", f"{last.test_accuracy:.1%}")
    cols[1].metric("Epochs trained", f"{last.epoch} of {run['settings']['epochs']}")
    cols[2].metric("Training time", f"{last.seconds:.1f} s")
    with one_thread():
        predicted = cnn.predict(model, data.x_test)
    counts = cnn.confusion_matrix(data.y_test, predicted, len(data.classes))
    fig = charts.heatmap(counts, data.classes, data.classes, title="Confusion matrix (test set)",
                         x_title="predicted", y_title="true", height=480, cell_text="d", colorbar_title="images",
                         hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>")
    st.plotly_chart(fig, width="stretch", key=key("confusion"))
    wrong = (predicted != data.y_test).nonzero().flatten()[:12].tolist()
    if wrong:
        st.plotly_chart(heatmap_grid([data.x_test[i, 0].numpy() for i in wrong],
                                     [f"{data.classes[data.y_test[i]]} → {data.classes[predicted[i]]}" for i in wrong],
                                     6, f"Misclassified test images (true → predicted), {len(wrong)} shown"),
                        width="stretch", key=key("wrong"))
    filters = model.convs[0].weight.detach()[:, 0].numpy()  # (filters, 3, 3)
    st.plotly_chart(heatmap_grid(list(filters), [f"filter {i}" for i in range(len(filters))], 8,
                                 "Learned first-layer filters (blue negative, red positive)", "diverging"),
                    width="stretch", key=key("learned_filters"))
    index = st.number_input("Test image to look inside", 0, len(data.x_test) - 1, 0, key=key("probe"))
    with one_thread():
        maps = cnn.activations(model, data.x_test[index:index + 1])
    st.caption(f"True class **{data.classes[data.y_test[index]]}**, predicted **{data.classes[predicted[index]]}**.")
    images = [data.x_test[index, 0].numpy()] + [layer[c] for layer in maps for c in range(min(8, len(layer)))]
    titles = ["input"] + [f"layer {l + 1}, map {c}" for l, layer in enumerate(maps) for c in range(min(8, len(layer)))]
    st.plotly_chart(heatmap_grid(images, titles, 9, "Feature maps after ReLU (first 8 of each layer)",
                                 ["image"] + ["sequential"] * (len(images) - 1)),
                    width="stretch", key=key("probe_maps"))


# --- 5. a real pretrained CNN --------------------------------------------------------------------

def overlay_figure(picture: np.ndarray, heat: np.ndarray, title: str, top: float = 1.0) -> go.Figure:
    """The picture with a heatmap in [0, 1] over it; values from `top` up get the brightest colour."""
    fig = go.Figure(go.Image(z=picture, hoverinfo="skip"))
    fig.add_trace(charts.heatmap_trace(heat, kind="overlay", zrange=(0, top or 1.0), colorbar_title="importance",
                                       colorbar=dict(thickness=12),
                                       hovertemplate="row %{y}, col %{x}: %{z:.2f}<extra></extra>"))
    title = charts.wrapped(title, charts.LINE_CHARS["half"])  # the Grad-CAM and saliency pictures share a row
    extra = charts.extra_title_px(title)
    fig.update_layout(title=title, height=420 + extra, margin=dict(l=10, r=10, t=50 + extra, b=10),
                      xaxis=dict(showticklabels=False, title="pixel column"),
                      yaxis=dict(showticklabels=False, title="pixel row", autorange="reversed", scaleanchor="x"))
    return fig


@common.fragment
def pretrained_cnn() -> None:
    image = image_picker("pretrained")
    if image is None:
        return
    model, lock = common.efficientnet(common.device())
    labels = efficientnet.imagenet_labels()
    picture = np.asarray(efficientnet.center_crop(image))  # (224, 224, 3)
    x = efficientnet.preprocess(image).to(common.device())
    with lock, one_thread(), st.spinner("Classifying…"):
        top5 = efficientnet.classify(model, image)
    st.caption(f"{sum(p.numel() for p in model.parameters()):,} parameters in {len(efficientnet.LAYER_NAMES)} "
               f"layers · device {common.device().upper()}")
    if efficientnet.is_grayscale(image):
        st.info("This picture is grayscale. The network was trained on colour photos, so its one channel is "
                "copied into red, green and blue: expect less confident guesses.", icon=":material/info:")
    left, right = st.columns([2, 3])
    left.image(picture, caption="What the network sees: 224×224 centre crop", width="stretch")
    fig = go.Figure(go.Bar(x=[p for _, p in top5][::-1], y=[n for n, _ in top5][::-1], orientation="h",
                           marker_color="#0072b2", text=[f"{p:.1%}" for _, p in top5][::-1]))
    fig.update_layout(title="Top-5 ImageNet classes", xaxis_title="probability", yaxis_title="class",
                      xaxis_range=[0, 1], height=330)
    right.plotly_chart(fig, width="stretch", key=key("top5"))

    st.subheader("Why that answer?")
    cols = st.columns(2)
    target = cols[0].selectbox("Explain the class", [n for n, _ in top5], key=key("explain_class"))
    layer_names = efficientnet.LAYER_NAMES
    layer = cols[1].select_slider("Grad-CAM layer", layer_names, key=key("cam_layer"),
                                  help="Late layers: coarse but about objects. Early layers: sharp but about edges.")
    with lock, one_thread(), st.spinner("Computing Grad-CAM and saliency…"):
        cam, saliency = efficientnet.explain(model, x, labels.index(target), layer_names.index(layer))
    top = float(np.quantile(saliency, 0.99))  # a few pixels dominate the raw gradient: clip for the eye
    cam_figure, saliency_figure = charts.side_by_side([
        overlay_figure(picture, cam, f"Grad-CAM at {layer}: where '{target}' is found"),
        overlay_figure(picture, saliency, f"Saliency: pixels that move '{target}' most", top)])
    left, right = st.columns(2)
    left.plotly_chart(cam_figure, width="stretch", key=key("gradcam"))
    right.plotly_chart(saliency_figure, width="stretch", key=key("saliency"))
    right.caption("Saliency's colours top out at its 99th percentile, so the brightest 1% of pixels share the "
                  "top colour; without that, a handful of pixels would hide the rest.")

    st.subheader("Feature maps inside the network")
    shown = st.select_slider("Layer", layer_names, key=key("map_layer"))
    with lock, one_thread():
        maps = efficientnet.layer_activation(model, x, layer_names.index(shown))  # (channels, h, w)
    st.plotly_chart(heatmap_grid(list(maps[:16]), [f"channel {c}" for c in range(min(16, len(maps)))], 8,
                                 f"{shown}: first 16 of {len(maps)} channels, {maps.shape[1]}×{maps.shape[2]} each",
                                 "sequential"), width="stretch", key=key("effnet_maps"))
