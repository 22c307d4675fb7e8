"""AppTest of the pipelines lesson: every task runs offline with its default
input or says which Hub model it needs; bad input gives a message."""
import json

import numpy as np
import pytest
from accessibility import chart_problems, widget_label_problems
from plotly_arrays import array
from test_inference_server import OpenAIStandIn, serving_stand_in

from lessons.widgets import pipelines as widgets
from lessons.widgets import trained
from lib import checkpoints, efficientnet, model_loading, model_registry, pipelines, progress
from lib.meeting_minutes import classic_asr

TIMEOUT = 240


def choose(app, task_key):
    app.selectbox(key="pipelines_task").set_value(task_key).run()
    assert not app.exception, app.exception
    return app


def heard(text: str) -> bool:
    """Whether `text` is the default recording's words, within Whisper tiny's usual 15% word error rate."""
    return pipelines.word_error_rate(pipelines.sample_speech().reference, text) <= 0.15


def playground_chart(app):
    """The playground's first chart: not the first screen's three steps, nor the same drawn under the hood."""
    return next(c for c in app.get("plotly_chart") if not c.proto.id.endswith(("first_picture", "hood_picture")))


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


def test_default_page_opens_on_the_courses_sentiment_example_offline(app, minilm):
    """Offline, the first look is the course's first example, run: pipeline("sentiment-analysis") on its
    sentence gives POSITIVE with the model trained here, and under the hood shows its three steps."""
    assert app.title[0].value == "HuggingFace pipelines"
    assert app.selectbox(key="pipelines_task").value == "sentiment-analysis"
    assert app.text_area(key="pipelines_text_sentiment-analysis").value == \
        "I've been waiting for a HuggingFace course my whole life."
    assert app.radio(key="pipelines_sentiment_model").value == "minilm-sentiment"
    assert next(m for m in app.metric if m.label == "Label").value == "POSITIVE"
    assert "needs the Hub" not in messages(app) and "has no offline model" not in messages(app)
    assert any("Model card: MiniLM sentiment" in e.label for e in app.expander)
    tokens = next(d.value for d in app.dataframe if "token" in d.value.index)  # under the hood (token, id, mask)
    text = widgets.DEFAULT_TEXT["sentiment-analysis"]
    assert list(tokens.loc["token"]) == minilm.tokenizer.tokenize(f"[CLS] {text} [SEP]")
    assert list(tokens.loc["attention_mask"]) == ["1"] * tokens.shape[1]
    choose(app, "ner")
    assert "dslim/bert-base-NER" in messages(app)
    assert "Named entities (token classification) needs its Hub model" in messages(app)  # under the hood
    app.radio(key="pipelines_hood_model").set_value("minilm").run()
    assert hood_tokens(app)[:3] == ["[CLS]", "paris", "is"]
    app.radio(key="pipelines_hood_model").set_value(widgets.HOOD_TASK).run()
    choose(app, pipelines.FIRST_OFFLINE_TASK)


def first_screen(app) -> list:
    return json.loads(next(c for c in app.get("plotly_chart")
                           if c.proto.id.endswith("pipelines_first_picture")).proto.spec)["data"]


def test_the_first_screen_draws_the_three_steps_of_the_courses_example(app):
    """Tokens and ids as the sentiment model's tokenizer makes them, its logits, and probabilities equal
    to what transformers' pipeline() in the playground reports; a new sentence redraws all three."""
    from transformers import AutoTokenizer

    from lib import minilm_sentiment

    tokenizer = AutoTokenizer.from_pretrained(minilm_sentiment.folder())
    tokens, logits, answer = first_screen(app)
    text = widgets.DEFAULT_TEXT["sentiment-analysis"]
    assert tokens["cells"]["values"] == [tokenizer.convert_ids_to_tokens(tokenizer(text)["input_ids"]),
                                         [str(i) for i in tokenizer(text)["input_ids"]]]
    labels, scores = playground_score_bars(app)
    probabilities = array(answer["z"])[:, 0]
    assert dict(zip(answer["y"], probabilities)) == pytest.approx(dict(zip(labels, scores)), abs=1e-5)
    z = array(logits["z"])[:, 0]
    assert probabilities == pytest.approx(np.exp(z) / np.exp(z).sum(), abs=1e-6)  # softmax, in float64 here
    assert logits["y"] == answer["y"] == ["POSITIVE", "NEGATIVE"]  # most probable first
    app.text_input(key="pipelines_first_text").input("A terrible waste of money: it broke after one day.").run()
    _, _, answer = first_screen(app)
    assert answer["y"][0] == "NEGATIVE" and array(answer["z"])[0, 0] > 0.5
    app.text_input(key="pipelines_first_text").input("   ").run()
    assert "Type some text first." in messages(app) and not app.exception
    app.text_input(key="pipelines_first_text").input(text).run()


