"""lib/rnn.py against independent references: torch.nn.RNN/LSTM/GRU, float64
hand-derived BPTT, plain Python counting."""
import collections
import math

import numpy as np
import pytest
import torch
from torch import nn

from lib import rnn

pytestmark = pytest.mark.usefixtures("one_cpu_thread")


@pytest.fixture(scope="module")
def depth_model():
    torch.set_num_threads(1)
    return rnn.train_depth_lstm()


@pytest.mark.parametrize("kind", rnn.KINDS)
def test_cells_match_torch_with_copied_weights(kind):
    torch.manual_seed(1)
    layer = rnn.TORCH_LAYERS[kind](5, 6)
    inputs = torch.randn(7, 3, 5)  # (seq, batch, input)
    expected, final = layer(inputs)
    with torch.no_grad():
        weights = {k: v.clone() for k, v in rnn.layer_weights(layer).items()}
        ours = rnn.unroll(kind, weights, inputs)
    assert (ours.stacked() - expected).abs().max() < 1e-5
    if kind == "lstm":
        assert (ours.cell[-1] - final[1][0]).abs().max() < 1e-5


def test_unroll_text_is_the_equation_and_matches_torch():
    run = rnn.unroll_text("hello world", hidden_size=8, seed=3)
    assert run.vocab == sorted(set("hello world")) and run.hidden.shape == (11, 8)
    np.testing.assert_allclose(run.hidden, np.tanh(run.input_terms + run.recurrent_terms + run.weights["bias"]),
                               atol=1e-6)
    torch.manual_seed(3)
    layer = nn.RNN(len(run.vocab), 8)
    inputs = rnn.one_hot([run.vocab.index(c) for c in "hello world"], len(run.vocab))
    with torch.no_grad():
        np.testing.assert_allclose(run.hidden, layer(inputs)[0][:, 0].numpy(), atol=1e-6)


@pytest.mark.parametrize("kind", rnn.KINDS)
def test_scaled_layer_sets_every_singular_value(kind):
    layer = rnn.scaled_layer(kind, 4, 16, weight_scale=0.7, memory_gate_bias=2.0, seed=0)
    for block in layer.weight_hh_l0.detach().chunk(rnn.GATES_PER_KIND[kind]):
        np.testing.assert_allclose(torch.linalg.svdvals(block).numpy(), 0.7, atol=1e-5)


def float64_norms(seq_len: int, scale: float, hidden: int = 32, inputs_size: int = 8, seed: int = 0) -> list[float]:
    """‖∂L/∂h_t‖ for t = 1..T, derived by hand in float64 for the demo's vanilla RNN."""
    layer = rnn.scaled_layer("rnn", inputs_size, hidden, scale, 0.0, seed)
    gen = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(seq_len, 1, inputs_size, generator=gen)[:, 0].double().numpy()
    readout = (torch.randn(hidden, generator=gen) / math.sqrt(hidden)).double().numpy()
    w = {k: v.detach().double().numpy() for k, v in rnn.layer_weights(layer).items()}
    h, states = np.zeros(hidden), []
    for x_t in x:
        h = np.tanh(w["weight_ih"] @ x_t + w["weight_hh"] @ h + w["bias_ih"] + w["bias_hh"])
        states.append(h)
    grad, expected = readout, [np.linalg.norm(readout)]
    for h_t in reversed(states[1:]):  # ∂L/∂h_{t-1} = W_hᵀ (∂L/∂h_t ⊙ (1 − h_t²))
        grad = w["weight_hh"].T @ (grad * (1 - h_t ** 2))
        expected.append(np.linalg.norm(grad))
    return expected[::-1]


def test_bptt_norms_match_a_float64_hand_derivation():
    report = rnn.gradient_norms("rnn", 12, 1.5, seed=0)
    np.testing.assert_allclose(report.norms, float64_norms(12, 1.5), rtol=1e-4)


def test_the_bptt_text_says_what_the_demo_does_at_the_scales_it_names():
    """Issue 23: with tanh in the loop a singular value of 1.25 still vanishes; 2 explodes."""
    from lessons.widgets import rnn as widgets
    from lib import prose

    steps = widgets.SHARED["len"].default
    facts = rnn.bptt_facts(steps)
    ratios = {}
    for i, scale in enumerate(rnn.BPTT_SCALES.values(), start=1):
        layer = rnn.scaled_layer("rnn", 8, 32, scale, 0.0, 0)
        np.testing.assert_allclose(torch.linalg.svdvals(layer.weight_hh_l0.detach().double()), scale, rtol=1e-5)
        norms = float64_norms(steps, scale)
        ratios[scale] = norms[0] / norms[-1]
        assert facts[f"scale_{i}"] == f"{scale:g}"
        assert float(facts[f"ratio_{i}"].replace(",", "")) == pytest.approx(ratios[scale], rel=0.05)
    assert ratios[0.75] < 1e-4 and ratios[1.25] < 1 < 10 < ratios[2.0]  # 1.25 > 1, and still it vanishes
    text = prose.lesson_markdown("rnn", "bptt", **facts)
    assert f"at scale {facts['scale_2']}, just above\none, it **still vanishes**" in text


