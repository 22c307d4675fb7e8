"""The Transformer lesson's logic: the block walk against the models' own hidden_states[1] and float64
formulas; the toy translator's accuracy, cross-attention alignment and decoding; the tiny BERT's masking and
accuracy; the Hub paths with small random models standing in for the Hub ones."""
import math
import threading
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from lib import device_policy, transformer
from lib import transformer_pretraining as pretraining
from lib import transformer_seq2seq as seq2seq

LONG = " ".join(["The cat chased the mouse across the garden and"] * 12)


# --- 1. the block walk ----------------------------------------------------------------

def reference_hidden(loaded, text: str) -> torch.Tensor:
    """The model's own layer-0 output, on one thread as the walk runs (float32 sums in another order differ by
    a few 1e-5 on SmolLM2's outlier dimensions, whose values reach the hundreds)."""
    encoded = loaded.tokenizer(text, truncation=True, max_length=transformer.MAX_WALK_TOKENS, return_tensors="pt")
    with torch.no_grad(), device_policy.cpu_threads("cpu"):
        return loaded.model.base_model(**encoded, output_hidden_states=True).hidden_states[1][0].double()


@pytest.mark.parametrize("fixture", ["minilm", "smollm2"])
@pytest.mark.parametrize("text", ["Your cat is a lovely cat", LONG])
def test_block_walk_ends_at_the_models_own_hidden_states_1(request, fixture, text):
    loaded = request.getfixturevalue(fixture)
    walk = transformer.walk(loaded, text)
    reference = reference_hidden(loaded, text)
    out = torch.from_numpy(walk.steps[-1].values).double()
    assert out.shape == reference.shape
    assert float((out - reference).abs().max()) < 1e-5
    assert walk.max_difference < 1e-5
    assert len(walk.tokens) == reference.shape[0] <= transformer.MAX_WALK_TOKENS
    assert (walk.truncated_from is not None) == (text == LONG)


def steps_by_name(walk) -> dict:
    """Each step by name; a name used twice ("Residual add") gives its first step."""
    named = {}
    for step in walk.steps:
        named.setdefault(step.name, torch.from_numpy(step.values).double())
    return named


def test_bert_walk_steps_follow_their_formulas(minilm):
    steps = steps_by_name(transformer.walk(minilm, "Your cat is a lovely cat"))
    assert torch.allclose(steps["Softmax"].sum(-1), torch.ones(1, dtype=torch.float64), atol=1e-6)
    assert float(steps["Mask"].abs().max()) == 0  # an encoder masks nothing
    up = steps["Feed-forward up"]
    assert torch.allclose(steps["GELU"], up * 0.5 * (1 + torch.erf(up / math.sqrt(2))), atol=1e-5)
    x = steps["Residual add"]  # the first residual add: X + O
    normed = (x - x.mean(-1, keepdim=True)) / torch.sqrt(x.var(-1, unbiased=False, keepdim=True) + 1e-12)
    ln = minilm.model.encoder.layer[0].attention.output.LayerNorm
    expected = normed * ln.weight.double() + ln.bias.double()
    assert torch.allclose(steps["LayerNorm (after attention)"], expected, atol=1e-4)
    q, k = steps["Queries"], steps["Keys"]
    assert torch.allclose(steps["Scores"], q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), atol=1e-4)


def test_llama_walk_is_causal_grouped_and_rms_normalised(smollm2):
    walk = transformer.walk(smollm2, "The cat chased the mouse")
    steps, config = steps_by_name(walk), smollm2.model.config
    seq = len(walk.tokens)
    weights = steps["Softmax"]  # (heads, seq, seq)
    assert weights.shape == (config.num_attention_heads, seq, seq)
    assert float(torch.triu(weights, 1).abs().max()) == 0  # no token looks ahead
    assert steps["Keys"].shape[0] == config.num_key_value_heads
    groups = config.num_attention_heads // config.num_key_value_heads
    shared = steps["Keys shared across heads"]
    assert torch.equal(shared[0], shared[groups - 1]) and not torch.equal(shared[0], shared[groups])
    x = steps["Token embeddings"]
    gamma = smollm2.model.model.layers[0].input_layernorm.weight.double()
    expected = x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + config.rms_norm_eps) * gamma
    assert torch.allclose(steps["RMSNorm (before attention)"], expected, atol=1e-4)
    # rotary: position 0 is not turned, and each rotated pair keeps its length
    assert torch.allclose(steps["Rotary positions on Q"][:, 0], steps["Queries"][:, 0], atol=1e-5)
    half = steps["Queries"].shape[-1] // 2
    norms = lambda t: t[..., :half] ** 2 + t[..., half:] ** 2  # noqa: E731
    assert torch.allclose(norms(steps["Rotary positions on Q"]), norms(steps["Queries"]), atol=1e-3)


def test_walk_refuses_empty_text_and_unknown_blocks(minilm):
    with pytest.raises(ValueError, match="Type a sentence"):
        transformer.walk(minilm, "  ")
    with pytest.raises(ValueError, match="BERT and Llama"):
        transformer.block_kind(torch.nn.Linear(2, 2))


