"""The attention lesson in headless Chromium with every non-local host
unresolvable: bertviz draws from the local JavaScript, and a token made of
HTML runs nothing."""
import pytest
from conftest import ARTIFACTS, screenshot

from lib import parameters

XSS = "</script><img src=x onerror=alert(1)>"
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def open_lesson(page, app_url):
    """The lesson with bertviz's views opened (they are drawn only then)."""
    page.goto(f"{app_url}/attention", wait_until="domcontentloaded")
    heading = page.get_by_text("6. bertviz: every head at once").first
    heading.wait_for(timeout=120_000)
    views = page.get_by_test_id("stExpander").filter(has_text="bertviz's views").locator("summary")
    for _ in range(30):  # Streamlit mounts elements once they scroll into view
        heading.scroll_into_view_if_needed()
        if views.count():
            break
        page.wait_for_timeout(1000)
    views.first.click()


def head_view(page):
    return page.frame_locator("iframe").first


def test_bertviz_head_view_draws_offline(page, app_url):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_lesson(page, app_url)
    lines = head_view(page).locator("svg line")
    lines.first.wait_for(state="attached", timeout=60_000)
    # every head of MiniLM (its shipped config), each joining 8 tokens ([CLS] your cat is a lovely cat [SEP]) to 8
    heads = parameters.shipped_config("all-MiniLM-L6-v2")["num_attention_heads"]
    assert lines.count() == heads * 8 * 8
    assert head_view(page).get_by_text("lovely").first.is_visible()
    page.get_by_text("6. bertviz: every head at once").first.scroll_into_view_if_needed()
    screenshot(page, "attention")
    page.locator("iframe").first.screenshot(path=str(ARTIFACTS / "attention-bertviz-head.png"))
    assert not dialogs
    assert not [e for e in page.console_errors if "cdnjs" in e or "require" in e.lower()]


def test_html_in_the_text_is_shown_not_run(page, app_url):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_lesson(page, app_url)
    box = page.locator('textarea[aria-label="Text for the model"]')
    for _ in range(30):  # Streamlit mounts elements once they scroll into view; charts above still grow
        page.get_by_text("5. Inside real models").first.scroll_into_view_if_needed()
        if box.count():
            break
        page.wait_for_timeout(1000)
    box.fill(f"my cat {XSS}")
    box.press("Control+Enter")
    frame = head_view(page)
    # MiniLM splits the tag into word pieces: "<", "/", "script", ">", "<", "im", "##g", …
    frame.get_by_text("script", exact=True).first.wait_for(timeout=60_000)
    assert frame.get_by_text("<", exact=True).count() >= 2  # drawn as text…
    assert frame.locator("img").count() == 0  # …never parsed as a tag
    page.wait_for_timeout(1000)
    assert not dialogs


def test_bertviz_neuron_view_draws_queries_and_keys_offline(page, app_url):
    open_lesson(page, app_url)
    button = page.get_by_role("radio", name="Neuron view")
    for _ in range(30):  # mounted once scrolled into view, like the text box above
        page.get_by_text("6. bertviz: every head at once").first.scroll_into_view_if_needed()
        if button.count():
            break
        page.wait_for_timeout(1000)
    button.first.click()
    frame = head_view(page)
    lines = frame.locator(".attn-line-group line")
    lines.first.wait_for(state="attached", timeout=60_000)
    assert lines.count() == 8 * 8  # one head: [CLS] your cat is a lovely cat [SEP], each to each
    # expand a query word: its query vector, every key vector and their products appear
    page.locator("iframe").first.evaluate("e => e.scrollIntoView()")
    word = frame.locator("#collapsed #leftText > g").nth(2)  # "cat"
    word.hover()
    word.locator("rect").last.click(force=True)  # the transparent target over the ⊕ sign
    expanded = frame.locator("#expanded")
    frame.locator("#expanded[visibility='visible']").wait_for(state="attached", timeout=30_000)
    assert expanded.locator("#queries .element").count() == 8 * 32  # MiniLM's heads have 32 dimensions
    assert expanded.locator("#keys .element").count() == 8 * 32
    word = frame.locator("#expanded #leftText > g").nth(2)
    word.hover()
    assert expanded.locator("#dotproducts rect").count() == 8  # q · k with every key
    assert not [e for e in page.console_errors if "cdnjs" in e or "require" in e.lower()]
    # the word is still hovered: the products and scores of "cat" with every key are on screen
    page.screenshot(path=str(ARTIFACTS / "attention-bertviz-neuron.png"), clip=page.locator("iframe").first.bounding_box())
