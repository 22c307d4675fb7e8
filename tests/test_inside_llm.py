"""lib/inside_llm: the logit lens against the model's own logits and HF's hidden
states, ablation hooks against weight surgery on a copy, the shared model left
byte-identical, the batched head scan against single ablations, and cached vs
uncached generation. SmolLM2 runs on 2-3 token prompts to keep the suite fast."""
import copy
import json

import pytest
import torch

from lib import inside_llm, model_loading, model_registry

PROMPT = "Hello world"


@pytest.fixture(scope="module")
def shared_smollm2():
    """The very copy pages and checkpoints share (model_loading.shared), so its weights are the ones checked."""
    return model_loading.shared("smollm2-135m", "decoder", "cpu")


@pytest.fixture(scope="module")
def fingerprint(shared_smollm2):
    """The weights' bytes and the hooks transformers registers itself, before any intervention."""
    return inside_llm.state_fingerprint(shared_smollm2.model), hooks_left(shared_smollm2.model)


@pytest.fixture(scope="module")
def lens(shared_smollm2, fingerprint):
    return inside_llm.logit_lens(shared_smollm2, PROMPT)


@pytest.fixture(scope="module")
def tiny_gpt2():
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    config = GPT2Config(vocab_size=40, n_positions=16, n_embd=32, n_layer=2, n_head=4, bos_token_id=0,
                        eos_token_id=0)
    return GPT2LMHeadModel(config).eval()


def hooks_left(model) -> int:
    """Hooks lib.inside_llm registered and left behind (transformers installs its own output-capturing ones)."""
    return sum(getattr(hook, "__module__", "") == "lib.inside_llm" for m in model.modules()
               for hook in [*m._forward_hooks.values(), *m._forward_pre_hooks.values()])


def test_sizes_are_read_from_the_config(shared_smollm2):
    raw = json.loads((model_registry.CONFIG_DIR / "SmolLM2-135M.json").read_text())
    s = inside_llm.sizes(shared_smollm2.model.config)
    assert (s.num_hidden_layers, s.num_attention_heads, s.num_key_value_heads, s.head_dim) == (
        raw["num_hidden_layers"], raw["num_attention_heads"], raw["num_key_value_heads"], raw["head_dim"])


