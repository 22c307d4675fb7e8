"""lib.pipelines against independent references: the course's examples, torch
log-softmax sums, a hand-checked WER, transformers' own task table, and the
LibriVox and sample-meeting reference transcripts."""
import dataclasses
import json
import re

import numpy as np
import pytest
import torch

from lib import course, model_registry, pipelines
from lib.meeting_minutes import MEETING_DIR, SAMPLE_AUDIO, audio, classic_asr


def librivox_clip() -> tuple:
    """(path, reference) of the LibriVox clip the page uses when Debian's pocketsphinx-testdata is there."""
    clips = classic_asr.librivox_clips()
    if pipelines.LIBRIVOX_CLIP not in clips:
        pytest.skip("Debian pocketsphinx-testdata is not installed (apt-get install pocketsphinx-testdata)")
    return clips[pipelines.LIBRIVOX_CLIP]


def is_pipeline_task(name: str) -> bool:
    """Whether transformers' pipeline() accepts `name` (a task or one of its aliases)."""
    from transformers.pipelines import SUPPORTED_TASKS, TASK_ALIASES

    return TASK_ALIASES.get(name, name) in SUPPORTED_TASKS


def test_every_pipeline_the_lesson_shows_exists_in_transformers():
    shown = "\n".join(t.code for t in pipelines.TASKS) + (course.ROOT / "lessons" / "pipelines.py").read_text()
    names = re.findall(r'pipeline\("([^"]+)"', shown)
    assert len(names) >= 10 and [n for n in names if not is_pipeline_task(n)] == []
    for task in pipelines.TASKS:  # a task without a pipeline says so, and shows no pipeline of its name
        assert is_pipeline_task(task.key) == task.has_pipeline, task.key
        if not task.has_pipeline:
            assert "transformers 5 has no" in task.note and f'pipeline("{task.key}"' not in task.code


def test_the_task_table_is_transformers_own():
    from transformers.pipelines import SUPPORTED_TASKS, TASK_ALIASES

    table = pipelines.transformers_tasks()
    assert list(table) == list(SUPPORTED_TASKS)
    assert table["text-classification"]["default model"] == SUPPORTED_TASKS["text-classification"]["default"]["model"][0]
    assert "sentiment-analysis" in table["text-classification"]["aliases"].split(", ")
    assert all(alias in table[target]["aliases"] for alias, target in TASK_ALIASES.items())
    assert pipelines.in_this_lesson("text-classification") == "Sentiment analysis: offline here"
    assert pipelines.in_this_lesson("token-classification") == "Named entities (token classification): needs the Hub"


@pytest.fixture(scope="module")
def sentiment_folder():
    """The sentiment model `make setup` trains; trained here (a minute or two) if setup did not run."""
    from lib import minilm_sentiment

    minilm_sentiment.prepare()
    return minilm_sentiment.folder()


SENTENCES = {  # none of them a product review: the model learnt from the bundled reviews only
    "POSITIVE": ["I've been waiting for a HuggingFace course my whole life.", "I love my new phone.",
                 "Delicious pizza and friendly staff."],
    "NEGATIVE": ["I hate this so much!", "This movie was a complete waste of time.",
                 "The hotel room was dirty and smelled awful."],
}


def test_the_offline_sentiment_pipeline_labels_the_courses_first_sentence(sentiment_folder):
    from transformers import pipeline

    classifier = pipeline("sentiment-analysis", model=str(sentiment_folder), device="cpu")
    for label, sentences in SENTENCES.items():
        assert [r["label"] for r in classifier(sentences)] == [label] * len(sentences), label
    card = (sentiment_folder / "README.md").read_text()
    assert "trained" in card.split("---")[2] and "lib.minilm_sentiment" in card and "license: apache-2.0" in card
    from lib import model_cards

    assert "Glassbox's bundled product reviews" in model_cards.card("minilm-sentiment").training_data


