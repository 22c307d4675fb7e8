"""AppTest of the CNN lesson: real numbers on screen, live controls, bad images."""
import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from lib import cnn

TIMEOUT = 240


def figure(app, chart_key: str) -> dict:
    chart = next(c for c in app.get("plotly_chart") if c.proto.id and chart_key in c.proto.id)
    return json.loads(chart.proto.spec)


def array(value) -> np.ndarray:
    """A Plotly JSON array: a plain list, or numpy's bytes as {"dtype", "bdata", "shape"}."""
    if isinstance(value, dict):
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        return flat.reshape([int(n) for n in str(shape).split(",")]) if shape else flat
    return np.array(value, dtype=float)


def chart_keys(app) -> list[str]:
    return [c.proto.id for c in app.get("plotly_chart")]


def test_course_example_and_the_cat_on_screen(open_page):
    page = open_page("cnn", timeout=TIMEOUT)
    assert not page.exception, page.exception
    result = page.table[0].value.to_numpy()
    np.testing.assert_array_equal(result, [[12, 12, 17], [10, 17, 19], [9, 6, 14]])
    assert "same 3×3 result" in page.success[0].value
    animation = figure(page, "cnn_animation")
    assert len(animation["frames"]) == 9
    assert animation["frames"][-1]["layout"]["title"]["text"].endswith("= 14")
    assert "= 3" in page.latex[0].value
    top5 = figure(page, "cnn_top5")["data"][0]["y"][::-1]
    assert set(top5[:3]) == {"Egyptian cat", "tiger cat", "tabby"}
    maps = figure(page, "cnn_effnet_maps")
    assert len(maps["data"]) == 16


@pytest.mark.slow
def test_stride_padding_and_kernel_change_the_output(open_page):
    app = open_page("cnn", timeout=TIMEOUT)
    app.slider(key="cnn_stride").set_value(2)
    app.slider(key="cnn_padding").set_value(1).run()
    assert not app.exception
    expected = cnn.conv2d(cnn.EXAMPLE_INPUT, cnn.EXAMPLE_KERNEL, stride=2, padding=1)
    np.testing.assert_array_equal(app.table[0].value.to_numpy(), expected)
    assert expected.shape == (3, 3) and "= 3" in app.latex[0].value and "same 3×3" in app.success[0].value
    app.slider(key="cnn_stride").set_value(1)
    app.slider(key="cnn_padding").set_value(0)
    app.slider(key="cnn_dilation").set_value(2).run()
    np.testing.assert_array_equal(app.table[0].value.to_numpy(),
                                  cnn.conv2d(cnn.EXAMPLE_INPUT, cnn.EXAMPLE_KERNEL, dilation=2))

    before = array(figure(app, "cnn_feature_maps")["data"][1]["z"])
    app.selectbox(key="cnn_preset").set_value("Sobel y (horizontal edges)").run()
    after = array(figure(app, "cnn_feature_maps")["data"][1]["z"])
    assert before.shape == after.shape and not np.allclose(before, after)
    gray = array(figure(app, "cnn_feature_maps")["data"][0]["z"])
    expected = cnn.conv2d(gray, cnn.PRESET_KERNELS["Sobel y (horizontal edges)"], padding=1)
    np.testing.assert_allclose(after, expected, atol=1e-9)

    # the kernel is editable: a new centre weight changes the map; an empty cell is refused
    edits = {"edited_rows": {1: {"col 1": 9}}, "added_rows": [], "deleted_rows": []}
    app.session_state["cnn_kernel_Sobel y (horizontal edges)"] = edits
    app.run()
    custom = np.array(cnn.PRESET_KERNELS["Sobel y (horizontal edges)"], dtype=float)
    custom[1, 1] = 9
    np.testing.assert_allclose(array(figure(app, "cnn_feature_maps")["data"][1]["z"]),
                               cnn.conv2d(gray, custom, padding=1), atol=1e-9)
    edits["edited_rows"] = {0: {"col 2": None}}
    app.session_state["cnn_kernel_Sobel y (horizontal edges)"] = edits
    app.run()
    assert not app.exception and any("needs a number" in e.value for e in app.error)


@pytest.mark.slow
def test_training_runs_to_completion(open_page):
    app = open_page("cnn", timeout=TIMEOUT)
    app.slider(key="cnn_epochs_digits").set_value(2)
    app.button(key="cnn_train").click().run()
    assert not app.exception, app.exception
    history = app.session_state["cnn_run"]["history"]
    assert [r.epoch for r in history] == [1, 2]
    shown = next(m for m in app.metric if m.label == "Test accuracy").value
    assert shown == f"{history[-1].test_accuracy:.1%}" and history[-1].test_accuracy > 0.5
    confusion = array(figure(app, "cnn_confusion")["data"][0]["z"])
    assert confusion.sum() == 450
    assert len(figure(app, "cnn_learned_filters")["data"]) == 16
    probe = figure(app, "cnn_probe_maps")
    assert len(probe["data"]) == 1 + 8 + 8  # the input, then 8 maps from each of the 2 layers


def image_bytes(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def upload(app, data: bytes, name: str, mime: str):
    app.selectbox(key="cnn_pretrained_picture").set_value("Upload your own…").run()
    app.file_uploader(key="cnn_pretrained_upload").set_value((name, data, mime)).run()
    assert not app.exception, app.exception
    return app


@pytest.mark.slow
def test_bad_and_odd_uploads(open_page):
    app = open_page("cnn", timeout=TIMEOUT)
    upload(app, b"just some words", "notes.txt", "text/plain")
    assert any("not an image" in e.value for e in app.error)
    assert not any("cnn_top5" in k for k in chart_keys(app))

    upload(app, image_bytes(Image.new("RGB", (1, 1), (250, 0, 0)), "PNG"), "dot.png", "image/png")
    assert any("1×1" in i.value for i in app.info)
    assert len(figure(app, "cnn_top5")["data"][0]["y"]) == 5

    upload(app, image_bytes(Image.new("CMYK", (64, 48), (0, 200, 0, 0)), "JPEG"), "cmyk.jpg", "image/jpeg")
    assert any("CMYK" in i.value for i in app.info)

    upload(app, image_bytes(Image.new("LA", (5000, 40)), "PNG"), "wide.png", "image/png")
    assert any("downscaled" in i.value for i in app.info) and any("LA" in i.value for i in app.info)
    assert any("cnn_gradcam" in k for k in chart_keys(app))
