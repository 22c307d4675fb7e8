"""Browser tests: the real app on a free loopback port, driven by Debian's
headless Chromium through Playwright, with every non-local host unresolvable
(scripts/screens.py starts both, for the gallery scripts too)."""
from pathlib import Path
from urllib.parse import urlparse

import pytest

from lib import course
from scripts import screens

ARTIFACTS = course.ROOT / "test-artifacts"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
LOCAL_SCHEMES = ("data:", "blob:")
SCROLL_STEPS = 40  # Streamlit mounts some elements (iframes, charts) only once they scroll into view

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def app_url():
    with screens.serve() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not Path(screens.CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium; .ci/run does it)")
    with screens.chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    record_traffic(tab)
    yield tab
    context.close()


def screenshot(tab, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path


def leaves_the_machine(url: str) -> bool:
    return not url.startswith(LOCAL_SCHEMES) and urlparse(url).hostname not in LOCAL_HOSTS


def record_traffic(tab) -> None:
    """From now on every console error goes to `tab.console_errors`, every request and websocket
    the tab opens to `tab.requests`."""
    tab.console_errors, tab.requests = [], []
    tab.on("console", lambda m: m.type == "error" and tab.console_errors.append(m.text))
    tab.on("request", lambda request: tab.requests.append(request.url))
    tab.on("websocket", lambda socket: tab.requests.append(socket.url))


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
