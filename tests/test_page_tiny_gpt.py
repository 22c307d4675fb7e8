"""AppTest: the tiny-GPT lesson — training and generation, own text, shared links, presets, checkpoint."""
import json

import pytest
from accessibility import chart_problems, widget_label_problems
from plotly_arrays import chart_title
from shipped_configs import transformers_total

from lib import checkpoints, parameters, tiny_gpt


def model_size(at) -> str:
    return next(m.value for m in at.markdown if "parameters** —" in m.value)


@pytest.mark.slow
def test_tiny_gpt_page_trains_and_generates(open_page):
    at = open_page("tiny_gpt", timeout=600)
    assert not at.exception
    assert at.metric[0].value == f"{transformers_total('gpt2', 'GPT2LMHeadModel'):,}"
    recorded = tiny_gpt.recorded_run()  # the first screen before training: the recorded run, said so
    assert at.caption[0].value.startswith("**Recorded run**, not yours")
    samples = at.select_slider(key="gpt_sample_step")
    assert samples.options == [str(p.step) for p in recorded.history if p.val_loss is not None]
    assert samples.value == recorded.config.max_steps and at.code[0].value == recorded.history[-1].sample
    samples.set_value(recorded.config.eval_every).run()
    assert at.code[0].value == recorded.history[recorded.config.eval_every - 1].sample
    at.select_slider(key="gpt_embd").set_value(32)
    at.slider(key="gpt_layers").set_value(1)
    at.slider(key="gpt_steps").set_value(50)
    at.select_slider(key="gpt_every").set_value(25)
    at.button(key="gpt_train").click().run()
    assert not at.exception, at.exception
    assert any("unigram" in m.value for m in at.markdown)
    assert at.code[-1].value.startswith("The ")
    assert not any("Recorded run" in c.value for c in at.caption)
    assert chart_problems(at) == [] and widget_label_problems(at) == []
    snapshots = at.select_slider(key="gpt_snapshot")  # 4 · Watch it learn: scrub back to the untrained model
    assert snapshots.options[0] == "0" and snapshots.value == 50
    snapshots.set_value(0).run()
    assert at.caption[0].value == "**Your run**, trained in this session."
    assert at.select_slider(key="gpt_sample_step").options == ["25", "50"]  # the student's run replaced it
    titles = [chart_title(json.loads(c.proto.spec)) for c in at.get("plotly_chart")]
    assert {"Step 0: the next character each layer would predict (logit lens)",
            "Layer 1 head 0: where each character looks (step 0)"} <= set(titles)
    assert any(t.startswith("Character embeddings, step 0") for t in titles)
    at.slider(key="gpt_top_p").set_value(0.5).run()
    assert not at.exception and dict(at.query_params)["topp"] == "0.5"
    at.text_input(key="gpt_prompt").input("<script>日本").run()  # no character of the corpus's vocabulary
    assert not at.exception and at.code[-1].value.startswith("<script>日本")


@pytest.mark.parametrize("text, message", [("too short", "at least"), ("   \n\t  ", "empty")])
def test_tiny_gpt_refuses_unusable_text(open_page, text, message):
    at = open_page("tiny_gpt")
    at.radio(key="gpt_source").set_value("My own text").run()
    at.text_area(key="gpt_text").set_value(text).run()
    assert not at.exception
    assert message in at.warning[0].value


def test_script_text_is_a_corpus_like_any_other(open_page):
    at = open_page("tiny_gpt")
    at.radio(key="gpt_source").set_value("My own text").run()
    text = "<script>alert('x')</script> <img src=x onerror=alert(1)>\n" * 60
    at.text_area(key="gpt_text").set_value(text).run()
    assert not at.exception and not at.warning
    assert f"**{len(text):,} characters**, a vocabulary of **{len(set(text))} characters**" in model_size(at)


def test_a_shared_link_restores_the_view(open_page):
    at = open_page("tiny_gpt")
    at.slider(key="gpt_layers").set_value(1)
    at.select_slider(key="gpt_heads").set_value(2)
    at.select_slider(key="gpt_embd").set_value(64)
    at.select_slider(key="gpt_block").set_value(32)
    at.number_input(key="gpt_seed").set_value(7).run()
    link = dict(at.query_params)
    assert link == {"layers": "1", "heads": "2", "width": "64", "context": "32", "seed": "7"}
    opened = open_page("tiny_gpt", query=link)
    assert not opened.exception and not opened.info
    assert opened.slider(key="gpt_layers").value == 1 and opened.select_slider(key="gpt_heads").value == 2
    assert opened.select_slider(key="gpt_embd").value == 64 and opened.select_slider(key="gpt_block").value == 32
    assert opened.number_input(key="gpt_seed").value == 7
    assert model_size(opened) == model_size(at)
    assert opened.dataframe[0].value.equals(at.dataframe[0].value)
    assert dict(opened.query_params) == link


def test_malformed_link_preset_checkpoint_and_labels(open_page):
    at = open_page("tiny_gpt", query={"seed": "abc", "layers": "999", "prompt": "x" * 10_240})
    assert not at.exception
    (notice,) = [i.value for i in at.info]
    assert all(part in notice for part in ("`seed=abc` is not a whole number", "outside 1–4", "`prompt` is too long"))
    assert dict(at.query_params) == {}
    assert at.slider(key="gpt_layers").value == 2 and at.number_input(key="gpt_seed").value == 0
    assert at.metric[0].help == tiny_gpt.describe(parameters.count_known("gpt2").architecture)  # not typed in
    assert at.session_state["gpt_prompt"] == "The "

    next(b for b in at.button if b.label == "Quick demo: 1 layer, 200 steps").click().run()
    assert at.slider(key="gpt_layers").value == 1 and at.slider(key="gpt_steps").value == 200
    assert dict(at.query_params) == {"layers": "1", "heads": "2", "width": "64", "context": "32", "steps": "200",
                                     "every": "50"}

    first = checkpoints.questions("tiny_gpt", 1)[0]
    at.text_input(key="tiny_gpt_a1_1").input(f"{first.answer:,}")
    next(b for b in at.button if b.label == "Check").click().run()
    assert [s.value for s in at.success] == ["Correct."]
    assert chart_problems(at) == [] and widget_label_problems(at) == []
