"""The running app seen by a browser: start a Streamlit server on a free loopback port, open
Debian's headless Chromium through Playwright, go to a lesson from the sidebar and wait for its
first figure. Shared by the first-screen browser test (tests/browser), the README gallery
(scripts/gallery.py) and the home page's lesson pictures (scripts/lesson_pictures.py)."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from lib import course

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 # the network is "blocked": only loopback resolves
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"]
MIN_WIDTH, MIN_VISIBLE = 300, 200  # a first-screen figure: this wide, this much of it above the fold

# The largest chart, image, drawing or embedded page in the main area with at least MIN_VISIBLE
# pixels inside the window before scrolling: {left, top, width, height, visible, kind}, or null.
FIRST_FIGURE_JS = """([minWidth, minVisible]) => {
  const main = document.querySelector('[data-testid=stMain]');
  if (!main) return null;
  let best = null;
  for (const el of main.querySelectorAll('.js-plotly-plot, img, canvas, iframe, svg:not(.js-plotly-plot svg)')) {
    const r = el.getBoundingClientRect();
    const visible = Math.min(r.bottom, window.innerHeight) - Math.max(r.top, 0);
    if (r.width < minWidth || visible < minVisible) continue;
    if (el.closest('[data-stale=true]')) continue;  // left from the page before, or about to be redrawn
    if (el.closest('[data-testid=stDataFrame], [data-testid=stTable]')) continue;  // a table draws on a canvas too
    if (el.matches('.js-plotly-plot') && !el.querySelector('.main-svg')) continue;  // not drawn yet
    if (el.matches('img') && !(el.complete && el.naturalWidth)) continue;
    if (!best || r.width * visible > best.width * best.visible)
      best = {left: r.left, top: r.top, width: r.width, height: r.height, visible, kind: el.tagName.toLowerCase()};
  }
  return best;
}"""

# Main-area elements wider than the element that holds them (by more than a pixel), unless that
# holder scrolls sideways on purpose (tables, code blocks).
OVERFLOW_JS = """() => {
  const main = document.querySelector('[data-testid=stMainBlockContainer]');
  const scrolls = el => { for (let p = el.parentElement; p && p !== main; p = p.parentElement) {
      const s = getComputedStyle(p).overflowX; if (s === 'auto' || s === 'scroll' || s === 'hidden') return true; }
    return false; };
  const wide = [];
  for (const el of main.querySelectorAll('[data-testid=stElementContainer] > *')) {
    const holder = el.parentElement.getBoundingClientRect(), r = el.getBoundingClientRect();
    if (r.width > holder.width + 1 && !scrolls(el)) wide.push(`${el.dataset.testid || el.tagName}: ${Math.round(r.width)} > ${Math.round(holder.width)}`);
    for (const child of el.querySelectorAll('table, pre, img, .js-plotly-plot, iframe')) {
      const c = child.getBoundingClientRect();
      if (c.right > holder.right + 1 && !scrolls(child))
        wide.push(`${child.tagName} in ${el.dataset.testid || el.tagName}: right edge ${Math.round(c.right)} > ${Math.round(holder.right)}`);
    }
  }
  return wide;
}"""
# Text of a Plotly chart (titles, axis labels, colour bars, legends) that runs past the chart's
# edge and is cut off; a tick label Plotly hid because it did not fit is not drawn, so not counted.
CLIPPED_TEXT_JS = """() => {
  const cut = [];
  for (const chart of document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')) {
    const svg = chart.querySelector('.main-svg');
    if (!svg) continue;
    const edge = svg.getBoundingClientRect();
    const title = chart.querySelector('.gtitle')?.textContent ?? '(untitled)';
    for (const text of chart.querySelectorAll('.gtitle, .g-xtitle text, .g-ytitle text, .xtick text, .ytick text, .colorbar text, .legendtext, .annotation-text')) {
      const r = text.getBoundingClientRect();
      if (!r.width || !text.textContent.trim()) continue;
      if (r.left < edge.left - 1 || r.right > edge.right + 1 || r.top < edge.top - 1 || r.bottom > edge.bottom + 1)
        cut.push(`"${text.textContent.slice(0, 40)}" in "${title.slice(0, 50)}"`);
    }
  }
  return [...new Set(cut)];
}"""
# The app's own words a student reads as labels: widget labels, buttons, tabs, expanders, headings
# and the sidebar's links (not what is typed in a box, nor a chart's data).
LABELS_JS = """() => [...document.querySelectorAll(
  '[data-testid=stWidgetLabel], button, [role=tab], summary, h1, h2, h3, [data-testid=stSidebarNav] a')]
  .map(el => el.innerText.trim()).filter(Boolean)"""
TITLE_JS = "() => document.querySelector('[data-testid=stMain] h1')?.textContent ?? ''"
SCRIPT_IDLE_JS = "document.querySelector('[data-testid=stApp]')?.dataset.testScriptState === 'notRunning'"
# The first figure, or 'idle' once the script has finished and everything it drew is on screen
# (every Plotly chart drawn, every image loaded) for IDLE_MS with none of it a first-screen figure (1.5 s once missed a chart drawn late).
IDLE_MS = 10_000
DRAWN_JS = """(() => { const main = document.querySelector('[data-testid=stMain]');
  return !!main && [...main.querySelectorAll('.js-plotly-plot, [data-testid=stPlotlyChart]')].every(p => p.querySelector('.main-svg'))
    && [...main.querySelectorAll('img')].every(i => i.complete) && !main.querySelector('[data-stale=true]'); })()"""
FIGURE_OR_IDLE_JS = f"""args => {{
  const found = ({FIRST_FIGURE_JS})(args);
  if (found) return found;
  if (!({SCRIPT_IDLE_JS}) || !{DRAWN_JS}) {{ window.gbIdleSince = null; return null; }}
  window.gbIdleSince ??= performance.now();
  return performance.now() - window.gbIdleSince > {IDLE_MS} ? 'idle' : null;
}}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_health(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"Streamlit did not answer at {url} within {timeout} s")


