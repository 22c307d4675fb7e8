"""Every page in headless Chromium: it draws with no Streamlit exception box and
makes no request that leaves the machine (the favicon, fonts and icons
included), as on a Community Cloud server whose students may be offline.
One screenshot per page: test-artifacts/every-page-<lesson>.png."""
from urllib.parse import urlparse

import pytest
from conftest import screenshot

from lib import course

LESSONS = course.available_lessons()
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
LOCAL_SCHEMES = ("data:", "blob:")
SCROLL_STEPS = 40  # Streamlit mounts some elements (iframes, charts) only once they scroll into view

pytestmark = pytest.mark.browser


def leaves_the_machine(url: str) -> bool:
    return not url.startswith(LOCAL_SCHEMES) and urlparse(url).hostname not in LOCAL_HOSTS


def record_requests(tab) -> list[str]:
    urls = []
    tab.on("request", lambda request: urls.append(request.url))
    tab.on("websocket", lambda socket: urls.append(socket.url))
    return urls


def settle(tab) -> None:
    tab.wait_for_function("document.querySelector('[data-testid=stApp]')?.dataset.testScriptState === 'notRunning'",
                          timeout=300_000)
    tab.wait_for_timeout(1500)  # Plotly's first draw, iframes' scripts


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


def favicon(tab) -> str:
    return tab.evaluate("document.querySelector(\"link[rel~='icon']\").href")


def fetched_from_the_page(tab, url: str) -> tuple[int, str]:
    return tuple(tab.evaluate("async url => { const r = await fetch(url); return [r.status, r.headers.get('content-type')]; }",
                              url))


@pytest.mark.parametrize("lesson", LESSONS, ids=[l.key for l in LESSONS])
def test_page_draws_and_every_request_stays_on_the_machine(page, app_url, lesson):
    requests = record_requests(page)
    page.goto(f"{app_url}/{'' if lesson.key == 'home' else lesson.key}", wait_until="domcontentloaded")
    main = page.get_by_test_id("stMain")
    main.locator("h1").first.wait_for(timeout=120_000)
    settle(page)
    scroll_through(page)
    settle(page)
    screenshot(page, f"every-page-{lesson.key}")
    assert main.get_by_test_id("stException").count() == 0
    assert [url for url in requests if leaves_the_machine(url)] == []
    icon = favicon(page)
    assert icon in requests and urlparse(icon).hostname == "127.0.0.1"  # the browser's own request for it
    assert fetched_from_the_page(page, icon) == (200, "image/png")