def test_vanilla_rnn_gradients_vanish_geometrically_with_small_weights():
    norms = rnn.gradient_norms("rnn", 30, 0.5).norms
    steps_back = np.arange(30)[::-1]
    slope, intercept = np.polyfit(steps_back, np.log(norms), 1)
    residual = np.log(norms) - (slope * steps_back + intercept)
    r_squared = 1 - residual.var() / np.log(norms).var()
    assert r_squared > 0.95  # a straight line on a log axis: geometric
    assert rnn.decay_rate(norms) <= 0.5 + 1e-6  # |tanh'| <= 1, so at most the singular value per step
    assert np.all(np.diff(norms) > 0)  # every step further back is smaller
    assert norms[0] / norms[-1] < 1e-6


def test_decay_rate_ignores_gradients_that_underflowed_to_zero():
    norms = rnn.gradient_norms("rnn", 100, 0.5).norms
    assert (norms == 0).any()  # float32 underflow far back (the "Vanishing gradients" preset)
    assert 0 < rnn.decay_rate(norms) <= 0.5 + 1e-6


def test_large_weights_explode_and_clipping_caps_the_update():
    report = rnn.gradient_norms("rnn", 30, 3.0, max_norm=1.0)
    assert report.norms[0] / report.norms[-1] > 1e3
    assert report.weight_grad_norm > 100
    assert report.clipped_grad_norm == pytest.approx(1.0, rel=1e-4)
    small = rnn.gradient_norms("rnn", 30, 0.5, max_norm=1e6)
    assert small.clipped_grad_norm == pytest.approx(small.weight_grad_norm, rel=1e-5)  # nothing to clip


def test_lstm_keeps_gradients_when_its_forget_gate_is_open():
    kept = rnn.gradient_norms("lstm", 50, 0.75, memory_gate_bias=4.0).norms
    default = rnn.gradient_norms("lstm", 50, 0.75, memory_gate_bias=0.0).norms
    vanilla = rnn.gradient_norms("rnn", 50, 0.75).norms
    assert kept[0] / kept[-1] > 1e3 * vanilla[0] / vanilla[-1]
    assert kept[0] / kept[-1] > 1e3 * default[0] / default[-1]


def test_true_depth_counts_and_never_goes_negative():
    np.testing.assert_array_equal(rnn.true_depth("(()))(x"), [1, 2, 1, 0, 0, 1, 1])


@pytest.mark.slow
def test_trained_lstm_counts_brackets_and_our_cell_reproduces_it(depth_model):
    idx, depth = rnn.bracket_strings(64, 40, seed=123)  # unseen strings
    with torch.no_grad():
        torch_prediction = depth_model(idx)
    assert (torch_prediction - depth).abs().mean() < 0.3
    text = "".join(rnn.BRACKET_VOCAB[i] for i in idx[:, 0].tolist())
    trace = rnn.lstm_gate_trace(depth_model, text)
    np.testing.assert_allclose(trace.prediction, torch_prediction[:, 0].numpy(), atol=1e-5)
    assert trace.counter_correlation > 0.9
    for values in trace.gates.values():
        assert values.shape == (40, 8)
    assert all(0 <= trace.gates[g].min() and trace.gates[g].max() <= 1 for g in ("input", "forget", "output"))


def test_corpus_bad_inputs_have_clear_messages():
    with pytest.raises(rnn.CorpusError, match="empty"):
        rnn.build_corpus("   \n", 16)
    with pytest.raises(rnn.CorpusError, match="fewer than the sequence length"):
        rnn.build_corpus("short text", 16)
    with pytest.raises(rnn.CorpusError, match="too short"):
        rnn.build_corpus("x" * 20, 16)
    corpus = rnn.build_corpus("abcdefghij" * 10, 16)
    assert len(corpus.train) + len(corpus.val) == 100 and len(corpus.val) == 17
    assert corpus.decode(corpus.train[:10].tolist()) == "abcdefghij"


