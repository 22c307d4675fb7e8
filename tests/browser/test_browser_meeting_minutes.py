"""The meeting-minutes lesson in headless Chromium: a pasted transcript becomes
minutes with an action-item table and downloads."""
import json

import pytest
from conftest import screenshot

from lib.meeting_minutes import MEETING_DIR

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_pasted_transcript_to_minutes(page, app_url):
    turns = json.loads((MEETING_DIR / "script.json").read_text())["turns"]
    page.goto(f"{app_url}/meeting_minutes", wait_until="domcontentloaded")
    page.get_by_text("1. The meeting").first.wait_for(timeout=120_000)
    screenshot(page, "meeting_minutes-start")
    page.get_by_text("A transcript", exact=True).click()
    box = page.locator('textarea[aria-label*="Paste a transcript"]')
    box.fill("\n".join(f"{speaker}: {text}" for speaker, text in turns))
    box.press("Control+Enter")
    page.get_by_role("button", name="Use this transcript").click()
    page.get_by_role("button", name="Write the minutes").click()
    page.get_by_text("4. The minutes").first.wait_for(timeout=180_000)
    csv = page.get_by_text("Actions (.csv)")
    csv.wait_for(timeout=60_000)
    page.get_by_text("Action items", exact=True).first.scroll_into_view_if_needed()
    screenshot(page, "meeting_minutes-minutes")
    assert "Send the final list of projects" in page.locator('textarea[aria-label*="Minutes (Markdown"]').input_value()
    assert page.get_by_text("The pipeline, measured", exact=True).is_visible()