@contextlib.contextmanager
def serve():
    """The app on a free loopback port, offline; yields its address."""
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless=true",
         f"--server.port={port}", "--server.address=127.0.0.1", "--browser.gatherUsageStats=false"],
        cwd=course.ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(url)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_app(browser, url: str, width: int, height: int, classroom: bool = False):
    """A fresh tab on the home page at this window size, classroom mode switched on if asked."""
    tab = browser.new_context(viewport={"width": width, "height": height}).new_page()
    tab.goto(url, wait_until="domcontentloaded")
    tab.get_by_test_id("stMain").locator("h1").first.wait_for(timeout=120_000)
    if classroom:
        tab.get_by_test_id("stSidebar").get_by_text("Classroom mode").first.click()
        tab.wait_for_function("getComputedStyle(document.documentElement).fontSize === '20px'", timeout=90_000)
    return tab


def tour_order(lessons: list) -> list:
    """The lessons with home last: a tab opens on home, so clicking it first would not navigate."""
    return sorted(lessons, key=lambda l: getattr(l, "key", l) == "home")


class FigureMissing(Exception):
    """The page showed no first-screen figure in time."""


def go_to(tab, lesson: course.Lesson, timeout_ms: int = 120_000) -> tuple[float, dict]:
    """Click the lesson in the sidebar and wait for its first figure; returns the seconds from the
    click to that figure on screen, and where it is. Raises FigureMissing when none shows within
    `timeout_ms` of the page's title (or once the page has finished without one)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    main = tab.get_by_test_id("stMain")
    main.evaluate("m => m.scrollTo(0, 0)")
    before = tab.evaluate(TITLE_JS)
    tab.evaluate("window.gbIdleSince = null")
    start = time.perf_counter()
    tab.get_by_test_id("stSidebarNav").get_by_role("link", name=lesson.title, exact=True).click()
    tab.wait_for_url(f"**/{'' if lesson.key == 'home' else lesson.key}", timeout=30_000)
    tab.wait_for_function(f"old => ({TITLE_JS})() !== old", arg=before, polling="raf", timeout=timeout_ms)
    try:
        handle = tab.wait_for_function(FIGURE_OR_IDLE_JS, arg=[MIN_WIDTH, MIN_VISIBLE], polling="raf",
                                       timeout=timeout_ms)
    except PlaywrightTimeout:
        raise FigureMissing(f"{lesson.key}: no figure {MIN_WIDTH} px wide with {MIN_VISIBLE} px on screen "
                            f"within {timeout_ms / 1000:.0f} s") from None
    seconds = time.perf_counter() - start
    found = handle.json_value()
    if found == "idle":
        raise FigureMissing(f"{lesson.key}: the page finished with no figure {MIN_WIDTH} px wide and "
                            f"{MIN_VISIBLE} px on screen")
    return seconds, found


def settle(tab, timeout_ms: int = 300_000) -> None:
    """Wait until the script has finished and Plotly has drawn."""
    tab.wait_for_function(SCRIPT_IDLE_JS, timeout=timeout_ms)
    tab.wait_for_timeout(800)


def figure_box(tab) -> dict | None:
    """Where the first figure is now (after the page has settled), as FIRST_FIGURE_JS gives it."""
    return tab.evaluate(FIRST_FIGURE_JS, [MIN_WIDTH, MIN_VISIBLE])


def save(tab, path: Path, scale_to: int | None = None) -> Path:
    """The window as a PNG (first screen only), optionally shrunk to `scale_to` pixels wide."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(path))
    if scale_to:
        shrink(path, scale_to)
    return path


def shrink(path: Path, width: int) -> None:
    """The PNG at `path` scaled down to `width` pixels wide (8-bit palette: a small file)."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").resize((width, round(image.height * width / image.width)), Image.LANCZOS)
    small.quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)

