"""AppTest of the CNN lesson: real numbers on screen, live controls, bad images."""
import io
import json

import numpy as np
import pytest
from PIL import Image
from plotly_arrays import array

from lib import cnn, prose

TIMEOUT = 240


def figure(app, chart_key: str) -> dict:
    chart = next(c for c in app.get("plotly_chart") if c.proto.id and chart_key in c.proto.id)
    return json.loads(chart.proto.spec)


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
    arithmetic = next(d.value for d in page.dataframe if "input × kernel, summed" in d.value.columns)
    assert list(arithmetic["input × kernel, summed"].str.rsplit("= ", n=1).str[1].astype(int)) == \
        [12, 12, 17, 10, 17, 19, 9, 6, 14]
    intro = " ".join(m.value for m in page.markdown)
    for use in ("product image recognition", "visual quality control", "document processing",
                "retail behaviour analysis"):  # the syllabus's business uses
        assert use in intro
    top5 = figure(page, "cnn_top5")["data"][0]["y"][::-1]
    assert set(top5[:3]) == {"Egyptian cat", "tiger cat", "tabby"}
    maps = figure(page, "cnn_effnet_maps")
    assert len(maps["data"]) == 16
    from lessons.widgets import cnn

    codes = [c.value for c in page.code]
    assert cnn.sharing_code(224, 224, 3, 64, 3).strip() in codes  # the layers the metrics count
    assert cnn.training_code().strip() in codes
    assert prose.lesson_markdown("cnn", "training", **cnn.digits_facts()).strip() in [m.value.strip() for m in page.markdown]


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


@pytest.mark.slow
def test_classroom_training_keeps_the_linked_learning_rate_and_repeats_exactly(open_page):
    """In classroom mode the learning-rate slider is hidden but a link's rate still trains; the
    page's model starts from the same seeded weights as lib.cnn's, so the run can be repeated."""
    app = open_page("cnn", timeout=TIMEOUT, query={"lr": "0.01", "epochs": "2"})
    app.sidebar.toggle(key="classroom").set_value(True).run()
    assert not any(s.key == "cnn_learning_rate" for s in app.select_slider)
    app.button(key="cnn_train").click().run()
    assert not app.exception, app.exception
    run = app.session_state["cnn_run"]
    assert run["settings"]["learning_rate"] == 0.01
    again = list(cnn.train(cnn.build_model(8), cnn.load_digits(), epochs=2, learning_rate=0.01))
    assert [(r.loss, r.test_accuracy) for r in run["history"]] == [(r.loss, r.test_accuracy) for r in again]


