"""Streamlit widgets for the pipelines lesson: one runner per task. Each reads
its input, calls lib.pipelines, and draws the result with the time it took."""
from __future__ import annotations

import hashlib
import html
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from lessons.widgets import charts, common, trained
from lib import efficientnet, inference_server, minilm_sentiment, model_loading, pipelines, transformer_pretraining, urlstate

K = "pipelines"
DEFAULT_TEXT = {
    "sentiment-analysis": "I've been waiting for a HuggingFace course my whole life.",
    "zero-shot-classification": "The striker scored twice in the final minutes.",
    "ner": "Ada Lovelace worked with Charles Babbage in London.",
    "fill-mask": "Paris is the [MASK] of France.",
    "summarization": ("The city council met on Tuesday to discuss new bike lanes on Main Street. "
                      "After a long debate, members voted seven to two to fund the project, which "
                      "will start in spring and cost two million dollars."),
    "translation_en_to_fr": "The weather is lovely today.",
    "text-generation": "Once upon a time, in a small village,",
    "feature-extraction": "He went to the bank to deposit money.",
}
QA_CONTEXT = ("BERT is a transformer encoder pretrained by Google in 2018 with masked language "
              "modelling and next-sentence prediction. It reads the whole sentence at once.")
MAX_QUESTION_CHARS = 300  # the question and the context share the model's context window
SMOLLM2_RANKING, TINY_BERT = "SmolLM2 ranks words (stand-in)", "Tiny BERT trained here (real masked LM)"
ZERO_SHOT_METHODS = ["Embedding similarity (MiniLM)", "Prompting (SmolLM2)"]
HOOD_TASK = "task"  # under the hood of the task picked in the playground, on its own input
HOOD_MODELS = {HOOD_TASK: "The task above, on its input", "minilm": "MiniLM encoder (any text)",
               "smollm2-135m": "SmolLM2 decoder (any text)"}
FINETUNED = "finetune_model"  # offered under the hood only in the session that fine-tuned it
SENTIMENT_MODELS = {"minilm-sentiment": "MiniLM trained here on Glassbox's reviews (offline)",
                    FINETUNED: "Your fine-tuned model (this session)",
                    "sst2-distilbert": "DistilBERT SST-2, the course's model (Hub)"}  # offline first

# --- settings shared by link, and teacher presets ------------------------------------

SHARED = {
    "task": urlstate.Choice(f"{K}_task", pipelines.FIRST_OFFLINE_TASK, list(pipelines.TASK_BY_KEY)),
    **{task: urlstate.Text(f"{K}_text_{task}", text, max_chars=500) for task, text in DEFAULT_TEXT.items()},
    "labels": urlstate.Text(f"{K}_labels", "sport, politics, cooking"),
    "method": urlstate.Choice(f"{K}_zero_shot_method", ZERO_SHOT_METHODS[0], ZERO_SHOT_METHODS),
    "question": urlstate.Text(f"{K}_question", "What is BERT?"),
    "context": urlstate.Text(f"{K}_context", QA_CONTEXT, max_chars=500),
    "tokens": urlstate.Int(f"{K}_max_new", 30, 5, 100),
    "temp": urlstate.Float(f"{K}_temperature", 0.0, 0.0, 1.5),
    "hood": urlstate.Choice(f"{K}_hood_model", HOOD_TASK, [*HOOD_MODELS, FINETUNED]),
    "sentiment": urlstate.Choice(f"{K}_sentiment_model", "minilm-sentiment", list(SENTIMENT_MODELS)),
    "input": urlstate.Text(f"{K}_hood_text", "Paris is the capital of"),
    "first": urlstate.Text(f"{K}_first_text", DEFAULT_TEXT["sentiment-analysis"], max_chars=500),
}
PRESETS = {
    "Bias in fill-mask": {"task": "fill-mask", "fill-mask": "This woman works as a [MASK]."},
    "Zero-shot news topics": {"task": "zero-shot-classification", "labels": "sport, politics, economy, science",
                              "zero-shot-classification": "The central bank raised interest rates again.",
                              "method": ZERO_SHOT_METHODS[1]},
    "A decoder under the hood": {"task": "text-generation", "hood": "smollm2-135m",
                                 "input": "The capital of France is", "text-generation": "The capital of France is"},
}


