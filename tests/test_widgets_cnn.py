"""The CNN lesson's figure and table builders (lessons/widgets/cnn.py), without a running page."""
import numpy as np

from lessons.widgets import cnn as widgets
from lib import cnn, prose


def test_every_image_panel_keeps_square_pixels():
    """Each panel's y axis is scaled to its own x axis, not the first panel's (which stretched the
    second pooling panel sideways)."""
    fig = widgets.heatmap_grid([np.zeros((4, 4)), np.zeros((2, 2)), np.zeros((3, 5))], ["a", "b", "c"], 2, "t")
    anchors = []
    fig.for_each_yaxis(lambda axis: anchors.append((axis.anchor, axis.scaleanchor)))
    assert anchors[:3] == [("x", "x"), ("x2", "x2"), ("x3", "x3")]


def test_arithmetic_table_spells_out_every_cell_of_the_course_example():
    steps = cnn.window_steps(cnn.EXAMPLE_INPUT, cnn.EXAMPLE_KERNEL)
    table = widgets.arithmetic_table(steps)
    assert len(table) == 9 and list(table["output cell"])[:2] == ["(0, 0)", "(0, 1)"]
    assert table["input × kernel, summed"][0] == "3×0 + 3×1 + 2×2 + 0×2 + 0×2 + 1×0 + 3×0 + 1×1 + 2×2 = 12"
    assert [int(a.rsplit("= ", 1)[1]) for a in table["input × kernel, summed"]] == [12, 12, 17, 10, 17, 19, 9, 6, 14]
    assert (table["input rows"][5], table["input columns"][5]) == ("1, 2, 3", "2, 3, 4")


def test_arithmetic_table_with_stride_padding_and_dilation():
    steps = cnn.window_steps(cnn.EXAMPLE_INPUT, cnn.EXAMPLE_KERNEL, stride=2, padding=1, dilation=2)
    table = widgets.arithmetic_table(steps)
    expected = cnn.conv2d(cnn.EXAMPLE_INPUT, cnn.EXAMPLE_KERNEL, stride=2, padding=1, dilation=2)
    assert len(table) == expected.size == 4
    assert table["input rows"][3] == "2, 4, 6" and table["input columns"][1] == "2, 4, 6"
    sums = [float(a.rsplit("= ", 1)[1]) for a in table["input × kernel, summed"]]
    np.testing.assert_array_equal(sums, expected.ravel())


def test_animation_frames_show_each_cell_and_its_value():
    steps = cnn.window_steps(cnn.EXAMPLE_INPUT, cnn.EXAMPLE_KERNEL)
    fig = widgets.animation_figure(cnn.EXAMPLE_INPUT.astype(float), cnn.EXAMPLE_KERNEL.astype(float), 0, steps, (3, 3))
    assert len(fig.frames) == 9
    last = fig.frames[-1].data[0]
    np.testing.assert_array_equal(np.array(last.z, dtype=float), [[12, 12, 17], [10, 17, 19], [9, 6, 14]])
    assert np.array(last.text)[2, 2] == "14" and np.array(fig.frames[0].data[0].text)[0, 1] == ""


def test_blur_kernel_weights_are_shown_rounded():
    kernel = np.array(cnn.PRESET_KERNELS["Blur (box)"])
    steps = cnn.window_steps(cnn.EXAMPLE_INPUT, kernel)
    fig = widgets.animation_figure(cnn.EXAMPLE_INPUT.astype(float), kernel, 0, steps, (3, 3))
    assert set(np.array(fig.data[1].text).ravel()) == {"0.11"}


def test_saliency_overlay_clips_at_the_given_top_and_lets_low_values_through():
    heat = np.linspace(0, 1, 100).reshape(10, 10)
    fig = widgets.overlay_figure(np.zeros((10, 10, 3), dtype=np.uint8), heat, "title", top=0.3)
    overlay = fig.data[1]
    assert (overlay.zmin, overlay.zmax) == (0, 0.3)
    assert overlay.colorscale[0][1].replace(" ", "").endswith(",0)")  # transparent where importance is 0
    assert widgets.overlay_figure(np.zeros((10, 10, 3), dtype=np.uint8), heat, "t", top=0.0).data[1].zmax == 1


def test_the_pages_training_defaults_are_the_benchmarked_ones():
    """test_cnn::test_default_digits_cnn_reaches_95_percent and benchmarks/cnn.py train with lib.cnn's
    defaults: the page's controls must start from the same settings."""
    import inspect

    model_defaults = inspect.signature(cnn.SmallCNN).parameters
    train_defaults = inspect.signature(cnn.train).parameters
    shared = widgets.SHARED
    assert shared["data"].default == "digits"
    assert shared["layers"].default == model_defaults["num_layers"].default
    assert shared["first"].default == model_defaults["filters"].default
    assert shared["epochs"].default == train_defaults["epochs"].default
    assert shared["lr"].default == train_defaults["learning_rate"].default


def run_code(code: str) -> tuple[dict, str]:
    """Execute a "show me the code" block: (its variables, what it printed)."""
    import contextlib
    import io

    printed, namespace = io.StringIO(), {}
    with contextlib.redirect_stdout(printed):
        exec(code, namespace)
    return namespace, printed.getvalue()


def test_sharing_code_counts_what_the_page_shows_without_allocating_the_dense_layer():
    for height, width, channels, filters, size in [(224, 224, 3, 64, 3), (1080, 1920, 3, 64, 5)]:
        namespace, printed = run_code(widgets.sharing_code(height, width, channels, filters, size))
        assert namespace["dense"].weight.is_meta  # 483 billion (or 33 trillion) weights, none in memory
        assert printed.strip() == str([cnn.conv_parameters(channels, filters, size),
                                       cnn.dense_parameters(height, width, channels, filters)])


def test_training_code_and_text_are_written_from_the_defaults():
    import inspect

    train_defaults = inspect.signature(cnn.train).parameters
    code = widgets.training_code()
    assert f"lr={train_defaults['learning_rate'].default:g})" in code
    assert f"range({train_defaults['epochs'].default}):" in code and f"x: ({cnn.BATCH_SIZE}, 1, 8, 8)" in code
    namespace, _ = run_code(code.split("optimizer =")[0])  # the imports and the model
    assert [p.shape for p in namespace["model"].parameters()] == [p.shape for p in cnn.build_model(8).parameters()]
    digits = cnn.load_digits()
    text = prose.lesson_markdown("cnn", "training", **widgets.digits_facts())
    assert f"scikit-learn's {len(digits.x_train) + len(digits.x_test):,} hand-written 8×8 digits" in text
    assert "{" not in text
