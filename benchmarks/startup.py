"""Cold start, import time and model load times.

    PYTHONPATH=. .venv/bin/python benchmarks/startup.py [--gguf]

Prints: streamlit process start → first HTTP 200, → home page rendered in
headless Chromium; import time of the heavy libraries; load time of each
bundled model in a fresh process after the imports (cold: first read from
disk) and again in the same process (warm).
--gguf also times reading SmolLM2 straight from its GGUF (what the one-time
conversion saves).
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

LOAD_SNIPPET = """
import time, sys
sys.path.insert(0, {root!r})
from lib import model_loading
import torch, transformers  # imports are timed separately
for attempt in ("cold", "warm"):
    t = time.perf_counter()
    model_loading.load({key!r}, role={role!r}, device="cpu")
    print(attempt, time.perf_counter() - t)
"""


def run_python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}).stdout


def time_imports() -> float:
    out = run_python("import time; t=time.perf_counter(); import torch, transformers, streamlit, plotly, "
                     "pandas; print(time.perf_counter()-t)")
    return float(out.strip())


def time_model(key: str, role: str) -> dict:
    lines = run_python(LOAD_SNIPPET.format(root=str(ROOT), key=key, role=role)).split("\n")
    return {line.split()[0]: float(line.split()[1]) for line in lines if line.strip()}


def time_raw_gguf() -> float:
    code = ("import time, sys; sys.path.insert(0, %r)\nfrom lib import model_registry\n"
            "from transformers import AutoModelForCausalLM\n"
            "g = model_registry.bundled_path('smollm2-135m'); t = time.perf_counter()\n"
            "AutoModelForCausalLM.from_pretrained(g.parent, gguf_file=g.name)\n"
            "print(time.perf_counter() - t)" % str(ROOT))
    return float(run_python(code).strip().split("\n")[-1])


def time_cold_start() -> tuple[float, float]:
    from conftest import CHROMIUM, CHROMIUM_ARGS, free_port, wait_for_health
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        started = time.perf_counter()
        server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
                                   "--server.headless=true", f"--server.port={port}",
                                   "--browser.gatherUsageStats=false"],
                                  cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
        try:
            wait_for_health(url, timeout=120)
            http_ok = time.perf_counter() - started
            tab = browser.new_page()
            tab.goto(url, wait_until="commit")  # the clock stops when the page shows its system panel
            tab.get_by_text("This machine", exact=True).wait_for(timeout=60_000)
            rendered = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(timeout=20)
            browser.close()
    return http_ok, rendered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gguf", action="store_true", help="also time the raw GGUF load (~20 s)")
    args = parser.parse_args()
    http_ok, rendered = time_cold_start()
    print(f"cold start: first HTTP 200 after {http_ok:.2f} s, home page rendered after {rendered:.2f} s")
    print(f"import torch+transformers+streamlit+plotly+pandas: {time_imports():.2f} s")
    for key, role in [("minilm", "encoder"), ("smollm2-135m", "decoder")]:
        t = time_model(key, role)
        print(f"load {key}: cold {t['cold']:.2f} s, warm {t['warm']:.2f} s")
    if args.gguf:
        print(f"load smollm2 straight from GGUF: {time_raw_gguf():.2f} s")


if __name__ == "__main__":
    main()