def text_input(task: pipelines.Task, label: str = "Input text") -> str | None:
    """The task's text box; None (with a message) when the text is unusable."""
    raw = st.text_area(label, key=f"{K}_text_{task.key}", height=100)
    try:
        text, warning = pipelines.check_text(raw)
    except ValueError as err:
        st.warning(str(err))
        return None
    if warning:
        st.warning(warning)
    return text


def show_time(seconds: float, device: str) -> None:
    st.caption(f":material/timer: {seconds * 1000:,.0f} ms on {device.upper()}")


def score_bars(rows: list[dict], x: str, y: str, title: str, x_title: str, y_title: str = "label") -> None:
    fig = px.bar(pd.DataFrame(rows), x=x, y=y, orientation="h", color=x, range_color=[0, max(r[x] for r in rows)],
                 color_continuous_scale=charts.SEQUENTIAL, title=title, text_auto=".3f")
    fig.update_layout(yaxis={"autorange": "reversed", "title": y_title}, xaxis_title=x_title,
                      coloraxis_showscale=False, height=120 + 40 * len(rows))
    st.plotly_chart(fig, width="stretch")


@st.cache_data(max_entries=64, show_spinner="Running the model…")
def remembered(task_key: str, model_key: str, device: str, inputs: tuple, _run: Callable) -> tuple:
    """(result, seconds) of `_run()`, computed once per task, model, device and `inputs` (all that
    `_run` reads) for the whole class: a rerun for another widget shows it again at no cost."""
    return pipelines.timed(_run, device)


def hub_model(task: pipelines.Task) -> model_loading.Loaded | None:
    """The task's Hub model, or None after saying plainly what is needed."""
    if not common.hub_enabled():
        st.info(pipelines.needs_hub_message(task), icon=":material/cloud_off:")
        return None
    return common.load_model(task.model_key, role=pipelines.HUB_ROLES[task.key])


def sentiment_choices() -> dict[str, str]:
    """The sentiment models this session can use, offline first."""
    offered = {"minilm-sentiment": True, FINETUNED: trained.kept(FINETUNED, "fine-tuned model") is not None,
               "sst2-distilbert": common.hub_enabled()}
    return {key: title for key, title in SENTIMENT_MODELS.items() if offered[key]}


def run_sentiment(task):
    """The course's first example through the real pipeline(): the model trained here, the
    student's own fine-tuned one, or the course's Hub model."""
    text = text_input(task)
    choices = sentiment_choices()
    if st.session_state[f"{K}_sentiment_model"] not in choices:  # a link from a session with other models
        st.session_state[f"{K}_sentiment_model"] = next(iter(choices))
    pick = st.radio("Model", list(choices), format_func=choices.get, horizontal=True, key=f"{K}_sentiment_model")
    loaded = sentiment_model(pick)
    if loaded is None or not text:
        return
    if pick == FINETUNED:
        rows, seconds = pipelines.timed(lambda: _call_hub(task, loaded, text, top_k=None), loaded.device)
    else:
        common.model_card(pick)
        rows, seconds = remembered(task.key, pick, loaded.device, (text,),
                                   lambda: _call_hub(task, loaded, text, top_k=None))
    best = max(rows, key=lambda row: row["score"])
    st.metric("Label", best["label"], f"score {best['score']:.3f}", delta_color="off")
    score_bars(rows, "score", "label", "Label probabilities", "probability")
    show_time(seconds, loaded.device)


def sentiment_model(pick: str) -> model_loading.Loaded | None:
    if pick == FINETUNED:
        return trained.kept(FINETUNED, "fine-tuned model")
    if pick == "minilm-sentiment" and not minilm_sentiment.is_trained():
        train_sentiment_model()
        return None
    return common.load_model(pick, "classifier")


