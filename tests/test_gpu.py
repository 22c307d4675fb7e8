"""lib.gpu: timing discipline, FLOP counting, results files and memory
figures, checked against independent arithmetic and real tensors."""
import json

import pytest
import torch
from shipped_configs import transformers_total

from lib import gpu


def test_time_call_runs_warmup_then_repeats_and_takes_the_median(monkeypatch):
    calls = []
    clock = iter([0.0, 1.0, 10.0, 13.0, 20.0, 22.0])  # repeats last 1, 3, 2 s
    monkeypatch.setattr(gpu.time, "perf_counter", lambda: next(clock))
    synced = []
    monkeypatch.setattr(gpu, "synchronize", lambda device: synced.append(device))
    assert gpu.time_call(lambda: calls.append(1), "cuda", warmup=2, repeats=3) == 2.0
    assert len(calls) == 5
    assert synced == ["cuda"] * 4  # after the warm-up, then after every timed run


def test_synchronize_is_a_no_op_on_cpu():
    gpu.synchronize("cpu")


def test_matmul_gflops_uses_2n_cubed():
    row = gpu.matmul_gflops(64, "cpu", repeats=1)
    assert gpu.matmul_flops(64, 64, 64) == 2 * 64 * 64 * 64
    assert row["gflops"] == pytest.approx(2 * 64**3 / row["seconds"] / 1e9)


def test_matmul_sweep_skips_precisions_a_device_does_not_time():
    rows = list(gpu.matmul_sweep([32, 64], ["cpu"], ["float32", "float16"]))
    assert [(r["size"], r["dtype"]) for r in rows] == [(32, "float32"), (64, "float32")]


def test_thread_scaling_restores_the_thread_count():
    before = torch.get_num_threads()
    rows = list(gpu.thread_scaling(64, [1, 2], repeats=1))
    assert [r["threads"] for r in rows] == [1, 2] and torch.get_num_threads() == before


def test_encoder_batch_timing(minilm):
    row = gpu.encoder_batch_timing(minilm, ["a short sentence", "another one"], 5, repeats=1)
    assert row["batch_size"] == 5 and row["dtype"] == "float32"
    assert row["sequences_per_s"] == pytest.approx(5 / row["seconds"])


def test_measured_memory_matches_parameters_times_bytes(minilm):
    parameters = sum(p.numel() for p in minilm.model.parameters())
    assert parameters == transformers_total("all-MiniLM-L6-v2", "BertModel")  # the shipped config's count
    for dtype, size in (("float32", 4), ("bfloat16", 2), ("float16", 2)):
        assert gpu.measured_weights_bytes(minilm.model, dtype) == gpu.weights_bytes(parameters, dtype) \
            == parameters * size
    assert next(minilm.model.parameters()).dtype == torch.float32  # the shared model is untouched


def test_max_parameters_on_a_t4():
    assert gpu.COLAB_T4_BYTES == 16e9  # the datasheet's 16 GB, not 16 GiB (which would be 7% more)
    assert gpu.max_parameters(gpu.COLAB_T4_BYTES, "float16") == 8e9
    assert gpu.max_parameters(gpu.COLAB_T4_BYTES, "4-bit") == 4 * gpu.max_parameters(gpu.COLAB_T4_BYTES, "float16")


def test_results_round_trip_and_speedups():
    matmul = [{"size": 1024, "device": "cpu", "dtype": "float32", "seconds": 0.1, "gflops": 20.0},
              {"size": 1024, "device": "cuda", "dtype": "float16", "seconds": 0.001, "gflops": 2000.0}]
    model = [{"device": "cpu", "dtype": "float32", "batch_size": 8, "seconds": 1, "sequences_per_s": 8.0}]
    document = json.dumps(gpu.results_document(matmul, model))
    loaded = gpu.load_results(document.encode())
    assert loaded["format"] == gpu.RESULTS_FORMAT
    assert gpu.speedups(loaded["matmul"], "size", "gflops") == [
        {"size": 1024, "device": "cuda", "dtype": "float16", "speed-up": 100.0}]


MATMUL_ROW = {"size": 1024, "device": "cpu", "dtype": "float32", "seconds": 0.1, "gflops": 20.0}
GOOD = {"format": gpu.RESULTS_FORMAT, "created": "2026-01-01T00:00:00", "machine": {}, "matmul": [MATMUL_ROW],
        "model": []}


@pytest.mark.parametrize("raw, message", [
    (b"\x89PNG not json", "not a JSON file"),
    (b'{"format": "something else"}', "not a Glassbox GPU benchmark"),
    (json.dumps({**GOOD, "matmul": [{"size": 1}]}).encode(), "matmul"),
    (json.dumps({**GOOD, "matmul": [{**MATMUL_ROW, "gflops": "fast"}]}).encode(), "positive numbers"),
    (json.dumps({**GOOD, "matmul": [{**MATMUL_ROW, "gflops": 0}]}).encode(), "positive numbers"),
    (json.dumps({**GOOD, "model": [{"device": ["cpu"], "dtype": "float32", "batch_size": 1,
                                     "sequences_per_s": 1.0}]}).encode(), "model"),
    (json.dumps({**GOOD, "machine": "a string"}).encode(), "machine"),
    (json.dumps({**GOOD, "machine": {"gpu_name": "<script>" * 100}}).encode(), "machine"),
    (b"[" * 100_000 + b"]" * 100_000, "not a JSON file"),
])
def test_bad_results_files(raw, message):
    gpu.load_results(json.dumps(GOOD))
    with pytest.raises(ValueError, match=message):
        gpu.load_results(raw)


