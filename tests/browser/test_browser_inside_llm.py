"""Inside a language model and the tiny GPT's snapshots in headless Chromium: the first screen
shows the live logit-lens heatmap large, and each of the four views draws (screenshots in
test-artifacts/ to look at)."""
import pytest
from conftest import ARTIFACTS, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]
LONG = 300_000  # SmolLM2 on a shared 2-core machine


def heatmap_box(page) -> dict:
    plot = page.locator(".js-plotly-plot").first
    plot.wait_for(timeout=LONG)
    page.wait_for_timeout(1500)  # let Plotly finish its layout
    return plot.bounding_box()


def view(page, heading: str, name: str) -> None:
    """Scroll a section's heading to the top and keep what the student then sees."""
    page.get_by_text(heading, exact=True).first.evaluate("e => e.scrollIntoView()")
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_first_screen_lens_interventions_and_kv_cache(page, app_url):
    page.goto(f"{app_url}/inside_llm?budget=5&tokens=16", wait_until="domcontentloaded")
    box = heatmap_box(page)
    assert box["width"] >= 300 and 1000 - box["y"] >= 200, box  # large, and on the first screen
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "inside_llm-first-screen.png"))

    scan = page.get_by_role("button", name="Scan all 270 heads (zero ablation)")
    scan.scroll_into_view_if_needed()
    scan.click()
    page.get_by_text("stopped at the time limit").first.wait_for(timeout=LONG)
    view(page, "2 · Switch parts off", "inside_llm-interventions")
    page.get_by_text("Which heads matter for this prompt?", exact=True).first.evaluate("e => e.scrollIntoView()")
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "inside_llm-head-scan.png"))

    generate = page.get_by_role("button", name="Generate with and without the cache")
    generate.scroll_into_view_if_needed()
    generate.click()
    page.get_by_text("Both runs chose").first.wait_for(timeout=LONG)
    view(page, "3 · The KV cache", "inside_llm-kv-cache")
    screenshot(page, "inside_llm")


def test_the_tiny_gpt_snapshots_scrub_through_training(page, app_url):
    page.goto(f"{app_url}/tiny_gpt?layers=2&heads=2&width=64&context=32&steps=150&every=50",
              wait_until="domcontentloaded")
    train = page.get_by_role("button", name="Train from scratch")
    train.wait_for(timeout=LONG)
    train.click()
    page.get_by_text("4 · Watch it learn", exact=True).first.wait_for(timeout=LONG)
    view(page, "4 · Watch it learn", "tiny_gpt-watch-it-learn")
    page.get_by_text("Character embeddings, step 150").first.wait_for(timeout=60_000)
