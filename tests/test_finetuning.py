"""lib/finetuning.py: data handling, metrics against scikit-learn, one training step."""
import json

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from lib import finetuning as ft


def test_bundled_reviews_are_balanced_and_split():
    splits = ft.bundled_reviews()
    assert sum(map(len, splits.values())) >= 600
    for name in ("train", "validation", "test"):
        labels = splits[name].labels
        assert labels.count(0) == labels.count(1) > 0
    texts = [t for s in splits.values() for t in s.texts]
    assert len(set(texts)) == len(texts), "no review appears twice (no test leakage)"


def test_held_out_reviews_are_what_the_page_says():
    """About products no training review mentions, each with a sentence no training review
    contains; openings and closings shared (the page's caption)."""
    import importlib
    import re

    made = importlib.import_module("scripts.make_reviews")

    def sentences(text):
        return set(re.split(r"(?<=\.) ", text))

    def products(text, names):
        return {name for name in names if re.search(rf"\b{re.escape(name)}\b", text)}

    splits = ft.bundled_reviews()
    seen = set().union(*map(sentences, splits["train"].texts))
    assert not any(products(t, made.HELD_OUT_PRODUCTS) for t in splits["train"].texts)
    for name in ("validation", "test"):
        held_out = splits[name].texts
        assert all(sentences(t) - seen for t in held_out), name
        assert all(products(t, made.HELD_OUT_PRODUCTS) and not products(t, made.PRODUCTS) for t in held_out), name
        assert any(sentences(t) & seen for t in held_out), name  # stock closings ("Highly recommended.") are shared


@pytest.mark.parametrize("num_labels", [2, 4])
def test_metrics_match_scikit_learn(num_labels):
    rng = np.random.default_rng(num_labels)
    y_true, y_pred = rng.integers(0, num_labels, 300), rng.integers(0, num_labels, 300)
    got = ft.classification_metrics(y_true, y_pred, num_labels)
    average = "binary" if num_labels == 2 else "macro"
    p, r, f, _ = skm.precision_recall_fscore_support(y_true, y_pred, average=average, zero_division=0)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert (got["precision"], got["recall"], got["f1"]) == pytest.approx((p, r, f))
    np.testing.assert_array_equal(got["confusion"], skm.confusion_matrix(y_true, y_pred, labels=range(num_labels)))


def test_precision_recall_curve_matches_direct_thresholds():
    rng = np.random.default_rng(0)
    y_true, scores = rng.integers(0, 2, 50), rng.random(50)
    precision, recall = ft.precision_recall_curve(y_true, scores)
    for k, threshold in enumerate(np.sort(scores)[::-1]):
        predicted = scores >= threshold
        assert precision[k] == pytest.approx((y_true[predicted] == 1).mean())
        assert recall[k] == pytest.approx(predicted[y_true == 1].mean())


def test_csv_parsing_accepts_word_labels():
    rows = "text,label\n" + "".join(f"good thing {i},pos\nbad thing {i},neg\n" for i in range(10))
    data = ft.parse_labelled_csv(rows.encode())
    assert data.label_names == ["neg", "pos"] and len(data) == 20
    assert data.labels[:2] == [1, 0]


@pytest.mark.parametrize("content, message", [
    ("text,label\nfine,1\n,0\n".encode(), "Line 3 has no text: every row needs a text and a label"),
    ("text,label\nfine,\n".encode(), "Line 2 has no label: every row needs a text and a label"),
    ("text,label\nfine\n,\n".encode(), r"Line 2 has no label \(2 rows lack one\)"),
    (("text,label\n" + "a review,1\n" * 30).encode(), "same label"),
    ("text,label\ncafé,1\n".encode("latin-1") + b"\xff\xfe,0\n", "UTF-8"),
    (b"review;stars\nnice;5\n", "header"),
    (b"text,label\na,1\nb,0\n", "at least 10"),
])
def test_bad_csv_is_refused_with_a_clear_message(content, message):
    with pytest.raises(ft.DataError, match=message):
        ft.parse_labelled_csv(content)


