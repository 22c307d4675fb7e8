"""The CNN lesson in headless Chromium: the convolution animation plays in the
browser, and every section draws (screenshots in test-artifacts/)."""
import pytest
from conftest import ARTIFACTS
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SECTIONS = ["1. A convolution by hand", "2. Kernels on real images", "3. Local connectivity and weight sharing",
            "4. Train a CNN live", "5. Inside a real ImageNet network", "Why that answer?",
            "Feature maps inside the network"]


def test_cnn_lesson_draws_and_animates(page, app_url):
    page.goto(f"{app_url}/cnn", wait_until="domcontentloaded")
    page.get_by_text("Top-5 ImageNet classes").first.wait_for(timeout=180_000)
    page.get_by_text(SECTIONS[-1]).wait_for(timeout=120_000)
    animation = page.locator(".js-plotly-plot").filter(has_text="▶ Play").first  # the first chart is the kernel playground
    expect(animation).to_contain_text("Cell (0, 0): 3×0 + 3×1", timeout=60_000)  # drawn late on a busy machine
    animation.get_by_text("▶ Play").first.click()
    for _ in range(30):  # the window moves on (slowly on a busy machine)
        page.wait_for_timeout(500)
        if "Cell (0, 0)" not in animation.inner_text():
            break
    assert "Cell (0, 0)" not in animation.inner_text()
    animation.screenshot(path=str(ARTIFACTS / "cnn-animation.png"))
    for i, title in enumerate(SECTIONS, start=1):
        page.get_by_text(title, exact=True).scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / f"cnn-{i}.png"))
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Confusion matrix (test set)").first.wait_for(timeout=180_000)
    page.wait_for_timeout(2000)
    page.get_by_text("Learned first-layer filters").first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "cnn-trained.png"))
    assert not [e for e in page.console_errors if "plotly" in e.lower()]
