"""AppTest: the home page: the course path with this session's scores and the system panel."""
from lib import course, model_registry, progress

PAGES = course.available_lessons()


def test_home_shows_system_panel_and_course_map(open_page, minilm):
    app = open_page("home")
    assert not app.exception, app.exception
    assert app.title[0].value.startswith("Glassbox")
    headers = [h.value for h in app.header]
    assert "Your course path" in headers and "This machine" in headers
    assert app.metric[0].label == "Device"
    models_table = next(m.value for m in app.markdown if m.value.startswith("| model |"))
    rows = models_table.splitlines()[2:]
    assert len(rows) == len(model_registry.installed_report()) and all("✅ available" in row for row in rows)
    assert f"| {minilm.model.num_parameters():,} |" in models_table  # MiniLM's parameters, read from its weights


def test_course_path_shows_this_sessions_scores(open_page):
    app = open_page("home")
    assert [c.value for c in app.caption].count("checkpoint not tried") == len(PAGES) - 1
    app.session_state["progress"] = {"cnn": progress.record(3, 5, 7, solved_on_retry=2)}
    app.run()
    assert not app.exception
    assert [c.value for c in app.caption].count("checkpoint not tried") == len(PAGES) - 2
    bar = next(p for p in app.get("progress"))
    assert bar.proto.text == "3/5 first try" and bar.proto.value == 60
    assert "practice: 2 solved on a retry" in [c.value for c in app.caption]


def test_home_widgets_are_labelled(open_page):
    from accessibility import chart_problems, widget_label_problems

    app = open_page("home")
    assert widget_label_problems(app) == [] and chart_problems(app) == []
    assert widget_label_problems(app.sidebar) == []