# --- 2. the toy translator ---------------------------------------------------------------

@pytest.fixture(scope="module")
def translator():
    """Trained once (seeded) and cached under .cache/glassbox/seq2seq by a hash of the code and config."""
    with device_policy.cpu_threads("cpu"):
        return seq2seq.trained()


def test_grammar_moves_and_agrees_the_adjective():
    assert seq2seq.translate_words("a black mouse is happy".split()).target == ("une", "souris", "noire", "est",
                                                                                 "heureuse")
    for english, french in seq2seq.COURSE_PAIRS:
        pair = seq2seq.translate_words(english.split())
        assert " ".join(pair.target) == french.lower()
    lovely = seq2seq.translate_words("Your cat is a lovely cat".split())
    assert lovely.alignment[-1] == 4  # adorable ← lovely, which stood before the noun
    with pytest.raises(ValueError):
        seq2seq.translate_words("cat the chased".split())


def test_held_out_sentences_are_never_trained_on():
    corpus = seq2seq.make_corpus(0, 2000)
    assert not {p.source for p in corpus.train} & {p.source for p in corpus.held_out}
    assert {tuple(e.lower().split()) for e, _ in seq2seq.COURSE_PAIRS} <= {p.source for p in corpus.held_out}


def test_toy_translator_translates_held_out_sentences(translator):
    assert 1e5 < seq2seq.parameter_count(translator.model) < 1e6
    assert seq2seq.exact_match(translator.model, translator.corpus.held_out) >= 0.95
    for english, french in seq2seq.COURSE_PAIRS:
        produced = seq2seq.translate(translator.model, english).target
        assert " ".join(produced[1:-1]) == french.lower() and produced[-1] == seq2seq.EOS


def test_cross_attention_follows_the_true_alignment(translator):
    assert seq2seq.alignment_accuracy(translator.model, translator.corpus.held_out) >= 0.9


def test_teacher_forcing_and_step_by_step_agree(translator):
    model = translator.model
    for pair in translator.corpus.held_out[:15]:
        translation = seq2seq.translate(model, " ".join(pair.source))
        produced = translation.target[1:]
        forced, logits = seq2seq.teacher_forced(model, translation.source[:-1], produced[:-1])
        assert forced == produced
        for step, row in zip(translation.steps, torch.softmax(logits, -1)):
            assert step.probabilities[0] == pytest.approx(float(row.max()), abs=1e-5)


def test_cross_attention_rows_are_distributions_over_the_source(translator):
    translation = seq2seq.translate(translator.model, "The cat chased the black mouse")
    weights = seq2seq.cross_weights(translation)
    assert weights.shape == (len(translation.target) - 1, len(translation.source))
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)


def test_unknown_words_and_empty_text_are_refused(translator):
    with pytest.raises(ValueError, match="vocabulary: zebra"):
        seq2seq.translate(translator.model, "The zebra chased the mouse")
    with pytest.raises(ValueError, match="Type"):
        seq2seq.translate(translator.model, "")


def test_cache_key_changes_with_the_config():
    assert seq2seq.cache_key(seq2seq.Seq2SeqConfig()) != seq2seq.cache_key(seq2seq.Seq2SeqConfig(seed=1))


# --- 3. pretraining ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_bert():
    config = pretraining.PretrainConfig(max_steps=100)
    with device_policy.cpu_threads("cpu"):
        run = pretraining.new_bert(pretraining.pretraining_text(config.seed), config)
        for _ in pretraining.train_bert(run):
            pass
    return run


def test_masking_chooses_15_percent_then_80_10_10():
    ids = torch.randint(len(pretraining.SPECIALS), 60, (400, 250), generator=torch.Generator().manual_seed(0))
    inputs, labels = pretraining.mask_tokens(ids, 60, torch.Generator().manual_seed(1))
    chosen = labels != -100
    assert chosen.float().mean().item() == pytest.approx(0.15, abs=0.005)
    assert torch.equal(labels[chosen], ids[chosen])
    masked = (inputs == pretraining.SPECIALS.index("[MASK]")) & chosen
    kept = (inputs == ids) & chosen
    assert masked.sum().item() / chosen.sum().item() == pytest.approx(0.8, abs=0.01)
    # a random word equals the original 1 time in 55, so "kept" is 10% plus that share of the random 10%
    assert kept.sum().item() / chosen.sum().item() == pytest.approx(0.1 + 0.1 / 55, abs=0.01)
    assert torch.equal(inputs[~chosen], ids[~chosen])
    specials = torch.tensor([[2, 3, 0, 10]])
    assert (pretraining.mask_tokens(specials, 60, torch.Generator(), mask_share=1.0)[1][0, :3] == -100).all()


def test_tiny_bert_beats_the_unigram_baseline(tiny_bert):
    accuracy = pretraining.masked_accuracy(tiny_bert)
    assert accuracy["model"] > accuracy["unigram"] + 0.1


