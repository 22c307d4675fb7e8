"""`make serve`'s supervisor (deploy/serve.py): two replicas behind HAProxy, one killed.

Two students open the attention lesson through the proxy, each on its own replica (the
stickiness cookie says which); each types a sentence with its own marker word. The
replica of the first is killed with SIGKILL: the second student's next change works with
no error, the first one's connection breaks, and reconnecting as a reloaded tab (same
cookie, the URL only) lands on the live replica with the lesson back from the URL state.
HAProxy marks the dead replica down, the supervisor starts it again and HAProxy marks it
up. Students speak Streamlit's websocket protocol (benchmarks/load_sessions.py)."""
import asyncio
import concurrent.futures
import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from lib import course

sys.path.insert(0, str(course.ROOT / "benchmarks"))
from load_sessions import CONNECTION_LOST, Session  # noqa: E402

sys.path.insert(0, str(course.ROOT / "deploy"))
from serve import HAPROXY  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not os.path.exists(HAPROXY), reason="no HAProxy (Debian package haproxy)")]


def free_ports(count: int) -> int:
    """The first of `count` consecutive ports that are free now."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            first = s.getsockname()[1]
        if first + count < 65536 and all(port_free(first + i) for i in range(count)):
            return first
    raise RuntimeError("no free consecutive ports")


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def stats(stats_port: int) -> dict[str, dict]:
    """HAProxy's stats page as CSV: row per server name of the streamlit backend."""
    with urllib.request.urlopen(f"http://127.0.0.1:{stats_port}/;csv", timeout=5) as reply:
        text = reply.read().decode().lstrip("# ")
    return {row["svname"]: row for row in csv.DictReader(io.StringIO(text)) if row["pxname"] == "streamlit"}


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"not within {timeout} s: {what}")


@pytest.fixture(scope="module")
def school():
    """`make serve REPLICAS=2` on free ports, setup taken as done (-o: this test must never
    reinstall .venv); yields (url, stats port, the supervisor's state file, its output)."""
    port = next(p for p in iter(lambda: free_ports(3), None) if port_free(p + 100))
    stats_port = port + 100
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    make = subprocess.Popen(
        ["make", "--no-print-directory", "-o", ".venv/.glassbox-ready", "serve", "REPLICAS=2", f"PORT={port}",
         "ARGS=--bind=127.0.0.1"],
        cwd=course.ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)  # its own process group, as a terminal's foreground job
    lines: list[str] = []
    run_dir = None
    threading.Thread(target=lambda: lines.extend(make.stdout), daemon=True).start()
    try:
        wait_until(lambda: any("Ctrl-C stops everything" in line for line in lines) or make.poll() is not None,
                   120, "the supervisor says it is serving")
        assert make.poll() is None, "".join(lines)
        run_dir = next(line.split("run dir ", 1)[1].strip() for line in lines if "run dir " in line)
        yield f"http://127.0.0.1:{port}", stats_port, Path(run_dir) / "replicas.json", lines
    finally:
        os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends to the whole job
        make.wait(timeout=60)
    assert run_dir is None or not Path(run_dir).exists(), "the supervisor removes its run dir when it stops"
    assert not any(port_in_use(p) for p in (port, port + 1, port + 2, stats_port)), "something still listens"


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def replica_pid(state_file: Path, name: str) -> int | None:
    return next(r["pid"] for r in json.loads(state_file.read_text())["replicas"] if r["name"] == name)


def run_in_own_thread(coroutine):
    """asyncio.run on a thread of its own: on a pytest-xdist worker that also ran the browser
    tests, Playwright's sync API keeps an event loop running on the main thread."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def two_students_on_two_replicas(url: str) -> tuple[Session, Session]:
    first = Session(url, "volcano", ["lantern"])
    await first.open()
    for _ in range(6):  # HAProxy sends new students in turn; make sure the second lands elsewhere
        second = Session(url, "lantern", ["volcano"])
        await second.open()
        if second.replica != first.replica:
            return first, second
        await second.ws.close()
    raise AssertionError("HAProxy sent every new student to the same replica")


def test_a_killed_replica_loses_only_its_students_and_they_get_their_lesson_back(school):
    url, stats_port, state_file, lines = school

    async def scenario():
        lost, kept = await two_students_on_two_replicas(url)
        assert {lost.replica, kept.replica} == {"app1", "app2"}
        for student in (lost, kept):
            await student.change("Text for the model", f"The {student.marker} crossed the valley at night.", "text")
            assert student.results[-1].own_marker_seen and not student.results[-1].foreign_markers
            assert student.marker in student.query_string  # the lesson is in the URL
        killed_pid = replica_pid(state_file, lost.replica)
        os.kill(killed_pid, signal.SIGKILL)

        await kept.change("Text for the model", f"Another {kept.marker} sentence after the crash.", "text")
        assert kept.results[-1].own_marker_seen and kept.failed == 0 and kept.replica != lost.replica

        with pytest.raises(CONNECTION_LOST):
            await lost.change("Text for the model", f"A {lost.marker} sentence that never arrives.", "text")
        dead = lost.replica
        await lost.reconnect()
        back = lost.reconnects[-1]
        assert back.replica_lost == dead and back.replica_now == kept.replica
        assert back.restored and lost.results[-1].kind == "reopen" and lost.results[-1].own_marker_seen
        typed = urllib.parse.parse_qs(lost.query_string)["text"]
        assert typed == [f"The {lost.marker} crossed the valley at night."]  # typed before the crash, from the URL
        await lost.change("Text for the model", f"The {lost.marker} is back on a live replica.", "text")
        assert lost.results[-1].own_marker_seen and not lost.results[-1].foreign_markers
        await asyncio.gather(lost.ws.close(), kept.ws.close())
        return dead, killed_pid

    dead, killed_pid = run_in_own_thread(scenario())
    wait_until(lambda: int(stats(stats_port)[dead]["chkdown"] or 0) >= 1, 20, f"HAProxy marks {dead} down")
    new_pid = wait_until(lambda: replica_pid(state_file, dead) not in (None, killed_pid) and replica_pid(state_file, dead),
                         20, f"the supervisor starts {dead} again")
    wait_until(lambda: stats(stats_port)[dead]["status"] == "UP", 60, f"HAProxy marks {dead} up again")
    assert new_pid != killed_pid
    assert any(f"{dead} exited" in line for line in lines)


def test_the_stats_page_and_the_health_check_answer(school):
    url, stats_port, _, _ = school
    rows = stats(stats_port)
    assert {"app1", "app2"} <= rows.keys()
    assert rows["app1"]["check_status"].startswith("L7")  # an HTTP check (of /_stcore/health), not just TCP
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as reply:
        assert reply.read() == b"ok"