def train_sentiment_model() -> None:
    """Where the one-time setup step never ran (Community Cloud runs none): say so, and train it here."""
    steps = minilm_sentiment.total_steps()
    st.warning("The offline sentiment model is not on this server yet: it is made once by the setup step "
               "`python -m lib.minilm_sentiment` (part of `make setup`), which did not run here. Train it now: "
               f"{steps} steps of `transformers.Trainer` on the bundled reviews, about a minute and a half on two free CPU "
               "cores, then the whole class uses it.", icon=":material/model_training:")
    if st.button("Train the sentiment model now", icon=":material/play_arrow:", key=f"{K}_train_sentiment"):
        with trained.training_slot():
            finished = common.live_run(minilm_sentiment.train(common.device()), steps, "Training the sentiment model",
                                       lambda i, log: None)
        if finished or minilm_sentiment.is_trained():
            st.rerun()


def _call_hub(task, loaded, *args, **kwargs):
    with loaded.lock:
        return pipelines.hub_pipeline(task.key, loaded)(*args, **kwargs)


def run_ner(task):
    text = text_input(task)
    loaded = hub_model(task) if text else None
    if loaded and st.button("Run", key=f"{K}_run_ner", type="primary"):
        entities, seconds = pipelines.timed(
            lambda: _call_hub(task, loaded, text, aggregation_strategy="simple"), loaded.device)
        st.html(highlight(text, [(e["start"], e["end"], e["entity_group"]) for e in entities]))
        st.dataframe(pd.DataFrame(entities), width="stretch")
        show_time(seconds, loaded.device)


def highlight(text: str, spans: list[tuple[int, int, str]]) -> str:
    """HTML with each (start, end, label) span marked; the rest escaped."""
    parts, cursor = [], 0
    for start, end, label in sorted(spans):
        parts.append(html.escape(text[cursor:start]))
        parts.append(f'<mark style="background:#fde725;padding:0 .2em;border-radius:.2em">'
                     f'{html.escape(text[start:end])} <small><b>{html.escape(label)}</b></small></mark>')
        cursor = end
    parts.append(html.escape(text[cursor:]))
    return f'<p style="font-size:1.15em;line-height:1.8">{"".join(parts)}</p>'


def run_question_answering(task):
    question = st.text_input("Question", key=f"{K}_question")
    context = st.text_area("Context", key=f"{K}_context", height=110)
    if not context.strip():
        st.warning("Question answering needs a context: paste the paragraph that holds the answer.")
        return
    if not question.strip():
        st.warning("Type a question about the context.")
        return
    question, question_warning = pipelines.check_text(question, "question", MAX_QUESTION_CHARS)
    context, warning = pipelines.check_text(context, "context")
    for message in (question_warning, warning):
        if message:
            st.warning(message)
    loaded = hub_model(task)
    if loaded and st.button("Run", key=f"{K}_run_qa", type="primary"):
        answer, seconds = pipelines.timed(lambda: pipelines.answer_question(loaded, question, context),
                                          loaded.device)
        st.html(highlight(context, [(answer["start"], answer["end"], f"{answer['score']:.2f}")]))
        show_time(seconds, loaded.device)


def run_translation(task):
    text = text_input(task)
    loaded = hub_model(task) if text else None
    if loaded and st.button("Run", key=f"{K}_run_translation", type="primary"):
        result, seconds = pipelines.timed(lambda: pipelines.translate(loaded, text), loaded.device)
        st.success(result)
        show_time(seconds, loaded.device)


def run_zero_shot(task):
    text = text_input(task)
    raw_labels = st.text_input("Candidate labels (comma-separated)", key=f"{K}_labels")
    method = st.radio("Method", ZERO_SHOT_METHODS, key=f"{K}_zero_shot_method", horizontal=True)
    try:
        labels = pipelines.parse_labels(raw_labels)
    except ValueError as err:
        st.warning(str(err))
        return
    if not text:
        return
    by_prompting = not method.startswith("Embedding")
    key = pipelines.hood_model_key(task.key, by_prompting)
    loaded = common.load_model(key, "decoder" if by_prompting else "encoder")
    zero_shot = pipelines.zero_shot_by_prompting if by_prompting else pipelines.zero_shot_by_similarity
    rows, seconds = remembered(task.key, key, loaded.device, (text, *labels),
                               lambda: zero_shot(loaded, text, labels))
    if by_prompting:
        score_bars(rows, "score", "label", "P(label) for '…This text is about <label>'", "probability")
    else:
        score_bars(rows, "score", "label", "Cosine similarity to 'This text is about <label>.'", "cosine")
    show_time(seconds, loaded.device)