def playground_score_bars(app) -> tuple[list, list]:
    """The playground's 'Label probabilities' bars: (labels, scores) as pipeline() returned them."""
    bars = next(json.loads(c.proto.spec)["data"][0] for c in app.get("plotly_chart")
                if "Label probabilities" in c.proto.spec)
    return bars["y"], array(bars["x"])


def hood_tokens(app) -> list[str]:
    return list(next(d.value for d in app.dataframe if "token" in d.value.index).loc["token"])


def test_under_the_hood_follows_the_task_and_its_input(app, minilm, smollm2):
    choose(app, "feature-extraction")
    assert hood_tokens(app) == minilm.tokenizer.tokenize("[CLS] He went to the bank to deposit money. [SEP]")
    assert "mean over tokens" in " ".join(m.value for m in app.markdown)

    choose(app, "fill-mask")  # SmolLM2 reads the words before [MASK]
    assert hood_tokens(app) == smollm2.tokenizer.tokenize("Paris is the")
    vocabulary = smollm2.model.get_output_embeddings().weight.shape[0]  # one logit per row of the LM head
    assert any(f"step 2: (1, seq, {vocabulary})" in c.value for c in app.code)
    assert any(c.value == "Paris is the" for c in app.code)
    app.text_area(key="pipelines_text_fill-mask").input("No mask here.").run()
    assert "exactly one [MASK]" in messages(app)
    app.text_area(key="pipelines_text_fill-mask").input("Paris is the [MASK] of France.").run()

    choose(app, "zero-shot-classification")
    app.radio(key="pipelines_zero_shot_method").set_value(widgets.ZERO_SHOT_METHODS[1]).run()
    expected = smollm2.tokenizer.tokenize("\nThis text is about")
    assert hood_tokens(app)[-len(expected):] == expected
    by_prompt = first_chart(app)[0]["y"]  # the playground's own answer, by prompting
    assert by_prompt[0] == "sport"
    app.radio(key="pipelines_zero_shot_method").set_value(widgets.ZERO_SHOT_METHODS[0]).run()

    choose(app, "image-classification")
    result = step_three(app)
    assert "cat" in result["output"].iloc[0] and "(1, 3, 224, 224)" in " ".join(m.value for m in app.markdown)

    for task_key in ("question-answering", "translation_en_to_fr", "ner"):
        choose(app, task_key)
        assert "Pick MiniLM or SmolLM2 above" in messages(app), task_key


@pytest.mark.slow
def test_under_the_hood_of_speech_recognition(app):
    choose(app, "automatic-speech-recognition")
    app.button(key="pipelines_hood_asr").click().run()
    assert not app.exception, app.exception
    words = next(d.value for d in app.dataframe if list(d.value.columns) == ["output"])["output"].iloc[0]
    assert heard(words)
    assert any(list(d.value.columns) == ["token_id", "piece"] for d in app.dataframe)


@pytest.mark.parametrize("task_key", ["ner", "question-answering", "translation_en_to_fr"])
def test_tasks_without_offline_model_name_their_hub_model(app, task_key):
    choose(app, task_key)
    assert model_registry.REGISTRY[pipelines.TASK_BY_KEY[task_key].model_key].location in messages(app)


@pytest.mark.slow
def test_fill_mask_finds_capital(app):
    choose(app, "fill-mask")
    app.button(key="pipelines_run_fill_mask").click().run()
    top3 = json.loads(playground_chart(app).proto.spec)["data"][0]["y"][:3]
    assert "capital" in top3


def test_fill_mask_without_mask_warns(app):
    choose(app, "fill-mask")
    app.text_area(key="pipelines_text_fill-mask").input("No mask here.").run()
    app.button(key="pipelines_run_fill_mask").click().run()
    assert "exactly one [MASK]" in messages(app)


