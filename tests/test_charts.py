"""The heatmap helper (lessons/widgets/charts.py): its colour convention, what passes through,
cell text, and that no lesson builds a heatmap or picks a colour scale by itself."""
import ast
import tomllib
from pathlib import Path

import numpy as np
import plotly.colors
import plotly.graph_objects as go
import pytest

from lessons.widgets import charts

ROOT = Path(__file__).resolve().parent.parent
SIGNED = np.array([[-0.3, 5.0, 1.2], [0.0, -2.5, np.nan], [-np.inf, 0.7, 4.9]])  # lopsided, with gaps


def colours(scale) -> list[str]:
    return [colour for _, colour in scale]


def test_diverging_range_is_symmetric_around_zero_for_any_signed_data():
    rng = np.random.default_rng(0)
    for z in (SIGNED, rng.normal(3, 1, (5, 7)), -rng.exponential(2, (4, 4)), np.zeros((2, 2))):
        trace = charts.heatmap_trace(z, kind="diverging")
        finite = z[np.isfinite(z)]
        limit = float(np.abs(finite).max()) or 1.0
        assert (trace["zmin"], trace["zmax"]) == (-limit, limit)
        assert trace["colorscale"] == charts.DIVERGING
    assert charts.heatmap_trace(SIGNED, kind="diverging", zrange=(-1, 1))["zmax"] == 1
    with pytest.raises(ValueError, match="centred on 0"):
        charts.heatmap_trace(SIGNED, kind="diverging", zrange=(0, 1))


def test_diverging_scale_runs_blue_through_white_at_zero_to_red():
    middle = len(charts.DIVERGING) // 2
    assert charts.DIVERGING[middle][0] == 0.5  # the middle of a range (-a, a) is 0
    (low_r, _, low_b), white, (high_r, _, high_b) = (plotly.colors.unlabel_rgb(charts.DIVERGING[i][1])
                                                     for i in (0, middle, -1))
    assert low_b > low_r and min(white) > 240 and high_r > high_b


def test_sequential_uses_the_themes_viridis_and_the_given_or_data_range():
    theme = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]
    assert [c.lower() for c in colours(charts.SEQUENTIAL)] == theme["chartSequentialColors"]
    trace = charts.heatmap_trace(SIGNED)
    assert trace["colorscale"] == charts.SEQUENTIAL and (trace["zmin"], trace["zmax"]) == (-2.5, 5.0)
    probabilities = charts.heatmap_trace(np.array([[0.2, 0.3]]), zrange=(0, 1))
    assert (probabilities["zmin"], probabilities["zmax"]) == (0, 1)


def test_image_kind_is_grayscale_from_black_to_white():
    trace = charts.heatmap_trace(np.linspace(0, 1, 64).reshape(8, 8), kind="image")
    assert colours(trace["colorscale"]) == ["rgb(0,0,0)", "rgb(255,255,255)"]
    assert (trace["zmin"], trace["zmax"]) == (0, 1)


def test_overlay_is_the_sequential_scale_see_through_where_values_are_low():
    scale = charts.heatmap_trace(np.eye(3), kind="overlay")["colorscale"]
    opacities = [float(colour.rsplit(",", 1)[1][:-1]) for colour in colours(scale)]
    assert opacities[0] == 0 and opacities == sorted(opacities) and opacities[-1] < 1
    assert scale[0][1].startswith("rgba(68,1,84,") and scale[-1][1].startswith("rgba(253,231,37,")  # viridis' ends


def test_non_finite_cells_are_left_empty():
    z = charts.heatmap_trace(SIGNED)["z"]
    assert np.isnan(z[1, 2]) and np.isnan(z[2, 0]) and z[0, 1] == 5.0


