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


def upload_generated_meeting(page, app_url, name: str) -> dict:
    """The page opened and a meeting of the evaluation set uploaded as an audio file; its script."""
    from lib.meeting_minutes import synthetic

    script = synthetic.eval_scripts()[name]
    path, _ = synthetic.rendered(script)
    page.goto(f"{app_url}/meeting_minutes", wait_until="domcontentloaded")
    page.get_by_text("1. The meeting").first.wait_for(timeout=120_000)
    page.get_by_text("An audio file", exact=True).click()
    page.locator('input[type="file"]').first.set_input_files(str(path))
    return script


def test_uploaded_generated_meeting_gets_owners_from_the_conversation(page, app_url):
    """A generated recording (the evaluation set's shortest meeting) uploaded as a new user would:
    Transcribe, Write the minutes with the defaults, then the owners read from the action table."""
    from lib.meeting_minutes import evaluate, schema

    script = upload_generated_meeting(page, app_url, "meeting_101")
    page.get_by_role("button", name="Transcribe").click()
    page.get_by_text("Rename the voices").first.wait_for(timeout=300_000)
    page.get_by_role("button", name="Write the minutes").click()
    page.get_by_text("4. The minutes").first.wait_for(timeout=180_000)
    grid = page.locator('[data-testid="stDataFrame"]').filter(has=page.locator("text=owner")).last
    grid.scroll_into_view_if_needed()
    screenshot(page, "meeting_minutes-generated-owners")
    cells = grid.locator('[role="gridcell"]').all_inner_texts()  # owner, task, due, due date per row
    rows = [schema.ActionItem(owner, task, due) for owner, task, due, _ in zip(*[iter(cells)] * 4) if task]
    truth = script["truth"]["action_items"]
    matched = evaluate.match_actions(rows, truth)
    right = sum(m is not None and evaluate.same_name(m.owner, t["owner"]) for m, t in zip(matched, truth))
    assert right >= 0.75 * len(truth), (cells, truth)
    markdown = page.locator('textarea[aria-label*="Minutes (Markdown"]').input_value()
    assert "**Location:**" in markdown and "**Next meeting:**" in markdown


def test_names_typed_before_transcribing_spell_the_names_heard(page, app_url):
    """meeting_104, where Whisper base writes "Quame" for Kwame: with the attendees typed in the
    names box, the page says what it rewrote and the voices' names use the given spelling."""
    script = upload_generated_meeting(page, app_url, "meeting_104")
    names = page.get_by_role("textbox", name="Who is in the meeting? (optional)")
    names.fill(", ".join(script["truth"]["attendees"]))
    names.press("Enter")
    page.get_by_role("button", name="Transcribe").click()
    page.get_by_text("Rename the voices").first.wait_for(timeout=300_000)
    changed = page.get_by_text("Written as the names you gave:")
    changed.scroll_into_view_if_needed()
    screenshot(page, "meeting_minutes-names-given")
    assert "Quame → Kwame" in changed.inner_text()
    voices = [page.locator(f'input[aria-label="{label}"]') for label in (f"Speaker {n}" for n in range(1, 9))]
    assert "Kwame" in [v.input_value() for v in voices if v.count()]