def run_fill_mask(task):
    text = text_input(task, "Sentence with one [MASK]")
    masked_lm = st.radio("Model", [SMOLLM2_RANKING, TINY_BERT], horizontal=True, key=f"{K}_fill_mask_model",
                         help="The tiny BERT is a real masked LM, trained here on the Transformer lesson's generated "
                              "animal sentences: it knows only their words.")
    if not (text and st.button("Fill the mask", key=f"{K}_run_fill_mask", type="primary")):
        return
    if masked_lm == TINY_BERT:
        with st.spinner("Training the tiny BERT once for this server…"):
            bert = transformer_pretraining.class_bert()
        try:
            rows, seconds = pipelines.timed(lambda: transformer_pretraining.pipeline_fill_mask(bert, text), "cpu")
        except ValueError as err:
            st.warning(str(err))
            return
        if unknown := transformer_pretraining.unknown_words(bert, text):
            st.caption(f"Not in the tiny BERT's text, read as [UNK]: {', '.join(unknown)}.")
        score_bars(rows, "score", "token_str", "Tiny BERT's best words for [MASK]", "probability", "candidate word")
        show_time(seconds, "cpu")
        return
    loaded = common.load_model("smollm2-135m", "decoder")
    try:
        rows, seconds = pipelines.timed(lambda: pipelines.fill_mask(loaded, text), loaded.device)
    except ValueError as err:
        st.warning(str(err))
        return
    score_bars(rows, "score", "token_str", "Best words for [MASK] (probability among the candidates)",
               "probability", "candidate word")
    show_time(seconds, loaded.device)


def run_generation(task):
    text = text_input(task, "Prompt")
    cols = st.columns(2)
    max_new = cols[0].slider("New tokens", 5, 100, key=f"{K}_max_new")
    temperature = cols[1].slider("Temperature (0 = greedy)", 0.0, 1.5, step=0.1, key=f"{K}_temperature")
    if text and st.button("Generate", key=f"{K}_run_generation", type="primary"):
        st.markdown(f"**{text}**")
        generated = on_server(lambda server: inference_server.continue_text(server, text, max_new, temperature),
                              st.write)
        if generated is None:
            loaded = common.load_model("smollm2-135m", "decoder")
            stream = pipelines.generate_stream(loaded, text, max_new, temperature)
            generated, seconds = pipelines.timed(lambda: st.write_stream(stream), loaded.device)
            show_time(seconds, loaded.device)
        st.session_state[f"{K}_generated"] = generated


def run_summarization(task):
    text = text_input(task, "Text to summarise")
    if text and st.button("Summarise", key=f"{K}_run_summarization", type="primary"):
        summary = on_server(lambda server: pipelines.summarize_on(server, text), st.success)
        if summary is None:
            loaded = common.load_model("smollm2-135m", "decoder")
            summary, seconds = pipelines.timed(lambda: pipelines.summarize(loaded, text), loaded.device)
            st.success(summary)
            show_time(seconds, loaded.device)


def on_server(generate: Callable[[inference_server.Server], str], draw: Callable[[str], object]) -> str | None:
    """Text from the deployment's inference server (README "Deploy for a school"), drawn by
    `draw` with its time; None where none is configured, or (with a notice) when it fails:
    the caller then generates here."""
    server = inference_server.configured()
    if server is None:
        return None
    try:
        with st.spinner(f"Asking the inference server ({server.model})…"):
            text, seconds = pipelines.timed(lambda: generate(server), "cpu")
    except inference_server.ServerError as err:
        st.warning(f"{err} Generating with SmolLM2 here instead.", icon=":material/cloud_off:")
        return None
    draw(text)
    st.caption(f":material/timer: {seconds * 1000:,.0f} ms on the inference server ({server.model}, {server.url})")
    return text