def test_subset_keeps_classes_balanced():
    train = ft.bundled_reviews()["train"]
    small = train.subset(40, seed=3)
    assert len(small) == 40 and small.labels.count(0) == small.labels.count(1) == 20


def test_one_training_step_lowers_the_loss_on_a_fixed_batch():
    batch = ft.bundled_reviews()["train"].subset(16, seed=0)
    model = ft.new_classifier("minilm", ft.REVIEW_LABELS)
    before, _ = ft.evaluate_loss(model, batch, 64)
    cfg = ft.TrainConfig(learning_rate=1e-4, batch_size=16, epochs=1, warmup_ratio=0.0, schedule="constant",
                         early_stopping_patience=0)
    run = ft.TrainingRun(cfg)
    logs = list(ft.train(model, batch, batch, cfg, run))
    assert run.total_steps == 1 and logs[0].train_loss > 0  # measured in train mode (dropout on)
    after, _ = ft.evaluate_loss(model, batch, 64)
    assert after < before


def test_freezing_the_encoder_trains_only_the_head():
    data = ft.bundled_reviews()["train"].subset(8, seed=1)
    model = ft.new_classifier("minilm", ft.REVIEW_LABELS)
    encoder_before = model.model.bert.encoder.layer[0].attention.self.query.weight.clone()
    head_before = model.model.classifier.weight.clone()
    cfg = ft.TrainConfig(epochs=1, batch_size=8, freeze_encoder=True, early_stopping_patience=0)
    list(ft.train(model, data, data, cfg, ft.TrainingRun(cfg)))
    assert torch.equal(model.model.bert.encoder.layer[0].attention.self.query.weight, encoder_before)
    assert not torch.equal(model.model.classifier.weight, head_before)
    updated = sum(p.numel() for p in model.model.parameters() if p.requires_grad)
    head = model.model.config.hidden_size * len(ft.REVIEW_LABELS) + len(ft.REVIEW_LABELS)  # H·C weights, C biases
    assert ft.trainable_parameters(model.model, freeze_encoder=True) == updated == head
    assert ft.parameter_counts("minilm", 2) == (updated, model.model.num_parameters())  # what the page shows


@pytest.mark.parametrize("examples, batch, epochs, warmup, expected", [
    (560, 16, 3, 0.1, (35, 105, 10)), (100, 8, 2, 0.25, (13, 26, 6)), (20, 32, 1, 0.0, (1, 1, 0))])
def test_training_steps(examples, batch, epochs, warmup, expected):
    assert ft.training_steps(examples, batch, epochs, warmup) == expected


def test_long_texts_are_cut_and_html_is_kept_as_text():
    rows = "text,label\n" + "".join(f"{'x' * 50_000},a\n<script>alert({i})</script>,b\n" for i in range(10))
    data = ft.parse_labelled_csv(rows.encode())
    assert max(map(len, data.texts)) == ft.MAX_TEXT_CHARS
    assert data.texts[1] == "<script>alert(0)</script>"


def test_zero_shot_baseline_beats_chance(minilm):
    test = ft.bundled_reviews()["test"]
    predicted = ft.zero_shot_predict(minilm, test.texts, ft.REVIEW_LABELS)
    assert ft.classification_metrics(test.labels, predicted, 2)["accuracy"] > 0.6


def test_zero_shot_picks_the_nearest_description_one_text_at_a_time(minilm):
    def embed(text):  # one text, no padding: mean of the last hidden states, unit length
        ids = minilm.tokenizer(text, return_tensors="pt")
        with torch.no_grad():
            hidden = minilm.model(**ids).last_hidden_state[0]  # (seq, hidden)
        return torch.nn.functional.normalize(hidden.mean(0), dim=0)

    texts = ft.bundled_reviews()["test"].texts[:12]
    assert ft.zero_shot_descriptions(["Positive", "meh"]) == [ft.LABEL_DESCRIPTIONS["positive"], "This review is meh."]
    descriptions = torch.stack([embed(d) for d in ft.zero_shot_descriptions(ft.REVIEW_LABELS)])
    expected = [int((embed(t) @ descriptions.T).argmax()) for t in texts]
    assert ft.zero_shot_predict(minilm, texts, ft.REVIEW_LABELS).tolist() == expected


