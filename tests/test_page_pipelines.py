"""AppTest of the pipelines lesson: every task runs offline with its default
input or says which Hub model it needs; bad input gives a message."""
import json

import pytest

from lib import models, pipelines

TIMEOUT = 240


def choose(app, task_key):
    app.selectbox(key="pipelines_task").set_value(pipelines.TASK_BY_KEY[task_key]).run()
    assert not app.exception, app.exception
    return app


def messages(app) -> str:
    return " ".join(m.value for kind in ("info", "warning", "error") for m in getattr(app, kind))


@pytest.fixture(scope="module")
def app():
    from streamlit.testing.v1 import AppTest

    from lib import course

    at = AppTest.from_file(str(course.ROOT / "streamlit_app.py"), default_timeout=TIMEOUT)
    at.run()
    at.switch_page(course.lesson("pipelines").page).run()
    assert not at.exception, at.exception
    return at


def test_default_page_explains_hub_tasks_and_shows_the_three_steps(app):
    assert app.title[0].value == "HuggingFace pipelines"
    assert "distilbert/distilbert-base-uncased-finetuned-sst-2-english" in messages(app)
    tokens = app.dataframe[0].value  # the under-the-hood tokenizer table (rows: token, id, mask)
    assert list(tokens.loc["token"])[:3] == ["[CLS]", "paris", "is"]
    assert list(tokens.loc["attention_mask"]) == ["1"] * tokens.shape[1]


@pytest.mark.parametrize("task_key", ["ner", "question-answering", "translation_en_to_fr"])
def test_tasks_without_offline_model_name_their_hub_model(app, task_key):
    choose(app, task_key)
    assert models.REGISTRY[pipelines.TASK_BY_KEY[task_key].model_key].location in messages(app)


@pytest.mark.slow
def test_fill_mask_finds_capital(app):
    choose(app, "fill-mask")
    app.button(key="pipelines_run_fill_mask").click().run()
    top3 = json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]["y"][:3]
    assert "capital" in top3


def test_fill_mask_without_mask_warns(app):
    choose(app, "fill-mask")
    app.text_area(key="pipelines_text_fill-mask").input("No mask here.").run()
    app.button(key="pipelines_run_fill_mask").click().run()
    assert "exactly one [MASK]" in messages(app)


def test_feature_extraction_shape(app):
    choose(app, "feature-extraction")
    assert app.metric[0].value == "(1, 11, 384)"


def test_zero_shot_by_similarity_and_empty_labels(app):
    choose(app, "zero-shot-classification")
    scores = json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]
    assert scores["y"][0] == "sport"
    app.text_input(key="pipelines_labels").input(" , ").run()
    assert "at least one candidate label" in messages(app)


def test_empty_and_overlong_text(app):
    choose(app, "zero-shot-classification")
    app.text_input(key="pipelines_labels").input("sport, politics").run()
    app.text_area(key="pipelines_text_zero-shot-classification").input("   ").run()
    assert "Type some text first" in messages(app)
    app.text_area(key="pipelines_text_zero-shot-classification").input("goal! " * 1000).run()
    assert "only the first 2,000 are used" in messages(app)


def test_question_answering_needs_a_context(app):
    choose(app, "question-answering")
    app.text_area(key="pipelines_context").input("").run()
    assert "needs a context" in messages(app)


def test_image_classification_sees_a_cat(app):
    choose(app, "image-classification")
    top = json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]["y"][0]
    assert "cat" in top


def test_finetuned_sentiment_model_is_used(app, minilm):
    from transformers import AutoModelForSequenceClassification

    classifier = AutoModelForSequenceClassification.from_config(minilm.model.config.__class__(
        **{**minilm.model.config.to_dict(), "num_labels": 2,
           "id2label": {0: "NEGATIVE", 1: "POSITIVE"}, "label2id": {"NEGATIVE": 0, "POSITIVE": 1}})).eval()
    app.session_state["finetune_model"] = models.Loaded(minilm.spec, classifier, minilm.tokenizer, "cpu")
    choose(app, "sentiment-analysis")
    app.button(key="pipelines_run_sentiment-analysis").click().run()
    labels = json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]["y"]
    assert sorted(labels) == ["NEGATIVE", "POSITIVE"]
    del app.session_state["finetune_model"]


@pytest.mark.slow
def test_generation_streams_text(app):
    choose(app, "text-generation")
    app.slider(key="pipelines_max_new").set_value(5).run()
    app.button(key="pipelines_run_generation").click().run()
    assert app.session_state["pipelines_generated"].strip()


@pytest.mark.slow
def test_speech_recognition_default_clip(app):
    choose(app, "automatic-speech-recognition")
    app.button(key="pipelines_run_asr").click().run()
    assert "john dashwood had then leisure" in app.success[0].value.lower()


@pytest.mark.slow
def test_summarization_runs(app):
    choose(app, "summarization")
    app.button(key="pipelines_run_summarization").click().run()
    assert len(app.success[0].value.split()) >= 5


@pytest.mark.slow
def test_batching_chart(app):
    app.button(key="pipelines_measure_batches").click().run()
    rows = app.session_state["pipelines_batch_rows"]
    assert [r["batch_size"] for r in rows] == [1, 2, 4, 8, 16, 32, 64]
    assert all(r["sentences_per_s"] > 0 for r in rows)