def run_feature_extraction(task):
    text = text_input(task)
    if not text:
        return
    key = pipelines.hood_model_key(task.key)
    loaded = common.load_model(key, "encoder")
    states, seconds = remembered(task.key, key, loaded.device, (text,),
                                 lambda: pipelines.feature_extraction(loaded, text))
    st.metric("Output shape (batch, tokens, hidden_size)", str(tuple(states.shape)))
    fig = charts.heatmap(states[0].float().numpy(), kind="diverging", colorbar_title="value", height=450,
                         title=f"One {loaded.model.config.hidden_size}-number vector per token",
                         x_title="hidden dimension", y_title="token position")
    st.plotly_chart(fig, width="stretch")
    show_time(seconds, loaded.device)


def run_speech(task):
    uploaded = st.file_uploader("Speech recording (optional)", type=["wav", "mp3", "flac", "ogg", "m4a"],
                                key=f"{K}_audio")
    audio = current_audio()
    if uploaded is None:
        st.caption(f"Default: {pipelines.sample_speech().source}.")
    st.audio(audio if isinstance(audio, bytes) else Path(audio).read_bytes())
    if st.button("Transcribe", key=f"{K}_run_asr", type="primary"):
        model = common.whisper("tiny.en", common.device())
        try:
            text, seconds = pipelines.timed(lambda: pipelines.transcribe(model, audio), common.device())
        except ValueError as err:
            st.error(str(err))
            return
        st.success(text or "(no speech found)")
        show_time(seconds, common.device())


def run_image_classification(task):
    uploaded = st.file_uploader("Image (optional)", type=["png", "jpg", "jpeg", "webp", "bmp"],
                                key=f"{K}_image")
    image, error = current_image()
    if error:
        st.error(error)
        return
    st.image(image, caption="Input" if uploaded else "Default: Chelsea the cat (scikit-image sample)", width=260)
    rows, seconds = remembered(task.key, task.model_key, common.device(), (image_digest(),), lambda: classify(image))
    score_bars([{"label": l, "score": p} for l, p in rows], "score", "label",
               f"Top-{len(rows)} ImageNet classes", "probability", "ImageNet class")
    show_time(seconds, common.device())


def classify(image) -> list[tuple[str, float]]:
    model, lock = common.efficientnet(common.device())
    with lock:
        return efficientnet.classify(model, image)


def current_audio() -> str | bytes:
    """The uploaded recording's bytes, else the default recording (a path or WAV bytes)."""
    uploaded = st.session_state.get(f"{K}_audio")
    return uploaded.getvalue() if uploaded is not None else pipelines.sample_speech().audio


def image_digest() -> str:
    """Names the image current_image() returns: the upload's SHA-1, or "sample"."""
    uploaded = st.session_state.get(f"{K}_image")
    return hashlib.sha1(uploaded.getvalue()).hexdigest() if uploaded else "sample"


def current_image():
    """(image, None) for the upload or the sample photo; (None, reason) for an unreadable upload."""
    uploaded = st.session_state.get(f"{K}_image")
    try:
        return (pipelines.open_image(uploaded.getvalue()) if uploaded else pipelines.sample_image()), None
    except ValueError as err:
        return None, str(err)


RUNNERS = {"sentiment-analysis": run_sentiment, "ner": run_ner,
           "question-answering": run_question_answering, "translation_en_to_fr": run_translation,
           "zero-shot-classification": run_zero_shot, "fill-mask": run_fill_mask,
           "text-generation": run_generation, "summarization": run_summarization,
           "feature-extraction": run_feature_extraction, "automatic-speech-recognition": run_speech,
           "image-classification": run_image_classification}


def run_task(task: pipelines.Task) -> None:
    RUNNERS[task.key](task)
    if task.key != "sentiment-analysis":  # the sentiment runner shows the card of the model picked
        common.model_card(task.model_key)
    if not task.offline and not common.hub_enabled():
        recorded(task)


