"""lib/attention.py, lib/attention_models.py and lib/attention_bertviz.py against
independent references: the syllabus numbers, torch's own attention modules,
float64 formulas and a direct transformers call."""
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from shipped_configs import config

from lib import attention as att
from lib import attention_bertviz, attention_models, model_loading, model_registry, smollm2_conversion

XSS = "</script><img src=x onerror=alert(1)>"


# --- 1. dot products: the course's numbers ------------------------------------

def test_course_dot_products_match_the_syllabus():
    rows = {r["vector"]: r for r in att.dot_products(att.REFERENCE_VECTOR, att.COURSE_VECTORS)}
    assert {name: r["dot"] for name, r in rows.items()} == {"v1": 24, "v2": 19, "v3": 0, "v4": -18}
    assert rows["v1"]["cosine"] == pytest.approx(24 / 25)
    assert [rows[n]["similarity"].split(" (")[0] for n in ("v1", "v2", "v3", "v4")] == \
        ["high positive", "positive", "zero", "negative"]


def test_zero_vector_has_zero_cosine_not_nan():
    (row,) = att.dot_products((3, 4), {"zero": (0, 0)})
    assert row["dot"] == 0 and row["cosine"] == 0


# --- 2. the toy pipeline -------------------------------------------------------

def test_split_words_handles_any_script():
    assert att.split_words("Your cat is a lovely cat") == ["Your", "cat", "is", "a", "lovely", "cat"]
    assert att.split_words("猫 قطة 🐈!") == ["猫", "قطة", "🐈", "!"]
    assert att.split_words("   ") == []


def test_same_word_same_embedding_and_seed_changes_it():
    x = att.word_embeddings(["cat", "dog", "Cat"], 8, seed=0)
    assert torch.equal(x[0], x[2]) and not torch.equal(x[0], x[1])
    assert not torch.equal(x, att.word_embeddings(["cat", "dog", "Cat"], 8, seed=1))


def test_toy_steps_follow_the_formula_and_rows_sum_to_one():
    steps = att.toy_steps(att.DEFAULT_SENTENCE, d_model=8, d_k=4, seed=3)
    assert steps.weights.shape == (6, 6)
    w = att.random_projections(8, 4, 3)
    q, k, v = steps.x @ w.w_q, steps.x @ w.w_k, steps.x @ w.w_v
    expected = np.exp(q.numpy() @ k.numpy().T / 2.0)  # √d_k = 2
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(steps.weights.numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(steps.output.numpy(), expected @ v.numpy(), atol=1e-12)
    np.testing.assert_allclose(steps.weights.sum(-1).numpy(), 1.0, atol=1e-12)
    # the two "cat"s have the same embedding, so they attend identically
    torch.testing.assert_close(steps.weights[1], steps.weights[5])


def test_weighted_sum_terms_add_up_to_the_output_row():
    steps = att.toy_steps(att.DEFAULT_SENTENCE, 8, 4, seed=0)
    torch.testing.assert_close(att.weighted_sum_terms(steps, 5).sum(0), steps.output[5])


def test_without_scaling_softmax_saturates_for_large_d_k():
    scaled = att.toy_steps(att.DEFAULT_SENTENCE, 512, 64, seed=0, scale=True)
    unscaled = att.toy_steps(att.DEFAULT_SENTENCE, 512, 64, seed=0, scale=False)
    torch.testing.assert_close(unscaled.scaled, scaled.scaled * 8)
    spread, saturated = att.row_entropy_bits(scaled.weights), att.row_entropy_bits(unscaled.weights)
    assert saturated.mean() < 0.6 * spread.mean()
    assert saturated.min() < 0.05 < spread.min()  # one row is one-hot without scaling


def test_row_entropy_bits():
    uniform = torch.full((2, 8), 1 / 8, dtype=torch.float64)
    torch.testing.assert_close(att.row_entropy_bits(uniform), torch.tensor([3.0, 3.0], dtype=torch.float64))
    assert att.row_entropy_bits(torch.eye(3, dtype=torch.float64)).abs().max() == 0


@pytest.mark.parametrize("causal", [False, True])
def test_attend_matches_torch_scaled_dot_product_attention(causal):
    generator = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 7, 16, generator=generator) for _ in range(3))  # (batch, heads, seq, d_k)
    mask = att.causal_mask(7) if causal else None
    *_, ours = att.attend(q, k, v, mask)
    reference = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    assert (ours - reference).abs().max() < 1e-5