def test_the_last_lens_layer_is_the_models_own_logits(shared_smollm2, lens):
    ids = shared_smollm2.tokenizer(PROMPT, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        logits = shared_smollm2.model(input_ids=ids).logits[0, -1]
    assert torch.allclose(lens.last_logits[-1], logits, atol=1e-5, rtol=0)
    assert torch.allclose(lens.model_logits, logits, atol=1e-5, rtol=0)
    assert len(lens.layer_names) == shared_smollm2.model.config.num_hidden_layers + 1
    assert lens.top_probs.shape == (len(lens.layer_names), ids.shape[1])
    assert lens.top_ids[-1, -1] == int(logits.argmax())


def test_every_lens_row_reads_hfs_hidden_state_through_norm_and_head(shared_smollm2, lens):
    """Rows below the last against transformers' own hidden_states (the last one it returns is already normed)."""
    model = shared_smollm2.model
    ids = shared_smollm2.tokenizer(PROMPT, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        hidden = model(input_ids=ids, output_hidden_states=True).hidden_states
        for row in (0, 7, len(hidden) - 2):
            reference = model.lm_head(model.model.norm(hidden[row]))[0].softmax(-1)  # (seq, vocab)
            probs, top = reference.max(-1)
            assert top.tolist() == lens.top_ids[row].tolist()
            assert torch.allclose(torch.from_numpy(lens.top_probs[row]), probs, atol=1e-5)


def test_a_tracked_tokens_rank_and_probability(lens):
    token = int(lens.top_ids[-1, -1])
    track = inside_llm.token_track(lens, token)
    probs = lens.last_logits.double().softmax(-1)
    assert track[-1]["rank"] == 1
    for row, p in zip(track, probs):
        assert row["rank"] == int((p > p[token]).sum()) + 1
        assert row["probability"] == pytest.approx(float(p[token]), abs=1e-5)
    first = lens.first_top_layer(token)
    assert [r["rank"] for r in track].index(1) == first


def test_zero_ablation_equals_zeroing_the_heads_weights(tiny_gpt2):
    """A hook that zeroes head h before c_proj is the same model as c_proj with head h's input rows zeroed."""
    ids = torch.tensor([[1, 5, 9, 2, 7]])
    head_dim = inside_llm.sizes(tiny_gpt2.config).head_dim
    surgery = copy.deepcopy(tiny_gpt2)
    with torch.no_grad():
        surgery.transformer.h[1].attn.c_proj.weight[2 * head_dim:3 * head_dim] = 0  # Conv1D: (in, out)
        surgery.transformer.h[0].mlp.c_proj.weight.zero_()
        surgery.transformer.h[0].mlp.c_proj.bias.zero_()
        expected = surgery(ids).logits
        with inside_llm.ablated(tiny_gpt2, [inside_llm.Ablation(1, 2), inside_llm.Ablation(0, None)], head_dim):
            hooked = tiny_gpt2(ids).logits
        restored = tiny_gpt2(ids).logits
        original = copy.deepcopy(tiny_gpt2)(ids).logits
    assert torch.allclose(hooked, expected, atol=1e-6)
    assert not torch.allclose(hooked, restored)
    assert torch.equal(restored, original) and hooks_left(tiny_gpt2) == 0


def test_mean_ablation_replaces_a_head_by_its_average_over_positions(tiny_gpt2):
    ids = torch.tensor([[3, 1, 4, 1, 5, 9]])
    d = inside_llm.sizes(tiny_gpt2.config).head_dim
    seen = {}
    c_proj = tiny_gpt2.transformer.h[0].attn.c_proj
    handle = c_proj.register_forward_pre_hook(lambda _m, args: seen.setdefault("x", args[0].clone()))
    with torch.no_grad():
        tiny_gpt2(ids)
        handle.remove()
        with inside_llm.ablated(tiny_gpt2, [inside_llm.Ablation(0, 3, "mean")], d):
            handle = c_proj.register_forward_pre_hook(lambda _m, args: seen.setdefault("ablated", args[0].clone()))
            tiny_gpt2(ids)
        handle.remove()
    x, ablated = seen["x"][0], seen["ablated"][0]  # (seq, heads * head_dim)
    assert torch.allclose(ablated[:, 3 * d:], x[:, 3 * d:].mean(0).expand(len(ids[0]), d))
    assert torch.equal(ablated[:, :3 * d], x[:, :3 * d])


def test_hooks_are_removed_when_the_forward_fails(tiny_gpt2):
    with pytest.raises(RuntimeError), inside_llm.ablated(tiny_gpt2, [inside_llm.Ablation(0, 0)], 8):
        raise RuntimeError("boom")
    assert hooks_left(tiny_gpt2) == 0


def test_ablating_changes_the_output_and_the_shared_model_stays_byte_identical(shared_smollm2, fingerprint):
    model = shared_smollm2.model
    ids = shared_smollm2.tokenizer(PROMPT, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        original = model(input_ids=ids).logits[0, -1].softmax(-1)
    changes = [inside_llm.next_token_change(shared_smollm2, PROMPT, [a]) for a in (
        inside_llm.Ablation(0, 4), inside_llm.Ablation(2, None, "mean"))]
    assert all(c.kl > 0 and not torch.equal(c.before, c.after) for c in changes)
    assert torch.equal(changes[0].before, original)
    with torch.inference_mode():
        assert torch.equal(model(input_ids=ids).logits[0, -1].softmax(-1), original)  # restored exactly
    scan = inside_llm.head_scan(shared_smollm2, PROMPT, "zero", time_budget_s=0)
    inside_llm.generate_timed(shared_smollm2, PROMPT, 2, use_cache=True)
    assert scan.layers_done == 1 and not scan.complete
    assert (inside_llm.state_fingerprint(model), hooks_left(model)) == fingerprint


def test_the_batched_head_scan_equals_one_ablation_at_a_time(shared_smollm2):
    scan = inside_llm.head_scan(shared_smollm2, PROMPT, "mean", time_budget_s=0)
    heads = shared_smollm2.model.config.num_attention_heads
    assert len(scan.rows) == heads and scan.layers_total == shared_smollm2.model.config.num_hidden_layers
    assert [r["KL (nats)"] for r in scan.rows] == sorted((r["KL (nats)"] for r in scan.rows), reverse=True)
    top = scan.rows[0]
    single = inside_llm.next_token_change(shared_smollm2, PROMPT, [inside_llm.Ablation(0, top["head"], "mean")])
    assert single.kl == pytest.approx(top["KL (nats)"], rel=1e-3, abs=1e-6)


def test_cached_and_uncached_greedy_give_the_same_tokens_and_the_formula_the_cache_bytes(shared_smollm2):
    cached = inside_llm.generate_timed(shared_smollm2, PROMPT, 4, use_cache=True)
    uncached = inside_llm.generate_timed(shared_smollm2, PROMPT, 4, use_cache=False)
    assert cached.ids == uncached.ids and len(cached.seconds) == 4
    prompt_tokens = len(shared_smollm2.tokenizer(PROMPT)["input_ids"])
    assert cached.lengths == uncached.lengths == list(range(prompt_tokens, prompt_tokens + 4))
    assert cached.cache_tokens == prompt_tokens + 3  # the last token is chosen, not yet fed back
    config = shared_smollm2.model.config
    by_hand = 2 * config.num_hidden_layers * config.num_key_value_heads * config.head_dim * cached.cache_tokens * 4
    assert inside_llm.cache_bytes_formula(config, cached.cache_tokens, cached.bytes_per_value) == by_hand
    assert cached.cache_bytes == by_hand


def test_minilm_embedding_change(minilm):
    sentences = ["A man plays the guitar.", "Someone plays music."]
    result = inside_llm.embedding_change(minilm, sentences, [inside_llm.Ablation(0, None)])
    assert all(c < 0.999 for c in result["cosine to original"])
    assert result["pair similarity before"] != result["pair similarity after"]
    with pytest.raises(inside_llm.PromptError):
        inside_llm.embedding_change(minilm, ["", "x"], [])


def test_bad_input_gets_a_clear_message(shared_smollm2):
    with pytest.raises(inside_llm.PromptError, match="Type a prompt"):
        inside_llm.logit_lens(shared_smollm2, "   ")
    with pytest.raises(ValueError, match="does not exist"):
        inside_llm.next_token_change(shared_smollm2, PROMPT, [inside_llm.Ablation(99, 0)])
    with pytest.raises(ValueError, match="does not exist"):
        inside_llm.next_token_change(shared_smollm2, PROMPT, [inside_llm.Ablation(0, 9)])
    with shared_smollm2.lock:
        assert inside_llm.encode(shared_smollm2, "word " * 500, inside_llm.MAX_LENS_TOKENS).shape == (
            1, inside_llm.MAX_LENS_TOKENS)


def test_the_embeddings_row_note_follows_the_config(shared_smollm2, tiny_gpt2, lens):
    assert shared_smollm2.model.config.tie_word_embeddings and "tied" in inside_llm.embedding_row_note(
        shared_smollm2.model.config)
    assert lens.top_tokens[0][-1] == lens.tokens[-1]  # tied: 'world' read back as 'world'
    untied = copy.deepcopy(tiny_gpt2.config)
    untied.tie_word_embeddings = False
    assert "separate" in inside_llm.embedding_row_note(untied)