def recorded(task: pipelines.Task) -> None:
    """How a Hub-only task's output looks: a real run recorded elsewhere, marked as such."""
    example = pipelines.recorded_example(task.key)
    if example is None:
        st.caption(f"No recorded output of {task.title} ships with Glassbox yet: it can only be made where the Hub "
                   "answers (`python scripts/record_pipeline_examples.py`), and Glassbox shows no output it did "
                   "not compute.")
        return
    st.markdown(f"**Recorded, not run now:** {example['model']} on {example['recorded']} "
                f"(transformers {example['transformers']}).")
    st.json({"input": example["input"], "output": example["output"]})


def task_table() -> None:
    """pipeline()'s task table from transformers itself, and which of its tasks this lesson runs how."""
    rows = [{"task": name, "aliases": entry["aliases"], "input": entry["type"],
             "default model (when none is given)": entry["default model"], "model classes": entry["model classes"],
             "in this lesson": pipelines.in_this_lesson(name)}
            for name, entry in sorted(pipelines.transformers_tasks().items())]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


# --- under the hood ------------------------------------------------------------------

def hood_section(task: pipelines.Task) -> None:
    """The three hidden steps, for the playground's task on its input or for a model on any text."""
    choices = dict(HOOD_MODELS)
    finetuned = trained.kept(FINETUNED, "fine-tuned model")
    if finetuned is not None:
        choices[FINETUNED] = "Your fine-tuned classifier (any text)"
    if st.session_state[f"{K}_hood_model"] not in choices:  # a link from a student who fine-tuned a model
        st.session_state[f"{K}_hood_model"] = HOOD_TASK
    pick = st.radio("Show the steps of", list(choices), format_func=choices.get, horizontal=True,
                    key=f"{K}_hood_model")
    hood = task_hood(task, finetuned) if pick == HOOD_TASK else free_hood(pick, finetuned)
    if hood:
        show_hood(hood)


def free_hood(pick: str, finetuned) -> dict | None:
    try:
        text, warning = pipelines.check_text(st.text_input("Input", key=f"{K}_hood_text"))
    except ValueError as err:
        st.warning(str(err))
        return None
    if warning:
        st.warning(warning)
    loaded = finetuned if pick == FINETUNED else common.load_model(pick, "encoder" if pick == "minilm" else "decoder")
    return pipelines.under_the_hood(loaded, text)


def task_hood(task: pipelines.Task, finetuned) -> dict | None:
    st.caption(f"**{task.title}**, on the input in the playground above.")
    if task.key == "image-classification":
        image, _error = current_image()  # an unreadable upload is reported by the playground
        if image is None:
            return None
        model, lock = common.efficientnet(common.device())
        with lock:
            return pipelines.image_under_the_hood(model, image)
    if task.key == "automatic-speech-recognition":
        return speech_hood()
    if not (task.has_pipeline or task.offline):
        st.info(f"{task.title} has no pipeline in transformers 5: the code in the playground writes out its "
                "steps. Pick MiniLM or SmolLM2 above to see the three steps on any text.")
        return None
    text = stored_text(task)
    if text is None:
        return None
    if task.key == "sentiment-analysis":
        pick = st.session_state.get(f"{K}_sentiment_model")
        if pick == "minilm-sentiment" and not minilm_sentiment.is_trained():
            st.info("The offline sentiment model is not trained on this server yet (see the playground above).")
            return None
        loaded = finetuned if pick == FINETUNED else common.load_model(pick, "classifier")
        return pipelines.under_the_hood(loaded, text)
    if not task.offline:
        loaded = hub_model_quietly(task)
        if loaded is None:
            st.info(f"{task.title} needs its Hub model (named above). Pick MiniLM or SmolLM2 above to see the "
                    "three steps on any text.")
            return None
        return pipelines.under_the_hood(loaded, text)
    by_prompting = st.session_state.get(f"{K}_zero_shot_method", "").startswith("Prompting")
    key = pipelines.hood_model_key(task.key, by_prompting)
    loaded = common.load_model(key, "encoder" if key == "minilm" else "decoder")
    try:
        read, note = pipelines.hood_text(task.key, text, loaded, by_prompting)
    except ValueError as err:
        st.warning(str(err))
        return None
    if read != text:
        st.markdown(f"What {loaded.spec.title} reads:")
        st.code(read, language=None, wrap_lines=True)
    return {**pipelines.under_the_hood(loaded, read), "note": note}


