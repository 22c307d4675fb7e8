"""AppTest: the fine-tuning lesson — training on a tiny subset, uploads, shared links, presets, checkpoint."""
import pytest
from accessibility import chart_problems, widget_label_problems

from lib import checkpoints, ui_trained


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def upload(at, name: str, content: bytes):
    at.get("file_uploader")[0].set_value((name, content, "text/csv"))
    return at.run()


@pytest.mark.slow
def test_one_epoch_on_a_tiny_subset_shows_the_confusion_matrix(open_page):
    at = open_page("finetuning", timeout=600)
    assert not at.exception
    at.slider(key="ft_epochs").set_value(1)
    at.slider(key="ft_limit").set_value(20)
    at.button(key="ft_train").click().run()
    assert not at.exception, at.exception
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("Confusion matrix" in spec for spec in titles)
    assert [m.label for m in at.metric][-4:] == ["Accuracy", "Precision", "Recall", "F1"]
    kept = ui_trained.store().get(at.session_state[ui_trained.OWNER_KEY].session_id, "finetune_model")
    assert kept.model.config.num_labels == 2
    assert any("zero-shot" in c.value.lower() for c in at.caption)
    assert chart_problems(at) == [] and widget_label_problems(at) == []


def test_bad_uploads_are_refused_with_a_message(open_page):
    at = open_page("finetuning")
    at.radio(key="ft_source").set_value("Upload a CSV (text,label)").run()
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
    at.radio(key="ft_source").set_value("Upload a CSV (text,label)").run()
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
    assert metrics(at) == {"Steps per epoch": "13", "Optimiser steps": "26", "Warm-up steps": "6",
                           "Trainable parameters": "770"}
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
    assert dict(at.query_params) == {}
    assert at.number_input(key="ft_seed").value == 0 and at.slider(key="ft_epochs").value == 3
    assert metrics(at)["Trainable parameters"] == "22,713,986"  # MiniLM with a 2-class head, all trained

    next(b for b in at.button if b.label == "Frozen encoder: train only the head").click().run()
    assert at.toggle(key="ft_freeze").value and at.select_slider(key="ft_lr").value == 5e-4
    assert dict(at.query_params) == {"freeze": "1", "lr": "0.0005", "patience": "0"}
    assert metrics(at)["Trainable parameters"] == "770"  # 384·2 + 2: the head alone

    first = checkpoints.questions("finetuning", 1)[0]
    at.text_input(key="finetuning_a1_1").input(f"{first.answer:,}")
    next(b for b in at.button if b.label == "Check").click().run()
    assert [s.value for s in at.success] == ["Correct."]
    assert chart_problems(at) == [] and widget_label_problems(at) == []
