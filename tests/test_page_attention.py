"""AppTest of the attention lesson: real values on the page, bad input handled."""
import json
import math
import re

import numpy as np
import pytest
import torch
from plotly_arrays import array, chart_title
from shipped_configs import config

from lessons.widgets.attention import PRONOUN
from lib import attention as att
from lib import attention_models, course, model_registry, sampling

TIMEOUT = 240


def charts(app) -> dict:
    """Every Plotly chart on the page by title -> its first trace's z (or the trace)."""
    found = {}
    for element in app.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        trace = spec["data"][0]
        z = trace.get("z")
        found[chart_title(spec)] = array(z) if z is not None else trace
    return found


def iframes(app) -> list[str]:
    return [element.proto.srcdoc for element in app.get("iframe")]


def warnings(app) -> str:
    return " ".join(w.value for w in app.warning)


def open_tabs(app, **labels):
    """Open tabs (by key) the way a click does: only an open tab's content runs."""
    for key, label in labels.items():
        app.session_state[key] = label
    app.run()
    assert not app.exception, app.exception
    return app


SOFTMAX = {"attention_step_tab": "softmax"}


@pytest.fixture
def page(open_page):
    app = open_page("attention", timeout=TIMEOUT)
    assert not app.exception, app.exception
    return open_tabs(app, **SOFTMAX)


def test_closed_tabs_and_bertviz_send_nothing_until_opened(open_page):
    app = open_page("attention", timeout=TIMEOUT)
    shown = charts(app)
    assert "Embeddings X (one row per word)" in shown and "Sinusoidal positional encoding" in shown
    assert real_title(1, "average over heads") in shown and not iframes(app)
    for hidden in ("Attention weights softmax(scores)", "Head 1", "Shuffled sentence, no positions",
                   "Mean attention to [CLS]"):
        assert hidden not in shown
    open_tabs(app, attention_step_tab="softmax", attention_masks_tab="Multi-head attention",
              attention_position_tab="Shuffle test", attention_heads_tab_encoder="What every head attends to",
              attention_bertviz_open=True)
    shown = charts(app)
    for opened in ("Attention weights softmax(scores)", "Head 1", "Shuffled sentence, no positions"):
        assert opened in shown
    assert "Embeddings X (one row per word)" not in shown and any(t.startswith("Mean attention") for t in shown)
    assert len(iframes(app)) == 1


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
    open_tabs(page, attention_step_tab="÷ √d_k")
    assert np.isnan(np.triu(charts(page)["Scaled scores Q·Kᵀ / √d_k"], 1)[0, 1])  # shown as "masked"


def test_dot_products_weighted_sums_and_positions_show_computed_values(page):
    table = next(d.value for d in page.dataframe if "dot" in d.value.columns)
    assert table["dot"].to_dict() == {"v1": 24, "v2": 19, "v3": 0, "v4": -18}
    page.number_input(key="attention_v4_x").set_value(2.0).run()
    table = next(d.value for d in page.dataframe if "dot" in d.value.columns)
    assert table.loc["v4", "dot"] == 3 * 2 + 4 * -3

    open_tabs(page, attention_step_tab="weights·V", attention_position_tab="Shuffle test")
    page.selectbox(key="attention_row").set_value(1).run()
    terms = charts(page)["Output of '2 cat' = Σ weight × value"]
    np.testing.assert_allclose(terms[:-1].sum(0), terms[-1], atol=1e-9)

    shown = charts(page)
    np.testing.assert_allclose(shown["Shuffled sentence, no positions"],
                               shown["Original weights, rows and columns shuffled"], atol=1e-9)
    assert shown["Shuffled sentence, no positions"].shape == (6, 6)
    table = next(d.value for d in page.dataframe if "without positions" in d.value.index)
    change = table.iloc[:, 0]
    assert change["without positions"] < 1e-9 < 1e-3 < change["with positions"]