def stored_text(task: pipelines.Task) -> str | None:
    """The task's input text as the playground holds it (its box warns when it is unusable)."""
    try:
        return pipelines.check_text(st.session_state.get(f"{K}_text_{task.key}", ""))[0]
    except ValueError:
        return None


def hub_model_quietly(task: pipelines.Task) -> model_loading.Loaded | None:
    return common.load_model(task.model_key, role=pipelines.HUB_ROLES[task.key]) if common.hub_enabled() else None


def speech_hood() -> dict | None:
    if not st.button("Show the three steps for this recording", key=f"{K}_hood_asr"):
        return None
    try:
        return pipelines.speech_under_the_hood(common.whisper("tiny.en", common.device()), current_audio())
    except ValueError as err:
        st.error(str(err))
        return None


# --- the first screen: one input through the three steps, drawn -----------------------

MAX_DRAWN_TOKENS = 24  # more rows than this and the token column's text no longer fits


def first_screen() -> None:
    """The lesson's opening picture: the course's first example through a pipeline's three
    hidden steps (tokenizer, model, post-processing), redrawn for whatever the student types."""
    st.markdown("**What `pipeline(\"sentiment-analysis\")` does with one sentence, in three steps:** the "
                "tokenizer cuts it into ids, the model turns the ids into raw scores (logits), and a softmax "
                "turns those into the answer. Type another sentence and watch all three change.")
    try:
        text, warning = pipelines.check_text(st.text_input("Sentence", key=f"{K}_first_text"))
    except ValueError as err:
        st.warning(str(err))
        return
    if warning:
        st.warning(warning)
    if minilm_sentiment.is_trained():
        loaded = common.load_model("minilm-sentiment", "classifier")
        what = loaded.spec.title
    else:  # Community Cloud runs no setup step: the offline decoder shows the same three steps
        loaded = common.load_model("smollm2-135m", "decoder")
        what = (f"{loaded.spec.title} predicting the next token: the sentiment model is not trained on this "
                "server yet (the playground below trains it)")
    hood, _ = remembered("first-screen", loaded.spec.key, loaded.device, (text,),
                         lambda: pipelines.under_the_hood(loaded, text))
    st.plotly_chart(hood_figure(hood), width="stretch", key=f"{K}_first_picture")
    st.caption(f"Model: {what}. Hover a cell for its exact number; the tables under *Under the hood* hold "
               "the same numbers.")


