"""lib/parameters.py against real instantiated models, published totals and plain arithmetic."""
import dataclasses
import json

import pytest
import torch
import transformers
from shipped_configs import config, transformers_total

from lib import device_policy, hub, model_registry, parameters

TINY_CONFIGS = {  # (config, class): small enough to instantiate for real on the CPU
    "bert": (transformers.BertConfig(vocab_size=101, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                     intermediate_size=64, max_position_embeddings=40), "BertModel"),
    "gpt2": (transformers.GPT2Config(vocab_size=101, n_embd=32, n_layer=3, n_head=4, n_positions=40),
             "GPT2LMHeadModel"),
    "gpt2-untied": (transformers.GPT2Config(vocab_size=101, n_embd=32, n_layer=2, n_head=4, n_positions=40,
                                            tie_word_embeddings=False), "GPT2LMHeadModel"),
    "distilbert": (transformers.DistilBertConfig(vocab_size=101, dim=32, n_layers=2, n_heads=4, hidden_dim=48,
                                                 max_position_embeddings=40), "DistilBertModel"),
    "albert": (transformers.AlbertConfig(vocab_size=101, embedding_size=16, hidden_size=32, num_hidden_layers=3,
                                         num_attention_heads=4, intermediate_size=64), "AlbertModel"),
    "t5": (transformers.T5Config(vocab_size=101, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=3,
                                 num_heads=4, relative_attention_num_buckets=8), "T5ForConditionalGeneration"),
    "llama-gqa": (transformers.LlamaConfig(vocab_size=101, hidden_size=32, intermediate_size=48,
                                           num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                           tie_word_embeddings=False), "LlamaForCausalLM"),
}


@pytest.mark.parametrize("family", TINY_CONFIGS)
def test_meta_count_equals_a_real_model_group_by_group(family):
    config, model_class = TINY_CONFIGS[family]
    torch.manual_seed(0)
    real = getattr(transformers, model_class)(config)
    breakdown = parameters.count_parameters(config, model_class)
    real_groups = {}
    for name, tensor in real.named_parameters():  # tied tensors appear once
        group = parameters.group_of(name)
        real_groups[group] = real_groups.get(group, 0) + tensor.numel()
    assert breakdown.total == sum(p.numel() for p in real.parameters()) == real.num_parameters()
    assert breakdown.by_group().to_dict() == real_groups
    table = breakdown.table()  # and the formula predicts every group
    assert (table["exact"] == table["formula value"]).all(), table


@pytest.mark.parametrize("key, model_class", [("bert-base-uncased", "BertModel"), ("bert-large-uncased", "BertModel"),
                                              ("gpt2", "GPT2LMHeadModel"), ("all-MiniLM-L6-v2", "BertModel"),
                                              ("distilbert-base-uncased", "DistilBertModel"),
                                              ("SmolLM2-135M", "LlamaForCausalLM")])
def test_exact_totals_match_transformers_and_the_published_figures(key, model_class):
    total = parameters.count_known(key).total
    assert total == transformers_total(key, model_class)  # transformers' own count of the config file
    published = parameters.KNOWN_BY_KEY[key].published  # the rounded figure the papers quote
    assert abs(total - published) / published < 0.02


def test_gpt2_head_is_tied_and_counted_once():
    gpt2, c = parameters.count_known("gpt2"), config("gpt2")
    assert gpt2.tied == {"lm_head.weight": "transformer.wte.weight"}
    assert gpt2.naive_total == gpt2.total + c["vocab_size"] * c["n_embd"]
    assert "LM head" not in gpt2.by_group()  # its only tensor is the token table


def test_minilm_count_matches_the_loaded_model(minilm):
    assert parameters.count_known("all-MiniLM-L6-v2").total == minilm.model.num_parameters()
    assert model_registry.num_parameters("minilm") == minilm.model.num_parameters()


@pytest.mark.parametrize("key", [k.key for k in parameters.KNOWN])
def test_formula_equals_exact_for_every_shipped_config(key):
    table = parameters.count_known(key).table()
    assert table["formula value"].notna().all()
    assert (table["exact"] == table["formula value"]).all(), table


