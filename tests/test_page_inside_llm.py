"""AppTest of "Inside a language model": the logit-lens heatmap's shape, the KV-cache chart's two
curves, an intervention, a shared link, classroom mode and bad input. One page run serves most checks."""
import json

import pytest
from accessibility import chart_problems, widget_label_problems
from plotly_arrays import chart_title

from lib import model_loading

TIMEOUT = 600


def figures(app) -> dict:
    """Every Plotly chart on the page: title -> its spec."""
    return {chart_title(spec): spec for spec in (json.loads(c.proto.spec) for c in app.get("plotly_chart"))}


def by_start(app, start: str) -> dict:
    return next(spec for title, spec in figures(app).items() if title.startswith(start))


@pytest.fixture(scope="module")
def page():
    from streamlit.testing.v1 import AppTest

    from lib import course

    app = AppTest.from_file(str(course.ROOT / "streamlit_app.py"), default_timeout=TIMEOUT)
    app.run()
    app.query_params.update({"prompt": "Hi there"})  # a short prompt keeps SmolLM2's forwards cheap
    app.switch_page(course.lesson("inside_llm").page).run()
    assert not app.exception, app.exception
    return app


def test_the_lens_heatmap_has_a_row_per_layer_and_a_column_per_token(page):
    loaded = model_loading.shared("smollm2-135m", "decoder", "cpu")
    tokens = loaded.tokenizer("Hi there")["input_ids"]
    trace = by_start(page, "What each layer would predict")["data"][0]
    assert len(trace["y"]) == loaded.model.config.num_hidden_layers + 1 == 31  # the embeddings, then 30 layers
    assert trace["y"][0] == "embeddings" and len(trace["x"]) == len(tokens)
    assert len(trace["text"]) == 31 and all(len(row) == len(tokens) and all(row) for row in trace["text"])
    assert trace["zmin"] == 0 and trace["zmax"] == 1
    assert chart_problems(page) == [] and widget_label_problems(page) == []


def test_the_kv_cache_chart_has_both_curves_and_the_same_tokens(page):
    page.slider(key="kv_tokens").set_value(8)
    page.button(key="kv_button").click().run()
    assert not page.exception, page.exception
    curves = by_start(page, "Time for each new token")["data"]
    assert [c["name"] for c in curves] == ["with the cache", "without the cache"]
    assert all(len(c["y"]) == 8 for c in curves)
    text = " ".join(m.value for m in page.markdown)
    assert "the same tokens" in text and "×" in text
    table = page.table[0].value
    formula, measured = table["value"].iloc[0], table["value"].iloc[1]
    assert formula.split("= ")[-1] == measured  # the formula's bytes equal the cache tensors' bytes
    assert dict(page.query_params)["tokens"] == "8"


def test_switching_a_head_off_shows_before_and_after(page):
    page.slider(key="ablate_layer").set_value(2)
    page.slider(key="ablate_head").set_value(3).run()
    assert not page.exception
    bars = by_start(page, "Next token after")
    assert "layer 2 head 3 (zero)" in bars["layout"]["title"]["text"]
    assert [t["name"] for t in bars["data"]] == ["before", "after"]
    assert dict(page.query_params)["layer"] == "2"


def test_an_empty_prompt_gets_a_message(page):
    page.text_input(key="lens_prompt").input("   ").run()
    assert not page.exception
    assert "Type a prompt first." in [w.value for w in page.warning]


def test_a_shared_link_and_classroom_mode(open_page):
    link = {"prompt": "Hi there", "part": "whole MLP", "layer": "3", "mode": "mean", "head": "150"}
    app = open_page("inside_llm", timeout=TIMEOUT, query=link)
    assert not app.exception, app.exception
    assert app.slider(key="ablate_head").value == 8  # held to SmolLM2's 9 heads
    assert "layer 3 MLP (mean)" in by_start(app, "Next token after")["layout"]["title"]["text"]
    app.sidebar.toggle(key="classroom").set_value(True).run()
    assert not app.exception
    assert not [r for r in app.radio if r.key == "ablate_mode"]  # advanced controls hidden
    assert "layer 3 MLP (mean)" in by_start(app, "Next token after")["layout"]["title"]["text"]
