"""The parameters lesson in a real browser: the counts, the treemap and the builder draw."""
from conftest import screenshot

from lib import parameters


def test_parameters_page_draws_its_charts(page, app_url):
    page.goto(f"{app_url}/parameters", wait_until="domcontentloaded")
    page.get_by_text("Where the parameters are").first.wait_for(timeout=60_000)
    page.get_by_text(f"{parameters.count_known('bert-base-uncased').total:,}").first.wait_for(timeout=180_000)
    page.get_by_text("Build your own Transformer", exact=True).first.wait_for(timeout=180_000)
    page.locator(".js-plotly-plot .treemap").first.wait_for(timeout=60_000)
    page.get_by_text("How much memory?").first.scroll_into_view_if_needed()  # charts below the fold draw when seen
    page.locator(".js-plotly-plot").nth(4).wait_for(timeout=60_000)  # treemap, bar, timeline, sunburst, Adam
    page.wait_for_timeout(2000)
    screenshot(page, "parameters-memory")
    # the app scrolls inside its own container: a viewport as tall as the lesson shows all of it
    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": min(height, 16_000)})
    page.wait_for_timeout(3000)
    screenshot(page, "parameters")
    assert not [e for e in page.console_errors if "Failed to load resource" not in e]