def test_bert_formulas_read_like_the_lesson():
    table = parameters.count_known("bert-base-uncased").table().set_index("group")
    c = config("bert-base-uncased")
    H, L, V, P, T = (c[k] for k in ("hidden_size", "num_hidden_layers", "vocab_size", "max_position_embeddings",
                                    "type_vocab_size"))
    assert c["intermediate_size"] == 4 * H  # the lesson's F = 4H
    assert table.loc["attention", "formula"] == "L × (4·H² + 4·H)"
    assert table.loc["attention", "exact"] == L * (4 * H * H + 4 * H)
    assert table.loc["feed-forward", "exact"] == L * (2 * H * 4 * H + 5 * H)
    embeddings = table.loc[parameters.EMBEDDING_GROUPS[:4], "exact"].sum()
    assert embeddings == V * H + P * H + T * H + 2 * H
    assert round(embeddings / 1e6, 1) == 23.8  # the course's ≈23.8M
    assert table.loc["pooler", "exact"] == H * H + H


def test_rounding_explained_sums_to_the_exact_total():
    for key in ("bert-base-uncased", "gpt2", "t5-small"):
        breakdown = parameters.count_known(key)
        parts = parameters.rounding_explained(breakdown).set_index("part")["parameters"]
        assert parts.sum() == breakdown.total
    bert = parameters.rounding_explained(parameters.count_known("bert-base-uncased")).set_index("part")["parameters"]
    c = config("bert-base-uncased")
    H, F, L = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"]
    assert bert["biases"] == L * (4 * H + F + H) + H  # Q, K, V, O, two FFN layers; pooler
    assert bert["pooler"] == H * H


def test_group_names():
    assert parameters.group_of("transformer.h.3.ln_2.weight") == "layer norms"
    assert parameters.group_of("transformer.ln_f.weight") == "final norm"
    assert parameters.group_of("encoder.layer.0.attention.output.LayerNorm.bias") == "layer norms"
    assert parameters.group_of("encoder.layer.0.output.dense.weight") == "feed-forward"
    assert parameters.group_of("decoder.block.0.layer.1.EncDecAttention.q.weight") == "cross-attention"
    assert parameters.group_of("some_new_top_level.weight") == "other"


def test_treemap_frame_keeps_every_parameter():
    breakdown = parameters.count_known("t5-small")
    frame = parameters.treemap_frame(breakdown)
    assert frame["parameters"].sum() == breakdown.total
    assert set(frame["block"]) == {"embeddings", "encoder layers", "decoder layers", "final norm"}
    assert "encoder.block.*.layer.0.SelfAttention.q.weight" in set(frame["tensor"])


def test_presets_land_within_3_percent_of_the_lesson():
    for name in ("Original Transformer (2017)", "GPT-3 175B (2020)"):
        arch, published = parameters.preset(name)
        assert abs(parameters.formula_total(arch) - published) / published < 0.03
    arch = parameters.ORIGINAL_TRANSFORMER
    original = parameters.formula_terms(arch)
    assert original[0].value == arch.vocab_size * arch.hidden_size  # shared with the output layer


def test_gpt3_on_the_meta_device_agrees_with_the_formula():
    breakdown = parameters.count_architecture(parameters.GPT3, "GPT-3")
    assert breakdown.path == "meta device"
    assert breakdown.total == parameters.formula_total(parameters.GPT3)
    per_layer = (breakdown.by_group()[["attention", "feed-forward", "layer norms"]].sum()) / parameters.GPT3.num_hidden_layers
    assert 1.8e9 < per_layer < 1.82e9  # the course's ≈1.8B per layer


def test_builder_exact_and_formula_paths():
    for kind in ("encoder", "decoder"):
        arch = parameters.builder_architecture(kind, 2, 64, 4, 256, 1000, 128, tied=kind == "decoder")
        breakdown = parameters.count_architecture(arch)
        assert breakdown.path == "meta device"
        assert breakdown.total == parameters.formula_total(arch)
    for name, key in [("BERT-Base (2018)", "bert-base-uncased"), ("GPT-2 small (2019)", "gpt2")]:
        built = parameters.count_architecture(parameters.preset(name)[0])
        assert built.total == parameters.count_known(key).total
        assert built.by_group().to_dict() == parameters.count_known(key).by_group().to_dict()
    original = parameters.ORIGINAL_TRANSFORMER
    seq2seq = parameters.count_architecture(original)
    H, F, L = original.hidden_size, original.intermediate_size, original.num_hidden_layers
    attention, feed_forward, norm = 4 * H * H + 4 * H, 2 * H * F + F + H, 2 * H
    by_hand = (original.vocab_size * H  # one embedding matrix, shared by both inputs and the output layer
               + L * (attention + feed_forward + 2 * norm)  # encoder layers
               + L * (2 * attention + feed_forward + 3 * norm))  # decoder layers: self- and cross-attention
    assert seq2seq.path == "formula" and seq2seq.total == by_hand


