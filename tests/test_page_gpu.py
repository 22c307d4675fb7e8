"""AppTest of the GPU lesson: the CPU half runs and a saved result file loads."""
import json

from lib import gpu


def test_page_detects_device_and_runs_cpu_benchmarks(open_page):
    app = open_page("gpu", timeout=180)
    assert not app.exception, app.exception
    assert app.metric[0].value == gpu.available_devices()[-1].upper()
    assert "float32** 86.6 MB" in " ".join(m.value for m in app.markdown)

    app.multiselect(key="gpu_sizes").set_value([128, 256]).run()
    app.button(key="gpu_run_matmul").click().run()
    rows = app.session_state["gpu_matmul"]
    assert [(r["size"], r["dtype"]) for r in rows if r["device"] == "cpu"] == [
        (128, "float32"), (256, "float32"), (128, "bfloat16"), (256, "bfloat16")]
    assert all(r["gflops"] > 0 for r in rows)

    app.button(key="gpu_run_model").click().run()
    assert [r["batch_size"] for r in app.session_state["gpu_model"]][:4] == [1, 4, 16, 64]

    app.multiselect(key="gpu_dtypes").set_value([]).run()
    assert "at least one size and one precision" in app.warning[0].value
