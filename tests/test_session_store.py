"""lib/session_store: one cap for every student's trained models, LRU eviction,
no way for one session to reach another's model, and the page's eviction notice."""
import gc
import threading

import pytest
import torch

from lib import model_loading, model_registry, session_store, tiny_gpt
from lib.session_store import SessionStore, tensor_bytes

MIB = 2**20


def test_tensor_bytes_counts_parameters_buffers_and_tied_weights_once():
    layer = torch.nn.BatchNorm1d(10)  # 2×10 parameters + 2×10 running stats + 1 int64 counter
    assert tensor_bytes(layer) == 4 * 40 + 8
    tied = torch.nn.Linear(8, 8, bias=False)
    pair = {"a": tied, "b": [tied.weight]}  # the same storage twice
    assert tensor_bytes(pair) == 8 * 8 * 4


def test_tensor_bytes_of_a_tiny_gpt_run_is_its_model():
    embedding, head = torch.nn.Embedding(65, 32), torch.nn.Linear(32, 65, bias=False)
    head.weight = embedding.weight  # tied, as GPT-2's LM head is
    run = tiny_gpt.TinyGPTRun(tiny_gpt.TinyGPTConfig(), tiny_gpt.CharTokenizer(list("ab")),
                             torch.nn.Sequential(embedding, head), baseline=3.2)
    run.history.append(tiny_gpt.Progress(step=1, train_loss=3.0))
    assert tensor_bytes(run) == tensor_bytes(run.model) == 65 * 32 * 4


def test_tensor_bytes_reaches_a_loaded_model_and_an_optimiser():
    net = torch.nn.Linear(100, 10)
    loaded = model_loading.Loaded(model_registry.REGISTRY["minilm"], net, tokenizer=None, device="cpu")
    assert tensor_bytes(loaded) == 4 * 1010
    optimiser = torch.optim.Adam(net.parameters())
    net(torch.ones(1, 100)).sum().backward()
    optimiser.step()
    assert tensor_bytes(optimiser) == 2 * 4 * 1010 + 2 * 4  # exp_avg, exp_avg_sq and a step count per tensor


def test_sessions_only_see_their_own_models():
    store = SessionStore(max_models=10, max_bytes=10 * MIB)
    store.put("alice", "finetune_model", "alice's model", nbytes=1)
    store.put("bob", "finetune_model", "bob's model", nbytes=1)
    assert store.get("alice", "finetune_model") == "alice's model"
    assert store.get("bob", "finetune_model") == "bob's model"
    assert store.get("carol", "finetune_model") is None
    assert store.get("alice", "gpt_run") is None
    store.put("alice", "finetune_model", "alice's second model", nbytes=1)  # retraining replaces
    assert store.get("alice", "finetune_model") == "alice's second model"
    assert store.usage().models == 2


def test_the_count_cap_evicts_the_least_recently_used():
    store = SessionStore(max_models=3, max_bytes=10 * MIB)
    for student in ["a", "b", "c"]:
        store.put(student, "gpt_run", student.upper(), nbytes=1)
    store.get("a", "gpt_run")  # a was used last: b is now the oldest
    store.put("d", "gpt_run", "D", nbytes=1)
    assert store.get("b", "gpt_run") is None
    assert [store.get(s, "gpt_run") for s in "acd"] == ["A", "C", "D"]
    assert store.usage() == session_store.Usage(models=3, bytes=3, evicted=1)


def test_the_byte_cap_evicts_until_the_new_model_fits():
    store = SessionStore(max_models=100, max_bytes=200 * MIB)
    for student in ["a", "b", "c"]:
        store.put(student, "finetune_model", student, nbytes=87 * MIB)
    assert store.get("a", "finetune_model") is None  # 3 × 87 > 200: the oldest goes
    assert store.usage().bytes == 2 * 87 * MIB <= store.max_bytes
    store.put("d", "finetune_model", "d", nbytes=150 * MIB)
    assert store.usage() == session_store.Usage(models=1, bytes=150 * MIB, evicted=3)


def test_a_model_larger_than_the_cap_is_kept_alone():
    store = SessionStore(max_models=5, max_bytes=100)
    store.put("a", "m", "small", nbytes=10)
    store.put("b", "m", "huge", nbytes=1_000)
    assert store.get("b", "m") == "huge" and store.get("a", "m") is None


def test_sizes_are_measured_when_not_given():
    store = SessionStore(max_models=5, max_bytes=10 * MIB)
    store.put("a", "net", torch.nn.Linear(256, 256))
    assert store.usage().bytes == 4 * (256 * 256 + 256)


def test_a_sessions_models_go_when_its_owner_token_is_collected():
    store = SessionStore(max_models=5, max_bytes=10 * MIB)
    owner = store.owner("alice")
    store.put("alice", "finetune_model", "A", nbytes=1)
    store.put("bob", "finetune_model", "B", nbytes=1)
    del owner
    gc.collect()
    assert store.get("alice", "finetune_model") is None and store.get("bob", "finetune_model") == "B"


def test_concurrent_students_never_exceed_the_cap():
    store = SessionStore(max_models=4, max_bytes=10 * MIB)
    peak = []

    def student(name):
        for i in range(200):
            store.put(name, "gpt_run", (name, i), nbytes=MIB)
            got = store.get(name, "gpt_run")
            assert got is None or got[0] == name
            peak.append(store.usage().models)

    threads = [threading.Thread(target=student, args=(f"s{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert max(peak) <= 4 and store.usage().models == 4


def test_a_store_needs_room():
    with pytest.raises(ValueError):
        SessionStore(max_models=0, max_bytes=1)