def test_real_encoder_heatmap_is_the_models_attention(page, minilm):
    page.slider(key="attention_layer_encoder").set_value(2).run()
    page.selectbox(key="attention_head_encoder").set_value(3).run()
    shown = charts(page)[real_title(2, 3)]
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
    page.text_input(key="attention_sentence").set_value("word " * 30).run()
    assert f"first {att.MAX_TOY_WORDS} of your 30 words" in warnings(page)
    open_tabs(page, **SOFTMAX)  # the steps' tabs were gone while the sentence was empty
    assert charts(page)["Attention weights softmax(scores)"].shape == (att.MAX_TOY_WORDS, att.MAX_TOY_WORDS)
    page.text_area(key="attention_real_text").set_value("").run()
    assert not page.exception and "Type a sentence" in warnings(page)
    assert any(h.value == "Checkpoint" for h in page.header)  # the rest of the lesson still runs
    page.text_input(key="attention_prompt").set_value("   ")
    page.button(key="attention_generate").click().run()
    assert not page.exception and "Type a prompt first." in warnings(page)
    page.text_area(key="attention_real_text").set_value("The cat sat on the mat. " * 210).run()
    assert not page.exception
    accepts = f"accepts {config('all-MiniLM-L6-v2')['max_position_embeddings']}"  # what MiniLM's config allows
    assert accepts in warnings(page) and f"first {attention_models.DISPLAY_TOKEN_LIMIT} tokens" in warnings(page)


def test_emoji_cjk_rtl_and_html_render_safely(page):
    text = "猫が好き 🐈 القطة جميلة </script><img src=x onerror=alert(1)>"
    page.text_input(key="attention_sentence").set_value(text).run()
    page.text_area(key="attention_real_text").set_value(text).run()
    assert not page.exception
    assert charts(page)["Attention weights softmax(scores)"].shape[0] > 10
    open_tabs(page, attention_bertviz_open=True)
    for view in ("head", "model", "neuron"):
        page.segmented_control(key="attention_bertviz_view").set_value(view).run()
        (doc,) = iframes(page)
        assert "<img" not in doc and r"\u003c" in doc  # the tokens' "<" arrive escaped


def test_every_run_sends_the_text_boxes_their_values(page):
    """A run after the first sends a widget's value only when it is assigned: the browser builds a
    text box it had not drawn yet from what the last run sent (it once reran with an empty box)."""
    typed = page.text_area(key="attention_real_text").value + " too"
    page.text_area(key="attention_real_text").set_value(typed).run()
    open_tabs(page, attention_bertviz_open=True)  # a run of sections 5-6 after the typing
    for _ in range(2):
        sent = page.text_area(key="attention_real_text").proto
        assert sent.set_value and sent.value == typed
        assert page.text_input(key="attention_sentence").proto.set_value
        page.segmented_control(key="attention_bertviz_view").set_value("model").run()


def test_the_first_screen_has_the_browser_to_itself_only_on_arrival(open_page, monkeypatch):
    """The page pauses after its first figure when a student arrives (so the browser draws it
    before the rest of the page), not on the reruns that follow, and again on coming back."""
    from lessons.widgets import common

    pauses = []
    monkeypatch.setattr(common, "time", type("Clock", (), {"sleep": staticmethod(pauses.append)}))
    monkeypatch.setattr(common, "FIRST_SCREEN_PAUSE_S", 0.4)
    app = open_page("attention", timeout=TIMEOUT)
    assert pauses == [0.4]
    app.text_input(key="attention_sentence").set_value("the dog sat").run()
    open_tabs(app, **SOFTMAX)
    assert pauses == [0.4] and not app.exception
    app.switch_page(course.lesson("tokenizers").page).run()
    app.switch_page(course.lesson("attention").page).run()
    assert pauses == [0.4, 0.4] and not app.exception


def test_neuron_view_shows_the_models_queries_and_keys_for_the_picked_head(page, minilm):
    page.slider(key="attention_layer_encoder").set_value(4)
    page.selectbox(key="attention_head_encoder").set_value(2)
    open_tabs(page, attention_bertviz_open=True)
    page.segmented_control(key="attention_bertviz_view").set_value("neuron").run()
    assert not page.exception
    (doc,) = iframes(page)
    params = json.loads(re.search(r"window.bertviz_params = (.*?)\n", doc).group(1))
    assert (params["layer"], params["head"], params["bidirectional"]) == (3, 1, True)  # bertviz counts from 0
    assert any("layer 4, head 2; bertviz counts from 0" in c.value for c in page.caption)
    data = params["attention"]["all"]
    assert data["left_text"] == ["[CLS]", "your", "cat", "is", "a", "lovely", "cat", "[SEP]"]
    with torch.no_grad():
        out = minilm.model(**minilm.tokenizer(att.DEFAULT_SENTENCE, return_tensors="pt"), output_attentions=True)
    np.testing.assert_allclose(data["attn"][3][1], out.attentions[3][0, 1].numpy(), atol=5e-4)
    q, k = np.array(data["queries"][3][1]), np.array(data["keys"][3][1])  # (seq, d_head), 3 decimals
    scores = torch.from_numpy(q @ k.T / math.sqrt(q.shape[1]))
    np.testing.assert_allclose(torch.softmax(scores, -1).numpy(), out.attentions[3][0, 1].numpy(), atol=2e-3)