def test_course_attention_row():
    row = parameters.course_attention_row(512, 8)
    assert row["one head Q,K,V"] == 98_304
    assert row["course block (one head + output)"] == 360_448
    assert row["all heads Q,K,V,O weights"] == 1_048_576


@pytest.mark.parametrize("changes, message", [
    ({"num_attention_heads": 7}, "do not divide"),
    ({"num_hidden_layers": 0}, "at least one layer"),
    ({"vocab_size": 10**10, "hidden_size": 16_384, "num_attention_heads": 128}, "ten trillion"),
    ({"intermediate_size": 0}, "at least 1"),
])
def test_bad_architectures_are_refused_with_a_reason(changes, message):
    arch = dataclasses.replace(parameters.preset("GPT-2 small (2019)")[0], **changes)
    with pytest.raises(parameters.InvalidConfig, match=message):
        parameters.count_architecture(arch)


@pytest.mark.parametrize("raw, message", [
    ({"model_type": "bert", "hidden_size": 770, "num_attention_heads": 12}, "do not divide"),
    ({"model_type": "gpt2", "n_layer": 0}, "at least one layer"),
    ({"model_type": "llama", "hidden_size": 2**20, "num_hidden_layers": 200, "num_attention_heads": 64,
      "intermediate_size": 2**22}, "ten trillion"),
    ({"model_type": "no-such-model"}, "cannot be read"),
])
def test_bad_config_dicts_are_refused_with_a_reason(raw, message):
    with pytest.raises(parameters.InvalidConfig, match=message):
        parameters.count_parameters(raw)


def test_hub_ids_offline_give_a_clear_message():
    with pytest.raises(model_registry.ModelUnavailable, match="not reachable"):
        parameters.count_parameters("google-bert/bert-base-cased")
    with pytest.raises(model_registry.ModelUnavailable, match="not a valid"):
        parameters.count_parameters("../../etc/passwd")


def test_memory_uses_torch_element_sizes():
    n = parameters.count_known("llama-7b").total
    table = parameters.memory_table(n).set_index("use")
    for precision, dtype in [("fp32", torch.float32), ("bf16", torch.bfloat16), ("fp16", torch.float16),
                             ("int8", torch.int8)]:
        expected = n * torch.empty(0, dtype=dtype).element_size() / 2**30
        assert table.loc[f"inference, {precision}", "GiB"] == pytest.approx(expected)
    assert table.loc["inference, int4", "GiB"] == pytest.approx(n / 2 / 2**30)
    assert table.loc["training with Adam, fp32", "GiB"] == pytest.approx(4 * table.loc["inference, fp32", "GiB"])


def test_what_fits_on_a_t4():
    fits = parameters.fits_table(parameters.count_known("llama-7b").total, ("Test GPU", 24.0))
    t4 = fits["T4 16 GB"]
    assert t4["inference, fp32"] == "no"  # 25 GiB
    assert parameters.DEVICES_GIB["T4 16 GB"] == pytest.approx(16e9 / 2**30)  # 14.9 GiB: 16 GB, not 16 GiB
    assert t4["inference, fp16"] == "tight"  # 12.6 GiB of 14.9: no 20% left for activations
    assert t4["inference, int4"] == "fits"
    assert t4["training with Adam, fp32"] == "no"
    assert fits["this machine: Test GPU"]["inference, fp16"] == "fits"
    assert (parameters.fits_table(parameters.count_known("llama-65b").total)["T4 16 GB"] == "no").all()
    assert parameters.fit_verdict(15, 16) == "tight"
    assert parameters.fits_table(6 * 10**9)["T4 16 GB"]["inference, fp16"] == "fits"  # 11.2 GiB