def test_attention_map_rows_are_distributions(minilm):
    tokens, weights = ft.last_layer_attention(minilm, "Great value, terrible battery.")
    assert tokens[0] == "[CLS]" and weights.shape == (len(tokens), len(tokens))
    np.testing.assert_allclose(weights.sum(1), 1, atol=1e-5)


def test_a_run_waits_for_a_free_training_slot():
    import threading

    slots = threading.BoundedSemaphore(1)
    slots.acquire()  # a classmate's run holds the only slot
    releaser = threading.Timer(0.3, slots.release)
    releaser.start()
    waits = []
    with ft.training_slot(waits.append, slots, poll_s=0.05):
        assert not slots.acquire(blocking=False)  # this run holds it now
    assert waits and waits == sorted(waits)  # told the student while waiting
    assert slots.acquire(blocking=False)  # and gave it back
    releaser.join()


def write_parquet(path, rows: dict) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table(rows), path, row_group_size=50)
    return str(path)


def test_a_hub_set_takes_the_first_rows_of_each_label_and_joins_title_and_content(tmp_path):
    labels = [1, 1, 0] * 100  # 200 positive, 100 negative, in the file's order
    path = write_parquet(tmp_path / "test-00000-of-00001.parquet",
                         {"label": labels, "title": [f"T{i}" for i in range(300)],
                          "content": [f"c{i}" if i != 2 else None for i in range(300)]})
    asked = []
    splits = ft.hub_reviews("amazon_polarity", per_label=40, fetch=lambda repo, split: asked.append(
        (repo, split)) or path)
    assert asked == [("fancyzhx/amazon_polarity", "test")]
    everything = {t: y for s in splits.values() for t, y in zip(s.texts, s.labels)}
    assert len(everything) == 80 and sorted(everything.values()) == [0] * 40 + [1] * 40
    assert "T0. c0" in everything and everything["T0. c0"] == 1
    assert "T2" in everything  # no content: the title alone
    assert [len(splits[n]) for n in ("train", "validation", "test")] == [56, 8, 16]


@pytest.mark.parametrize("fetch, message", [
    ("offline", "could not be read from the Hub (OSError"),
    ("one label", "too few labelled rows"),
    ("no column", "could not be read from the Hub"),
])
def test_a_hub_set_that_cannot_be_used_is_a_clear_message(tmp_path, fetch, message):
    def fake(repo, split):
        if fetch == "offline":
            raise OSError("no network")
        if fetch == "one label":
            return write_parquet(tmp_path / "a.parquet", {"sentence": ["fine"] * 30, "label": [1] * 30})
        return write_parquet(tmp_path / "b.parquet", {"text": ["fine"] * 30, "label": [1, 0] * 15})

    with pytest.raises(ft.DataError, match=message.replace("(", r"\(")):
        ft.hub_reviews("sst2", fetch=fake)


def tiny_bert_pair():
    from transformers import BertConfig, BertForSequenceClassification, BertModel

    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=3, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=16)
    torch.manual_seed(0)
    pretrained = BertModel(config)
    finetuned = BertForSequenceClassification(config)
    finetuned.bert.load_state_dict(pretrained.state_dict())
    return pretrained, finetuned


