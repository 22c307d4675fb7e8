"""Two students in two browser contexts on one server: what one uploads never
reaches the other's page."""
import uuid

import pytest
from conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def open_transcript_upload(page, app_url):
    page.goto(f"{app_url}/meeting_minutes", wait_until="domcontentloaded")
    page.get_by_text("1. The meeting").first.wait_for(timeout=120_000)
    page.get_by_text("A transcript", exact=True).click(timeout=120_000)  # widgets mount after the text
    page.get_by_role("button", name="Use this transcript").wait_for(timeout=60_000)


def test_one_students_upload_never_reaches_another(browser, app_url):
    marker = f"zx{uuid.uuid4().hex[:12]}"
    transcript = f"Quillon: The code word is {marker}.\nMaria: I will send {marker} to the board by Friday.\n"
    alice_context, bob_context = (browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(2))
    try:
        alice, bob = alice_context.new_page(), bob_context.new_page()
        open_transcript_upload(alice, app_url)
        alice.locator('input[type="file"]').first.set_input_files(
            files=[{"name": f"{marker}.txt", "mimeType": "text/plain", "buffer": transcript.encode()}])
        alice.get_by_text(f"{marker}.txt").first.wait_for(timeout=30_000)
        alice.get_by_role("button", name="Use this transcript").click()
        alice.get_by_text(marker).first.wait_for(timeout=60_000)  # Alice's transcript is on her page

        open_transcript_upload(bob, app_url)
        bob.wait_for_timeout(2_000)  # let every element of Bob's run arrive
        screenshot(bob, "isolation-second-student")
        assert marker not in bob.content()
        assert marker not in bob.locator("body").inner_text()
        assert bob.get_by_text("Quillon").count() == 0

        alice.reload(wait_until="domcontentloaded")  # a new session for Alice too: the upload was hers only
        alice.get_by_text("1. The meeting").first.wait_for(timeout=120_000)
        alice.wait_for_timeout(2_000)
        assert marker not in alice.content()
    finally:
        alice_context.close()
        bob_context.close()
