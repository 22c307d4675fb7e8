"""AppTest: every page registered in st.navigation renders without exception."""
import pytest

from lib import course

PAGES = course.available_lessons()


@pytest.mark.parametrize("lesson", PAGES, ids=[l.key for l in PAGES])
def test_every_page_renders(open_page, lesson):
    app = open_page(lesson.key)
    assert not app.exception, app.exception


def test_classroom_mode_persists_across_pages(open_page):
    app = open_page("home")
    app.sidebar.toggle(key="classroom").set_value(True).run()
    assert app.session_state["classroom"] is True
    app.switch_page(PAGES[-1].page).run()
    assert not app.exception
    assert app.session_state["classroom"] is True