def image_bytes(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def upload(app, section: str, data: bytes, name: str, mime: str):
    if app.selectbox(key=f"cnn_{section}_picture").value != "Upload your own…":
        app.selectbox(key=f"cnn_{section}_picture").set_value("Upload your own…").run()
    app.file_uploader(key=f"cnn_{section}_upload").set_value((name, data, mime)).run()
    assert not app.exception, app.exception
    return app


def drawn(app, section: str) -> bool:
    """The section's main output for an uploaded picture: the feature maps, or the top-5 classes."""
    return any(("cnn_feature_maps" if section == "kernels" else "cnn_top5") in k for k in chart_keys(app))


def infos(app) -> str:
    return " | ".join(i.value for i in app.info)


# Each bad input of the issue, uploaded to both sections that take pictures (sections 2 and 5).
UPLOADS = {
    "non-image": (b"<script>alert('x')</script>", "../../etc/passwd.png", "image/png"),  # the name is never used
    "1x1": (image_bytes(Image.new("RGB", (1, 1), (250, 0, 0)), "PNG"), "dot.png", "image/png"),
    "cmyk": (image_bytes(Image.new("CMYK", (64, 48), (0, 200, 0, 0)), "JPEG"), "cmyk.jpg", "image/jpeg"),
    "rgba": (image_bytes(Image.new("RGBA", (60, 40), (0, 0, 255, 128)), "PNG"), "rgba.png", "image/png"),
    "grayscale": (image_bytes(Image.fromarray(np.arange(48 * 64, dtype=np.uint8).reshape(48, 64)), "PNG"),
                  "gray.png", "image/png"),
    "huge": (image_bytes(Image.new("LA", (5000, 40)), "PNG"), "wide.png", "image/png"),
}


def check_upload(app, section: str, case: str) -> None:
    if case == "non-image":
        assert any("not an image" in e.value for e in app.error) and not drawn(app, section)
        return
    assert drawn(app, section), case
    notes = infos(app)
    expected = {"1x1": ["1×1"], "cmyk": ["CMYK", "converted to RGB"], "rgba": ["RGBA", "transparent parts"],
                "huge": ["5000×40", "downscaled to 4096×33", "LA"], "grayscale": []}[case]
    assert all(text in notes for text in expected), (case, notes)
    if section == "kernels":
        gray = array(figure(app, "cnn_feature_maps")["data"][0]["z"])
        side = {"1x1": (1, 1), "cmyk": (48, 64), "rgba": (40, 60), "grayscale": (48, 64), "huge": (2, 256)}[case]
        assert gray.shape == side
        if case == "1x1":  # the feature map is still shown; pooling explains why it has nothing to pool
            assert any("nothing to pool" in w.value for w in app.warning)
            assert not any("cnn_pooled" in k for k in chart_keys(app))
        if case == "grayscale":
            np.testing.assert_allclose(gray, np.arange(48 * 64).reshape(48, 64) % 256 / 255)
    else:
        assert len(figure(app, "cnn_top5")["data"][0]["y"]) == 5
        assert any("cnn_gradcam" in k for k in chart_keys(app))
        assert ("grayscale" in notes) == (case in ("grayscale", "huge")), (case, notes)


@pytest.mark.slow
@pytest.mark.parametrize("section", ["kernels", "pretrained"])
def test_bad_and_odd_uploads(open_page, section):
    """Non-image, 1×1, CMYK, RGBA, grayscale and huge uploads: a clear message or a note, never a traceback."""
    app = open_page("cnn", timeout=TIMEOUT)
    for case, (data, name, mime) in UPLOADS.items():
        upload(app, section, data, name, mime)
        check_upload(app, section, case)


def metrics(app) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def test_a_shared_link_restores_the_view(open_page):
    app = open_page("cnn", timeout=TIMEOUT)
    app.slider(key="cnn_stride").set_value(2)
    app.slider(key="cnn_padding").set_value(1)
    app.selectbox(key="cnn_preset").set_value("Sobel y (horizontal edges)")
    app.select_slider(key="cnn_pool_size").set_value(4)
    app.number_input(key="cnn_channels").set_value(16)
    app.number_input(key="cnn_filters").set_value(32)
    app.select_slider(key="cnn_map_layer").set_value("block 5").run()
    link = dict(app.query_params)
    assert link == {"stride": "2", "pad": "1", "kernel": "Sobel y (horizontal edges)", "pool": "4", "ch": "16",
                    "filters": "32", "maps": "block 5"}
    assert metrics(app)["Convolutional layer"] == "4,640"  # the course's 3×3, 16 in, 32 out: 32·(16·9 + 1)

    opened = open_page("cnn", timeout=TIMEOUT, query=link)
    assert not opened.exception and not opened.info
    assert (opened.slider(key="cnn_stride").value, opened.slider(key="cnn_padding").value) == (2, 1)
    assert opened.selectbox(key="cnn_preset").value == "Sobel y (horizontal edges)"
    assert opened.select_slider(key="cnn_pool_size").value == 4
    assert opened.select_slider(key="cnn_map_layer").value == "block 5"
    np.testing.assert_array_equal(opened.table[0].value.to_numpy(), app.table[0].value.to_numpy())
    assert metrics(opened) == metrics(app)
    for chart in ("cnn_feature_maps", "cnn_pooled", "cnn_effnet_maps"):
        assert figure(opened, chart) == figure(app, chart)
    assert dict(opened.query_params) == link


def test_bad_links_presets_checkpoint_and_labels(open_page):
    from accessibility import chart_problems, widget_label_problems

    from lib import checkpoints

    app = open_page("cnn", timeout=TIMEOUT, query={"seed": "abc", "stride": "999", "photo": "x" * 10_240})
    assert not app.exception
    notice = app.info[0].value
    assert "`seed` is not a setting" in notice and "outside 1–3" in notice and "too long" in notice
    assert dict(app.query_params) == {} and app.slider(key="cnn_stride").value == 1
    assert app.selectbox(key="cnn_pretrained_picture").value == "Chelsea the cat"
    np.testing.assert_array_equal(app.table[0].value.to_numpy(), [[12, 12, 17], [10, 17, 19], [9, 6, 14]])
    assert chart_problems(app) == [] and widget_label_problems(app) == []

    next(b for b in app.button if b.label == "Stride 2 and padding").click().run()
    assert dict(app.query_params) == {"stride": "2", "pad": "1"}
    np.testing.assert_array_equal(app.table[0].value.to_numpy(),
                                  cnn.conv2d(cnn.EXAMPLE_INPUT, cnn.EXAMPLE_KERNEL, stride=2, padding=1))

    first = checkpoints.questions("cnn", 1)[0]
    app.text_input(key="cnn_a1_1").input(str(first.answer))
    next(b for b in app.button if b.label == "Check").click().run()
    assert [s.value for s in app.success if s.value == "Correct."] == ["Correct."]