def test_feature_extraction_shape(app, minilm):
    choose(app, "feature-extraction")
    hidden = minilm.model.get_input_embeddings().weight.shape[1]  # the real tensor's width
    assert app.metric[0].value == f"(1, 11, {hidden})"
    title = json.loads(playground_chart(app).proto.spec)["layout"]["title"]["text"]
    assert title == f"One {hidden}-number vector per token"


def test_zero_shot_by_similarity_and_empty_labels(app):
    choose(app, "zero-shot-classification")
    scores = json.loads(playground_chart(app).proto.spec)["data"][0]
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
    app.text_area(key="pipelines_context").input(widgets.QA_CONTEXT).run()
    app.text_input(key="pipelines_question").input("  ").run()
    assert "Type a question" in messages(app)
    app.text_input(key="pipelines_question").input("Why? " * 200).run()
    assert "The question is 999 characters long; only the first 300 are used." in messages(app)
    app.text_area(key="pipelines_context").input("BERT. " * 500).run()
    assert "The context is 2,999 characters long; only the first 2,000 are used." in messages(app)
    assert not app.exception
    app.text_input(key="pipelines_question").input("What is BERT?").run()
    app.text_area(key="pipelines_context").input(widgets.QA_CONTEXT).run()


def test_over_long_text_for_a_model_task_is_cut_and_still_runs(app, minilm):
    choose(app, "feature-extraction")
    app.text_area(key="pipelines_text_feature-extraction").input("bank " * 600).run()
    assert not app.exception, app.exception
    assert "only the first 2,000 are used" in messages(app)
    assert app.metric[0].value == f"(1, 402, {minilm.model.config.hidden_size})"  # [CLS] + 400 × "bank" + [SEP]
    assert 402 <= minilm.model.config.max_position_embeddings  # within what MiniLM accepts: nothing cut
    app.text_area(key="pipelines_text_feature-extraction").input("").run()
    assert "Type some text first" in messages(app)
    app.text_area(key="pipelines_text_feature-extraction").input(widgets.DEFAULT_TEXT["feature-extraction"]).run()


def test_image_classification_sees_a_cat(app):
    choose(app, "image-classification")
    top = json.loads(playground_chart(app).proto.spec)["data"][0]["y"][0]
    assert "cat" in top


def test_finetuned_sentiment_model_is_used(app, minilm):
    from transformers import AutoModelForSequenceClassification

    classifier = AutoModelForSequenceClassification.from_config(minilm.model.config.__class__(
        **{**minilm.model.config.to_dict(), "num_labels": 2,
           "id2label": {0: "NEGATIVE", 1: "POSITIVE"}, "label2id": {"NEGATIVE": 0, "POSITIVE": 1}})).eval()
    session = app.session_state[trained.OWNER_KEY].session_id
    trained.store().put(session, widgets.FINETUNED,
                           model_loading.Loaded(minilm.spec, classifier, minilm.tokenizer, "cpu"), nbytes=1)
    try:
        choose(app, "sentiment-analysis")
        app.radio(key="pipelines_sentiment_model").set_value(widgets.FINETUNED).run()
        labels = json.loads(playground_chart(app).proto.spec)["data"][0]["y"]
        assert sorted(labels) == ["NEGATIVE", "POSITIVE"]
    finally:
        trained.store().drop_session(session)
        app.radio(key="pipelines_sentiment_model").set_value("minilm-sentiment")


def test_without_the_setup_step_the_sentiment_model_is_trained_on_the_page(open_page, monkeypatch, tmp_path):
    """Community Cloud runs no setup: the page says what is missing and trains the model on a click."""
    import shutil

    from lib import minilm_sentiment

    trained_here = minilm_sentiment.folder()
    assert minilm_sentiment.is_trained(), "make setup trains it (python -m lib.minilm_sentiment)"
    monkeypatch.setattr(model_registry, "CACHE_DIR", tmp_path)
    monkeypatch.setattr(model_loading, "_shared", type(model_loading._shared)())  # no copy loaded before
    at = open_page("pipelines", timeout=TIMEOUT)
    assert not at.exception, at.exception
    assert "not on this server yet" in messages(at) and "needs the Hub" not in messages(at)
    assert not any(m.label == "Label" for m in at.metric)

    def fake_training(device):  # the real run is tests/test_pipelines.py's; here only what the page does
        shutil.copytree(trained_here, minilm_sentiment.folder())
        yield None

    monkeypatch.setattr(minilm_sentiment, "train", fake_training)
    at.button(key="pipelines_train_sentiment").click().run()
    assert not at.exception, at.exception
    assert next(m for m in at.metric if m.label == "Label").value == "POSITIVE"


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
    assert heard(app.success[0].value)