def test_labels_shapes_and_titles_pass_through():
    z = np.arange(12.0).reshape(3, 4)
    x, y = list("abcd"), ["one", "two", "three"]
    fig = charts.heatmap(z, x, y, title="t", x_title="column", y_title="row", colorbar_title="count")
    (trace,) = fig.data
    assert list(trace.x) == x and list(trace.y) == y and np.shape(trace.z) == (3, 4)
    assert fig.layout.title.text == "t" and fig.layout.xaxis.title.text == "column"
    assert fig.layout.yaxis.title.text == "row" and fig.layout.yaxis.autorange == "reversed"  # rows top to bottom
    assert fig.layout.xaxis.type == fig.layout.yaxis.type == "category"
    assert trace.colorbar.title.text == "count" and trace.hovertemplate.startswith("row: %{y}<br>column: %{x}")
    assert fig.layout.height == max(260, 28 * 3 + 120)
    bare = charts.heatmap_trace(z, showscale=False)
    assert "x" not in bare and "y" not in bare and bare["showscale"] is False


def test_cell_text_formats_each_value():
    text = charts.heatmap_trace(SIGNED, cell_text=".2f")["text"]
    assert text[0, 0] == "-0.30" and text[2, 1] == "0.70"
    assert text[2, 0] == "masked" and text[1, 2] == ""  # -inf is a masked score, NaN no value
    counts = charts.heatmap_trace(np.array([[3, 12], [0, 7]]), cell_text="d")
    assert counts["text"].tolist() == [["3", "12"], ["0", "7"]] and counts["texttemplate"] == "%{text}"
    given = np.array([["a", "b"]], dtype=object)
    assert charts.heatmap_trace(np.ones((1, 2)), cell_text=given)["text"] is given
    assert "text" not in charts.heatmap_trace(np.ones((21, 20)), cell_text=".2f")  # over MAX_CELL_TEXT cells
    assert "text" not in charts.heatmap_trace(np.ones((2, 2)))


def test_every_kind_passes_plotly_validation():
    for kind in charts.SCALES:
        zrange = (-2, 2) if kind == "diverging" else None
        fig = charts.heatmap(SIGNED, list("abc"), list("xyz"), kind, zrange=zrange, title="t", x_title="x",
                             y_title="y", cell_text=".1f", colorbar_title="v", colorbar=dict(thickness=12))
        assert go.Figure(fig.to_dict()).data[0].type == "heatmap"  # validates every property
        go.Figure(go.Heatmap(charts.heatmap_trace(SIGNED, kind=kind, textfont=dict(size=16))))


def test_numbered_labels_keep_repeated_words_apart():
    assert charts.numbered(["the", "cat", "the"]) == ["1 the", "2 cat", "3 the"]


# --- no lesson draws a heatmap or picks a colour scale but through charts ------------------------

HEATMAP_BUILDERS = {"Heatmap", "imshow", "density_heatmap", "add_heatmap"}


def _sets_a_scale(name) -> bool:
    return isinstance(name, str) and (name.endswith("colorscale") or name.startswith("color_continuous_"))


def _is_charts_constant(value: ast.expr) -> bool:
    return isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id == "charts"


def hand_made_charts(source: str) -> list[str]:
    """Each place in `source` that builds a heatmap, or sets a colour scale to anything but a
    charts constant: 'line: what'."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        name = getattr(node, "attr", None) or getattr(node, "id", None) or getattr(node, "name", None)
        if isinstance(node, (ast.Attribute, ast.Name, ast.alias)) and name in HEATMAP_BUILDERS:
            problems.append(f"{getattr(node, 'lineno', '?')}: {name}")
        elif isinstance(node, ast.Constant) and node.value == "heatmap":
            problems.append(f"{node.lineno}: a trace of type 'heatmap'")
        settings = [(k.arg, k.value) for k in node.keywords] if isinstance(node, ast.Call) else \
            [(getattr(k, "value", None), v) for k, v in zip(node.keys, node.values)] if isinstance(node, ast.Dict) else []
        problems += [f"{value.lineno}: {setting}" for setting, value in settings
                     if _sets_a_scale(setting) and not _is_charts_constant(value)]
    return problems


def test_the_scan_finds_every_hand_made_heatmap_and_scale():
    source = """