def test_dtypes_per_device():
    assert gpu.dtypes_for("cpu") == ["float32", "bfloat16"]
    assert gpu.available_devices()[0] == "cpu"


def test_roofline_of_a_square_matmul():
    assert gpu.matmul_flops(3, 5, 7) == 2 * 3 * 5 * 7
    assert gpu.tensor_bytes((8, 128, 768), "bfloat16") == torch.empty(8, 128, 768, dtype=torch.bfloat16).nbytes
    assert gpu.arithmetic_intensity(1024, 1024, 1024, "float16") == pytest.approx(2 * 1024 / (3 * 2))
    assert gpu.ridge_point("T4", "float16") == pytest.approx(65e12 / 320e9)
    # float16 on a T4: intensity n/3 crosses the ridge point 203.1 between n = 512 and n = 1024
    small, big = (gpu.roofline(gpu.matmul_flops(n, n, n), gpu.matmul_bytes(n, n, n, "float16"), "T4", "float16")
                  for n in (512, 1024))
    assert small["bound"] == "memory-bound" and small["seconds"] == small["memory_s"] == 3 * 512**2 * 2 / 320e9
    assert big["bound"] == "compute-bound" and big["seconds"] == big["compute_s"] == 2 * 1024**3 / 65e12


# --- the GPU code path, exercised without a GPU -------------------------------------------

def test_available_devices_follow_the_device_report(monkeypatch):
    for report, expected in [({"cuda": False, "mps": False}, ["cpu"]), ({"cuda": True, "mps": False}, ["cpu", "cuda"]),
                             ({"cuda": False, "mps": True}, ["cpu", "mps"])]:
        monkeypatch.setattr(gpu.device_policy, "device_report", lambda report=report: {"device": "x", **report})
        assert gpu.available_devices() == expected


def test_gpu_precisions_depend_on_bfloat16_support(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)  # a T4 or V100
    assert gpu.dtypes_for("cuda") == ["float32", "float16"]
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)  # Ampere and later
    assert gpu.dtypes_for("cuda:0") == ["float32", "bfloat16", "float16"]
    assert gpu.dtypes_for("mps") == ["float32", "bfloat16", "float16"]


def test_synchronize_waits_on_the_right_backend(monkeypatch):
    waited = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *a: waited.append("cuda"))
    monkeypatch.setattr(torch.mps, "synchronize", lambda *a: waited.append("mps"))
    for device in ("cpu", "cuda", "cuda:0", "mps"):
        gpu.synchronize(device)
    assert waited == ["cuda", "cuda", "mps"]


def test_model_sweep_times_each_device_and_precision_it_supports(monkeypatch, minilm):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    asked = []

    def loaded_on(device, dtype):  # a GPU run here would need CUDA: time the CPU model, label the request
        asked.append((device, dtype))
        return gpu.in_precision(minilm, dtype if device == "cpu" else "float32")

    rows = list(gpu.model_sweep(loaded_on, ["a sentence"], ["cpu", "cuda"], ["float32", "bfloat16", "float16"],
                                [1, 2]))
    assert asked == [("cpu", "float32"), ("cpu", "bfloat16"), ("cuda", "float32"), ("cuda", "float16")]
    assert [(r["dtype"], r["batch_size"]) for r in rows[:4]] == [("float32", 1), ("float32", 2),
                                                                  ("bfloat16", 1), ("bfloat16", 2)]


def test_a_precision_copy_leaves_the_shared_model_alone(minilm):
    assert gpu.in_precision(minilm, "float32") is minilm
    half = gpu.in_precision(minilm, "bfloat16")
    assert half.model is not minilm.model and half.lock is not minilm.lock and half.device == minilm.device
    assert gpu.model_dtype(half) == "bfloat16" and gpu.model_dtype(minilm) == "float32"
    row = gpu.encoder_batch_timing(half, ["a short sentence"], 2, repeats=1)
    assert row["dtype"] == "bfloat16"


def test_a_gpu_results_file_gives_speedups_per_size_and_precision():
    matmul = [{"size": n, "device": "cpu", "dtype": "float32", "seconds": 1.0, "gflops": g} for n, g in ((1024, 80.0),
                                                                                                       (4096, 90.0))]
    matmul += [{"size": 4096, "device": "cuda", "dtype": d, "seconds": 0.01, "gflops": g}
               for d, g in (("float32", 9000.0), ("float16", 45000.0))]
    model = [{"device": "cpu", "dtype": "float32", "batch_size": 64, "seconds": 1.0, "sequences_per_s": 200.0},
             {"device": "cuda", "dtype": "bfloat16", "batch_size": 64, "seconds": 0.1, "sequences_per_s": 8000.0},
             {"device": "cuda", "dtype": "bfloat16", "batch_size": 256, "seconds": 0.1, "sequences_per_s": 9000.0}]
    saved = gpu.load_results(json.dumps({**gpu.results_document(matmul, model),
                                         "machine": {"gpu_name": "NVIDIA H100", "cuda": True}}))
    assert gpu.speedups(saved["matmul"], "size", "gflops") == [
        {"size": 4096, "device": "cuda", "dtype": "float32", "speed-up": 100.0},
        {"size": 4096, "device": "cuda", "dtype": "float16", "speed-up": 500.0}]
    # batch 256 has no CPU row to compare with: left out, not divided by something else
    assert gpu.speedups(saved["model"], "batch_size", "sequences_per_s") == [
        {"batch_size": 64, "device": "cuda", "dtype": "bfloat16", "speed-up": 40.0}]
