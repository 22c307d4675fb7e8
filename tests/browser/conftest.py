"""Browser tests: the real app on a free loopback port, driven by Debian's
headless Chromium through Playwright, with every non-local host unresolvable
(scripts/screens.py starts both, for the gallery scripts too)."""
from pathlib import Path

import pytest

from lib import course
from scripts import screens

ARTIFACTS = course.ROOT / "test-artifacts"

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
    tab.console_errors = []
    tab.on("console", lambda m: m.type == "error" and tab.console_errors.append(m.text))
    yield tab
    context.close()


def screenshot(tab, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path