def test_causal_mask_zeroes_the_upper_triangle():
    steps = att.toy_steps(att.DEFAULT_SENTENCE, 8, 4, seed=0, causal=True)
    upper = torch.triu(torch.ones(6, 6, dtype=torch.bool), diagonal=1)
    assert (steps.weights[upper] == 0).all()
    assert steps.weights[0, 0] == 1.0
    np.testing.assert_allclose(steps.weights.sum(-1).numpy(), 1.0, atol=1e-12)


def test_padding_mask_gives_pad_keys_zero_weight():
    x = att.word_embeddings(["a", "b", "c", "[PAD]", "[PAD]"], 8, 0)
    steps = att.attention_steps(x, att.random_projections(8, 4, 0), att.padding_mask(5, 3))
    assert (steps.weights[:, 3:] == 0).all()
    real = att.attention_steps(x[:3], att.random_projections(8, 4, 0))
    torch.testing.assert_close(steps.weights[:3, :3], real.weights)


@pytest.mark.parametrize("num_heads", [1, 2, 4])
def test_multi_head_matches_torch_multihead_attention(num_heads):
    d_model, seq = 8, 6
    x = att.word_embeddings(att.split_words(att.DEFAULT_SENTENCE), d_model, 0)
    w = att.random_projections(d_model, d_model // num_heads, seed=1, num_heads=num_heads)
    ours = att.multi_head_attention(x, w, num_heads, att.causal_mask(seq))
    mha = torch.nn.MultiheadAttention(d_model, num_heads, bias=False, batch_first=True, dtype=torch.float64)
    with torch.no_grad():  # nn.Linear computes x @ Wᵀ, so it stores our W transposed
        mha.in_proj_weight.copy_(torch.cat([w.w_q.T, w.w_k.T, w.w_v.T]))
        mha.out_proj.weight.copy_(w.w_o.T)
    out, weights = mha(x[None], x[None], x[None], attn_mask=~att.causal_mask(seq),
                       average_attn_weights=False)
    assert (ours.output - out[0]).abs().max() < 1e-5
    assert (ours.weights - weights[0]).abs().max() < 1e-5
    assert ours.concat.shape == (seq, d_model)


# --- 4. positional encoding ----------------------------------------------------------

def test_positional_encoding_matches_the_paper_formula():
    pe = att.positional_encoding(50, 16)
    for pos in (0, 7, 49):
        for i in range(8):
            angle = pos / 10000 ** (2 * i / 16)
            assert pe[pos, 2 * i] == pytest.approx(math.sin(angle), abs=1e-12)
            assert pe[pos, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-12)
    assert att.positional_encoding(4, 5).shape == (4, 5)  # odd width works too


def test_attention_alone_is_permutation_invariant_and_positions_break_it():
    words = att.split_words(att.DEFAULT_SENTENCE)
    order = [5, 2, 0, 4, 1, 3]
    assert att.permutation_check(words, order, 8, 4, 0, positions=False) < 1e-12
    assert att.permutation_check(words, order, 8, 4, 0, positions=True) > 1e-3
    permuted, reordered = att.shuffled_attention(words, order, 8, 4, 0, positions=False)
    original = att.toy_steps(att.DEFAULT_SENTENCE, 8, 4, 0).weights
    assert permuted[0, 0] == pytest.approx(float(original[5, 5]), abs=1e-12)  # "cat" (was 6th) now first
    torch.testing.assert_close(permuted, reordered)


def test_teacher_forcing_pairs_for_the_course_translation():
    pairs = att.teacher_forcing(att.DEFAULT_TRANSLATION)
    assert pairs[0] == ("<s>", "Ton") and pairs[1] == ("<s> Ton", "chat")
    assert pairs[-1] == ("<s> Ton chat est un chat adorable .", "</s>") and len(pairs) == 8


# --- 5. real models -------------------------------------------------------------------

def reference_attentions(path, text):
    """Attention weights from a fresh copy of the model, loaded from its folder by transformers
    itself (not through lib/model_loading.py), on one thread as the lesson runs it: another thread count
    sums in another order (differences of ~1e-6)."""
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    model = transformers.AutoModel.from_pretrained(path, attn_implementation="eager").eval()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            out = model(**tokenizer(text, return_tensors="pt"), output_attentions=True)
    finally:
        torch.set_num_threads(threads)
    return torch.stack(out.attentions)[:, 0].numpy()  # (layers, heads, seq, seq)


def test_minilm_attention_is_exactly_the_models(minilm):
    real = attention_models.model_attention(minilm, att.DEFAULT_SENTENCE)
    assert real.tokens == ["[CLS]", "your", "cat", "is", "a", "lovely", "cat", "[SEP]"]
    assert real.special == [True] + [False] * 6 + [True]
    c = minilm.model.config
    assert real.attentions.shape == (c.num_hidden_layers, c.num_attention_heads, 8, 8)
    np.testing.assert_array_equal(real.attentions, reference_attentions(model_registry.bundled_path("minilm"),
                                                                        att.DEFAULT_SENTENCE))
    np.testing.assert_allclose(real.attentions.sum(-1), 1.0, atol=1e-5)
    assert real.truncated_from is None


def test_the_lesson_states_the_offline_models_shapes_from_their_configs():
    import transformers

    shapes = attention_models.bundled_shapes()
    assert set(shapes) == {"encoder_layers", "encoder_heads", "decoder_layers", "decoder_heads"}
    for role, key in (("encoder", "minilm"), ("decoder", "smollm2-135m")):  # the models the page runs
        config = transformers.AutoConfig.from_pretrained(model_loading.model_dir(key))
        assert (shapes[f"{role}_layers"], shapes[f"{role}_heads"]) == (config.num_hidden_layers,
                                                                       config.num_attention_heads)


@pytest.mark.slow
def test_smollm2_attention_is_causal_and_exactly_the_models(smollm2):
    decoder = smollm2
    real = attention_models.model_attention(decoder, att.DEFAULT_SENTENCE)
    layers, heads = decoder.model.config.num_hidden_layers, decoder.model.config.num_attention_heads
    assert real.attentions.shape == (layers, heads, 6, 6)
    np.testing.assert_array_equal(real.attentions, reference_attentions(smollm2_conversion.smollm2_dir(), att.DEFAULT_SENTENCE))
    assert np.abs(np.triu(real.attentions, k=1)).max() == 0
    roles = attention_models.head_roles(real)
    assert len(roles) == layers * heads and "to last special ([SEP])" not in roles[0]
    # the first token is an attention sink in decoders: for position 0 it is all there is
    assert max(r["to first token"] for r in roles) > 0.5

    steps = list(attention_models.generate_steps(decoder, "The cat chased the", 3))
    assert len(steps) == 3
    for step in steps:  # greedy takes the most probable candidate
        assert step.token == step.candidates[0] and step.chosen_probability == step.probabilities[0]
    sampled = list(attention_models.generate_steps(decoder, "The cat chased the", 3, 1.0, 5, seed=1))
    assert all(len([p for p in s.probabilities if p > 0]) <= 5 for s in sampled)
    assert all(s.token in s.candidates for s in sampled)


def test_neuron_view_vectors_give_the_models_own_attention(minilm):
    """softmax(q·kᵀ/√d_head) from the queries and keys the neuron view shows is the model's attention."""
    text = "The animal didn't cross the street because it was tired."
    vectors = attention_models.queries_and_keys(minilm, text)
    real = attention_models.model_attention(minilm, text)
    c = minilm.model.config
    d_head = c.hidden_size // c.num_attention_heads
    assert vectors.queries.shape == vectors.keys.shape == (c.num_hidden_layers, c.num_attention_heads,
                                                           len(real.tokens), d_head)
    scores = torch.from_numpy(vectors.queries @ vectors.keys.transpose(0, 1, 3, 2)).double() / math.sqrt(d_head)
    np.testing.assert_allclose(torch.softmax(scores, -1).numpy(), real.attentions, atol=1e-5)
    cut = attention_models.queries_and_keys(minilm, "The cat sat on the mat. " * 210)
    assert cut.queries.shape[2] == attention_models.DISPLAY_TOKEN_LIMIT


@pytest.mark.slow
def test_neuron_view_is_refused_for_a_rotary_decoder(smollm2):
    assert attention_models.bert_style_attentions(smollm2) is None
    with pytest.raises(ValueError, match="plain Q·Kᵀ"):
        attention_models.queries_and_keys(smollm2, att.DEFAULT_SENTENCE)


def test_long_text_is_truncated_to_the_limit_and_says_so(minilm):
    real = attention_models.model_attention(minilm, "The cat sat on the mat. " * 210)  # ~5,000 chars
    assert len(real.tokens) == attention_models.DISPLAY_TOKEN_LIMIT
    assert real.truncated_from > attention_models.DISPLAY_TOKEN_LIMIT
    assert real.model_limit == config("all-MiniLM-L6-v2")["max_position_embeddings"]  # the shipped config's
    assert real.tokens[-1] == "[SEP]"


def test_empty_text_is_refused(minilm):
    with pytest.raises(ValueError, match="Type a sentence"):
        attention_models.model_attention(minilm, "   ")


def test_head_roles_measure_what_they_say():
    eye = np.eye(4)
    shifted = np.eye(4, k=-1)
    shifted[0, 0] = 1
    real = attention_models.ModelAttention(["[CLS]", "a", "b", "[SEP]"], [True, False, False, True],
                                           np.stack([eye, shifted])[None], 512, None)
    itself, previous = attention_models.head_roles(real)
    assert itself["to itself"] == 1 and itself["to previous token"] == 0
    assert previous["to previous token"] == 1 and previous["to first token"] == 0.5
    assert itself["to last special ([SEP])"] == 0.25


# --- 6. bertviz, offline and safe ---------------------------------------------------------

VIEW_ARGUMENTS = {"head": {}, "model": {},
                  "neuron": dict(queries=np.ones((2, 3, 4, 5)), keys=np.ones((2, 3, 4, 5)))}


def bertviz_page(view: str) -> str:
    return attention_bertviz.render(view, np.full((2, 3, 4, 4), 0.25), list("abcd"), **VIEW_ARGUMENTS[view])


@pytest.mark.parametrize("view", VIEW_ARGUMENTS)
def test_bertviz_inlines_the_vendored_javascript_and_its_own_view_script(view):
    import bertviz

    html = bertviz_page(view)
    for name, rel in attention_bertviz.VENDORED_JS.items():
        assert (attention_bertviz.VENDOR_DIR / rel).parent.joinpath("LICENSE").is_file()
        assert attention_bertviz.vendored_sources()[name] in html
    assert "define('d3'" in html
    script = (Path(bertviz.__file__).parent / f"{view}_view.js").read_text(encoding="utf-8")
    drawing_code = script[script.index("requirejs(['jquery', 'd3']"):].split("PYTHON_PARAMS")[-1]
    assert drawing_code in html  # from the installed bertviz package, not fetched


@pytest.mark.parametrize("view", VIEW_ARGUMENTS)
def test_bertviz_page_references_no_url(view):
    html = bertviz_page(view)
    for source in attention_bertviz.vendored_sources().values():
        html = html.replace(source, "")  # upstream files: their URLs are XML namespaces, comments, error text
    html = re.sub(r"/\*.*?\*/", "", html, flags=re.S)  # bertviz's credits header
    assert "require.config" not in html and "<script src" not in html
    assert re.findall(r"https?://\S+", html) == []


def test_bertviz_neuron_view_carries_queries_keys_and_the_picked_head():
    generator = torch.Generator().manual_seed(0)
    q, k = (torch.randn(2, 3, 4, 5, generator=generator).numpy() for _ in range(2))  # (layers, heads, seq, d)
    weights = torch.softmax(torch.from_numpy(q @ k.transpose(0, 1, 3, 2)) / math.sqrt(5), -1).numpy()
    page = attention_bertviz.render("neuron", weights, ["[CLS]", "a", "b", "[SEP]"], queries=q, keys=k,
                                  bidirectional=False, layer=1, head=2)
    params = json.loads(re.search(r"window.bertviz_params = (.*?)\n", page).group(1))
    assert (params["layer"], params["head"], params["bidirectional"]) == (1, 2, False)
    data = params["attention"]["all"]
    np.testing.assert_allclose(data["queries"], q, atol=5e-4)
    np.testing.assert_allclose(data["keys"], k, atol=5e-4)
    np.testing.assert_allclose(data["attn"], weights, atol=5e-4)
    assert data["left_text"] == data["right_text"] == ["[CLS]", "a", "b", "[SEP]"]
    assert f'id={params["root_div_id"]}' in page and "id='att_head'" in page
    with pytest.raises(ValueError, match="do not match"):
        attention_bertviz.render("neuron", weights, list("abcd"), queries=q[:, :2], keys=k)


@pytest.mark.parametrize("view", ["head", "model", "neuron"])
def test_bertviz_tokens_cannot_break_out_of_the_script(view):
    tokens = ["[CLS]", XSS, "a&b", "[SEP]"]
    vectors = dict(queries=np.ones((1, 2, 4, 3)), keys=np.ones((1, 2, 4, 3))) if view == "neuron" else {}
    page = attention_bertviz.render(view, np.full((1, 2, 4, 4), 0.25), tokens, **vectors)
    assert "<img" not in page and "onerror=alert(1)>" not in page
    assert r"\u003c/script\u003e\u003cimg src=x onerror=alert(1)\u003e" in page
    # every <script> bertviz opened is still closed by its own tag
    params = re.search(r"const params = (.*?); // HACK", page) or \
        re.search(r"window.bertviz_params = (.*?)\n", page)
    assert params, "bertviz's parameters were not found: the check below would pass on nothing"
    assert r"\u003c/script\u003e" in params.group(1) and "</" not in params.group(1)


def test_chart_specs_pass_plotly_validation():
    import plotly.graph_objects as go

    from lessons.widgets import charts

    masked = att.toy_steps(att.DEFAULT_SENTENCE, 8, 4, 0, causal=True).scaled
    for fast in (charts.heatmap(masked, list("abcdef"), list("abcdef"), "diverging", title="t", x_title="key",
                                y_title="query", cell_text=".2f"),
                 charts.heatmap(np.eye(30), list(range(30)), list(range(30)), title="t", x_title="x", y_title="y")):
        figure = go.Figure(fast.to_dict())  # validates every property
        assert figure.layout.title.text == "t" and figure.data[0].type == "heatmap"
    (trace,) = charts.heatmap(masked, list("abcdef"), list("abcdef"), title="t", x_title="k", y_title="q",
                              cell_text=".2f").data
    assert trace["text"][0][1] == "masked" and np.isnan(trace["z"][0][1])


def test_bertviz_refuses_mismatched_tokens():
    with pytest.raises(ValueError, match="positions"):
        attention_bertviz.render("head", np.full((1, 1, 3, 3), 1 / 3), ["a", "b"])


def test_the_lesson_names_the_feed_forward_norm_and_positions_the_models_run():
    """Issue 23: the intro said "two linear layers with a ReLU between them"; the models use GELU and SwiGLU."""
    import transformers

    from lib import prose

    facts = attention_models.block_facts()
    built = {}
    for role, key in (("encoder", "minilm"), ("decoder", "smollm2-135m")):  # the models the page runs
        with torch.device("meta"):
            built[role] = transformers.AutoModel.from_config(transformers.AutoConfig.from_pretrained(
                model_loading.model_dir(key)))
    bert_layer, llama_layer = built["encoder"].encoder.layer[0], built["decoder"].layers[0]
    x = torch.linspace(-4, 4, 81, dtype=torch.float64)
    gelu = x * 0.5 * (1 + torch.erf(x / math.sqrt(2)))  # x·Φ(x)
    torch.testing.assert_close(bert_layer.intermediate.intermediate_act_fn(x), gelu)
    assert facts["encoder_activation"] == "GELU" and facts["encoder_ffn"] == "two linear layers with GELU between them"
    torch.testing.assert_close(llama_layer.mlp.act_fn(x), x * torch.sigmoid(x))  # SiLU
    assert hasattr(llama_layer.mlp, "gate_proj")
    assert facts["decoder_activation"] == "SiLU" and facts["decoder_ffn"].startswith("SwiGLU, three matrices")
    assert type(bert_layer.output.LayerNorm).__name__ == "LayerNorm" and facts["encoder_norm"] == "LayerNorm"
    assert "RMSNorm" in type(llama_layer.input_layernorm).__name__ and facts["decoder_norm"] == "RMSNorm"
    assert f"its {built['encoder'].embeddings.position_embeddings.num_embeddings} positions" in facts["encoder_positions"]
    assert "RoPE" in facts["decoder_positions"] and hasattr(built["decoder"], "rotary_emb")
    intro = prose.lesson_markdown("attention", "intro", **facts)
    assert "GELU between them" in intro and "SwiGLU" in intro and "ReLU between" not in intro


def test_the_encoder_decoder_row_names_the_courses_own_encoder_decoder():
    import ctranslate2

    row = next(r for r in attention_models.ARCHITECTURES if r["family"] == "Encoder-decoder")
    asr = model_registry.REGISTRY[model_registry.OFFLINE_DEFAULT["asr"]]
    assert asr.title in row["in this lesson"] and "Whisper" in row["example"]
    assert hasattr(ctranslate2.models.Whisper, "encode") and hasattr(ctranslate2.models.Whisper, "generate")
