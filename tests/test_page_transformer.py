"""AppTest of "The Transformer, whole": the block walk for short and long sentences on both blocks, the toy
translator's three attention kinds, bad input, and settings from a link."""
import re

import numpy as np
import pytest
from test_page_attention import charts

from lessons.widgets.transformer import PRESETS
from lib import transformer

TIMEOUT = 300
LONG = " ".join(["The cat chased the mouse across the garden and"] * 12)
SIX_TOKENS = {"minilm": "the cat is cute", "smollm2-135m": "Your cat is a lovely cat"}  # [CLS] … [SEP] / no BOS


@pytest.fixture(scope="module")
def page():
    from streamlit.testing.v1 import AppTest

    from lib import course

    app = AppTest.from_file(str(course.ROOT / "streamlit_app.py"), default_timeout=TIMEOUT)
    app.run()
    app.switch_page(course.lesson("transformer").page).run()
    assert not app.exception, app.exception
    return app


def test_cross_attention_is_target_by_source_and_rows_sum_to_one(page):
    drawn = charts(page)
    cross = drawn["Cross-attention (target × source)"]
    # "your cat is a lovely cat </s>" → "ton chat est un chat adorable </s>"
    assert cross.shape == (7, 7)
    np.testing.assert_allclose(cross.sum(1), 1.0, atol=1e-5)
    decoder = drawn["Decoder masked self-attention"]
    assert decoder.shape == (7, 7) and np.nanmax(np.triu(np.nan_to_num(decoder), 1)) == 0
    assert drawn["Encoder self-attention"].shape == (7, 7)
    captions = " ".join(c.value for c in page.caption)
    assert "adorable → lovely" in captions and "6 of 6 follow the true alignment" in captions
    assert "Ton chat est un chat adorable" in " ".join(m.value for m in page.markdown)


def test_changing_the_source_sentence_reshapes_the_cross_attention(page):
    page.text_input(key="transformer_source").set_value("The cat chased the black mouse").run()
    cross = charts(page)["Cross-attention (target × source)"]
    assert cross.shape == (8, 7)  # le chat a poursuivi la souris noire </s> × the cat chased the black mouse </s>
    np.testing.assert_allclose(cross.sum(1), 1.0, atol=1e-5)
    page.text_input(key="transformer_source").set_value("The zebra chased the mouse").run()
    assert any("zebra" in w.value for w in page.warning)
    assert not page.exception
    page.text_input(key="transformer_source").set_value("Your cat is a lovely cat").run()


@pytest.mark.parametrize("model", ["minilm", "smollm2-135m"])
@pytest.mark.parametrize("length", [6, 64])
def test_every_step_of_the_block_walk_renders(page, model, length):
    page.radio(key="transformer_model").set_value(model)
    page.text_input(key="transformer_text").set_value(SIX_TOKENS[model] if length == 6 else LONG)
    page.toggle(key="transformer_draw_all").set_value(True).run()  # every step, not only the chosen one
    assert not page.exception, page.exception
    drawn = {title: z for title, z in charts(page).items() if title.startswith("Step ")}
    steps = sorted({int(re.match(r"Step (\d+):", t).group(1)) for t in drawn})
    assert steps == list(range(1, len(steps) + 1)) and len(steps) >= 19
    for title, z in drawn.items():
        assert z.shape[0] == length, title
        assert np.isfinite(z).any(), title
    difference = next(c.value for c in page.caption if "hidden_states[1]" in c.value)
    assert float(re.search(r"\*\*([\d.e+-]+)\*\*", difference).group(1)) < 1e-5
    if length == 64:
        assert any(f"keeps the first {transformer.MAX_WALK_TOKENS}" in c.value for c in page.caption)


def test_empty_sentence_warns_instead_of_crashing(page):
    page.text_input(key="transformer_text").set_value("").run()
    assert any("Type a sentence" in w.value for w in page.warning)
    assert not page.exception
    page.text_input(key="transformer_text").set_value("Your cat is a lovely cat").run()


def test_settings_come_from_the_link(open_page):
    preset = PRESETS["Causal decoder block (SmolLM2)"]
    app = open_page("transformer", timeout=TIMEOUT, query={"model": preset["model"], "step": str(preset["step"])})
    assert not app.exception
    assert app.slider(key="transformer_step").value == preset["step"]
    title = next(t for t in charts(app) if t.startswith(f"Step {preset['step']}: "))
    assert title.startswith(f"Step {preset['step']}: Softmax, head 1")
    weights = charts(app)[title]
    assert np.triu(weights, 1).max() == 0  # the preset shows the causal mask at work


def test_classroom_mode_keeps_the_figures_and_drops_the_extras(page):
    page.sidebar.toggle(key="classroom").set_value(True).run()
    assert not page.exception
    assert "Every step drawn" not in [e.label for e in page.expander]
    assert page.number_input(key="transformer_pretrain_steps").disabled
    assert "Cross-attention (target × source)" in charts(page)
    page.sidebar.toggle(key="classroom").set_value(False).run()
    assert "Every step drawn" in [e.label for e in page.expander]
    page.toggle(key="transformer_draw_all").set_value(False).run()  # other tests turn it on
    drawn = [c for c in page.get("plotly_chart") if "transformer_all_" in c.proto.id]
    assert drawn == []  # drawn on demand only: that many heatmaps slow the browser on every visit
    steps = int(page.toggle(key="transformer_draw_all").label.split()[2])  # "Draw all 19 steps"
    page.toggle(key="transformer_draw_all").set_value(True).run()
    assert len([c for c in page.get("plotly_chart") if "transformer_all_" in c.proto.id]) == steps > 10
    page.toggle(key="transformer_draw_all").set_value(False).run()
    assert not [c for c in page.get("plotly_chart") if "transformer_all_" in c.proto.id]
