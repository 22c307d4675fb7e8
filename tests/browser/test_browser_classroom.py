"""The classroom layer in a real browser: a copied link opens the same view in
a fresh browser, and progress survives a download and an upload."""
import json

from conftest import ARTIFACTS, screenshot
from playwright.sync_api import expect

from lib import checkpoints, parameters, progress


def expect_exact_parameters(tab, value: str) -> None:
    metric = tab.get_by_test_id("stMetric").filter(has_text="Exact parameters").first
    expect(metric.get_by_test_id("stMetricValue")).to_have_text(value, timeout=180_000)


def test_copied_link_opens_the_same_view(browser, page, app_url):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{app_url}/parameters", wait_until="domcontentloaded")
    expect_exact_parameters(page, f"{parameters.count_known('bert-base-uncased').total:,}")
    page.get_by_role("button", name="Will LLaMA fit?").click()
    page.wait_for_url("**/parameters?*model=llama-7b*", timeout=60_000)
    expect_exact_parameters(page, f"{parameters.count_known('llama-7b').total:,}")
    page.get_by_test_id("stSidebar").get_by_role("button", name="Copy link for the class").click()
    page.get_by_text("Link copied").wait_for(timeout=10_000)
    link = page.evaluate("navigator.clipboard.readText()")
    assert link == page.url and "memory=llama-65b" in link
    page.wait_for_timeout(1500)
    screenshot(page, "shared-link-teacher")

    student = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    student.goto(link, wait_until="domcontentloaded")
    expect_exact_parameters(student, f"{parameters.count_known('llama-7b').total:,}")
    chosen = student.get_by_test_id("stMultiSelect").first.inner_text()
    assert all(name in chosen for name in ("LLaMA 7B", "LLaMA 65B")), chosen
    student.wait_for_timeout(1500)
    screenshot(student, "shared-link-student")
    assert student.url == link
    student.context.close()


def test_progress_download_and_upload(browser, page, app_url, tmp_path):
    """A wrong first try, then the right answer: the home page and the file keep the first try (0)
    and count the retry as practice."""
    page.goto(f"{app_url}/parameters", wait_until="domcontentloaded")
    answer = checkpoints.questions("parameters", 1)[0].answer
    page.get_by_role("heading", name="Checkpoint").wait_for(timeout=180_000)
    box = page.get_by_test_id("stTextInput").filter(has_text="Your answer").first.locator("input")
    box.fill(f"{answer + 1:,}")
    page.get_by_role("button", name="Check").first.click()
    page.get_by_text("Not quite").first.wait_for(timeout=30_000)
    box.fill(f"{answer:,}")
    page.get_by_role("button", name="Check").first.click()
    page.get_by_text("Only the first try counts").first.wait_for(timeout=30_000)
    expect(page.get_by_text("Correct.", exact=True)).to_have_count(0)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Welcome").click()
    page.get_by_text("0/5 first try").wait_for(timeout=60_000)
    page.get_by_text("practice: 1 solved on a retry").wait_for(timeout=10_000)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download my progress").click()
    saved = tmp_path / "progress.json"
    download.value.save_as(saved)
    scores = json.loads(saved.read_text())["lessons"]["parameters"]
    assert scores["first_try"] == 0 and scores["practice"]["solved_on_retry"] == 1, scores

    fresh = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    fresh.goto(app_url, wait_until="domcontentloaded")
    uploader = fresh.get_by_test_id("stFileUploaderDropzoneInput")
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps({"format": "glassbox-progress", "version": progress.VERSION,
                                    "lessons": {"<script>alert(1)</script>": {"first_try": 5, "total": 5, "seed": 1}}}))
    uploader.set_input_files(str(tampered))
    fresh.get_by_text("That progress file was not loaded").wait_for(timeout=30_000)
    screenshot(fresh, "progress-tampered")
    fresh.get_by_role("button", name="Remove").first.click()
    expect(fresh.get_by_text("That progress file was not loaded")).to_have_count(0, timeout=30_000)
    uploader.set_input_files(str(saved))
    fresh.get_by_text("Progress loaded").wait_for(timeout=30_000)
    fresh.get_by_text("0/5 first try").wait_for(timeout=30_000)
    screenshot(fresh, "progress-restored")
    fresh.context.close()
    assert [e for e in page.console_errors if "Failed to load resource" not in e] == []
    assert (ARTIFACTS / "progress-restored.png").exists()
