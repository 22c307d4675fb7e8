"""The tokenizers lesson in a real browser: chips render as styled spans with
hover titles, student HTML stays text, and the tabs draw their charts."""
from conftest import screenshot


def open_lesson(page, app_url):
    page.goto(f"{app_url}/tokenizers", wait_until="domcontentloaded")
    page.get_by_text("Tokenizers: how text becomes numbers").first.wait_for(timeout=60_000)
    page.locator(".gb-chip").first.wait_for(timeout=90_000)


def test_tokenizers_chips_and_tabs(page, app_url):
    open_lesson(page, app_url)
    chip = page.locator(".gb-chip[title^='id ']").first
    assert chip.get_attribute("title").startswith("id ")
    assert page.locator(".gb-chips").count() >= 7
    page.locator(".gb-chips").nth(1).scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    screenshot(page, "tokenizers-compare")

    box = page.get_by_label("Your text")
    box.fill("<img src=x onerror=alert(1)> hi")
    box.press("Control+Enter")
    page.get_by_text("onerror", exact=False).first.wait_for(timeout=30_000)
    assert page.locator(".gb-chips img").count() == 0  # the tag is shown as text, never parsed

    page.get_by_role("tab", name="How the algorithms work").click()
    page.get_by_text("Merge 1:").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    screenshot(page, "tokenizers-algorithms")
    page.get_by_role("tab", name="Across languages").click()
    page.wait_for_timeout(2000)
    screenshot(page, "tokenizers-languages")
    assert not [e for e in page.console_errors if "tokeniz" in e.lower()]