def test_the_detected_gpu_joins_the_fits_table(monkeypatch):
    monkeypatch.setattr(device_policy, "device_report", lambda: {"device": "cpu", "cuda": False, "mps": False})
    assert parameters.local_gpu() is None
    report = {"device": "cuda", "cuda": True, "mps": False, "gpu_name": "NVIDIA L4", "gpu_memory_gb": 22.0}
    monkeypatch.setattr(device_policy, "device_report", lambda: report)
    assert parameters.local_gpu() == ("NVIDIA L4", 22.0)
    fits = parameters.fits_table(parameters.count_known("llama-7b").total, parameters.local_gpu())
    assert fits["this machine: NVIDIA L4"].to_dict() == {  # 25.1 / 12.6 / 6.3 / 3.1 / 100 GiB of 22
        "inference, fp32": "no", "inference, bf16": "fits", "inference, fp16": "fits", "inference, int8": "fits",
        "inference, int4": "fits", "training with Adam, fp32": "no"}


@pytest.mark.parametrize("key", [k.key for k in parameters.KNOWN])
def test_first_layer_names_every_tensor(key):
    breakdown = parameters.count_known(key)
    layer = parameters.first_layer(breakdown)
    assert not layer.empty and "other" not in set(layer["part"])
    assert not any(symbols == "" or symbols.isdigit() for symbols in layer["shape in symbols"])
    arch = breakdown.architecture
    stacked = breakdown.by_group()[["attention", "feed-forward", "layer norms"]].sum()
    if arch.kind == "encoder-decoder":
        return  # the decoder's layers differ (cross-attention): test_first_layer_reads_like_the_lesson
    depth = 1 if arch.shared_layers else arch.num_hidden_layers
    assert depth * layer["parameters"].sum() == stacked  # every layer is the same


def test_first_layer_reads_like_the_lesson():
    bert = parameters.first_layer(parameters.count_known("bert-base-uncased")).set_index("tensor")
    c = config("bert-base-uncased")
    H, F = c["hidden_size"], c["intermediate_size"]
    assert set(bert["part"]) == {"query projection Q", "key projection K", "value projection V", "attention output O",
                                 "feed-forward up (H → F)", "feed-forward down (F → H)", "layer norm"}
    assert bert.loc["attention.self.query.weight", ["shape", "shape in symbols", "parameters"]].tolist() == [
        f"{H} × {H}", "H²", H * H]
    assert bert.loc["intermediate.dense.weight", "shape in symbols"] == "F × H"
    assert bert["parameters"].sum() == 4 * (H**2 + H) + 2 * H * F + F + H + 4 * H
    smol = parameters.first_layer(parameters.count_known("SmolLM2-135M")).set_index("tensor")
    smol_config = config("SmolLM2-135M")
    assert smol_config["num_key_value_heads"] < smol_config["num_attention_heads"]  # grouped-query attention
    assert smol.loc["self_attn.k_proj.weight", "shape in symbols"] == "KV·d × H"
    assert smol.loc["mlp.gate_proj.weight", "part"] == "feed-forward gate (H → F)"
    gpt2 = parameters.first_layer(parameters.count_known("gpt2")).set_index("tensor")
    assert gpt2.loc["attn.c_attn.weight", ["part", "shape in symbols"]].tolist() == [
        "Q, K and V projections in one matrix", "H × 3H"]
    t5 = parameters.first_layer(parameters.count_known("t5-small"))
    assert t5["part"].str.startswith("relative position bias").sum() == 1
    assert "cross" not in " ".join(t5["tensor"]).lower()  # the encoder's first layer


def test_timeline_and_variants():
    timeline = parameters.timeline()
    assert timeline["year"].is_monotonic_increasing
    gpt3 = timeline.set_index("model").loc["GPT-3 175B"]
    assert gpt3["counted by"] == "formula" and gpt3["parameters"] == parameters.formula_total(parameters.GPT3)
    variants = parameters.variants_table().set_index("model")
    assert variants.loc["BERT-Large", "exact"] == transformers_total("bert-large-uncased", "BertModel")
    c = config("bert-large-uncased")
    assert variants.loc["BERT-Large", ["layers", "hidden", "heads"]].tolist() == [
        c["num_hidden_layers"], c["hidden_size"], c["num_attention_heads"]]
    assert abs(variants.loc["BERT-Base", "difference"]) < 0.01