def test_fill_mask_gives_probabilities_for_the_blank(tiny_bert):
    rows = pretraining.fill_mask(tiny_bert, pretraining.COURSE_MASKED)
    assert len(rows) == 5 and all(0 <= r["probability"] <= 1 for r in rows)
    assert rows[0]["probability"] >= rows[-1]["probability"]
    assert rows[0]["word"] in pretraining.WORLD  # it has learned that a noun goes there
    piped = pretraining.pipeline_fill_mask(tiny_bert, "the [MASK] eats cheese .")
    assert piped[0]["sequence"] == f"the {piped[0]['token_str']} eats cheese ."
    for bad in ["no blank here", "[MASK] and [MASK]"]:
        with pytest.raises(ValueError):
            pretraining.pipeline_fill_mask(tiny_bert, bad)
    assert pretraining.unknown_words(tiny_bert, "The zebra is [MASK]") == ["zebra"]


def test_masks_and_nsp_input(minilm):
    masks = pretraining.attention_masks(5)
    assert masks["bidirectional (BERT)"].sum() == 25 and masks["causal (GPT)"].sum() == 15
    pair = pretraining.nsp_input(minilm.tokenizer)
    assert pair["token"][0] == "[CLS]" and pair["token"].count("[SEP]") == 2
    first_sep = pair["token"].index("[SEP]")
    assert set(pair["segment"][: first_sep + 1]) == {0} and set(pair["segment"][first_sep + 1:]) == {1}


# --- the Hub paths, with small random models in place of the Hub's ---------------------------

class StubTokenizer:
    """Whitespace words -> ids, enough of a tokenizer for the Hub functions."""
    mask_token, mask_token_id = "[MASK]", 3

    def __init__(self, words, vocab_size):
        self.words = ["<pad>", "</s>", "<unk>", "[MASK]", *words]
        self.words += [f"w{i}" for i in range(len(self.words), vocab_size)]

    def __call__(self, text, return_tensors=None, **_):
        ids = [self.words.index(w) if w in self.words else 2 for w in text.split()] + [1]
        return SimpleNamespaceDict(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long))

    def convert_ids_to_tokens(self, ids):
        return [self.words[i] for i in ids]

    def decode(self, ids, skip_special_tokens=False):
        return " ".join(self.words[i] for i in (ids.tolist() if hasattr(ids, "tolist") else ids)
                        if not (skip_special_tokens and i < 4))


class SimpleNamespaceDict(dict):
    def to(self, device):
        return self


def test_hub_cross_attention_with_a_small_marian(monkeypatch):
    from transformers import MarianConfig, MarianMTModel

    torch.manual_seed(0)
    config = MarianConfig(vocab_size=20, d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                          decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, pad_token_id=0,
                          eos_token_id=1, decoder_start_token_id=0, max_position_embeddings=64,
                          attn_implementation="eager")
    model = MarianMTModel(config).eval()
    loaded = SimpleNamespace(model=model, tokenizer=StubTokenizer(["the", "cat", "chased", "mouse"], 20),
                             lock=threading.Lock(), device="cpu")
    real = seq2seq.hub_cross_attention(loaded, "the cat chased the mouse", max_new_tokens=6)
    assert real["cross"].shape == (len(real["target"]), len(real["source"]))
    np.testing.assert_allclose(real["cross"].sum(-1), 1.0, atol=1e-5)


def test_hub_fill_mask_with_a_small_bert():
    from transformers import BertConfig, BertForMaskedLM

    torch.manual_seed(0)
    model = BertForMaskedLM(BertConfig(vocab_size=12, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                       intermediate_size=32)).eval()
    loaded = SimpleNamespace(model=model, tokenizer=StubTokenizer(["the", "cat", "is", "cute"], 12),
                             lock=threading.Lock(), device="cpu")
    rows = pretraining.hub_fill_mask(loaded, "the [MASK] is cute", top_k=3)
    assert len(rows) == 3 and sum(r["score"] for r in rows) <= 1
    with pytest.raises(ValueError):
        pretraining.hub_fill_mask(loaded, "the cat is cute")


def test_lesson_numbers_come_from_the_code():
    numbers = pretraining.lesson_numbers()
    assert numbers["mask_share"] == "15%" and numbers["kept_share"] == "10%"
    assert pretraining.pretraining_text(0) == pretraining.pretraining_text(0)


def test_pipelines_fill_mask_offers_the_tiny_bert(tiny_bert, open_page, monkeypatch):
    from lessons.widgets import pipelines as pipeline_widgets

    monkeypatch.setattr(pretraining, "class_bert", lambda: tiny_bert)  # the suite's copy, not a second training
    app = open_page("pipelines")
    app.selectbox(key="pipelines_task").set_value("fill-mask").run()
    app.radio(key="pipelines_fill_mask_model").set_value(pipeline_widgets.TINY_BERT).run()
    app.text_area(key="pipelines_text_fill-mask").input("The [MASK] eats cheese.").run()
    app.button(key="pipelines_run_fill_mask").click().run()
    assert not app.exception, app.exception
    titles = [el.proto.spec for el in app.get("plotly_chart")]
    assert any("Tiny BERT's best words for [MASK]" in t for t in titles)
