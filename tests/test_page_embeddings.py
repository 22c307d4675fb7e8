"""AppTest of the contextual embeddings lesson."""
import json

import numpy as np
from accessibility import chart_problems, widget_label_problems
from plotly_arrays import array
from shipped_configs import config

from lib import checkpoints

TIMEOUT = 180
UMBRELLA = "Bring an umbrella: the forecast says showers this evening."


def similarity(app) -> np.ndarray:
    """The cosine matrix the heatmap draws (plotly ships it as typed binary)."""
    spec = json.loads(next(c for c in app.get("plotly_chart") if "Cosine similarity" in c.proto.spec).proto.spec)
    return array(spec["data"][0]["z"]).reshape(len(spec["data"][0]["y"]), -1)


def test_page_shows_shape_bank_matrix_and_search(open_page, minilm):
    app = open_page("embeddings", timeout=TIMEOUT)
    assert not app.exception, app.exception
    layers, hidden = minilm.model.config.num_hidden_layers, minilm.model.config.hidden_size
    course = config("bert-base-uncased")
    metric = {m.label: m.value for m in app.metric}
    assert metric["last_hidden_state.shape (batch, tokens, hidden_size)"] == f"(1, 11, {hidden})"
    within, across = (float(metric[f"{kind} sense{'s' if kind == 'Different' else ''}: mean cosine"])
                      for kind in ("Same", "Different"))
    assert within > across
    hits = app.dataframe[-1].value
    assert "umbrella" in hits["sentence"].iloc[0] or "rain" in hits["sentence"].iloc[0]
    assert chart_problems(app) == [] and widget_label_problems(app) == []
    text = " ".join(m.value for m in app.markdown)
    for stated in (f"a {layers}-layer BERT-style encoder", f"MiniLM's hidden size is {hidden}", "into the same 11 tokens",
                   f"vocabulary of {course['vocab_size']:,} tokens", f"so it prints `(1, 11, {course['hidden_size']})`",
                   "taken from 3 sentences about a river", f"squeezes the {hidden} dimensions",
                   "here, 30 short sentences", "The 30 sentences searched"):
        assert stated in text + " ".join(e.label for e in app.expander), stated
    mean = float(metric["Static vs contextual: mean cosine"])
    assert mean < 0.5 and f"{layers} layers of attention have moved the word far from where it started" in text
    assert not any("{{" in m.value for m in app.markdown)

    app.text_input(key="embeddings_sentence").input("We had a picnic on the bank of the stream.").run()
    assert not app.exception
    assert "picnic" in app.dataframe[0].value["sentence"].iloc[-1]

    app.text_input(key="embeddings_word").input("zebra").run()
    assert "does not appear" in app.warning[0].value

    app.text_input(key="embeddings_query").input("   ").run()
    assert any("Type a question" in w.value for w in app.warning)


def test_hostile_text_gives_messages_not_hangs(open_page):
    app = open_page("embeddings", timeout=TIMEOUT)
    app.text_input(key="embeddings_word").input("   ").run()  # an empty word once looped forever
    assert not app.exception and "Type a word to follow." in app.warning[0].value
    app.text_input(key="embeddings_word").input("bank")
    script = "<img src=x onerror=alert(1)> the bank <script>alert(2)</script>"
    app.text_input(key="embeddings_sentence").input(script + " x" * 5_000).run()
    assert not app.exception
    assert app.dataframe[0].value["sentence"].iloc[-1] == (script + " x" * 5_000)[:500]  # shown as text, cut
    app.text_input(key="embeddings_query").input("rain? " * 2_000).run()
    assert not app.exception and len(app.dataframe[-1].value) == 5


def test_a_shared_link_restores_the_view(open_page):
    app = open_page("embeddings", timeout=TIMEOUT)
    app.text_input(key="embeddings_sentence").input("The bank was closed on Sunday.")
    app.text_input(key="embeddings_query").input("Who won the tennis match?").run()
    link = dict(app.query_params)
    assert link == {"mine": "The bank was closed on Sunday.", "q": "Who won the tennis match?"}
    opened = open_page("embeddings", timeout=TIMEOUT, query=link)
    assert not opened.exception and not opened.info
    for key in ("embeddings_word", "embeddings_sentence", "embeddings_query"):
        assert opened.text_input(key=key).value == app.text_input(key=key).value
    np.testing.assert_array_equal(similarity(opened), similarity(app))
    assert opened.dataframe[-1].value.equals(app.dataframe[-1].value)
    assert dict(opened.query_params) == link


def test_malformed_links_presets_and_checkpoint(open_page):
    app = open_page("embeddings", timeout=TIMEOUT, query={"seed": "abc", "quiz": "0", "word": "x" * 10_240})
    assert not app.exception
    (notice,) = [i.value for i in app.info]
    for reason in ("`seed` is not a setting", "`quiz=0` is outside 1–999999", "`word` is too long (10,240"):
        assert reason in notice
    assert app.text_input(key="embeddings_word").value == "bank"

    app.button(key="embeddings_preset_Meaning, not shared words").click().run()
    assert dict(app.query_params) == {"q": "Is it going to be wet outside tonight?"}
    assert app.dataframe[-1].value["sentence"].iloc[0] == UMBRELLA  # no word in common with the query
    app.button(key="embeddings_preset_A river bank of my own").click().run()
    assert dict(app.query_params)["mine"] == "We had a picnic on the grassy bank of the stream."
    yours = similarity(app)[-1]
    assert sum(yours[:3]) > sum(yours[3:6])  # the new sentence sits with the river sentences

    first = checkpoints.questions("embeddings", 1)[0]
    app.text_input(key="embeddings_a1_1").input(f"{first.answer:,}")
    next(b for b in app.button if b.label == "Check").click().run()
    assert [s.value for s in app.success] == ["Correct."]