def test_hub_config_path_with_a_stand_in_hub(monkeypatch, tmp_path):
    import huggingface_hub

    files = {"someone/tiny-bert": {"model_type": "bert", "architectures": ["BertModel"], "hidden_size": 64,
                                   "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128},
             "someone/remote-code": {"model_type": "bert", "auto_map": {"AutoModel": "modeling.MyModel"}}}

    def download(repo_id, filename):
        path = tmp_path / repo_id.replace("/", "--") / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(files[repo_id]))
        return str(path)

    monkeypatch.setattr(hub, "hub_reachable", lambda: True)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    breakdown = parameters.count_parameters("someone/tiny-bert")
    expected = transformers.BertModel(transformers.BertConfig(**files["someone/tiny-bert"])).num_parameters()
    assert breakdown.model_class == "BertModel" and breakdown.total == expected
    with pytest.raises(model_registry.ModelUnavailable, match="auto_map"):
        parameters.count_parameters("someone/remote-code")


def test_the_memory_panel_counts_the_builders_model_of_this_run():
    """The builder and the memory panel share one fragment: the panel gets the builder's count, never a
    count kept from an earlier run, and nothing when the builder's settings are not a model."""
    from lessons.widgets import parameters as uip

    built = parameters.count_architecture(parameters.builder_architecture(**uip.BUILDER_DEFAULTS))
    assert uip.memory_total(uip.BUILT, built) == built.total == transformers_total("gpt2", "GPT2LMHeadModel")
    assert uip.memory_total(uip.BUILT, None) is None
    assert uip.memory_total("bert-base-uncased", None) == parameters.count_known("bert-base-uncased").total
    assert uip.memory_total("GPT-3 175B (2020)", built) == parameters.formula_total(parameters.preset("GPT-3 175B (2020)")[0])


def test_doubling_the_hidden_size_quadruples_only_the_layer_matrices():
    """Issue 23: "doubling H quadruples" holds for the H×H and H×F matrices, not for embeddings, biases, norms."""
    from lib import prose

    def parts(hidden: int) -> dict[str, int]:
        settings = parameters.shipped_builder_settings("gpt2")
        cfg = transformers.GPT2Config(n_embd=hidden, n_inner=4 * hidden, n_layer=settings["layers"],
                                      n_head=settings["heads"], vocab_size=settings["vocab"],
                                      n_positions=settings["context"])
        with torch.device("meta"):
            model = transformers.GPT2Model(cfg)
        counted = {"embeddings": 0, "layers": 0, "matrices": 0, "total": 0}
        for name, tensor in model.named_parameters():
            part = "embeddings" if name.startswith(("wte", "wpe")) else "layers" if name.startswith("h.") else None
            counted["total"] += tensor.numel()
            if part:
                counted[part] += tensor.numel()
            if part == "layers" and tensor.dim() == 2:
                counted["matrices"] += tensor.numel()
        return counted

    small = parameters.shipped_config("gpt2")["n_embd"]
    before, after = parts(small), parts(2 * small)
    assert after["matrices"] == 4 * before["matrices"] and after["embeddings"] == 2 * before["embeddings"]
    ratios = parameters.doubling_hidden_size(parameters.preset("GPT-2 small (2019)")[0])
    for part in ("layers", "embeddings", "total"):
        assert ratios[part] == pytest.approx(after[part] / before[part], rel=1e-9)
    facts = parameters.doubling_facts()
    assert float(facts["small_total"]) == pytest.approx(after["total"] / before["total"], abs=0.005)
    assert 3 < float(facts["small_total"]) < 3.9 < float(facts["large_total"]) < 4
    text = prose.lesson_markdown("parameters", "builder", **facts)
    assert f"the whole model ×{facts['small_total']}, not ×4" in text


def test_the_grouped_query_attention_claim_matches_the_shipped_configs():
    from lib import prose

    smol = parameters.shipped_config("SmolLM2-135M")
    assert smol["num_key_value_heads"] < smol["num_attention_heads"]
    for key in ("llama-7b", "llama-13b", "llama-30b", "llama-65b"):
        raw = parameters.shipped_config(key)
        assert raw.get("num_key_value_heads", raw["num_attention_heads"]) == raw["num_attention_heads"]
    text = prose.lesson_markdown("parameters", "count")
    assert "SmolLM2 does, the original LLaMA\n  models listed here do not" in text
