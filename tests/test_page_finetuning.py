"""AppTest: the fine-tuning lesson — training on a tiny subset, uploads, shared links, presets, checkpoint."""
import json

import pytest
from accessibility import chart_problems, widget_label_problems
from plotly_arrays import array
from shipped_configs import config, transformers_total

from lessons.widgets import trained
from lib import checkpoints


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


FIRST_SCREEN = ("ft_first_curves", "ft_first_confusion")


def below_first_screen(at) -> list[str]:
    """The specs of the charts after the first screen (which always shows a confusion matrix)."""
    return [c.proto.spec for c in at.get("plotly_chart") if not c.proto.id.endswith(FIRST_SCREEN)]


def first_screen_confusion(at) -> list[list[int]]:
    return array(json.loads(next(c.proto.spec for c in at.get("plotly_chart")
                                 if c.proto.id.endswith("ft_first_confusion")))["data"][0]["z"]).tolist()


def upload(at, name: str, content: bytes):
    at.get("file_uploader")[0].set_value((name, content, "text/csv"))
    return at.run()


@pytest.mark.slow
def test_one_epoch_on_a_tiny_subset_shows_the_confusion_matrix(open_page):
    from sklearn.metrics import confusion_matrix

    from lib import finetuning as ft

    at = open_page("finetuning", timeout=600)
    assert not at.exception
    assert first_screen_confusion(at) == ft.recorded_run().confusion.tolist()
    assert any(c.value.startswith("**Recorded run**, not yours") for c in at.caption)
    at.slider(key="ft_epochs").set_value(1)
    at.slider(key="ft_limit").set_value(20)
    at.button(key="ft_train").click().run()
    assert not at.exception, at.exception
    titles = below_first_screen(at)
    assert any("Confusion matrix" in spec for spec in titles)
    result = at.session_state["ft_result"]  # the first screen now shows this run
    assert first_screen_confusion(at) == confusion_matrix(result["test"].labels, result["probs"].argmax(1)).tolist()
    assert any(c.value.startswith("**Your run**") for c in at.caption)
    assert [m.label for m in at.metric][-4:] == ["Accuracy", "Precision", "Recall", "F1"]
    kept = trained.store().get(at.session_state[trained.OWNER_KEY].session_id, "finetune_model")
    assert kept.model.config.num_labels == 2
    assert any("zero-shot" in c.value.lower() for c in at.caption)
    assert any("How far fine-tuning moved" in spec for spec in titles)  # section 5, MiniLM before and after
    assert any("The weights moved most in" in c.value for c in at.caption)
    assert chart_problems(at) == [] and widget_label_problems(at) == []

    at.button(key="ft_save").click().run()  # section 6: save_pretrained, the files, the reload
    assert not at.exception, at.exception
    files = next(d.value for d in at.dataframe if "holds" in d.value.columns)
    assert {"config.json", "model.safetensors", "tokenizer.json", "README.md"} <= set(files["file"])
    assert any("log-probabilities on these 5 texts is 0." in c.value for c in at.caption), [c.value for c in at.caption]
    assert at.get("download_button")
    assert any("push_to_hub is shown as code only" in c.value for c in at.caption)  # no Hub in the tests


@pytest.mark.slow
def test_a_stopped_run_keeps_its_curves_and_its_model(open_page, monkeypatch):
    import streamlit as st

    from lessons.widgets import common
    from lib import finetuning as ft

    def stopped_after_one_step(steps, total, label, on_step):  # what Stop does: a rerun in the middle of the run
        on_step(1, next(iter(steps)))
        st.rerun()

    at = open_page("finetuning", timeout=600)
    monkeypatch.setattr(common, "live_run", stopped_after_one_step)
    at.slider(key="ft_limit").set_value(20)
    at.button(key="ft_train").click().run()
    assert not at.exception, at.exception
    total = ft.training_steps(20, 16, 3, 0.1)[1]
    assert f"Stopped at step 1 of {total}" in at.warning[0].value
    result = at.session_state["ft_result"]
    assert not result["run"].finished and [log.step for log in result["run"].logs] == [1]
    assert any("Confusion matrix" in spec for spec in below_first_screen(at))  # the partial model, evaluated
    kept = trained.store().get(at.session_state[trained.OWNER_KEY].session_id, "finetune_model")
    assert kept is not None and "ft_running" not in at.session_state


def test_the_captions_say_what_holds(open_page):
    from lib import finetuning as ft

    at = open_page("finetuning")
    caption = next(c.value for c in at.caption if "reviews written for Glassbox" in c.value)
    assert "about products no training review mentions, and each has at least one sentence no training review " \
           "contains" in caption  # tests/test_finetune.py checks both against the data
    assert "products and sentences that no training review contains" not in caption
    small = ft.bundled_reviews()["train"].subset(ft.SWEEP_EXAMPLES, 0)
    assert any(f"full fine-tuning run on {len(small)} training examples" in m.value for m in at.markdown)
    assert len(small) == ft.SWEEP_EXAMPLES == 120


