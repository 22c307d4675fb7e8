"""The neural-network lesson in a real browser: train the default network and
see the boundary chart's title change once training is over."""
from conftest import screenshot


def test_train_default_network(page, app_url):
    page.goto(f"{app_url}/neural_networks", wait_until="domcontentloaded")
    page.get_by_text("Before training: a random network's guess").first.wait_for(timeout=60_000)
    screenshot(page, "neural_networks")
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("After 300 steps").first.wait_for(timeout=120_000)
    page.get_by_text("Show each hidden unit's boundary").click()
    page.get_by_text("What each unit of hidden layer 1 responds to").first.wait_for(timeout=30_000)
    screenshot(page, "neural_networks-trained")
    assert not page.console_errors, page.console_errors
