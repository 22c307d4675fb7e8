"""Streamlit widgets for the pipelines lesson: one runner per task. Each reads
its input, calls lib.pipelines, and draws the result with the time it took."""
from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import plotly.express as px
import streamlit as st

from lib import efficientnet, models, pipelines, ui, ui_trained, urlstate

K = "pipelines"
LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
SAMPLE_AUDIO = LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0870.wav"
DEFAULT_TEXT = {
    "sentiment-analysis": "This lesson made pipelines finally click for me!",
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
ZERO_SHOT_METHODS = ["Embedding similarity (MiniLM)", "Prompting (SmolLM2)"]
HOOD_MODELS = {"minilm": "MiniLM encoder (feature extraction)", "smollm2-135m": "SmolLM2 decoder (next token)"}
FINETUNED = "finetune_model"  # offered under the hood only in the session that fine-tuned it

# --- settings shared by link, and teacher presets ------------------------------------

SHARED = {
    "task": urlstate.Choice(f"{K}_task", pipelines.TASKS[0].key, list(pipelines.TASK_BY_KEY)),
    **{task: urlstate.Text(f"{K}_text_{task}", text, max_chars=500) for task, text in DEFAULT_TEXT.items()},
    "labels": urlstate.Text(f"{K}_labels", "sport, politics, cooking"),
    "method": urlstate.Choice(f"{K}_zero_shot_method", ZERO_SHOT_METHODS[0], ZERO_SHOT_METHODS),
    "question": urlstate.Text(f"{K}_question", "What is BERT?"),
    "context": urlstate.Text(f"{K}_context", QA_CONTEXT, max_chars=500),
    "tokens": urlstate.Int(f"{K}_max_new", 30, 5, 100),
    "temp": urlstate.Float(f"{K}_temperature", 0.0, 0.0, 1.5),
    "hood": urlstate.Choice(f"{K}_hood_model", "minilm", [*HOOD_MODELS, FINETUNED]),
    "input": urlstate.Text(f"{K}_hood_text", "Paris is the capital of"),
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
                 color_continuous_scale="viridis", title=title, text_auto=".3f")
    fig.update_layout(yaxis={"autorange": "reversed", "title": y_title}, xaxis_title=x_title,
                      coloraxis_showscale=False, height=120 + 40 * len(rows))
    st.plotly_chart(fig, width="stretch")




def hub_model(task: pipelines.Task) -> models.Loaded | None:
    """The task's Hub model, a fine-tuned one from this session, or None after
    saying plainly what is needed."""
    finetuned = ui_trained.kept(FINETUNED, "fine-tuned model") if task.key == "sentiment-analysis" else None
    if finetuned is not None:
        st.info("Using the model you fine-tuned in the Fine-tuning lesson.", icon=":material/tune:")
        return finetuned
    if not ui.hub_enabled():
        st.info(pipelines.needs_hub_message(task), icon=":material/cloud_off:")
        return None
    return ui.load_model(task.model_key, role=pipelines.HUB_ROLES[task.key])


def run_text_classification(task):
    text = text_input(task)
    loaded = hub_model(task) if text else None
    if loaded and st.button("Run", key=f"{K}_run_{task.key}", type="primary"):
        rows, seconds = pipelines.timed(lambda: _call_hub(task, loaded, text, top_k=None), loaded.device)
        score_bars(rows, "score", "label", "Label probabilities", "probability")
        show_time(seconds, loaded.device)


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
    context, warning = pipelines.check_text(context, "context")
    if warning:
        st.warning(warning)
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
    if method.startswith("Embedding"):
        loaded = ui.load_model("minilm", "encoder")
        rows, seconds = pipelines.timed(lambda: pipelines.zero_shot_by_similarity(loaded, text, labels),
                                        loaded.device)
        score_bars(rows, "score", "label", "Cosine similarity to 'This text is about <label>.'", "cosine")
    else:
        loaded = ui.load_model("smollm2-135m", "decoder")
        rows, seconds = pipelines.timed(lambda: pipelines.zero_shot_by_prompting(loaded, text, labels),
                                        loaded.device)
        score_bars(rows, "score", "label", "P(label) for '…This text is about <label>'", "probability")
    show_time(seconds, loaded.device)


def run_fill_mask(task):
    text = text_input(task, "Sentence with one [MASK]")
    if not (text and st.button("Fill the mask", key=f"{K}_run_fill_mask", type="primary")):
        return
    loaded = ui.load_model("smollm2-135m", "decoder")
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
        loaded = ui.load_model("smollm2-135m", "decoder")
        st.markdown(f"**{text}**")
        stream = pipelines.generate_stream(loaded, text, max_new, temperature)
        generated, seconds = pipelines.timed(lambda: st.write_stream(stream), loaded.device)
        st.session_state[f"{K}_generated"] = generated
        show_time(seconds, loaded.device)


def run_summarization(task):
    text = text_input(task, "Text to summarise")
    if text and st.button("Summarise", key=f"{K}_run_summarization", type="primary"):
        loaded = ui.load_model("smollm2-135m", "decoder")
        summary, seconds = pipelines.timed(lambda: pipelines.summarize(loaded, text), loaded.device)
        st.success(summary)
        show_time(seconds, loaded.device)


def run_feature_extraction(task):
    text = text_input(task)
    if not text:
        return
    loaded = ui.load_model("minilm", "encoder")
    states, seconds = pipelines.timed(lambda: pipelines.feature_extraction(loaded, text), loaded.device)
    st.metric("Output shape (batch, tokens, hidden_size)", str(tuple(states.shape)))
    fig = px.imshow(states[0].float().numpy(), aspect="auto", color_continuous_scale="RdBu_r",
                    labels={"x": "hidden dimension", "y": "token position", "color": "value"},
                    title="One 384-number vector per token")
    st.plotly_chart(fig, width="stretch")
    show_time(seconds, loaded.device)


def run_speech(task):
    uploaded = st.file_uploader("Speech recording (optional)", type=["wav", "mp3", "flac", "ogg", "m4a"],
                                key=f"{K}_audio")
    audio = uploaded.getvalue() if uploaded else str(SAMPLE_AUDIO)
    if uploaded is None:
        if not SAMPLE_AUDIO.exists():
            st.info("Upload a recording (the bundled LibriVox sample needs the pocketsphinx test data).")
            return
        st.caption("Default: a LibriVox clip of *Sense and Sensibility* (pocketsphinx test data).")
    st.audio(audio if isinstance(audio, bytes) else SAMPLE_AUDIO.read_bytes())
    if st.button("Transcribe", key=f"{K}_run_asr", type="primary"):
        model = ui.whisper("tiny.en", ui.device())
        try:
            text, seconds = pipelines.timed(lambda: pipelines.transcribe(model, audio), ui.device())
        except ValueError as err:
            st.error(str(err))
            return
        st.success(text or "(no speech found)")
        show_time(seconds, ui.device())


def run_image_classification(task):
    uploaded = st.file_uploader("Image (optional)", type=["png", "jpg", "jpeg", "webp", "bmp"],
                                key=f"{K}_image")
    try:
        image = pipelines.open_image(uploaded.getvalue()) if uploaded else pipelines.sample_image()
    except ValueError as err:
        st.error(str(err))
        return
    st.image(image, caption="Input" if uploaded else "Default: Chelsea the cat (scikit-image sample)", width=260)
    model, lock = ui.efficientnet(ui.device())
    with lock:
        rows, seconds = pipelines.timed(lambda: efficientnet.classify(model, image), ui.device())
    score_bars([{"label": l, "score": p} for l, p in rows], "score", "label", "Top-5 ImageNet classes",
               "probability", "ImageNet class")
    show_time(seconds, ui.device())


RUNNERS = {"sentiment-analysis": run_text_classification, "ner": run_ner,
           "question-answering": run_question_answering, "translation_en_to_fr": run_translation,
           "zero-shot-classification": run_zero_shot, "fill-mask": run_fill_mask,
           "text-generation": run_generation, "summarization": run_summarization,
           "feature-extraction": run_feature_extraction, "automatic-speech-recognition": run_speech,
           "image-classification": run_image_classification}


def run_task(task: pipelines.Task) -> None:
    RUNNERS[task.key](task)
