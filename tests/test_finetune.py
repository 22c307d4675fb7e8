"""lib/finetune.py: data handling, metrics against scikit-learn, one training step."""
import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from lib import finetune as ft


def test_bundled_reviews_are_balanced_and_split():
    splits = ft.bundled_reviews()
    assert sum(map(len, splits.values())) >= 600
    for name in ("train", "validation", "test"):
        labels = splits[name].labels
        assert labels.count(0) == labels.count(1) > 0
    texts = [t for s in splits.values() for t in s.texts]
    assert len(set(texts)) == len(texts), "no review appears twice (no test leakage)"


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
    ("text,label\nfine,1\n,0\n".encode(), "empty"),
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
    assert ft.trainable_parameters(model.model, freeze_encoder=True) == updated == 384 * 2 + 2
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
    assert ft.classification_metrics(test.labels, predicted, 2)["accuracy"] > 0.5


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