def test_the_hub_message_gives_a_size_only_where_the_parameters_can_be_counted():
    """The Hub-only tasks' models ship no config here, so their size is unknown offline;
    a registry model with a shipped config gets an estimate from its counted parameters."""
    for task in (t for t in pipelines.TASKS if not t.offline):
        message = pipelines.needs_hub_message(task)
        assert model_registry.REGISTRY[task.model_key].location in message and " MiB" not in message
    bert = dataclasses.replace(pipelines.TASK_BY_KEY["ner"], model_key="bert-base-uncased")
    estimate = model_registry.num_parameters("bert-base-uncased") * 4 / 2**20
    assert f"(about {estimate:,.0f} MiB, estimated from its parameters as float32)" in pipelines.needs_hub_message(bert)


@pytest.mark.slow
def test_the_summarization_code_shown_gives_glassboxs_summary(smollm2):
    import copy
    from types import SimpleNamespace

    from lessons.widgets.pipelines import DEFAULT_TEXT

    def pipeline(task, model):  # the shown code's pipeline(), around the bundled copy of its model
        assert model == smollm2.spec.hub_id
        # a copy of the tokenizer: the text-generation pipeline pads it on the left from now on
        return pipelines.hub_pipeline(task, SimpleNamespace(model=smollm2.model, device=smollm2.device,
                                                            tokenizer=copy.deepcopy(smollm2.tokenizer)))

    text = DEFAULT_TEXT["summarization"]
    *lines, last = pipelines.TASK_BY_KEY["summarization"].code.splitlines()
    namespace = {"pipeline": pipeline, "long_text": text}
    exec("\n".join(lines), namespace)
    assert eval(last, namespace).strip() == pipelines.summarize(smollm2, text)


@pytest.mark.slow
def test_fill_mask_paris_capital(smollm2):
    top3 = [r["token_str"] for r in pipelines.fill_mask(smollm2, "Paris is the [MASK] of France.", top_k=3)]
    assert "capital" in top3


def test_fill_mask_needs_exactly_one_mask(smollm2):
    for text in ("No mask at all.", "[MASK] and [MASK]."):
        with pytest.raises(ValueError, match="exactly one"):
            pipelines.fill_mask(smollm2, text)


