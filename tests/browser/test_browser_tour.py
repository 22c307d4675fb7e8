"""A tour of the whole app as a class sees it: classroom mode on, every lesson
opened from the sidebar, its first output drawn, no exception box and no
console errors, and no request that leaves the machine (the favicon, fonts,
icons and bertviz's scripts included), as on a server whose students may be
offline. One screenshot per page (test-artifacts/tour-<lesson>.png)."""
from urllib.parse import urlparse

import pytest
from conftest import screenshot

from lib import course

LESSONS = course.available_lessons()
OUTPUT = ".js-plotly-plot, [data-testid=stTable], [data-testid=stDataFrame], [data-testid=stMetric]"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
LOCAL_SCHEMES = ("data:", "blob:")
SCROLL_STEPS = 40  # Streamlit mounts some elements (iframes, charts) only once they scroll into view


def leaves_the_machine(url: str) -> bool:
    return not url.startswith(LOCAL_SCHEMES) and urlparse(url).hostname not in LOCAL_HOSTS


@pytest.fixture(scope="module")
def tour(browser, app_url):
    """One student's session, in classroom mode, kept across the tour; every
    request and websocket it opens is recorded in `tab.requests`."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.console_errors, tab.requests = [], []
    tab.on("console", lambda m: m.type == "error" and tab.console_errors.append(m.text))
    tab.on("request", lambda request: tab.requests.append(request.url))
    tab.on("websocket", lambda socket: tab.requests.append(socket.url))
    tab.goto(app_url, wait_until="domcontentloaded")
    tab.get_by_test_id("stSidebar").get_by_text("Classroom mode").first.click()
    tab.wait_for_function("getComputedStyle(document.documentElement).fontSize === '20px'", timeout=90_000)
    yield tab
    context.close()


def scroll_through(tab) -> None:
    """To the end of the page, then back to its top."""
    tab.get_by_test_id("stMain").hover()
    for _ in range(SCROLL_STEPS):
        at_end = tab.evaluate("(() => { const m = document.querySelector('[data-testid=stMain]');"
                              " return m.scrollTop + m.clientHeight >= m.scrollHeight - 2; })()")
        if at_end:
            break
        tab.mouse.wheel(0, 900)
        tab.wait_for_timeout(300)
    tab.evaluate("document.querySelector('[data-testid=stMain]').scrollTo(0, 0)")


@pytest.mark.parametrize("lesson", LESSONS, ids=[l.key for l in LESSONS])
def test_every_page_draws_in_classroom_mode(tour, lesson):
    tour.console_errors.clear()
    tour.requests.clear()
    tour.get_by_test_id("stSidebarNav").get_by_role("link", name=lesson.title, exact=True).click()
    tour.wait_for_url(f"**/{'' if lesson.key == 'home' else lesson.key}", timeout=30_000)
    main = tour.get_by_test_id("stMain")
    main.locator("h1").first.wait_for(timeout=120_000)
    main.locator(OUTPUT).filter(visible=True).first.wait_for(timeout=180_000)
    tour.wait_for_function("document.querySelector('[data-testid=stApp]').dataset.testScriptState !== 'running'",
                           timeout=240_000)
    tour.wait_for_timeout(1500)  # let Plotly finish its first draw
    scroll_through(tour)
    assert tour.evaluate("getComputedStyle(document.documentElement).fontSize") == "20px"
    assert main.get_by_test_id("stException").count() == 0
    screenshot(tour, f"tour-{lesson.key}")
    assert [e for e in tour.console_errors if "Failed to load resource" not in e] == []
    assert [url for url in tour.requests if leaves_the_machine(url)] == []


def test_the_favicon_is_the_apps_own_png(tour):
    icon = tour.evaluate("document.querySelector(\"link[rel~='icon']\").href")
    assert urlparse(icon).hostname == "127.0.0.1"
    status, kind = tour.evaluate("async url => { const r = await fetch(url);"
                                 " return [r.status, r.headers.get('content-type')]; }", icon)
    assert (status, kind) == (200, "image/png")


def test_the_first_page_load_asks_nothing_of_other_machines(page, app_url):
    """A fresh browser opening a deep link: the page, its fonts, scripts and favicon."""
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{app_url}/attention", wait_until="domcontentloaded")
    page.get_by_test_id("stMain").locator("h1").first.wait_for(timeout=120_000)
    page.wait_for_function("document.querySelector('[data-testid=stApp]')?.dataset.testScriptState === 'notRunning'",
                           timeout=300_000)
    icon = page.evaluate("document.querySelector(\"link[rel~='icon']\").href")
    assert icon in requests  # the browser's own request for it
    assert requests and [url for url in requests if leaves_the_machine(url)] == []