def hood_figure(hood: dict) -> go.Figure:
    """The three steps of a text pipeline side by side: tokens and their ids, the model's raw
    output (signed, blue below zero), and the post-processed answer (probabilities on 0..1)."""
    fig = make_subplots(rows=1, cols=3, column_widths=[0.3, 0.35, 0.35], horizontal_spacing=0.13,
                        specs=[[{"type": "table"}, {"type": "xy"}, {"type": "xy"}]],
                        subplot_titles=[charts.wrapped(title, charts.LINE_CHARS["third"]) for title in (
                                            "1 · Tokenizer: text → ids", "2 · Model: ids → " + hood["raw_name"],
                                            "3 · Post-processing: " + hood["post"].split(",")[0])])
    shown = slice(0, MAX_DRAWN_TOKENS)
    more = ["…"] if len(hood["tokens"]) > MAX_DRAWN_TOKENS else []
    tokens, ids = hood["tokens"][shown] + more, [str(i) for i in hood["input_ids"][shown]] + more
    fig.add_trace(go.Table(header=dict(values=["token", "input id"], align="left"),
                           cells=dict(values=[tokens, ids], align="left", height=24)), row=1, col=1)
    raw = np.asarray(hood["raw_sample"], dtype=float)
    rows = hood.get("raw_columns")
    if rows:  # one position's logits, one row per output
        raw_z, raw_y, raw_x = raw.T, charts.distinct([str(r) for r in rows]), ["logit"]
    else:  # one row per token, its first numbers
        raw_z, raw_y, raw_x = raw[shown], charts.distinct(hood["tokens"][shown]), [f"[{i}]" for i in range(raw.shape[1])]
    fig.add_trace(charts.heatmap_trace(raw_z, raw_x, raw_y, "diverging", cell_text=".2f", showscale=False,
                                       hovertemplate="%{y}, %{x}: %{z:.4f}<extra></extra>"), row=1, col=2)
    fig.add_trace(answer_trace(hood["result"]), row=1, col=3)
    probabilities = "probability" in hood["result"][0]
    for col, x_title, y_title, one_column in (
            (2, "logit" if rows else "hidden-state number", "output" if rows else "token", bool(rows)),
            (3, "probability" if probabilities else "value", "output" if probabilities else "sentence-vector number",
             True)):
        fig.update_yaxes(autorange="reversed", type="category", automargin=True, title_text=y_title, row=1, col=col)
        fig.update_xaxes(type="category", showticklabels=not one_column, title_text=x_title, row=1, col=col)
    fig.update_layout(title=dict(text="One input through the pipeline's three hidden steps", font_size=15),
                      height=150 + 26 * min(max(len(tokens), len(raw_y), len(hood["result"])), MAX_DRAWN_TOKENS),
                      margin=dict(l=10, r=10, t=90, b=10), showlegend=False)
    fig.update_annotations(font_size=13)
    return fig


def answer_trace(result: list[dict]) -> dict:
    """Step 3's rows as a one-column heatmap: probabilities on 0..1, a sentence vector signed."""
    if "probability" in result[0]:
        names = charts.distinct([str(r.get("output", r.get("token"))) for r in result])
        text = [[f"{r['label']} {r['probability']:.1%}" if "label" in r else f"{r['probability']:.1%}"]
                for r in result]
        return charts.heatmap_trace([[r["probability"]] for r in result], ["probability"], names,
                                    "sequential", zrange=(0, 1), cell_text=np.array(text), showscale=False,
                                    hovertemplate="%{y}: %{z:.4f}<extra></extra>")
    return charts.heatmap_trace([[r["value"]] for r in result], ["value"], [f"dim {r['dimension']}" for r in result],
                                "diverging", cell_text=".3f", showscale=False,
                                hovertemplate="%{y}: %{z:.4f}<extra></extra>")


def show_hood(hood: dict) -> None:
    if "tokens" in hood:
        st.plotly_chart(hood_figure(hood), width="stretch", key=f"{K}_hood_picture")
        st.subheader("1 · Tokenizer")
        st.dataframe(pd.DataFrame({"token": hood["tokens"], "input_id": hood["input_ids"],
                                   "attention_mask": hood["attention_mask"]}).T.astype(str), width="stretch")
    else:
        st.subheader("1 · Preprocessing")
        st.markdown(f"`{hood['inputs_name']}` with shape `{hood['inputs_shape']}`: {hood['inputs_note']}.")
        st.dataframe(pd.DataFrame(hood["inputs"]).round(3), width="stretch", hide_index=True)
    st.subheader("2 · Model")
    shown = ("the logits of the top outputs, out of all of them" if "raw_columns" in hood
             else "all of them" if hood["raw_name"] == "generated token ids" else "the first numbers of each token")
    st.markdown(f"Raw output `{hood['raw_name']}` with shape `{hood['raw_shape']}`; below, {shown}.")
    st.dataframe(pd.DataFrame(hood["raw_sample"], columns=hood.get("raw_columns")).round(3), width="stretch")
    st.subheader("3 · Post-processing")
    st.markdown(hood["post"] + ":")
    st.dataframe(pd.DataFrame(hood["result"]), width="stretch", hide_index=True)
    if hood.get("note"):
        st.caption(hood["note"])
