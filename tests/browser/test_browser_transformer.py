"""The Transformer lesson in headless Chromium: the first screen's block-walk figure is large and visible
before scrolling, and the three attention kinds of the toy translator draw side by side (screenshots in
test-artifacts/)."""
import pytest
from conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_first_screen_figure_and_three_attention_kinds_side_by_side(page, app_url):
    page.goto(f"{app_url}/transformer", wait_until="domcontentloaded")
    page.get_by_text("2. An encoder–decoder you can watch learn", exact=True).wait_for(timeout=240_000)
    charts = [page.locator(f".st-key-transformer_{name}_attention .stPlotlyChart") for name in ("encoder", "decoder", "cross")]
    charts[2].get_by_text("source)").wait_for(timeout=240_000)  # its title, "Cross-attention (target × source)", drawn
    page.wait_for_timeout(3000)  # let Plotly finish drawing
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "transformer-first-screen.png"))
    first = page.locator(".stPlotlyChart").first.bounding_box()
    assert first["width"] >= 300 and 1000 - first["y"] >= 200, first  # a large figure on the first screen

    charts[0].scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    boxes = [chart.bounding_box() for chart in charts]
    assert all(b and b["width"] >= 300 for b in boxes), boxes
    assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"] and abs(boxes[0]["y"] - boxes[2]["y"]) < 5  # one row
    top = min(b["y"] for b in boxes) - 60
    page.screenshot(path=str(ARTIFACTS / "transformer-three-attentions.png"),
                    clip={"x": 0, "y": max(top, 0), "width": 1400, "height": max(b["height"] for b in boxes) + 120})
    assert not [e for e in page.console_errors if "plotly" in e.lower()]