def test_a_huge_corpus_is_cut_to_the_limit():
    corpus = rnn.build_corpus("ab" * (rnn.MAX_CORPUS_CHARS // 2 + 1_000), 48)
    assert corpus.truncated and len(corpus.train) + len(corpus.val) == rnn.MAX_CORPUS_CHARS


def test_decode_upload_accepts_text_and_refuses_binary():
    assert rnn.decode_upload("héllo\nwörld".encode()) == "héllo\nwörld"
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    with pytest.raises(rnn.CorpusError, match="binary"):
        rnn.decode_upload(png)
    with pytest.raises(rnn.CorpusError, match="UTF-8"):
        rnn.decode_upload(b"caf\xe9 au lait")
    with pytest.raises(rnn.CorpusError, match="control characters"):
        rnn.decode_upload(bytes(range(1, 32)) * 10)


def test_decode_upload_reads_byte_order_marks():
    assert rnn.decode_upload("\ufeffcafé".encode()) == "café"  # UTF-8 with a BOM: the mark is not text
    for codec in ("utf-16", "utf-16-be", "utf-16-le"):
        data = ("\ufeff" if codec != "utf-16" else "") + "héllo\nwörld"
        assert rnn.decode_upload(data.encode(codec)) == "héllo\nwörld", codec
    with pytest.raises(rnn.CorpusError, match="UTF-16"):
        rnn.decode_upload(b"\xff\xfeab\x00")  # a UTF-16 mark, then an odd number of bytes
    with pytest.raises(rnn.CorpusError, match="binary"):
        rnn.decode_upload("no mark".encode("utf-16-le"))  # UTF-16 without its mark has NUL bytes


def test_unigram_baseline_matches_plain_counting():
    text = "the cat sat on the mat, the end." * 3
    corpus = rnn.build_corpus(text, 8)
    split = len(text) - len(corpus.val)
    counts = collections.Counter(text[:split])
    vocab = sorted(set(text))
    total = split + len(vocab)
    expected = -sum(math.log((counts[ch] + 1) / total) for ch in text[split:]) / len(text[split:])
    assert rnn.unigram_loss(corpus) == pytest.approx(expected, rel=1e-12)


@pytest.mark.slow
def test_char_model_with_the_page_defaults_beats_the_unigram_baseline_on_python_help():
    """The page's defaults (LSTM, hidden 96, sequence 48, batch 32, lr 0.005, 60 s budget) are the
    function's defaults; 50 of its 1,000 steps are enough (benchmarks/rnn.py times the 60 s run)."""
    corpus = rnn.build_corpus(rnn.bundled_corpus(), 48)
    baseline = rnn.unigram_loss(corpus)
    assert 2.5 < baseline < 4.0
    reports = list(rnn.train_char_model(corpus, steps=50, eval_every=25))
    assert [r.step for r in reports] == [25, 50]
    assert reports[-1].val_loss < baseline - 0.3
    assert reports[-1].val_loss < reports[0].val_loss
    assert set(reports[-1].sample) <= set(corpus.vocab) and len(reports[-1].sample) == 120


def test_time_budget_stops_training_early():
    corpus = rnn.build_corpus("abcabcabd" * 50, 16)
    reports = list(rnn.train_char_model(corpus, "gru", steps=10_000, time_budget_s=0.0, seq_len=16,
                                        hidden_size=16))
    assert [r.step for r in reports] == [1]


def test_sampling_is_reproducible_and_low_temperature_is_greedy():
    corpus = rnn.build_corpus("abababababababababab" * 5, 8)
    torch.manual_seed(0)
    model = rnn.CharModel(len(corpus.vocab), "lstm", 16)
    assert rnn.sample(model, corpus, "ab", 30, 1.0, seed=5) == rnn.sample(model, corpus, "ab", 30, 1.0, seed=5)
    greedy = rnn.sample(model, corpus, "ab", 10, 0.01, seed=1)
    assert greedy == rnn.sample(model, corpus, "ab", 10, 0.01, seed=2)


def test_series_windows_pair_the_past_with_the_next_value():
    x, y = rnn.series_windows(np.arange(10.0), 3)
    assert x.shape == (7, 3, 1) and y.tolist() == [3, 4, 5, 6, 7, 8, 9]
    assert x[0, :, 0].tolist() == [0, 1, 2] and x[-1, :, 0].tolist() == [6, 7, 8]


@pytest.mark.slow
def test_recurrent_forecasters_beat_last_value_on_a_noisy_sine():
    reports = list(rnn.train_forecasters(rnn.make_series("noisy sine"), steps=100, eval_every=100))
    mse = reports[-1].test_mse
    assert len(reports[-1].truth) == len(reports[-1].predictions["lstm"]) == 160
    for kind in rnn.KINDS:
        assert mse[kind] < mse["last value"]


def test_forward_timings_cover_both_layers_of_similar_size():
    rows = rnn.forward_timings([16, 64], d_model=32, repeats=1)
    assert {(r["layer"], r["seq_len"]) for r in rows} == {(name, n) for name in ("LSTM", "Transformer encoder layer")
                                                         for n in (16, 64)}
    assert all(r["ms"] > 0 for r in rows)
    sizes = sorted({r["parameters"] for r in rows})
    assert sizes[1] / sizes[0] < 1.5
    assert rnn.path_lengths(256) == {"RNN (sequential steps)": 255, "Self-attention (one layer)": 1}
