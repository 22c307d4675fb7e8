"""AppTest of the attention lesson: real values on the page, bad input handled."""
import base64
import json

import numpy as np
import pytest
import torch

from lib import attention_models

TIMEOUT = 240


def charts(app) -> dict:
    """Every Plotly chart on the page by title -> its first trace's z (or the trace)."""
    found = {}
    for element in app.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        trace = spec["data"][0]
        z = trace.get("z")
        if isinstance(z, dict):  # plotly 6 ships numpy arrays as typed binary
            shape = [int(n) for n in str(z.get("shape", "-1")).split(",")]
            z = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)
        found[spec["layout"]["title"]["text"]] = np.array(z, dtype=float) if z is not None else trace
    return found


def iframes(app) -> list[str]:
    return [element.proto.srcdoc for element in app.get("iframe")]


def warnings(app) -> str:
    return " ".join(w.value for w in app.warning)


@pytest.fixture
def page(open_page):
    app = open_page("attention", timeout=TIMEOUT)
    assert not app.exception, app.exception
    return app


def test_default_sentence_gives_a_6x6_softmax_whose_rows_sum_to_one(page):
    weights = charts(page)["Attention weights softmax(scores)"]
    assert weights.shape == (6, 6)
    np.testing.assert_allclose(weights.sum(1), 1.0, atol=1e-6)
    table = next(d.value for d in page.dataframe if "row sum" in d.value.columns)
    assert list(table.index) == ["1 Your", "2 cat", "3 is", "4 a", "5 lovely", "6 cat"]
    np.testing.assert_allclose(table["row sum"], 1.0, atol=1e-6)
    assert any("Every row sums to 1" in c.value for c in page.caption)


def test_causal_toggle_zeroes_the_upper_triangle(page):
    upper = np.triu_indices(6, 1)
    assert charts(page)["Attention weights softmax(scores)"][upper].min() > 0
    page.toggle(key="attention_causal").set_value(True).run()
    weights = charts(page)["Attention weights softmax(scores)"]
    assert weights[upper].max() == 0 and weights[0, 0] == 1
    np.testing.assert_allclose(weights.sum(1), 1.0, atol=1e-6)
    assert np.isnan(np.triu(charts(page)["Scaled scores Q·Kᵀ / √d_k"], 1)[0, 1])  # shown as "masked"


def test_dot_products_weighted_sums_and_positions_show_computed_values(page):
    table = next(d.value for d in page.dataframe if "dot" in d.value.columns)
    assert table["dot"].to_dict() == {"v1": 24, "v2": 19, "v3": 0, "v4": -18}
    page.number_input(key="attention_v4_x").set_value(2.0).run()
    table = next(d.value for d in page.dataframe if "dot" in d.value.columns)
    assert table.loc["v4", "dot"] == 3 * 2 + 4 * -3

    page.selectbox(key="attention_row").set_value(1).run()
    terms = charts(page)["Output of '2 cat' = Σ weight × value"]
    np.testing.assert_allclose(terms[:-1].sum(0), terms[-1], atol=1e-9)

    table = next(d.value for d in page.dataframe if "without positions" in d.value.index)
    change = table.iloc[:, 0]
    assert change["without positions"] < 1e-9 < 1e-3 < change["with positions"]


def test_real_encoder_heatmap_is_the_models_attention(page, minilm):
    page.slider(key="attention_layer_encoder").set_value(2).run()
    page.selectbox(key="attention_head_encoder").set_value(3).run()
    shown = charts(page)["all-MiniLM-L6-v2 (6-layer BERT encoder): layer 2, head 3"]
    with torch.no_grad():
        out = minilm.model(**minilm.tokenizer("Your cat is a lovely cat", return_tensors="pt"),
                           output_attentions=True)
    np.testing.assert_allclose(shown, out.attentions[1][0, 2].numpy(), atol=1e-6)
    heads = page.get("plotly_chart")
    assert any("[CLS] (special)" in json.dumps(json.loads(h.proto.spec)["data"][0].get("x", []))
               for h in heads)


def test_bad_inputs_give_messages_not_tracebacks(page):
    page.text_input(key="attention_sentence").set_value("   ").run()
    assert not page.exception and "at least one word" in warnings(page)
    page.text_area(key="attention_real_text").set_value("").run()
    assert not page.exception and "Type a sentence" in warnings(page)
    page.text_area(key="attention_real_text").set_value("The cat sat on the mat. " * 210).run()
    assert not page.exception
    assert "accepts 512" in warnings(page) and f"first {attention_models.DISPLAY_TOKEN_LIMIT} tokens" in warnings(page)


def test_emoji_cjk_rtl_and_html_render_safely(page):
    text = "猫が好き 🐈 القطة جميلة </script><img src=x onerror=alert(1)>"
    page.text_input(key="attention_sentence").set_value(text).run()
    page.text_area(key="attention_real_text").set_value(text).run()
    assert not page.exception
    assert charts(page)["Attention weights softmax(scores)"].shape[0] > 10
    for view in ("head", "model"):
        page.segmented_control(key="attention_bertviz_view").set_value(view).run()
        (doc,) = iframes(page)
        assert "<img" not in doc and r"\u003c" in doc  # the tokens' "<" arrive escaped


@pytest.mark.slow
def test_decoder_is_causal_and_generates_token_by_token(page):
    page.radio(key="attention_role").set_value("decoder").run()
    assert not page.exception
    title = next(t for t in charts(page) if t.startswith("SmolLM2") and "layer 1" in t)
    weights = charts(page)[title]
    assert weights.shape == (6, 6) and np.triu(weights, 1).max() == 0
    page.slider(key="attention_new_tokens").set_value(3).run()
    page.button(key="attention_generate").click().run()
    assert not page.exception
    steps = page.session_state["attention_steps"]
    assert len(steps) == 3 and all(s.token == s.candidates[0] for s in steps)
    bars = charts(page)[f"Step 3: chose {steps[2].token!r} (p = {steps[2].chosen_probability:.1%})"]
    assert bars["x"][0] == pytest.approx(steps[2].chosen_probability)
