"""AppTest of the GPU lesson: the CPU half runs and a saved result file loads."""
import json

import pytest
from plotly_arrays import array

from lib import gpu


def test_page_detects_device_and_runs_cpu_benchmarks(open_page):
    app = open_page("gpu", timeout=180)
    assert not app.exception, app.exception
    assert next(m.value for m in app.metric if m.label == "Best device") == gpu.available_devices()[-1].upper()
    shown = " ".join(m.value for m in app.markdown)
    assert "float32** 86.6 MiB" in shown
    assert "16 GB (16 × 10⁹ bytes, 14.9 GiB)" in shown and "**8.0B** parameters in float16" in shown
    assert "CUDA context" in shown and f'"16 GB" T4 holds {16e9 / 1024**3:.1f} GiB' in shown

    app.multiselect(key="gpu_sizes").set_value([128, 256]).run()
    app.button(key="gpu_run_matmul").click().run()
    rows = app.session_state["gpu_matmul"]
    assert [(r["size"], r["dtype"]) for r in rows if r["device"] == "cpu"] == [
        (128, "float32"), (256, "float32"), (128, "bfloat16"), (256, "bfloat16")]
    assert all(r["gflops"] > 0 for r in rows)

    app.button(key="gpu_run_model").click().run()
    assert [(r["dtype"], r["batch_size"]) for r in app.session_state["gpu_model"]][:4] == [
        ("float32", 1), ("float32", 4), ("float32", 16), ("float32", 64)]
    app.multiselect(key="gpu_model_dtypes").set_value([]).run()
    assert "at least one precision for MiniLM" in " ".join(w.value for w in app.warning)
    assert next(b for b in app.button if b.key == "gpu_run_model").disabled

    app.multiselect(key="gpu_dtypes").set_value([]).run()
    assert "at least one size and one precision" in app.warning[0].value


def metrics(app) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def test_a_shared_link_restores_the_view(open_page):
    app = open_page("gpu", timeout=180)
    app.multiselect(key="gpu_sizes").set_value([128, 2048])
    app.multiselect(key="gpu_dtypes").set_value(["float32"])
    app.select_slider(key="gpu_roofline_n").set_value(4096)
    app.selectbox(key="gpu_roofline_precision").set_value("float32")
    app.selectbox(key="gpu_roofline_gpu").set_value("V100").run()
    link = dict(app.query_params)
    assert link == {"sizes": "128,2048", "dtypes": "float32", "n": "4096", "prec": "float32", "gpu": "V100"}
    shown = metrics(app)
    assert shown["Work"] == f"{2 * 4096**3 / 1e9:,.2f} GFLOP" and shown["Bytes moved"] == f"{3 * 4096**2 * 4 / 2**20:,.2f} MiB"
    assert shown["Fastest possible time"] == f"{2 * 4096**3 / 15.7e12 * 1e3:,.2f} ms"  # compute-bound on a V100

    opened = open_page("gpu", timeout=180, query=link)
    assert not opened.exception and not opened.info
    assert opened.multiselect(key="gpu_sizes").value == [128, 2048]
    assert opened.multiselect(key="gpu_dtypes").value == ["float32"]
    assert opened.select_slider(key="gpu_roofline_n").value == 4096
    assert opened.selectbox(key="gpu_roofline_gpu").value == "V100"
    assert metrics(opened) == shown
    assert dict(opened.query_params) == link