def test_sequence_log_probs_matches_token_by_token_sum(smollm2):
    text = "The cat sat."
    tok = smollm2.tokenizer
    ids = tok(pipelines.document_start(tok) + text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        logits = smollm2.model(input_ids=ids).logits.double()
    expected = sum(logits[0, i].log_softmax(-1)[ids[0, i + 1]] for i in range(ids.shape[1] - 1))
    # padded in a batch with a longer text: padding must not change the score
    got = pipelines.sequence_log_probs(smollm2, [text, "A much longer sentence than the first one."])[0]
    assert got == pytest.approx(float(expected), abs=1e-3)


def test_zero_shot_both_methods_pick_the_topic(minilm, smollm2):
    text, labels = "The striker scored twice in the final minutes.", ["sport", "politics", "cooking"]
    by_similarity = pipelines.zero_shot_by_similarity(minilm, text, labels)
    by_prompt = pipelines.zero_shot_by_prompting(smollm2, text, labels)
    assert by_similarity[0]["label"] == "sport" and by_prompt[0]["label"] == "sport"
    assert sum(r["score"] for r in by_prompt) == pytest.approx(1.0, abs=1e-5)


def test_feature_extraction_shape_is_minilm_hidden_size(minilm):
    states = pipelines.feature_extraction(minilm, "He went to the bank to deposit money.")
    assert tuple(states.shape) == (1, 11, minilm.model.config.hidden_size)
    assert states.shape[-1] == minilm.model.get_input_embeddings().weight.shape[1]  # the real tensor's width


@pytest.mark.slow
def test_generate_stream_matches_greedy_generate(smollm2):
    prompt = "The capital of France is"
    streamed = "".join(pipelines.generate_stream(smollm2, prompt, max_new_tokens=6))
    ids = smollm2.tokenizer(prompt, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        reference = smollm2.model.generate(ids, max_new_tokens=6, do_sample=False)
    assert streamed == smollm2.tokenizer.decode(reference[0, ids.shape[1]:], skip_special_tokens=True)


def test_check_text_and_labels():
    with pytest.raises(ValueError):
        pipelines.check_text("   ")
    text, warning = pipelines.check_text("x" * 2500)
    assert len(text) == pipelines.MAX_CHARS and "2,500" in warning
    assert pipelines.parse_labels("sport, , sport ,cooking") == ["sport", "cooking"]
    with pytest.raises(ValueError):
        pipelines.parse_labels(" , ")


def test_word_error_rate_by_hand():
    assert pipelines.word_error_rate("the cat sat", "the cat sat") == 0
    assert pipelines.word_error_rate("the cat sat", "the bat sat down") == pytest.approx(2 / 3)
    assert pipelines.word_error_rate("Mr. Dashwood", "mr dashwood") == 0


@pytest.mark.slow
def test_whisper_transcribes_librivox_within_15_percent_wer():
    path, reference = librivox_clip()
    hypothesis = pipelines.transcribe(pipelines.load_whisper("cpu"), str(path))
    assert pipelines.word_error_rate(reference, hypothesis) <= 0.15
    default = pipelines.sample_speech()  # the page's default input when the clip is there
    assert (default.audio, default.reference) == (str(path), reference)


def test_without_the_debian_clip_the_default_is_the_sample_meetings_opening(monkeypatch):
    monkeypatch.setattr(classic_asr, "librivox_clips", lambda: {})
    sample = pipelines.sample_speech()
    turns = json.loads((MEETING_DIR / "sample_turns.json").read_text())
    first = [t for t in turns if t["end"] <= pipelines.MEETING_EXCERPT_S]
    assert sample.reference == " ".join(t["text"] for t in first)
    seconds = (first[-1]["end"] + turns[len(first)]["start"]) / 2  # cut in the pause after the last turn
    assert f"first {seconds:.1f} s of Glassbox's sample meeting" in sample.source
    samples = audio.read_all(sample.audio)  # the WAV bytes, decoded again
    expected = classic_asr.first_seconds(str(SAMPLE_AUDIO), seconds)
    assert len(samples) == len(expected) == round(seconds * audio.SAMPLE_RATE)
    np.testing.assert_allclose(samples, expected, atol=1 / 32_767)


@pytest.mark.slow
def test_whisper_transcribes_the_sample_meetings_opening_within_15_percent_wer():
    sample = pipelines.meeting_excerpt()
    hypothesis = pipelines.transcribe(pipelines.load_whisper("cpu"), sample.audio)
    assert pipelines.word_error_rate(sample.reference, hypothesis) <= 0.15


def test_transcribe_rejects_garbage():
    with pytest.raises(ValueError, match="Could not read"):
        pipelines.transcribe(pipelines.load_whisper("cpu"), b"not audio" * 50)


def test_under_the_hood_decoder_post_processing_is_softmax(smollm2):
    hood = pipelines.under_the_hood(smollm2, "Paris is the capital of")
    assert hood["tokens"][0] == "Paris" and hood["raw_shape"][-1] == len(smollm2.tokenizer)
    probs = [r["probability"] for r in hood["result"]]
    assert probs == sorted(probs, reverse=True)
    with torch.no_grad():
        ids = smollm2.tokenizer("Paris is the capital of", return_tensors="pt")["input_ids"]
        expected = smollm2.model(input_ids=ids).logits[0, -1].softmax(-1).max()
    assert probs[0] == pytest.approx(float(expected), rel=1e-4)


def test_under_the_hood_encoder_pools_to_unit_vector(minilm):
    hood = pipelines.under_the_hood(minilm, "hello world")
    assert hood["tokens"] == ["[CLS]", "hello", "world", "[SEP]"]
    assert hood["raw_shape"] == (1, 4, minilm.model.config.hidden_size)


def test_open_image_rejects_non_images():
    with pytest.raises(ValueError, match="not an image"):
        pipelines.open_image(b"definitely not a png")


def tiny(model_class, config_class, tokenizer, **sizes):
    """A small randomly initialised model around the bundled tokenizer, as a Loaded-like object."""
    import threading
    from types import SimpleNamespace

    torch.manual_seed(0)
    config = config_class(vocab_size=len(tokenizer), **sizes)
    return SimpleNamespace(model=model_class(config).eval(), tokenizer=tokenizer, device="cpu", lock=threading.Lock())


def test_answer_question_picks_the_best_span_inside_the_context(minilm):
    from transformers import BertConfig, BertForQuestionAnswering

    qa = tiny(BertForQuestionAnswering, BertConfig, minilm.tokenizer, hidden_size=32, num_hidden_layers=1,
              num_attention_heads=2, intermediate_size=64)
    question, context = "Who wrote the notes?", "Ada Lovelace wrote the notes on the Analytical Engine in 1843."
    answer = pipelines.answer_question(qa, question, context, max_answer_tokens=5)
    encoded = minilm.tokenizer(question, context, return_offsets_mapping=True)
    with torch.no_grad():
        out = qa.model(**minilm.tokenizer(question, context, return_tensors="pt"))
    context_tokens = [i for i, s in enumerate(encoded.sequence_ids()) if s == 1]
    start = torch.softmax(out.start_logits[0, context_tokens].double(), -1)
    end = torch.softmax(out.end_logits[0, context_tokens].double(), -1)
    best = max(((i, j) for i in range(len(context_tokens)) for j in range(i, min(i + 5, len(context_tokens)))),
               key=lambda ij: start[ij[0]] * end[ij[1]])
    first, last = context_tokens[best[0]], context_tokens[best[1]]
    offsets = encoded["offset_mapping"]
    assert (answer["start"], answer["end"]) == (offsets[first][0], offsets[last][1])
    assert answer["answer"] == context[answer["start"]:answer["end"]]
    assert answer["score"] == pytest.approx(float(start[best[0]] * end[best[1]]), rel=1e-5)


def test_translate_is_greedy_decoding(minilm):
    from transformers import BartConfig, BartForConditionalGeneration

    tokenizer = minilm.tokenizer
    seq2seq = tiny(BartForConditionalGeneration, BartConfig, tokenizer, d_model=32, encoder_layers=1,
                   decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
                   decoder_ffn_dim=64, pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.cls_token_id,
                   eos_token_id=tokenizer.sep_token_id, decoder_start_token_id=tokenizer.cls_token_id,
                   forced_eos_token_id=None)
    text = "The weather is lovely today."
    translated = pipelines.translate(seq2seq, text, max_new_tokens=6)
    ids = tokenizer(text, return_tensors="pt", return_token_type_ids=False)
    decoded = torch.tensor([[tokenizer.cls_token_id]])
    with torch.no_grad():
        for _ in range(6):
            logits = seq2seq.model(**ids, decoder_input_ids=decoded).logits[0, -1]
            decoded = torch.cat([decoded, logits.argmax().view(1, 1)], dim=1)
            if decoded[0, -1] == tokenizer.sep_token_id:
                break
    assert translated == tokenizer.decode(decoded[0], skip_special_tokens=True)


# --- under the hood of each task ----------------------------------------------------------

def test_each_text_task_names_the_model_its_offline_path_runs():
    assert pipelines.hood_model_key("feature-extraction") == "minilm"
    assert pipelines.hood_model_key("zero-shot-classification") == "minilm"
    assert pipelines.hood_model_key("zero-shot-classification", by_prompting=True) == "smollm2-135m"
    for key in ("fill-mask", "text-generation", "summarization"):
        assert pipelines.hood_model_key(key) == "smollm2-135m"
    assert pipelines.hood_model_key("sentiment-analysis") == "minilm-sentiment"
    for key in ("ner", "question-answering", "image-classification"):
        assert pipelines.hood_model_key(key) is None


def test_hood_text_is_what_the_task_feeds_its_model(smollm2):
    assert pipelines.hood_text("fill-mask", "Paris is the [MASK] of France.", smollm2)[0] == "Paris is the"
    with pytest.raises(ValueError, match="exactly one"):
        pipelines.hood_text("fill-mask", "no mask", smollm2)
    prompt, note = pipelines.hood_text("zero-shot-classification", "Goal!", smollm2, by_prompting=True)
    assert prompt == "Goal!\nThis text is about" and "continuation" in note
    chat = pipelines.hood_text("summarization", "Long text.", smollm2)[0]
    assert chat == pipelines.chat_prompt(smollm2, "Summarise this text in one or two sentences:\n\nLong text.")
    assert pipelines.hood_text("feature-extraction", "Hi.", smollm2)[0] == "Hi."


def test_token_classification_hood_labels_every_token(minilm):
    from transformers import BertConfig, BertForTokenClassification

    labels = {0: "O", 1: "B-PER", 2: "B-LOC"}
    ner = tiny(BertForTokenClassification, BertConfig, minilm.tokenizer, hidden_size=32, num_hidden_layers=1,
               num_attention_heads=2, intermediate_size=64, num_labels=3, id2label=labels,
               label2id={v: k for k, v in labels.items()})
    hood = pipelines.under_the_hood(ner, "Ada lives in London.")
    with torch.no_grad():
        logits = ner.model(**minilm.tokenizer("Ada lives in London.", return_tensors="pt")).logits[0]
    assert hood["raw_shape"] == (1, len(hood["tokens"]), 3)
    assert [r["token"] for r in hood["result"]] == hood["tokens"]
    assert [r["label"] for r in hood["result"]] == [labels[int(i)] for i in logits.argmax(-1)]
    assert [r["probability"] for r in hood["result"]] == pytest.approx(logits.double().softmax(-1).max(-1).values.tolist(),
                                                                       rel=1e-5)


def test_image_hood_matches_the_classifier():
    from lib import efficientnet

    model, image = efficientnet.load_efficientnet_lite0(), pipelines.sample_image()
    hood = pipelines.image_under_the_hood(model, image)
    assert hood["inputs_shape"] == (1, 3, 224, 224) and hood["raw_shape"] == (1, 1000)
    pixels = efficientnet.preprocess(image)[0]
    assert [c["mean"] for c in hood["inputs"]] == pytest.approx(pixels.mean(dim=(1, 2)).tolist(), abs=1e-6)
    reference = efficientnet.classify(model, image)
    assert hood["raw_columns"] == [r["output"] for r in hood["result"]]  # step 2 labelled by class, step 3 softmaxed
    assert hood["raw_sample"][0] == [r["logit"] for r in hood["result"]]
    assert [r["output"] for r in hood["result"]] == [name for name, _ in reference]
    assert [r["probability"] for r in hood["result"]] == pytest.approx([p for _, p in reference], rel=1e-5)


@pytest.mark.slow
def test_speech_hood_decodes_the_same_words_as_transcribe():
    whisper, clip = pipelines.load_whisper("cpu"), str(librivox_clip()[0])
    hood = pipelines.speech_under_the_hood(whisper, clip)
    samples = int(hood["inputs"][0]["value"].replace(",", ""))
    assert 7.0 < samples / 16_000 < 7.2  # the 7.1 s clip at 16 kHz
    assert hood["inputs_shape"] == (80, samples // 160 + 1)  # a frame every 10 ms (hop of 160 samples)
    assert hood["result"][0]["output"] == pipelines.transcribe(whisper, clip)
    assert hood["raw_shape"] == (len(hood["raw_sample"]),)
    with pytest.raises(ValueError, match="Could not read"):
        pipelines.speech_under_the_hood(whisper, b"not audio" * 50)


@pytest.mark.slow
def test_summarize_is_greedy_decoding_of_the_chat_prompt(smollm2):
    from lessons.widgets.pipelines import DEFAULT_TEXT

    text = DEFAULT_TEXT["summarization"]
    summary = pipelines.summarize(smollm2, text, max_new_tokens=40)
    prompt = pipelines.chat_prompt(smollm2, f"Summarise this text in one or two sentences:\n\n{text}")
    ids = smollm2.tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        reference = smollm2.model.generate(ids, max_new_tokens=40, do_sample=False)
    assert summary == smollm2.tokenizer.decode(reference[0, ids.shape[1]:], skip_special_tokens=True).strip()
    assert "bike lanes" in summary and len(summary) < len(text)


def test_batch_throughput_times_every_batch_size(minilm):
    sentences = ["one sentence", "a second, longer sentence", "three", "four words in this"]
    rows = list(pipelines.batch_throughput(minilm, sentences, [1, 2, 4]))
    assert [r["batch_size"] for r in rows] == [1, 2, 4]
    for row in rows:
        assert row["sentences_per_s"] == pytest.approx(len(sentences) / row["seconds"])