@pytest.mark.slow
def test_decoder_is_causal_and_generates_token_by_token(page):
    page.button(key="attention_preset_Causal vs bidirectional").click().run()
    assert not page.exception
    assert dict(page.query_params) == {"causal": "1", "role": "decoder"}
    assert page.radio(key="attention_role").value == "decoder"
    assert np.triu(charts(page)["Attention weights softmax(scores)"], 1).max() == 0  # the toy is causal too
    title = next(t for t in charts(page) if t.startswith("SmolLM2") and "layer 1" in t)
    weights = charts(page)[title]
    assert weights.shape == (6, 6) and np.triu(weights, 1).max() == 0
    open_tabs(page, attention_bertviz_open=True)
    page.segmented_control(key="attention_bertviz_view").set_value("neuron").run()
    assert not iframes(page) and any("rotates them by position" in i.value for i in page.info)
    page.slider(key="attention_new_tokens").set_value(3).run()
    page.button(key="attention_generate").click().run()
    assert not page.exception
    steps = page.session_state["attention_generated"]["steps"]
    assert len(steps) == 3 and all(s.token == s.candidates[0] for s in steps)
    assert any(h.proto.body.startswith("<p><b>The cat chased the mouse and</b>") for h in page.get("html"))
    bars = charts(page)[f"Step 3: chose {steps[2].token!r} (p = {steps[2].chosen_probability:.1%})"]
    assert bars["x"][0] == pytest.approx(steps[2].chosen_probability)


def test_generated_tokens_are_shown_only_with_their_prompt_and_as_text(open_page):
    link = "[click](https://evil.example)"
    page = open_page("attention", timeout=TIMEOUT, query={"prompt": f"**{link}**"})
    step = sampling.GenerationStep(0, f" <i>{link}", [f" <i>{link}"], [1.0], 1.0)
    page.session_state["attention_generated"] = {"prompt": f"**{link}**", "steps": [step, step]}
    page.run()
    assert not page.exception
    assert not [m for kind in ("markdown", "caption", "info", "warning") for m in getattr(page, kind)
                if "evil.example" in m.value]  # the prompt and the tokens never reach Markdown
    (shown,) = [h.proto.body for h in page.get("html") if "evil.example" in h.proto.body]
    assert shown == f"<p><b>**{link}**</b> &lt;i&gt;{link} &lt;i&gt;{link}</p>"
    assert any(t.startswith("Step 2: chose") for t in charts(page))
    page.text_input(key="attention_prompt").set_value("The dog").run()  # edited after generating
    assert not [h for h in page.get("html") if "evil.example" in h.proto.body]
    assert not [t for t in charts(page) if t.startswith("Step ")]
    assert any("prompt changed" in i.value for i in page.info)


def test_the_shuffle_demo_uses_section_2s_settings_and_the_text_states_the_models_shapes(page):
    page.select_slider(key="attention_d_model").set_value(16)
    page.select_slider(key="attention_d_k").set_value(8)
    page.number_input(key="attention_seed").set_value(5)
    open_tabs(page, attention_position_tab="Shuffle test")
    words = att.split_words(att.DEFAULT_SENTENCE)
    permuted, reordered = att.shuffled_attention(words, list(range(len(words)))[::-1], 16, 8, 5, positions=False)
    np.testing.assert_array_equal(charts(page)["Shuffled sentence, no positions"], permuted.numpy())
    np.testing.assert_array_equal(charts(page)["Original weights, rows and columns shuffled"], reordered.numpy())
    assert any("d_model = 16, d_k = 8, seed 5" in h.proto.body for h in page.get("html"))
    shape = attention_models.bundled_shapes()
    stated = (f"{shape['encoder_layers']}-layer BERT-style *encoder* with {shape['encoder_heads']} heads",
              f"{shape['decoder_layers']}-layer GPT-style *decoder* with {shape['decoder_heads']} heads")
    assert any(all(phrase in m.value for phrase in stated) for m in page.markdown)


def real_title(layer: int, head) -> str:
    return f"{model_registry.REGISTRY['minilm'].title}: layer {layer}, head {head}"