@pytest.mark.slow
def test_without_the_debian_clip_the_sample_meeting_is_the_default(app, monkeypatch):
    monkeypatch.setattr(classic_asr, "librivox_clips", lambda: {})
    choose(app, "automatic-speech-recognition")
    assert any(c.value == f"Default: {pipelines.meeting_excerpt().source}." for c in app.caption)
    app.button(key="pipelines_run_asr").click().run()
    assert not app.exception and heard(app.success[0].value)


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


# --- hostile input ----------------------------------------------------------------------

def test_a_corrupt_image_with_a_path_like_name_is_refused(app):
    choose(app, "image-classification")
    app.file_uploader(key="pipelines_image").upload("../../etc/passwd.png", b"not an image at all", "image/png")
    app.run()
    assert not app.exception
    assert "not an image Glassbox can read" in messages(app)
    app.file_uploader(key="pipelines_image").clear()
    app.run()


@pytest.mark.slow
def test_a_corrupt_recording_is_refused(app):
    choose(app, "automatic-speech-recognition")
    app.file_uploader(key="pipelines_audio").upload("lecture.wav", b"RIFF not really audio" * 40, "audio/wav")
    app.run()
    app.button(key="pipelines_run_asr").click().run()
    assert not app.exception
    assert "Could not read this audio file" in messages(app)
    app.file_uploader(key="pipelines_audio").clear()
    app.run()


def test_reruns_for_other_widgets_do_not_run_the_model_again(app, monkeypatch):
    """Zero-shot, feature extraction and image classification run without a button: once per input."""
    calls = []

    def counted(module, name):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *args, **kwargs: calls.append(name) or real(*args, **kwargs))

    for module, name in [(pipelines, "zero_shot_by_similarity"), (pipelines, "zero_shot_by_prompting"),
                         (pipelines, "feature_extraction"), (efficientnet, "classify")]:
        counted(module, name)
    widgets.remembered.clear()
    for task_key in ("zero-shot-classification", "feature-extraction", "image-classification"):
        choose(app, task_key)
        app.radio(key="pipelines_hood_model").set_value("minilm").run()  # another widget: the page reruns
        app.radio(key="pipelines_hood_model").set_value(widgets.HOOD_TASK).run()
        assert not app.exception and len(calls) == 1, (task_key, calls)
        calls.clear()
    choose(app, "zero-shot-classification")
    app.radio(key="pipelines_zero_shot_method").set_value(widgets.ZERO_SHOT_METHODS[1]).run()
    app.radio(key="pipelines_zero_shot_method").set_value(widgets.ZERO_SHOT_METHODS[0]).run()
    assert calls == ["zero_shot_by_prompting"]  # each method once; the first was kept
    choose(app, pipelines.FIRST_OFFLINE_TASK)


def test_student_html_is_escaped_in_highlights():
    marked = widgets.highlight("<script>alert(1)</script> Ada <b>", [(26, 29, "<img src=x onerror=alert(1)>")])
    assert "<script>" not in marked and "<img" not in marked
    assert "&lt;script&gt;" in marked and ">Ada <small>" in marked and marked.endswith(" &lt;b&gt;</p>")


# --- the classroom layer: links, presets, checkpoint, accessibility ----------------------

def first_chart(app) -> list:
    return json.loads(playground_chart(app).proto.spec)["data"]


def step_three(app):
    return next(d.value for d in app.dataframe if "probability" in d.value.columns)