def test_weight_changes_measure_each_part_of_the_encoder():
    pretrained, finetuned = tiny_bert_pair()
    unchanged = ft.weight_changes(pretrained, finetuned)
    assert list(unchanged) == ["embeddings", "layer 0", "layer 1", "layer 2", "pooler"]
    assert set(unchanged.values()) == {0.0}
    with torch.no_grad():
        finetuned.bert.encoder.layer[1].output.dense.weight.mul_(1.5)
    layer = {name: p.detach() for name, p in pretrained.encoder.layer[1].named_parameters()}
    norm = torch.sqrt(sum((p.double() ** 2).sum() for p in layer.values()))
    expected = 0.5 * torch.linalg.norm(layer["output.dense.weight"].double()) / norm
    changes = ft.weight_changes(pretrained, finetuned)
    assert changes["layer 1"] == pytest.approx(float(expected), rel=1e-5)
    assert {k: v for k, v in changes.items() if k != "layer 1"} == dict.fromkeys(
        ["embeddings", "layer 0", "layer 2", "pooler"], 0.0)


@pytest.fixture(scope="module")
def minilm_tokenizer():
    from transformers import AutoTokenizer

    from lib import model_loading

    return AutoTokenizer.from_pretrained(model_loading.model_dir("minilm"))


@pytest.fixture
def tiny_classifier(minilm_tokenizer):
    """A tiny BERT classifier (2 layers, width 16) without dropout, with MiniLM's tokenizer, as a Loaded."""
    from transformers import BertConfig, BertForSequenceClassification

    from lib import model_loading

    config = BertConfig(vocab_size=minilm_tokenizer.vocab_size, hidden_size=16, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=32, max_position_embeddings=64,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, num_labels=2)
    torch.manual_seed(0)
    return model_loading.Loaded(spec=None, model=BertForSequenceClassification(config).eval(),
                                tokenizer=minilm_tokenizer, device="cpu")


TINY_DATA = ft.Dataset(["good", "bad", "great", "awful", "fine", "poor"], [1, 0, 1, 0, 1, 0], ft.REVIEW_LABELS)


