"""Every lesson's first screen, as a student opens it from the sidebar: at 1280×720 in classroom
mode (the projector, and the pass that warms the server), then at 1400×1000. On each page a chart,
image or drawing at least 300 px wide shows at least 200 px of itself before any scrolling, no
element of the main area is wider than what holds it, no chart's titles or labels run past its
edge, and no label, button, tab or heading holds an emoji (an empty box on a machine without an
emoji font). The seconds from the click to that figure go to benchmarks/first_screens.json, from
which benchmarks/README.md's table is made (benchmarks/first_screens.py prints it). One server,
one browser, one tab per window size.

The classroom pass is also the tour of the whole app as a class sees it: each page scrolled to its
end and back, with no exception box, no console error and no request that leaves the machine,
one full-page screenshot per page (test-artifacts/tour-<lesson>.png)."""
import json
import os
import platform
import time

import pytest
from conftest import ARTIFACTS, leaves_the_machine, record_traffic, screenshot, scroll_through
from test_app_labels import emoji_in

from lib import course
from scripts import screens

LESSONS = screens.tour_order(course.available_lessons())
WINDOWS = {"classroom-1280x720": (1280, 720, True), "1400x1000": (1400, 1000, False)}  # in this order
RECORD = course.ROOT / "benchmarks" / "first_screens.json"


@pytest.fixture(scope="module")
def timings():
    found: dict[str, dict[str, float]] = {}
    yield found
    if found:
        RECORD.write_text(json.dumps({
            "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_average": os.getloadavg()[0],
            "machine": f"{platform.machine()}, {os.cpu_count()} CPU threads", "seconds": found}, indent=1) + "\n")


def whole_page_problems(tab, lesson) -> list[str]:
    """Scroll the page to its end and back; what a student could see go wrong on the way."""
    scroll_through(tab)
    screenshot(tab, f"tour-{lesson.key}")
    problems = []
    if tab.evaluate("getComputedStyle(document.documentElement).fontSize") != "20px":
        problems.append("classroom mode's larger type is off")
    if tab.get_by_test_id("stMain").get_by_test_id("stException").count():
        problems.append("an exception box")
    problems += [f"console: {error}" for error in tab.console_errors if "Failed to load resource" not in error]
    problems += [f"asked another machine for {url}" for url in tab.requests if leaves_the_machine(url)]
    return problems


@pytest.mark.parametrize("window", list(WINDOWS))
def test_every_lesson_opens_on_a_figure(browser, app_url, timings, window):
    width, height, classroom = WINDOWS[window]
    tab = screens.open_app(browser, app_url, width, height, classroom)
    record_traffic(tab)
    problems = []
    try:
        for lesson in LESSONS:
            tab.console_errors.clear()
            tab.requests.clear()
            try:
                seconds, figure = screens.go_to(tab, lesson)
            except screens.FigureMissing as missing:
                problems.append(str(missing))
                continue
            finally:
                screens.settle(tab)
                screens.save(tab, ARTIFACTS / f"first-screen-{window}-{lesson.key}.png")
            timings.setdefault(lesson.key, {})[window] = round(seconds, 2)
            assert figure["width"] >= screens.MIN_WIDTH and figure["visible"] >= screens.MIN_VISIBLE
            problems += [f"{lesson.key}: {wide}" for wide in tab.evaluate(screens.OVERFLOW_JS)]
            problems += [f"{lesson.key}: chart text cut off: {cut}" for cut in tab.evaluate(screens.CLIPPED_TEXT_JS)]
            problems += [f"{lesson.key}: emoji in a label: {label!r}" for label in tab.evaluate(screens.LABELS_JS)
                         if emoji_in(label)]
            if classroom:
                problems += [f"{lesson.key}: {problem}" for problem in whole_page_problems(tab, lesson)]
    finally:
        tab.context.close()
    assert problems == []
