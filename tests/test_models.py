"""The model registry: bundled models load offline and give real outputs; bad
choices are refused with a message and fall back to the offline default."""
import pytest
import torch

from lib import models


def test_minilm_returns_six_attention_layers(minilm):
    encoded = minilm.tokenizer("Your cat is a lovely cat", return_tensors="pt")
    n = encoded["input_ids"].shape[1]
    with torch.no_grad():
        out = minilm.model(**encoded, output_attentions=True)
    assert len(out.attentions) == 6
    for layer in out.attentions:
        assert layer.shape == (1, 12, n, n)  # (batch, heads, seq, seq)
        torch.testing.assert_close(layer.sum(-1), torch.ones(1, 12, n))
    assert minilm.model.num_parameters() == models.REGISTRY["minilm"].num_parameters


def test_smollm2_knows_the_capital_of_france(smollm2):
    encoded = smollm2.tokenizer("The capital of France is", return_tensors="pt")
    with torch.no_grad():
        out = smollm2.model.generate(**encoded, max_new_tokens=6, do_sample=False)
    assert "Paris" in smollm2.tokenizer.decode(out[0, encoded["input_ids"].shape[1]:])
    assert smollm2.model.num_parameters() == models.REGISTRY["smollm2-135m"].num_parameters


def test_smollm2_conversion_is_cached():
    folder = models.smollm2_dir()
    assert (folder / "model.safetensors").exists() and (folder / "tokenizer.json").exists()


@pytest.mark.parametrize("key", [s.key for s in models.specs() if s.bundled])
def test_every_bundled_model_is_installed(key):
    assert models.bundled_path(key).exists()


def test_offline_hub_request_falls_back_with_notice():
    loaded = models.load("bert-base-uncased", role="encoder", device="cpu")
    assert loaded.spec.key == "minilm"
    assert "not reachable" in loaded.notice and "offline model" in loaded.notice


@pytest.mark.parametrize("bad", ["", "../../etc/passwd", "a b c", "x" * 200, "<script>alert(1)</script>"])
def test_invalid_hub_ids_are_refused(bad):
    with pytest.raises(models.ModelUnavailable, match="not a valid"):
        models.validate_hub_id(bad)


def test_role_without_offline_model_raises_clear_message():
    with pytest.raises(models.ModelUnavailable, match="not reachable"):
        models.load("dslim/bert-base-NER", role="ner", device="cpu")


def test_too_large_model_is_refused_before_download(monkeypatch):
    monkeypatch.setattr(models, "available_memory_bytes", lambda device: 2 * 2**30)
    with pytest.raises(models.ModelUnavailable, match="parameters"):
        models.ensure_fits(7_000_000_000, "cpu", 4, "meta-llama/Llama-2-7b")
    models.ensure_fits(22_713_216, "cpu", 4, "minilm")  # a small one fits


def test_remote_code_models_are_refused(monkeypatch, tmp_path):
    import json

    import huggingface_hub

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"model_type": "bert", "auto_map": {"AutoModel": "modeling_custom.Custom"}}))
    monkeypatch.setattr(models, "hub_reachable", lambda: True)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda repo_id, filename: str(config))
    with pytest.raises(models.ModelUnavailable, match="trust_remote_code"):
        models.check_hub_model("someone/custom-model")


def test_too_large_hub_model_is_refused_from_its_config(monkeypatch, tmp_path):
    import json

    import huggingface_hub

    config = tmp_path / "config.json"  # a 7B Llama: its weights are never downloaded
    config.write_text(json.dumps({"model_type": "llama", "architectures": ["LlamaForCausalLM"],
                                  "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
                                  "num_attention_heads": 32, "vocab_size": 32000}))
    monkeypatch.setattr(models, "hub_reachable", lambda: True)
    monkeypatch.setattr(models, "available_memory_bytes", lambda device: 8 * 2**30)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda repo_id, filename: str(config))
    with pytest.raises(models.ModelUnavailable, match="6,738M parameters"):
        models.check_hub_model("someone/llama-7b")


def test_meta_device_count_matches_real_model(minilm):
    from lib import params

    assert params.count_parameters(minilm.model.config).total == minilm.model.num_parameters()


def test_hub_offline_env_skips_network(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert models.hub_reachable() is False


def test_device_and_dtype():
    assert models.best_device() in {"cpu", "cuda", "mps"}
    assert models.default_dtype("cpu") == torch.float32


def test_cpu_threads_counts_concurrent_users_and_restores():
    before = torch.get_num_threads()
    with models.cpu_threads("cpu"):
        with models.cpu_threads("cpu"):  # a second student training at the same time
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 1, "the first student is still training"
    assert torch.get_num_threads() == before
    with models.cpu_threads("cuda"):
        assert torch.get_num_threads() == before