def test_bad_links_presets_checkpoint_uploads_and_labels(open_page):
    from accessibility import chart_problems, widget_label_problems

    from lib import checkpoints

    app = open_page("gpu", timeout=180, query={"seed": "abc", "n": "999", "gpu": "x" * 10_240})
    assert not app.exception
    notice = app.info[0].value
    assert "`seed` is not a setting" in notice and "`n=999` is not one of the choices" in notice
    assert "too long" in notice and dict(app.query_params) == {}
    assert app.select_slider(key="gpu_roofline_n").value == 1024 and app.selectbox(key="gpu_roofline_gpu").value == "T4"
    assert chart_problems(app) == [] and widget_label_problems(app) == []

    next(b for b in app.button if b.label == "Small matrices starve a GPU").click().run()
    assert dict(app.query_params) == {"sizes": "128,256", "n": "64"}
    time_metric = next(m for m in app.metric if m.label == "Fastest possible time")
    assert time_metric.delta == "memory-bound"  # 2·64³ FLOPs take less than moving 3·64² float16 numbers

    first = checkpoints.questions("gpu", 1)[0]
    app.text_input(key="gpu_a1_1").input(f"{first.answer:,}")
    next(b for b in app.button if b.label == "Check").click().run()
    assert [s.value for s in app.success] == ["Correct."]

    results = app.file_uploader(key="gpu_results")
    results.set_value(("results.json", b"<html>not json</html>", "application/json")).run()
    assert not app.exception and any("not a JSON file" in e.value for e in app.error)
    document = gpu.results_document([{"size": 256, "device": "cpu", "dtype": "float32", "seconds": 1, "gflops": 1.0}],
                                    [])
    document["machine"]["gpu_name"] = "<script>alert('x')</script>"
    app.file_uploader(key="gpu_results").set_value(("results.json", json.dumps(document).encode(),
                                                     "application/json")).run()
    # shown through markdown without unsafe_allow_html: never as HTML
    assert not app.exception and any("<script>" in s.value for s in app.success)
    assert any("No GPU rows" in i.value for i in app.info)


def test_a_results_file_from_a_gpu_shows_its_speedups(open_page):
    app = open_page("gpu", timeout=180)
    matmul = [{"size": 4096, "device": "cpu", "dtype": "float32", "seconds": 1.0, "gflops": 80.0},
              {"size": 4096, "device": "cuda", "dtype": "float32", "seconds": 0.02, "gflops": 4000.0},
              {"size": 4096, "device": "cuda", "dtype": "bfloat16", "seconds": 0.004, "gflops": 20000.0}]
    model = [{"device": "cpu", "dtype": "float32", "batch_size": 64, "seconds": 0.3, "sequences_per_s": 210.0},
             {"device": "cuda", "dtype": "bfloat16", "batch_size": 64, "seconds": 0.003, "sequences_per_s": 21000.0}]
    document = {**gpu.results_document(matmul, model), "machine": {"gpu_name": "NVIDIA H100 80GB HBM3"}}
    app.file_uploader(key="gpu_results").set_value(("h100.json", json.dumps(document).encode(),
                                                     "application/json")).run()
    assert not app.exception, app.exception
    assert any("Measured on NVIDIA H100 80GB HBM3" in s.value for s in app.success)
    charts = [json.loads(c.proto.spec) for c in app.get("plotly_chart")]
    bars = {c["layout"]["title"]["text"]: {t["name"]: array(t["y"]).tolist() for t in c["data"]} for c in charts
            if "speed-up" in c["layout"]["title"]["text"]}
    assert bars["Matmul speed-up over CPU float32"] == {"float32": [50.0], "bfloat16": [250.0]}
    assert bars["MiniLM speed-up over CPU float32"] == {"bfloat16": [100.0]}


@pytest.mark.slow
def test_minilm_is_timed_in_each_precision_the_cpu_supports(open_page):
    app = open_page("gpu", timeout=180)
    app.multiselect(key="gpu_model_dtypes").set_value(["float32", "bfloat16", "float16"]).run()
    app.button(key="gpu_run_model").click().run()
    assert not app.exception, app.exception
    rows = app.session_state["gpu_model"]
    cpu_rows = [(r["dtype"], r["batch_size"]) for r in rows if r["device"] == "cpu"]
    assert cpu_rows == [(d, b) for d in ("float32", "bfloat16") for b in (1, 4, 16, 64)]  # no float16 on a CPU
    assert all(r["sequences_per_s"] > 0 for r in rows)
    table = next(d.value for d in app.dataframe if "latency_ms" in d.value.columns)
    assert len(table) == len(rows) and set(table["dtype"]) == {"float32", "bfloat16"}