def test_a_shared_link_restores_the_view(page, open_page):
    page.text_input(key="attention_sentence").set_value("The cat chased the mouse")
    page.select_slider(key="attention_d_k").set_value(8)
    page.number_input(key="attention_seed").set_value(7)
    page.toggle(key="attention_causal").set_value(True)
    page.number_input(key="attention_v1_x").set_value(-1.0)
    page.text_area(key="attention_real_text").set_value("We sat on the bank of the river.").run()
    page.slider(key="attention_layer_encoder").set_value(5)
    page.selectbox(key="attention_head_encoder").set_value(7).run()
    link = dict(page.query_params)
    assert link == {"s": "The cat chased the mouse", "dk": "8", "seed": "7", "causal": "1", "v1x": "-1.0",
                    "text": "We sat on the bank of the river.", "layer": "5", "head": "7"}
    opened = open_tabs(open_page("attention", timeout=TIMEOUT, query=link), **SOFTMAX)
    assert not opened.info
    for kind, key in [("text_input", "attention_sentence"), ("select_slider", "attention_d_k"),
                      ("number_input", "attention_seed"), ("toggle", "attention_causal"),
                      ("number_input", "attention_v1_x"), ("text_area", "attention_real_text"),
                      ("slider", "attention_layer_encoder"), ("selectbox", "attention_head_encoder")]:
        assert getattr(opened, kind)(key=key).value == getattr(page, kind)(key=key).value
    for title in ("Attention weights softmax(scores)", real_title(5, 7)):
        np.testing.assert_array_equal(charts(opened)[title], charts(page)[title])
    assert next(d.value for d in opened.dataframe if "dot" in d.value.columns).loc["v1", "dot"] == -3 + 4 * 3
    assert dict(opened.query_params) == link


def test_top_p_sits_beside_top_k_and_travels_in_the_link(open_page):
    link = {"sample": "1", "topk": "5", "topp": "0.5"}
    page = open_page("attention", timeout=TIMEOUT, query=link)
    assert not page.exception and not page.info
    top_p = page.slider(key="attention_top_p")
    assert top_p.value == 0.5 and not top_p.disabled and page.slider(key="attention_top_k").value == 5
    assert dict(page.query_params) == link


def test_malformed_links_are_ignored_with_one_notice(open_page, minilm):
    at = open_page("attention", timeout=TIMEOUT,
                   query={"seed": "abc", "layer": "999", "s": "x" * 10_240, "enc": "../../etc/passwd", "head": "30"})
    assert not at.exception
    (notice,) = [i.value for i in at.info]
    for reason in ("`seed=abc` is not a whole number", "`layer=999` is outside 1–64", "`s` is too long (10,240",
                   "`enc=../../etc/passwd` is not one of the choices"):
        assert reason in notice
    assert at.number_input(key="attention_seed").value == 0
    assert at.text_input(key="attention_sentence").value == "Your cat is a lovely cat"
    assert at.selectbox(key="attention_encoder_model").value == "minilm"
    # head 30 is a valid link value, but MiniLM has fewer heads: the page shows the nearest one and says so
    heads = minilm.model.config.num_attention_heads
    assert heads < 30 and at.selectbox(key="attention_head_encoder").value == heads
    assert any("moved to the nearest" in c.value for c in at.caption)
    assert real_title(1, heads) in charts(at)


def test_presets_set_the_view_and_the_link(page, minilm):
    page.button(key="attention_preset_Pronoun resolution").click().run()
    assert not page.exception
    assert dict(page.query_params) == {"s": PRONOUN, "text": PRONOUN, "layer": "4", "head": "2"}
    tokens = ["[CLS]", *minilm.tokenizer.tokenize(PRONOUN), "[SEP]"]
    weights = charts(page)[real_title(4, 2)]
    assert weights[tokens.index("it")].argmax() == tokens.index("animal")

    page.button(key="attention_preset_Repeated word").click().run()
    assert dict(page.query_params) == {"seed": "44", "layer": "3", "head": "10"}
    toy = charts(page)["Attention weights softmax(scores)"]
    assert toy[5].argmax() in (1, 5) and toy[5, 1] == pytest.approx(toy[5, 5])  # the 2nd "cat" looks at both
    assert charts(page)[real_title(3, 10)][6].argmax() == 2  # [CLS] your cat … cat: the second finds the first


def test_checkpoint_and_accessibility(page):
    from accessibility import chart_problems, widget_label_problems

    from lib import checkpoints

    assert chart_problems(page) == [] and widget_label_problems(page) == []
    assert [h.value.split(".")[0] for h in page.header if h.value[0].isdigit()] == [str(n) for n in range(1, 8)]
    first = checkpoints.questions("attention", 1)[0]
    page.text_input(key="attention_a1_1").input(str(first.answer))
    next(b for b in page.button if b.label == "Check").click().run()
    assert [s.value for s in page.success] == ["Correct."]
    assert page.session_state["progress"]["attention"]["first_try"] == 1
