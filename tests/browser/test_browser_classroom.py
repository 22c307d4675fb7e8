"""The classroom layer in a real browser: a copied link opens the same view in
a fresh browser, and progress survives a download and an upload."""
import json

from conftest import ARTIFACTS, screenshot
from playwright.sync_api import expect

from lib import checkpoints, parameters


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
    page.goto(f"{app_url}/parameters", wait_until="domcontentloaded")
    answer = checkpoints.questions("parameters", 1)[0].answer
    page.get_by_role("heading", name="Checkpoint").wait_for(timeout=180_000)
    box = page.get_by_test_id("stTextInput").filter(has_text="Your answer").first
    box.locator("input").fill(f"{answer:,}")
    page.get_by_role("button", name="Check").first.click()
    page.get_by_text("Correct.").wait_for(timeout=30_000)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Welcome").click()
    page.get_by_text("1/5 correct").wait_for(timeout=60_000)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download my progress").click()
    saved = tmp_path / "progress.json"
    download.value.save_as(saved)
    assert json.loads(saved.read_text())["lessons"]["parameters"]["correct"] == 1

    fresh = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    fresh.goto(app_url, wait_until="domcontentloaded")
    uploader = fresh.get_by_test_id("stFileUploaderDropzoneInput")
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps({"format": "glassbox-progress", "version": 1,
                                    "lessons": {"<script>alert(1)</script>": {"correct": 5, "total": 5, "seed": 1}}}))
    uploader.set_input_files(str(tampered))
    fresh.get_by_text("That progress file was not loaded").wait_for(timeout=30_000)
    screenshot(fresh, "progress-tampered")
    fresh.get_by_role("button", name="Remove").first.click()
    expect(fresh.get_by_text("That progress file was not loaded")).to_have_count(0, timeout=30_000)
    uploader.set_input_files(str(saved))
    fresh.get_by_text("Progress loaded").wait_for(timeout=30_000)
    fresh.get_by_text("1/5 correct").wait_for(timeout=30_000)
    screenshot(fresh, "progress-restored")
    fresh.context.close()
    assert [e for e in page.console_errors if "Failed to load resource" not in e] == []
    assert (ARTIFACTS / "progress-restored.png").exists()
