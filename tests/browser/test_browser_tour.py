"""What the browser asks of other machines, on a server whose students may be offline: nothing,
the favicon, fonts, icons and bertviz's scripts included. (The tour of every lesson in
classroom mode is the first pass of test_browser_first_screens.py.)"""
from urllib.parse import urlparse

import pytest
from conftest import leaves_the_machine

pytestmark = pytest.mark.browser


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
    assert urlparse(icon).hostname == "127.0.0.1"
    status, kind = page.evaluate("async url => { const r = await fetch(url);"
                                 " return [r.status, r.headers.get('content-type')]; }", icon)
    assert (status, kind) == (200, "image/png")