import plotly.express as px
import plotly.graph_objects as go
from plotly.graph_objects import Heatmap
go.Heatmap(z=z)
px.imshow(z)
fig.add_heatmap(z=z)
dict(type="heatmap", z=z)
fig.add_contour(z=z, colorscale="RdBu_r")
px.bar(df, color_continuous_scale="viridis")
fig.update_layout(coloraxis={"colorscale": "Blues"}, coloraxis_colorscale="Greys")
"""
    assert len(hand_made_charts(source)) == 9
    allowed = "fig.add_contour(z=z, colorscale=charts.DIVERGING)\npx.bar(df, color_continuous_scale=charts.SEQUENTIAL)"
    assert hand_made_charts(allowed) == []


def test_no_lesson_builds_a_heatmap_or_sets_a_colour_scale_but_through_charts():
    helper = ROOT / "lessons" / "widgets" / "charts.py"
    found = {str(path.relative_to(ROOT)): problems for path in sorted((ROOT / "lessons").rglob("*.py"))
             if path != helper and (problems := hand_made_charts(path.read_text(encoding="utf-8")))}
    assert found == {}


def test_heatmap_height_grows_with_rows_up_to_a_cap():
    assert [charts.default_height(n) for n in (1, 10, 500)] == [260, 28 * 10 + 120, charts.MAX_HEIGHT]
    tall = charts.heatmap(np.zeros((128, 64)), title="t", x_title="x", y_title="y")  # 128 positions
    assert tall.layout.height == charts.MAX_HEIGHT


@pytest.mark.parametrize("chars", [charts.LINE_CHARS["third"], charts.LINE_CHARS["half"], charts.LINE_CHARS["full"]])
def test_long_titles_wrap_at_spaces_into_lines_that_fit(chars):
    text = "Grad-CAM at features.6: where 'German short-haired pointer' is found in the picture, layer by layer"
    lines = charts.wrapped(text, chars).split("<br>")
    assert all(len(line) <= chars for line in lines) and " ".join(lines) == text
    assert all(len(f"{line} {after.split()[0]}") > chars for line, after in zip(lines, lines[1:]))  # each line full
    assert charts.wrapped("short title", chars) == "short title"


def test_a_wrapped_heatmap_title_gets_the_room_of_its_lines():
    long = "all-MiniLM-L6-v2 (BERT encoder) reading \"Your cat is a lovely cat\": layer 1, head average over heads"
    fig = charts.heatmap(np.eye(3), title=long, x_title="key (looked at)", y_title="query (looking)")
    title = fig.layout.title.text
    assert title.count("<br>") == 1 and title.replace("<br>", " ") == long
    assert fig.layout.margin.t == 50 + charts.TITLE_LINE_PX and fig.layout.height == 260 + charts.TITLE_LINE_PX
    narrow = charts.heatmap(np.eye(3), title="Decoder masked self-attention", x_title="French key (read so far)",
                            y_title="French query", line_chars=charts.LINE_CHARS["third"])
    assert narrow.layout.title.text == "Decoder masked<br>self-attention"
    assert narrow.layout.xaxis.title.text == "French key (read so<br>far)"
    assert narrow.layout.margin.t == 50 + charts.TITLE_LINE_PX


def test_side_by_side_figures_share_the_tallest_top_margin():
    one_line = charts.heatmap(np.eye(2), title="Encoder self-attention", x_title="k", y_title="q",
                              line_chars=charts.LINE_CHARS["third"])
    two_lines = charts.heatmap(np.eye(2), title="Cross-attention (target × source)", x_title="k", y_title="q",
                               line_chars=charts.LINE_CHARS["third"])
    assert one_line.layout.margin.t < two_lines.layout.margin.t
    heights = [one_line.layout.height, two_lines.layout.height]
    aligned = charts.side_by_side([one_line, two_lines])
    assert [f.layout.margin.t for f in aligned] == [two_lines.layout.margin.t] * 2
    assert [f.layout.height for f in aligned] == [heights[1]] * 2  # both plots keep their size