def test_bad_uploads_are_refused_with_a_message(open_page):
    at = open_page("finetuning")
    at.radio(key="ft_source").set_value("upload").run()
    assert "Upload a CSV" in at.info[0].value
    bad = {b"text,label\n" + b"same,1\n" * 30: "same label",
           "text,label\ncafé,1\n".encode("latin-1") + b"\xff\xfe,0\n": "not UTF-8",
           b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR": "not UTF-8",  # an image renamed .csv
           b"": "needs a header",
           b"review;stars\nnice;5\n": "needs a header",
           b"text,label\n" + b"a,0\nb,1\n" * 2_501: "limit here is 5,000"}
    for content, message in bad.items():
        upload(at, "reviews.csv", content)
        assert not at.exception
        assert message in at.error[0].value, (content[:20], at.error[0].value)


def test_html_and_a_path_traversal_name_are_only_data(open_page):
    """Script text in an upload is shown as text; the file name is never used."""
    at = open_page("finetuning")
    at.radio(key="ft_source").set_value("upload").run()
    rows = "".join(f'"<script>alert({i})</script> great",<b>pos</b>\n"<img src=x onerror=alert({i})> bad",neg\n'
                   for i in range(20))
    upload(at, "../../../etc/passwd.csv", ("text,label\n" + rows).encode())
    assert not at.exception and not at.error
    texts = at.dataframe[0].value["text"].tolist()
    assert all(t.startswith(("<script>alert(", "<img src=x")) for t in texts)
    assert list(at.table[0].value.index) == ["<b>pos</b>", "neg"]
    assert not any("<script>" in m.value for m in at.markdown)


def test_a_shared_link_restores_the_view(open_page):
    at = open_page("finetuning")
    at.select_slider(key="ft_lr").set_value(3e-5)
    at.select_slider(key="ft_bs").set_value(8)
    at.slider(key="ft_epochs").set_value(2)
    at.slider(key="ft_warmup").set_value(0.25)
    at.toggle(key="ft_freeze").set_value(True)
    at.slider(key="ft_limit").set_value(100).run()
    link = dict(at.query_params)
    assert link == {"lr": "3e-05", "batch": "8", "epochs": "2", "warmup": "0.25", "freeze": "1", "n": "100"}
    head = config("all-MiniLM-L6-v2")["hidden_size"] * 2 + 2  # the frozen encoder's 2-class head alone
    assert metrics(at) == {"Steps per epoch": "13", "Optimiser steps": "26", "Warm-up steps": "6",
                           "Trainable parameters": f"{head:,}"}
    opened = open_page("finetuning", query=link)
    assert not opened.exception and not opened.info
    assert opened.select_slider(key="ft_lr").value == 3e-5 and opened.select_slider(key="ft_bs").value == 8
    assert opened.slider(key="ft_epochs").value == 2 and opened.slider(key="ft_warmup").value == 0.25
    assert opened.toggle(key="ft_freeze").value and opened.slider(key="ft_limit").value == 100
    assert metrics(opened) == metrics(at)
    assert dict(opened.query_params) == link


def test_malformed_link_preset_checkpoint_and_labels(open_page):
    at = open_page("finetuning", query={"seed": "abc", "epochs": "999", "text": "x" * 10_240,
                                        "model": "../../etc/passwd"})
    assert not at.exception
    (notice,) = [i.value for i in at.info]
    assert all(part in notice for part in ("`seed=abc` is not a whole number", "outside 1–6", "`text` is too long",
                                           "`model=../../etc/passwd` is not one of the choices"))
    assert at.selectbox(key="ft_base").value == "minilm"
    numbered = [h.value.split(" ")[0] for h in at.header if h.value[0].isdigit()]
    assert numbered == ["1", "2", "3", "4", "5", "6"]  # before any training too (issue 23: it read 1, 2, 3, 6)
    assert dict(at.query_params) == {}
    assert at.number_input(key="ft_seed").value == 0 and at.slider(key="ft_epochs").value == 3
    head = config("all-MiniLM-L6-v2")["hidden_size"] * 2 + 2  # a 2-class linear head: H·2 weights + 2 biases
    encoder = transformers_total("all-MiniLM-L6-v2", "BertModel")
    assert metrics(at)["Trainable parameters"] == f"{encoder + head:,}"  # MiniLM with a 2-class head, all trained

    next(b for b in at.button if b.label == "Frozen encoder: train only the head").click().run()
    assert at.toggle(key="ft_freeze").value and at.select_slider(key="ft_lr").value == 5e-4
    assert dict(at.query_params) == {"freeze": "1", "lr": "0.0005", "patience": "0"}
    assert metrics(at)["Trainable parameters"] == f"{head:,}"  # the head alone

    first = checkpoints.questions("finetuning", 1)[0]
    at.text_input(key="finetuning_a1_1").input(f"{first.answer:,}")
    next(b for b in at.button if b.label == "Check").click().run()
    assert [s.value for s in at.success] == ["Correct."]
    assert chart_problems(at) == [] and widget_label_problems(at) == []


