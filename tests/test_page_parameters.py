"""The parameters lesson page, driven through AppTest."""
import base64
import json

import numpy as np
import pytest
from shipped_configs import config, transformers_total

pytestmark = pytest.mark.slow  # the first run imports transformers and counts every shipped model


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def plotly_specs(at):
    return {c.proto.id: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def array(encoded):
    """Plotly 6 sends numeric arrays base64-encoded."""
    if isinstance(encoded, dict):
        return np.frombuffer(base64.b64decode(encoded["bdata"]), dtype=encoded["dtype"]).tolist()
    return encoded


def chart_types(at):
    return {trace["type"] for spec in plotly_specs(at).values() for trace in spec["data"]}


def test_bert_large_shows_its_blocks_and_a_treemap(open_page):
    from lib import parameters

    at = open_page("parameters", timeout=180)
    assert not at.exception
    assert metric(at, "Exact parameters") == f"{transformers_total('bert-base-uncased', 'BertModel'):,}"  # BERT-Base first
    bert = parameters.KNOWN_BY_KEY["bert-base-uncased"]
    intro = (f'A "{bert.published / 1e6:.0f}-million-parameter model" ({bert.title} as its paper rounds it; '
             f"{transformers_total(bert.key, 'BertModel'):,} when counted exactly)")
    assert any(intro in m.value for m in at.markdown)
    at.selectbox(key="parameters_model").set_value("bert-large-uncased").run()
    assert not at.exception and not at.error
    total = transformers_total("bert-large-uncased", "BertModel")
    assert metric(at, "Exact parameters") == f"{total:,}"
    c = config("bert-large-uncased")
    L, H, F = c["num_hidden_layers"], c["hidden_size"], c["intermediate_size"]
    table = at.dataframe[0].value.set_index("group")
    assert table.loc["attention", "exact"] == L * (4 * H**2 + 4 * H)
    assert table.loc["attention", "formula"] == "L × (4·H² + 4·H)"
    assert (table["exact"] == table["formula value"]).all()
    layer = next(d.value for d in at.dataframe if "shape in symbols" in d.value.columns)
    one_layer = 4 * H**2 + 4 * H + 2 * H * F + F + H + 2 * 2 * H  # Q, K, V, O, the FFN and two norms of one layer
    assert layer["parameters"].sum() == one_layer
    assert {"query projection Q", "key projection K", "value projection V", "attention output O"} <= set(layer["part"])
    assert any(f"{L} × {one_layer:,} = {L * one_layer:,}" in c.value for c in at.caption)
    rounding = next(d.value for d in at.dataframe if "part" in d.value.columns and "tensor" not in d.value.columns)
    assert rounding.set_index("part")["parameters"].sum() == total
    assert {"treemap", "bar", "sunburst"} <= chart_types(at)
    timeline = {label: value for s in plotly_specs(at).values() for t in s["data"] if t.get("orientation") == "h"
                for label, value in zip(t["y"], array(t["x"]))}
    assert timeline["GPT-3 175B (2020)"] == parameters.formula_total(parameters.GPT3)
    assert timeline["BERT-Large (2018)"] == total
    treemap = next(t for s in plotly_specs(at).values() for t in s["data"] if t["type"] == "treemap")
    assert sum(v for v, p in zip(array(treemap["values"]), treemap["parents"]) if p == "BERT-Large") == total


def test_builder_presets_paths_and_bad_input(open_page):
    from lib import parameters

    at = open_page("parameters", timeout=180)
    assert metric(at, "Parameters") == f"{transformers_total('gpt2', 'GPT2LMHeadModel'):,}"  # starts as GPT-2 small
    at.selectbox(key="parameters_preset").set_value("Original Transformer (2017)").run()
    assert metric(at, "Parameters") == f"{parameters.formula_total(parameters.ORIGINAL_TRANSFORMER):,}"
    assert metric(at, "Counted by") == "formula"
    assert any(m.label == "Quoted for this model" and m.value == "65.0M" for m in at.metric)
    course_row = next(d.value for d in at.dataframe if "one head Q,K,V" in d.value.columns).iloc[0]
    assert course_row["course block (one head + output)"] == 360_448
    assert course_row["all heads Q,K,V,O weights"] == 1_048_576
    at.selectbox(key="parameters_preset").set_value("GPT-3 175B (2020)").run()
    assert metric(at, "Parameters") == f"{parameters.formula_total(parameters.GPT3):,}"
    assert metric(at, "Counted by") == "meta device"
    at.slider(key="parameters_heads").set_value(7).run()
    assert not at.exception and any("do not divide" in e.value for e in at.error)
    at.slider(key="parameters_heads").set_value(128).run()
    at.slider(key="parameters_layers").set_value(0).run()
    assert not at.exception and any("at least one layer" in e.value for e in at.error)
    at.slider(key="parameters_layers").set_value(128)
    at.slider(key="parameters_hidden").set_value(16_384)
    at.number_input(key="parameters_vocab").set_value(10**9).run()
    assert not at.exception and any("ten trillion" in e.value for e in at.error)


def test_tied_head_memory_and_compare(open_page):
    at = open_page("parameters", timeout=180)
    memory = next(d.value for d in at.dataframe if "bytes per parameter" in d.value.columns).set_index("use")
    llama = transformers_total("llama-7b", "LlamaForCausalLM")
    assert memory.loc["inference, fp16", "GiB"] == pytest.approx(llama * 2 / 2**30)  # LLaMA 7B
    fits = next(d.value for d in at.dataframe if "T4 16 GB" in d.value.columns)
    # the T4's 16 GB are 16e9 bytes (14.9 GiB): 12.6 GiB of fp16 weights leave under the 20% kept for activations
    t4_gib, fp16_gib = 16e9 / 2**30, llama * 2 / 2**30
    assert fp16_gib <= t4_gib < fp16_gib * 1.2
    assert fits.loc["inference, fp16", "T4 16 GB"] == "tight"
    assert fits.loc["inference, fp32", "T4 16 GB"] == "no"
    at.selectbox(key="parameters_memory_model").set_value("__build__").run()
    gpt2, c = transformers_total("gpt2", "GPT2LMHeadModel"), config("gpt2")
    assert any(f"{gpt2:,} parameters" in m.value for m in at.markdown)  # the builder's GPT-2 small
    at.selectbox(key="parameters_model").set_value("gpt2").run()
    assert metric(at, "Exact parameters") == f"{gpt2:,}"
    assert any(f"{gpt2 + c['vocab_size'] * c['n_embd']:,}" in i.value for i in at.info)  # the tied head counted twice
    at.multiselect(key="parameters_compare").set_value([]).run()
    assert any("at least one model" in w.value for w in at.warning)


def test_the_memory_panel_follows_the_builder_and_says_when_it_is_invalid(open_page):
    at = open_page("parameters", timeout=180)
    at.selectbox(key="parameters_memory_model").set_value("__build__")
    at.slider(key="parameters_layers").set_value(24).run()
    built = metric(at, "Parameters")
    assert built != f"{transformers_total('gpt2', 'GPT2LMHeadModel'):,}"
    assert any(f"{built} parameters" in m.value for m in at.markdown)
    assert config("gpt2")["n_embd"] % 7  # 7 heads do not divide GPT-2's H
    at.slider(key="parameters_heads").set_value(7).run()
    assert any("do not divide" in e.value for e in at.error)
    assert any("not a model" in w.value for w in at.warning)
    assert not any(f"{built} parameters" in m.value for m in at.markdown)  # the last valid count is not kept
    assert not [d for d in at.dataframe if "bytes per parameter" in d.value.columns]


def test_the_detected_gpu_gets_its_own_column(open_page, monkeypatch):
    from lib import device_policy

    report = {"device": "cpu", "cuda": True, "mps": False, "gpu_name": "NVIDIA L4", "gpu_memory_gb": 22.0}
    monkeypatch.setattr(device_policy, "device_report", lambda: report)
    at = open_page("parameters", timeout=180)
    assert not at.exception
    fits = next(d.value for d in at.dataframe if "T4 16 GB" in d.value.columns)
    assert fits.loc["inference, fp16", "this machine: NVIDIA L4"] == "fits"  # LLaMA 7B in fp16 on 22 GB
    assert fits.loc["inference, fp32", "this machine: NVIDIA L4"] == "no"


def test_a_shared_link_restores_the_view(open_page):
    at = open_page("parameters", timeout=180)
    at.selectbox(key="parameters_model").set_value("roberta-base")
    at.multiselect(key="parameters_compare").set_value(["gpt2", "t5-small"])
    at.slider(key="parameters_layers").set_value(24)
    at.selectbox(key="parameters_memory_model").set_value("llama-13b").run()
    link = dict(at.query_params)
    assert link == {"model": "roberta-base", "compare": "gpt2,t5-small", "layers": "24", "memory": "llama-13b"}
    opened = open_page("parameters", timeout=180, query=link)
    assert not opened.exception and not opened.info
    assert opened.selectbox(key="parameters_model").value == "roberta-base"
    assert opened.multiselect(key="parameters_compare").value == ["gpt2", "t5-small"]
    assert opened.slider(key="parameters_layers").value == 24
    for label in ("Exact parameters", "Parameters"):
        assert metric(opened, label) == metric(at, label)
    assert dict(opened.query_params) == link


def test_malformed_links_and_presets(open_page):
    from lib import parameters

    at = open_page("parameters", timeout=180, query={"seed": "abc", "layers": "999", "memory": "x" * 10_240})
    assert not at.exception
    notice = at.info[0].value
    assert "`seed` is not a setting" in notice and "outside 0–128" in notice and "too long" in notice
    assert dict(at.query_params) == {}  # the link is cleaned
    assert at.slider(key="parameters_layers").value == config("gpt2")["n_layer"]  # the builder's GPT-2 small
    next(b for b in at.button if b.label == "Build GPT-3").click().run()
    assert metric(at, "Parameters") == f"{parameters.formula_total(parameters.GPT3):,}"
    assert dict(at.query_params)["layers"] == "96" and dict(at.query_params)["memory"] == "__build__"


def test_checkpoint_feedback_and_new_questions(open_page):
    from lib import checkpoints, progress

    at = open_page("parameters", timeout=180)
    first = checkpoints.questions("parameters", 1)
    at.text_input(key="parameters_a1_1").input(f"{first[0].answer:,}")
    checks = [b for b in at.button if b.label == "Check"]
    checks[0].click().run()
    at.radio(key="parameters_a2_1").set_value(next(o for o in first[1].options if o != first[1].answer))
    checks = [b for b in at.button if b.label == "Check"]
    checks[1].click().run()
    assert [s.value for s in at.success] == ["Correct."]
    assert any("Not quite" in e.value for e in at.error)
    assert at.session_state["progress"]["parameters"] == progress.record(1, 5, 1)
    next(b for b in at.button if b.label == "New questions").click().run()
    seed = int(at.query_params["quiz"])
    assert seed != 1 and at.session_state["parameters_quiz_seed"] == seed
    assert at.session_state["progress"]["parameters"]["first_try"] == 1  # the first set answered stays the score


def test_charts_and_widgets_are_labelled(open_page):
    from accessibility import chart_problems, widget_label_problems

    at = open_page("parameters", timeout=180)
    assert chart_problems(at) == []
    assert widget_label_problems(at) == []
