"""The neural-network lesson in a real browser: train the default network and
see the boundary chart's title change once training is over."""
import pytest
from conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_train_default_network(page, app_url):
    page.goto(f"{app_url}/neural_networks", wait_until="domcontentloaded")
    page.get_by_text("Before training: a random network's guess").first.wait_for(timeout=150_000)
    screenshot(page, "neural_networks")
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("After 300 steps").first.wait_for(timeout=120_000)
    page.get_by_test_id("stCheckbox").filter(has_text="Show each hidden unit's boundary").click()  # the toggle, not the prose naming it
    page.get_by_text("What each unit of hidden layer 1 responds to").first.wait_for(timeout=30_000)
    screenshot(page, "neural_networks-trained")
    # "Failed to load resource" comes from Streamlit's own /<page>/_stcore probes and the
    # app's Material page icon (fetched from fonts.gstatic.com): not from this page
    script_errors = [e for e in page.console_errors if not e.startswith("Failed to load resource")]
    assert not script_errors, script_errors
