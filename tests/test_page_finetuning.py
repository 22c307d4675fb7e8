"""AppTest: the fine-tuning lesson trains on a tiny subset and shows its evaluation."""
import pytest

pytestmark = pytest.mark.slow


def test_one_epoch_on_a_tiny_subset_shows_the_confusion_matrix(open_page):
    at = open_page("finetuning", timeout=600)
    assert not at.exception
    at.slider(key="ft_epochs").set_value(1)
    at.slider(key="ft_limit").set_value(20)
    at.button(key="ft_train").click().run()
    assert not at.exception, at.exception
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("Confusion matrix" in spec for spec in titles)
    assert [m.label for m in at.metric] == ["Accuracy", "Precision", "Recall", "F1"]
    assert at.session_state["finetune_model"].model.config.num_labels == 2
    assert any("zero-shot" in c.value.lower() for c in at.caption)


def test_bad_upload_is_refused(open_page):
    at = open_page("finetuning")
    at.radio(key="ft_source").set_value("Upload a CSV (text,label)").run()
    assert "Upload a CSV" in at.info[0].value
    at.get("file_uploader")[0].set_value(("reviews.csv", b"text,label\n" + b"same,1\n" * 30, "text/csv")).run()
    assert not at.exception
    assert "same label" in at.error[0].value


def test_tiny_gpt_page_trains_and_generates(open_page):
    at = open_page("tiny_gpt", timeout=600)
    assert not at.exception
    assert at.metric[0].value == "124,439,808"
    at.select_slider(key="gpt_embd").set_value(32)
    at.slider(key="gpt_layers").set_value(1)
    at.slider(key="gpt_steps").set_value(50)
    at.select_slider(key="gpt_every").set_value(25)
    at.button(key="gpt_train").click().run()
    assert not at.exception, at.exception
    assert any("unigram" in m.value for m in at.markdown)
    assert at.code[-1].value.startswith("The ")


def test_tiny_gpt_refuses_short_text(open_page):
    at = open_page("tiny_gpt")
    at.radio(key="gpt_source").set_value("My own text").run()
    at.text_area(key="gpt_text").set_value("too short").run()
    assert not at.exception
    assert "at least" in at.warning[0].value