def a_result(test, wrong: int) -> dict:
    """What a finished run leaves in the session: a log, test-set probabilities with `wrong` mistakes."""
    import numpy as np

    from lib import finetuning as ft

    probs = np.array([[0.1, 0.9] if y else [0.8, 0.2] for y in test.labels])
    probs[:wrong] = probs[:wrong, ::-1]
    run = ft.TrainingRun(ft.TrainConfig(), logs=[ft.Log(1, 0.5, train_loss=0.7, train_accuracy=0.5),
                                                 ft.Log(2, 1.0, val_loss=0.4, val_accuracy=0.9)])
    return {"run": run, "probs": probs, "baseline": np.zeros(len(test), dtype=int), "test": test, "base": "minilm"}


def test_a_result_keeps_its_own_test_set_when_the_data_changes(open_page):
    from lib import finetuning as ft

    at = open_page("finetuning")
    at.session_state["ft_attention_text"] = ""  # no model needed for this view
    at.session_state["ft_result"] = a_result(ft.bundled_reviews()["test"], wrong=3)
    at.run()
    assert not at.exception
    assert any("On the 160 test examples" in c.value for c in at.caption)
    assert at.subheader[0].value == "The 3 test examples it gets wrong" and len(at.dataframe[1].value) == 3
    at.radio(key="ft_source").set_value("upload").run()
    rows = "".join(f"great {i},pos\nawful {i},neg\n" for i in range(20))
    upload(at, "mine.csv", ("text,label\n" + rows).encode())
    assert not at.exception, at.exception
    assert any("On the 160 test examples" in c.value for c in at.caption)  # the run's own test set, not the upload's
    assert metrics(at)["Accuracy"] == f"{157 / 160:.1%}"


def test_a_run_with_no_mistakes_says_so(open_page):
    from lib import finetuning as ft

    at = open_page("finetuning")
    at.session_state["ft_attention_text"] = ""
    at.session_state["ft_result"] = a_result(ft.bundled_reviews()["test"], wrong=0)
    at.run()
    assert not at.exception
    assert "all 160 test examples right" in at.info[0].value and not at.subheader
    assert metrics(at)["Accuracy"] == "100.0%"


def test_hub_data_sets_are_offered_only_when_the_hub_is_on(open_page, monkeypatch, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from lessons.widgets import common, finetuning
    from lib import finetuning as ft

    at = open_page("finetuning")
    assert at.radio(key="ft_source").options == ["Bundled product reviews", "Upload a CSV (text,label)"]

    path = tmp_path / "train-00000-of-00001.parquet"
    pq.write_table(pa.table({"sentence": [f"a fine film {i}" for i in range(60)], "label": [0, 1] * 30}), path)
    fetched = []

    def fake_hub(repo, split):
        fetched.append(repo)
        if repo == "fancyzhx/amazon_polarity":
            raise OSError("connection reset")
        return str(path)

    monkeypatch.setattr(common, "hub_enabled", lambda: True)
    monkeypatch.setattr(ft, "_hub_parquet", fake_hub)
    finetuning.hub_reviews.clear()
    at.run()
    assert at.radio(key="ft_source").options[2:] == [f"Hub: {s.title}" for s in ft.HUB_DATASETS.values()]
    at.radio(key="ft_source").set_value("sst2").run()
    assert not at.exception and not at.error
    assert at.table[0].value.sum().sum() == 60 and at.dataframe[0].value["text"].str.startswith("a fine film").all()
    at.radio(key="ft_source").set_value("amazon_polarity").run()
    assert not at.exception
    assert "could not be read from the Hub (OSError: connection reset)" in at.error[0].value
    assert fetched == ["stanfordnlp/sst2", "fancyzhx/amazon_polarity"]
    finetuning.hub_reviews.clear()


@pytest.mark.slow
def test_the_sweep_fills_its_table_and_chart(open_page):
    at = open_page("finetuning", timeout=600)
    at.multiselect(key="ft_sweep_lrs").set_value([3e-4])
    at.multiselect(key="ft_sweep_epochs").set_value([1]).run()
    at.button(key="ft_sweep").click().run()
    assert not at.exception, at.exception
    (table,) = [d.value for d in at.dataframe if "validation accuracy" in d.value.columns]
    assert table[["learning rate", "epochs"]].values.tolist() == [[3e-4, 1]]
    assert any("Sweep: validation accuracy" in c.proto.spec for c in at.get("plotly_chart"))
