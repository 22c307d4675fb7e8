"""The home page in a real browser: the system panel lists the bundled models."""
from conftest import screenshot


def test_home_page_shows_system_panel(page, app_url):
    page.goto(app_url, wait_until="domcontentloaded")
    page.get_by_text("This machine", exact=True).wait_for(timeout=90_000)
    page.get_by_text("all-MiniLM-L6-v2").first.wait_for(timeout=90_000)
    assert page.get_by_text("Your course path", exact=True).is_visible()
    screenshot(page, "home")
    # a sidebar toggle exists and classroom mode enlarges the text
    page.get_by_test_id("stSidebar").get_by_text("Classroom mode").first.click()
    page.wait_for_function("getComputedStyle(document.documentElement).fontSize === '20px'", timeout=15_000)
    screenshot(page, "home-classroom")
