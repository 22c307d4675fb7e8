"""The CNN lesson's figure and table builders (lib/ui_cnn.py), without a running page."""
import numpy as np

from lib import cnn, ui_cnn


def test_every_image_panel_keeps_square_pixels():
    """Each panel's y axis is scaled to its own x axis, not the first panel's (which stretched the
    second pooling panel sideways)."""
    fig = ui_cnn.heatmap_grid([np.zeros((4, 4)), np.zeros((2, 2)), np.zeros((3, 5))], ["a", "b", "c"], 2, "t")
    anchors = []
    fig.for_each_yaxis(lambda axis: anchors.append((axis.anchor, axis.scaleanchor)))
    assert anchors[:3] == [("x", "x"), ("x2", "x2"), ("x3", "x3")]


def test_arithmetic_table_spells_out_every_cell_of_the_course_example():
    steps = cnn.window_steps(cnn.EXAMPLE_INPUT, cnn.EXAMPLE_KERNEL)
    table = ui_cnn.arithmetic_table(steps)
    assert len(table) == 9 and list(table["output cell"])[:2] == ["(0, 0)", "(0, 1)"]
    assert table["input × kernel, summed"][0] == "3×0 + 3×1 + 2×2 + 0×2 + 0×2 + 1×0 + 3×0 + 1×1 + 2×2 = 12"
    assert [int(a.rsplit("= ", 1)[1]) for a in table["input × kernel, summed"]] == [12, 12, 17, 10, 17, 19, 9, 6, 14]
    assert (table["input rows"][5], table["input columns"][5]) == ("1, 2, 3", "2, 3, 4")


def test_arithmetic_table_with_stride_padding_and_dilation():
    steps = cnn.window_steps(cnn.EXAMPLE_INPUT, cnn.EXAMPLE_KERNEL, stride=2, padding=1, dilation=2)
    table = ui_cnn.arithmetic_table(steps)
    expected = cnn.conv2d(cnn.EXAMPLE_INPUT, cnn.EXAMPLE_KERNEL, stride=2, padding=1, dilation=2)
    assert len(table) == expected.size == 4
    assert table["input rows"][3] == "2, 4, 6" and table["input columns"][1] == "2, 4, 6"
    sums = [float(a.rsplit("= ", 1)[1]) for a in table["input × kernel, summed"]]
    np.testing.assert_array_equal(sums, expected.ravel())


def test_animation_frames_show_each_cell_and_its_value():
    steps = cnn.window_steps(cnn.EXAMPLE_INPUT, cnn.EXAMPLE_KERNEL)
    fig = ui_cnn.animation_figure(cnn.EXAMPLE_INPUT.astype(float), cnn.EXAMPLE_KERNEL.astype(float), 0, steps, (3, 3))
    assert len(fig.frames) == 9
    last = fig.frames[-1].data[0]
    np.testing.assert_array_equal(np.array(last.z, dtype=float), [[12, 12, 17], [10, 17, 19], [9, 6, 14]])
    assert np.array(last.text)[2, 2] == "14" and np.array(fig.frames[0].data[0].text)[0, 1] == ""


def test_blur_kernel_weights_are_shown_rounded():
    kernel = np.array(cnn.PRESET_KERNELS["Blur (box)"])
    steps = cnn.window_steps(cnn.EXAMPLE_INPUT, kernel)
    fig = ui_cnn.animation_figure(cnn.EXAMPLE_INPUT.astype(float), kernel, 0, steps, (3, 3))
    assert set(np.array(fig.data[1].text).ravel()) == {"0.11"}


def test_saliency_overlay_clips_at_the_given_top_and_lets_low_values_through():
    heat = np.linspace(0, 1, 100).reshape(10, 10)
    fig = ui_cnn.overlay_figure(np.zeros((10, 10, 3), dtype=np.uint8), heat, "title", top=0.3)
    overlay = fig.data[1]
    assert (overlay.zmin, overlay.zmax) == (0, 0.3)
    assert overlay.colorscale[0][1].replace(" ", "").endswith(",0)")  # transparent where importance is 0
    assert ui_cnn.overlay_figure(np.zeros((10, 10, 3), dtype=np.uint8), heat, "t", top=0.0).data[1].zmax == 1


def test_the_pages_training_defaults_are_the_benchmarked_ones():
    """test_cnn::test_default_digits_cnn_reaches_95_percent and benchmarks/cnn.py train with lib.cnn's
    defaults: the page's controls must start from the same settings."""
    import inspect

    model_defaults = inspect.signature(cnn.SmallCNN).parameters
    train_defaults = inspect.signature(cnn.train).parameters
    shared = ui_cnn.SHARED
    assert shared["data"].default == "digits"
    assert shared["layers"].default == model_defaults["num_layers"].default
    assert shared["first"].default == model_defaults["filters"].default
    assert shared["epochs"].default == train_defaults["epochs"].default
    assert shared["lr"].default == train_defaults["learning_rate"].default