def test_the_trainer_trains_and_its_callback_streams_the_loss(tiny_classifier):
    """One step over the whole set: the streamed loss is the cross-entropy of the batch before the step
    (computed here with torch), then one evaluation with the Trainer's eval_loss and accuracy."""
    import datasets
    import transformers

    loaded, data = tiny_classifier, TINY_DATA
    head_before = loaded.model.classifier.weight.clone()
    batch = loaded.tokenizer(data.texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = loaded.model(**batch).logits
    expected_loss = torch.nn.functional.cross_entropy(logits.double(), torch.tensor(data.labels)).item()
    expected_accuracy = float((logits.argmax(-1) == torch.tensor(data.labels)).float().mean())
    cfg = ft.TrainConfig(batch_size=6, epochs=1, early_stopping_patience=0, learning_rate=1e-2)
    run = ft.TrainingRun(cfg)
    with __import__("tempfile").TemporaryDirectory() as out:
        trainer, streamer = ft.build_trainer(loaded, data, data, cfg, ft.TrainingRun(cfg), out)
        assert isinstance(trainer, transformers.Trainer) and trainer.args.eval_strategy == "epoch"
        assert isinstance(trainer.train_dataset, datasets.Dataset) and "input_ids" in trainer.train_dataset.features
        assert isinstance(streamer, transformers.TrainerCallback)
    logs = list(ft.train(loaded, data, data, cfg, run))
    assert [log.step for log in logs] == [1, 1] and run.finished and not run.stopped_early
    assert logs[0].train_loss == pytest.approx(expected_loss, rel=1e-4)
    assert logs[0].train_accuracy == pytest.approx(expected_accuracy)
    after = ft.evaluate_loss(loaded, data, 64)
    assert logs[1].val_loss == pytest.approx(after[0], rel=1e-4) and logs[1].val_accuracy == after[1]
    assert not torch.equal(loaded.model.classifier.weight, head_before)  # the optimiser stepped


def test_a_run_stopped_part_way_says_so_and_keeps_its_logs(tiny_classifier):
    cfg = ft.TrainConfig(batch_size=2, epochs=2, early_stopping_patience=0)
    stopped = ft.TrainingRun(cfg)
    steps = ft.train(tiny_classifier, TINY_DATA, TINY_DATA, cfg, stopped)
    for _ in range(4):  # a Stop ends the page's loop: the generator is closed, the callback stops the Trainer
        next(steps)
    before = {k: v.clone() for k, v in tiny_classifier.model.state_dict().items()}
    steps.close()
    assert not stopped.finished and stopped.steps_done == 3 and stopped.total_steps == 6
    assert [log.step for log in stopped.logs] == [1, 2, 3, 3]  # three steps and the first epoch's validation
    assert all(torch.equal(v, before[k]) for k, v in tiny_classifier.model.state_dict().items())  # no step after


def test_early_stopping_ends_the_run_when_validation_stops_improving(tiny_classifier):
    cfg = ft.TrainConfig(batch_size=3, epochs=5, early_stopping_patience=1, learning_rate=0.0)  # never improves
    run = ft.TrainingRun(cfg)
    logs = list(ft.train(tiny_classifier, TINY_DATA, TINY_DATA, cfg, run))
    assert run.finished and run.stopped_early and run.steps_done == 4 and run.total_steps == 10
    assert [log.epoch for log in logs if log.val_loss is not None] == [1.0, 2.0]


def test_save_pretrained_then_from_pretrained_gives_identical_logits(tiny_classifier, tmp_path):
    import zipfile

    from lib import model_loading

    metrics = {"accuracy": 0.5, "precision": 0.5, "recall": 1.0, "f1": 0.667}
    card = ft.model_card("minilm", ft.REVIEW_LABELS, ft.TrainConfig(), "six words", 6, metrics, 6)
    files = ft.save_model(tiny_classifier, tmp_path / "saved", card)
    names = [f["file"] for f in files]
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "README.md"} <= set(names)
    assert all(f["bytes"] == (tmp_path / "saved" / f["file"]).stat().st_size for f in files)
    assert all(f["holds"] for f in files if f["file"] in ft.FILE_ROLES)
    readme = (tmp_path / "saved" / "README.md").read_text()
    assert readme.startswith("---\nlicense: apache-2.0\nbase_model: sentence-transformers/all-MiniLM-L6-v2\n")
    assert "{type: accuracy, value: 0.5000}" in readme and "## Intended use and limits" in readme
    reloaded = model_loading.load_folder(tmp_path / "saved")
    batch = tiny_classifier.tokenizer(["a new sentence", "and another one here"], padding=True, return_tensors="pt")
    with torch.no_grad():
        assert torch.equal(tiny_classifier.model(**batch).logits, reloaded.model(**batch).logits)
    assert reloaded.tokenizer("a new sentence")["input_ids"] == tiny_classifier.tokenizer("a new sentence")["input_ids"]
    with zipfile.ZipFile(__import__("io").BytesIO(ft.zip_folder(tmp_path / "saved"))) as archive:
        assert sorted(archive.namelist()) == sorted(names)
        assert archive.read("config.json") == (tmp_path / "saved" / "config.json").read_bytes()


