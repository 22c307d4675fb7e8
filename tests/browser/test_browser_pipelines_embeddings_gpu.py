"""The pipelines, embeddings and GPU lessons in headless Chromium: each draws
its charts offline with no error on the page."""
import pytest
from conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def open_lesson(page, app_url, key, ready_text):
    page.goto(f"{app_url}/{key}", wait_until="domcontentloaded")
    page.get_by_text(ready_text).first.wait_for(timeout=300_000)
    page.wait_for_timeout(3000)  # let the charts finish drawing
    assert page.locator('[data-testid="stException"]').count() == 0


def test_pipelines_fill_mask(page, app_url):
    open_lesson(page, app_url, "pipelines", "Why batching matters")
    page.locator('[data-testid="stMain"] [data-testid="stSelectbox"] input').first.click()
    page.keyboard.type("Fill the")
    page.keyboard.press("Enter")
    screenshot(page, "pipelines-task-chosen")
    page.get_by_role("button", name="Fill the mask").click(timeout=180_000)
    page.get_by_text("Best words for [MASK]").first.wait_for(timeout=300_000)
    page.get_by_text("Best words for [MASK]").first.scroll_into_view_if_needed()
    screenshot(page, "pipelines")


def test_embeddings_bank(page, app_url):
    open_lesson(page, app_url, "embeddings", "Semantic search")
    page.get_by_text("PCA of the 'bank' vectors").first.wait_for(timeout=120_000)
    page.get_by_text("PCA of the 'bank' vectors").first.scroll_into_view_if_needed()
    screenshot(page, "embeddings")


def test_gpu_cpu_half(page, app_url):
    open_lesson(page, app_url, "gpu", "Results measured on a GPU")
    page.get_by_role("button", name="Run the matmul benchmark").click()
    page.get_by_text("Matrix multiply throughput").first.wait_for(timeout=300_000)
    page.get_by_text("Matrix multiply throughput").first.scroll_into_view_if_needed()
    screenshot(page, "gpu")