def test_a_shared_link_restores_the_view(open_page):
    at = open_page("pipelines", timeout=TIMEOUT)
    at.selectbox(key="pipelines_task").set_value("zero-shot-classification").run()
    at.text_area(key="pipelines_text_zero-shot-classification").input("The orchestra played Mozart all night.")
    at.text_input(key="pipelines_labels").input("music, sport, cooking")
    at.radio(key="pipelines_hood_model").set_value("smollm2-135m").run()
    at.text_input(key="pipelines_hood_text").input("The capital of Italy is").run()
    link = dict(at.query_params)
    assert link == {"task": "zero-shot-classification",  # not the default task (sentiment analysis)
                    "zero-shot-classification": "The orchestra played Mozart all night.",
                    "labels": "music, sport, cooking", "hood": "smollm2-135m", "input": "The capital of Italy is"}
    opened = open_page("pipelines", timeout=TIMEOUT, query=link)
    assert not opened.exception and not [i for i in opened.info if "ignored" in i.value]
    for kind, key in [("selectbox", "pipelines_task"), ("text_area", "pipelines_text_zero-shot-classification"),
                      ("text_input", "pipelines_labels"), ("radio", "pipelines_hood_model"),
                      ("text_input", "pipelines_hood_text")]:
        assert getattr(opened, kind)(key=key).value == getattr(at, kind)(key=key).value, key
    assert first_chart(opened) == first_chart(at) and first_chart(at)[0]["y"][0] == "music"
    assert step_three(opened).equals(step_three(at))
    assert dict(opened.query_params) == link


def test_malformed_and_hostile_links_are_ignored_with_a_notice(open_page):
    at = open_page("pipelines", timeout=TIMEOUT, query={
        "seed": "abc", "tokens": "999", "fill-mask": "x" * 10_240, "temp": "nan", "task": "../../etc/passwd",
        "hood": "finetune_model"})
    assert not at.exception, at.exception
    notices = [i.value for i in at.info if "ignored" in i.value]
    assert len(notices) == 1
    for reason in ("`seed` is not a setting", "`tokens=999` is outside 5–100", "`fill-mask` is too long (10,240",
                   "`temp=nan` is outside", "`task=../../etc/passwd` is not one of the choices"):
        assert reason in notices[0]
    assert at.selectbox(key="pipelines_task").value == pipelines.FIRST_OFFLINE_TASK == "sentiment-analysis"
    assert at.radio(key="pipelines_hood_model").value == widgets.HOOD_TASK  # no fine-tuned model here
    assert dict(at.query_params) == {}
    choose(at, "text-generation")
    assert at.slider(key="pipelines_max_new").value == 30 and at.slider(key="pipelines_temperature").value == 0.0


def test_preset_checkpoint_and_accessibility(app):
    next(b for b in app.button if b.label == "Bias in fill-mask").click().run()
    assert app.selectbox(key="pipelines_task").value == "fill-mask"
    assert app.text_area(key="pipelines_text_fill-mask").value == "This woman works as a [MASK]."
    assert dict(app.query_params) == {"task": "fill-mask", "fill-mask": "This woman works as a [MASK]."}

    first = checkpoints.questions("pipelines", 1)[0]
    app.radio(key="pipelines_a1_1").set_value(first.answer)
    next(b for b in app.button if b.label == "Check").click().run()
    assert [s.value for s in app.success][-1] == "Correct."
    assert app.session_state["progress"]["pipelines"] == progress.record(1, 4, 1)

    for task_key in ("zero-shot-classification", "feature-extraction", "image-classification"):
        choose(app, task_key)
        assert app.get("plotly_chart") and chart_problems(app) == [], task_key
        assert widget_label_problems(app) == [], task_key


@pytest.fixture
def stand_in():
    with serving_stand_in() as url:
        yield url


@pytest.mark.slow
def test_generation_and_summary_go_to_a_configured_inference_server(app, stand_in, monkeypatch):
    at = app
    monkeypatch.setenv("GLASSBOX_INFERENCE_URL", stand_in)
    at.selectbox(key="pipelines_task").set_value("text-generation").run()
    at.text_area(key="pipelines_text_text-generation").set_value("The river was").run()
    at.button(key="pipelines_run_generation").click().run()
    assert not at.exception, at.exception
    assert at.session_state["pipelines_generated"] == " and the server continued 'The river was'"
    assert any("on the inference server" in c.value for c in at.caption)
    at.selectbox(key="pipelines_task").set_value("summarization").run()
    at.button(key="pipelines_run_summarization").click().run()
    assert at.success[0].value.startswith("served summary of")
    assert [path for path, _, _ in OpenAIStandIn.seen] == ["/v1/completions", "/v1/chat/completions"]

    OpenAIStandIn.status = 500  # a broken server: a notice, then SmolLM2 here, as without one
    at.button(key="pipelines_run_summarization").click().run()
    assert any("HTTP 500" in w.value and "here instead" in w.value for w in at.warning)
    assert not at.success[0].value.startswith("served") and len(at.success[0].value.split()) >= 3
