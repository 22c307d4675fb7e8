"""Memory of one Glassbox server process after a tour of the heaviest lessons, for
Streamlit Community Cloud's 2.7 GB limit (README "Deploy").

Every page runs in this one process through AppTest, so `st.cache_resource` is
shared between pages as it is between the students of one server; each step's
session is kept open to the end, as if every student left their tab open.
Prints, after each step, the resident set size (RSS), its peak, and the footprint:
anonymous memory plus file pages counted once. RSS counts a memory-mapped weights
file once per mapping (two loads of the same safetensors file count twice), while
the container's memory limit charges those pages once.

    OMP_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python benchmarks/cloud_memory.py
"""
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from lib import course  # noqa: E402


def click(key: str):
    return key, lambda app: app.button(key=key).click().run()


def slide(key: str, value):
    return f"{key}={value}", lambda app: app.slider(key=key).set_value(value)


def task(name: str):
    return name, lambda app: app.selectbox(key="pipelines_task").set_value(name).run()


# (lesson, what a student does there, in order)
TOUR = [
    ("home", []),
    ("attention", [click("attention_generate")]),
    ("tokenizers", []),
    ("embeddings", []),
    ("pipelines", [task("text-generation"), click("pipelines_run_generation"),
                   task("summarization"), click("pipelines_run_summarization"),
                   task("automatic-speech-recognition"), click("pipelines_run_asr"),
                   task("image-classification")]),
    ("cnn", [click("cnn_train")]),
    ("finetuning", [slide("ft_epochs", 1), slide("ft_limit", 20), click("ft_train")]),
    ("meeting_minutes", [click("meeting_minutes_transcribe")]),
    ("parameters", []),
    ("gpu", []),
    ("neural_networks", []),
    ("rnn", []),
    ("tiny_gpt", []),
]


def open_lesson(key: str) -> AppTest:
    app = AppTest.from_file(str(course.ROOT / "streamlit_app.py"), default_timeout=600)
    app.run()
    if key != "home":
        app.switch_page(course.lesson(key).page).run()
    return app


def footprint_bytes(smaps: Path = Path("/proc/self/smaps")) -> int:
    """Anonymous pages plus resident file pages, a file's page at an offset counted once."""
    anonymous, file_pages, mapping = 0, {}, None
    for line in smaps.read_text().splitlines():
        fields = line.split()
        if not fields[0].endswith(":"):  # a mapping's header: address perms offset dev inode [path]
            mapping = (fields[3], fields[4], fields[2]) if fields[4] != "0" else None
            rss = 0
        elif fields[0] == "Rss:":
            rss = int(fields[1]) * 1024
        elif fields[0] == "Anonymous:":
            anonymous += int(fields[1]) * 1024
            if mapping:
                file_pages[mapping] = max(file_pages.get(mapping, 0), rss - int(fields[1]) * 1024)
    return anonymous + sum(file_pages.values())


def mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:,.0f}"


def main() -> None:
    process = psutil.Process()
    sessions = []
    print("| step | RSS (MiB) | peak RSS (MiB) | footprint (MiB) | seconds |\n|---|---|---|---|---|", flush=True)
    for lesson, actions in TOUR:
        started = time.perf_counter()
        app = open_lesson(lesson)
        done, problems = [], list(app.exception)
        for label, action in actions:
            if problems:
                break
            try:
                action(app)
                done.append(label)
            except Exception as err:  # noqa: BLE001 - a widget the page no longer has: report, go on
                problems.append(f"{label}: {type(err).__name__}: {err}")
            problems += list(app.exception)
        sessions.append(app)
        problems += [f"st.error: {e.value}" for e in app.error]
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
        step = lesson + (f" + {', '.join(done)}" if done else "") + (" (ERROR: see below)" if problems else "")
        print(f"| {step} | {mib(process.memory_info().rss)} | {mib(peak)} | {mib(footprint_bytes())} | "
              f"{time.perf_counter() - started:.0f} |", flush=True)
        for problem in problems:
            print(f"    {lesson}: {str(getattr(problem, 'value', problem))[:300]}", flush=True)


if __name__ == "__main__":
    main()
