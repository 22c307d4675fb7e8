"""The recurrent-networks lesson in headless Chromium: every section draws,
training can be stopped and keeps its partial result (screenshots in test-artifacts/)."""
import pytest
from conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SECTIONS = ["1. One cell, unrolled over time", "2. Backpropagation through time: vanishing and exploding gradients",
            "3. Inside an LSTM: the gates at work", "4. Train live", "5. Where RNNs went: attention"]


def test_rnn_lesson_draws_trains_and_stops(page, app_url):
    page.goto(f"{app_url}/rnn", wait_until="domcontentloaded")
    page.get_by_text(SECTIONS[-1], exact=True).wait_for(timeout=180_000)
    page.get_by_text("follows the depth with correlation").first.wait_for(timeout=180_000)
    page.wait_for_timeout(3000)  # let Plotly finish drawing
    for i, title in enumerate(SECTIONS[:3], start=1):
        page.get_by_text(title, exact=True).scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / f"rnn-{i}.png"))

    page.get_by_role("button", name="Train the character model").click()
    page.get_by_text("Character model: cross-entropy while training").first.wait_for(timeout=120_000)
    page.get_by_role("button", name="Stop").first.click()
    page.get_by_text("nats/char").first.wait_for(timeout=60_000)  # the summary of the partial run
    assert page.get_by_text("unigram baseline", exact=False).count() > 0
    page.get_by_text("nats/char").first.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "rnn-4-char-model.png"))

    page.get_by_role("button", name="Time one forward pass at 16…1024 tokens").click()
    page.get_by_text("One forward pass: LSTM (sequential)").first.wait_for(timeout=120_000)
    page.wait_for_timeout(1500)
    page.get_by_text(SECTIONS[-1], exact=True).scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "rnn-5-timing.png"))
    assert not [e for e in page.console_errors if "plotly" in e.lower()]
