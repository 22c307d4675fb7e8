"""A tour of the whole app as a class sees it: classroom mode on, every lesson
opened from the sidebar, its first output drawn, no console errors, one
screenshot per page (test-artifacts/tour-<lesson>.png)."""
import pytest
from conftest import screenshot

from lib import course

LESSONS = course.available_lessons()
OUTPUT = ".js-plotly-plot, [data-testid=stTable], [data-testid=stDataFrame], [data-testid=stMetric]"
BUTTON_FIRST = {"meeting_minutes": "Transcribe"}  # pages whose main output waits for one click


@pytest.fixture(scope="module")
def tour(browser, app_url):
    """One student's session, in classroom mode, kept across the tour."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.console_errors = []
    tab.on("console", lambda m: m.type == "error" and tab.console_errors.append(m.text))
    tab.goto(app_url, wait_until="domcontentloaded")
    tab.get_by_test_id("stSidebar").get_by_text("Classroom mode").first.click()
    tab.wait_for_function("getComputedStyle(document.documentElement).fontSize === '20px'", timeout=90_000)
    yield tab
    context.close()


@pytest.mark.parametrize("lesson", LESSONS, ids=[l.key for l in LESSONS])
def test_every_page_draws_in_classroom_mode(tour, lesson):
    tour.console_errors.clear()
    tour.get_by_test_id("stSidebarNav").get_by_role("link", name=lesson.title, exact=True).click()
    tour.wait_for_url(f"**/{'' if lesson.key == 'home' else lesson.key}", timeout=30_000)
    main = tour.get_by_test_id("stMain")
    main.locator("h1").first.wait_for(timeout=120_000)
    if lesson.key in BUTTON_FIRST:
        main.get_by_role("button", name=BUTTON_FIRST[lesson.key]).click()
    main.locator(OUTPUT).filter(visible=True).first.wait_for(timeout=180_000)
    tour.wait_for_function("document.querySelector('[data-testid=stApp]').dataset.testScriptState !== 'running'",
                           timeout=240_000)
    tour.wait_for_timeout(1500)  # let Plotly finish its first draw
    assert tour.evaluate("getComputedStyle(document.documentElement).fontSize") == "20px"
    assert main.get_by_test_id("stException").count() == 0
    screenshot(tour, f"tour-{lesson.key}")
    assert [e for e in tour.console_errors if "Failed to load resource" not in e] == []