def test_int8_and_pruned_models_are_measured(tiny_classifier):
    """Sizes from torch.save, sparsity counted, accuracy recomputed here from the model's logits."""
    from transformers import BertConfig, BertForSequenceClassification

    wide = BertForSequenceClassification(BertConfig(vocab_size=100, hidden_size=128, num_hidden_layers=2,
                                                    num_attention_heads=2, intermediate_size=256))
    int8 = ft.quantize_int8(wide)
    assert any(type(m).__name__ == "Linear" and "quantized" in type(m).__module__ for m in int8.modules())
    linear_weights = sum(m.weight.numel() for m in wide.modules() if isinstance(m, torch.nn.Linear))
    saving = ft.saved_bytes(wide)[0] - ft.saved_bytes(int8)[0]
    assert 0.9 * 3 * linear_weights < saving < 3 * linear_weights  # 4 bytes → 1 per weight, plus scales
    model = tiny_classifier.model
    for sparsity in (0.5, 0.9):
        pruned = ft.prune_linear(model, sparsity)
        assert ft.linear_sparsity(pruned) == pytest.approx(sparsity, abs=0.01)
        assert ft.saved_bytes(pruned)[0] == pytest.approx(ft.saved_bytes(model)[0], rel=0.01)  # dense: as big
        assert not any("weight_orig" in name for name in pruned.state_dict())  # made permanent
    assert ft.linear_sparsity(model) == 0.0  # the original is untouched
    rows = list(ft.smaller_models(tiny_classifier, TINY_DATA, sparsities=(0.5, 0.9), latency_texts=4))
    assert [r["model"] for r in rows] == ["float32", "int8 (dynamic)", "pruned 50%", "pruned 90%"]
    assert rows[3]["zlib-compressed (MB)"] < rows[0]["zlib-compressed (MB)"]
    batch = tiny_classifier.tokenizer(TINY_DATA.texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        correct = (model(**batch).logits.argmax(-1) == torch.tensor(TINY_DATA.labels)).float().mean()
    assert rows[0]["test accuracy"] == pytest.approx(float(correct))


def test_checkpointing_and_bf16_shrink_the_activations_kept_for_backward(tiny_classifier):
    rows = list(ft.memory_settings(tiny_classifier, TINY_DATA.texts, TINY_DATA.labels, max_length=32))
    saved = {(r["bf16 autocast"], r["gradient checkpointing"]): r["saved activations (MB)"] for r in rows}
    assert saved[(False, True)] < 0.5 * saved[(False, False)]
    assert saved[(True, False)] < saved[(False, False)]
    config, batch, seq = tiny_classifier.model.config, len(TINY_DATA), 32
    assert ft.checkpointing_formula_bytes(config, batch, seq) == 2 * seq * batch * 16 * 4  # layers·s·b·h·4 bytes


def test_a_sweep_runs_each_cell_from_the_same_pretrained_weights():
    train = ft.bundled_reviews()["train"].subset(8, seed=2)
    rows = list(ft.sweep("minilm", train, train, [(1e-5, 1), (3e-4, 1)]))
    assert [(r["learning rate"], r["epochs"]) for r in rows] == [(1e-5, 1), (3e-4, 1)]
    assert all(0 <= r["validation accuracy"] <= 1 and r["validation loss"] > 0 for r in rows)
    assert rows[0]["validation loss"] != rows[1]["validation loss"]


def test_the_recorded_run_is_what_this_code_trains():
    """assets/recorded/finetuning_run.json (the first screen before a student fine-tunes) is a run of the
    lesson's defaults on the bundled reviews: its sizes are the data's, its accuracy the issue's bar, and
    retraining its first two steps here gives its first two losses."""
    recorded = ft.recorded_run()
    splits = ft.bundled_reviews()
    assert recorded.config == ft.TrainConfig() and recorded.label_names == splits["train"].label_names
    assert recorded.train_size == len(splits["train"]) and recorded.confusion.sum() == len(splits["test"])
    assert (recorded.confusion.sum(1) == np.bincount(splits["test"].labels)).all()  # rows: the true classes
    assert np.trace(recorded.confusion) / recorded.confusion.sum() >= 0.85
    steps = [log for log in recorded.logs if log.train_loss is not None]
    evals = [log for log in recorded.logs if log.val_loss is not None]
    assert [log.step for log in steps] == list(range(1, len(steps) + 1)) and len(evals) >= 1
    assert [log.epoch for log in evals] == list(range(1, len(evals) + 1))
    assert ft.record(recorded.base, ft.TrainingRun(recorded.config, recorded.logs), recorded.label_names,
                     recorded.confusion, recorded.train_size, recorded.recorded).keys() == \
        json.loads(ft.RECORDED_RUN.read_text()).keys()
    run = ft.TrainingRun(recorded.config)
    training = ft.train(ft.new_classifier(recorded.base, recorded.label_names, seed=recorded.config.seed), splits["train"],
                        splits["validation"], recorded.config, run)
    first = [next(training).train_loss for _ in range(2)]
    training.close()
    assert first == pytest.approx([log.train_loss for log in steps[:2]], abs=2e-3)
