"""One replica against two behind HAProxy, side by side, and a replica killed mid-class.

    PYTHONPATH=. .venv/bin/python benchmarks/load_matrix.py [--replicas 1 2] [--students 20 40 60]
                                                            [--think 5 0] [--interactions 5] [--no-fault]

For each replica count, starts deploy/serve.py (the replicas behind HAProxy, as `make serve`
does, so both setups pay the proxy) and runs benchmarks/load_sessions.py --url against it
for every think time and class size, one after another (sessions are closed between runs;
the server stays up, as in a school day). Prints one row per run (p95, median, peak RSS of
each replica, failures) and the largest class each setup held at p95 ≤ 1 s, with the load
average before and after (`uptime`): on a shared machine, compare within one run only.

Then, unless --no-fault: two replicas, the largest class, think 5 s, replica app1 killed
with SIGKILL 8 s into the interactions. Reported: failed interactions (and whether any
student on the other replica saw one), reconnect times, lessons restored from the URL,
and when HAProxy marked app1 down and up again after the supervisor restarted it.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from scripts.screens import free_port  # noqa: E402

P95_TARGET_S = 1.0
KILL_AFTER_S = 8


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


class School:
    """deploy/serve.py with `replicas` replicas on free ports, until stop()."""

    def __init__(self, replicas: int):
        self.port = free_port()
        backend, self.stats_port = free_port(), free_port()
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "deploy/serve.py", f"--replicas={replicas}", f"--port={self.port}",
             f"--backend-port={backend}", f"--stats-port={self.stats_port}", "--bind=127.0.0.1"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        for line in self.process.stdout:
            self.lines.append(line)
            if "run dir " in line:
                self.state = Path(line.split("run dir ", 1)[1].strip()) / "replicas.json"
            if "Ctrl-C stops everything" in line:
                break
        else:
            raise RuntimeError("deploy/serve.py did not start:\n" + "".join(self.lines))
        threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}"

    def pid_of(self, name: str) -> int:
        return next(r["pid"] for r in json.loads(self.state.read_text())["replicas"] if r["name"] == name)

    def status(self, name: str) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.stats_port}/;csv", timeout=5) as reply:
            rows = csv.DictReader(io.StringIO(reply.read().decode().lstrip("# ")))
            return next(r["status"] for r in rows if r["pxname"] == "streamlit" and r["svname"] == name)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=90)


def load_test(url: str, students: int, think: float, interactions: int, on_interacting=None) -> dict:
    """benchmarks/load_sessions.py --url: its closing JSON line; `on_interacting()` is called
    when every session has the page."""
    command = [sys.executable, "benchmarks/load_sessions.py", "--url", url, "--sessions", str(students),
               "--think", str(think), "--interactions", str(interactions)]
    run = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in run.stdout:
        lines.append(line)
        if on_interacting and "; interacting" in line:
            threading.Thread(target=on_interacting, daemon=True).start()
    run.wait()
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError):
        raise RuntimeError("load_sessions.py failed:\n" + "".join(lines[-30:])) from None


def row(replicas: int, result: dict) -> str:
    rss = ", ".join(f"{v:,}" for v in result["replica_peak_rss_mib"].values()) or "—"
    spread = "/".join(str(v) for v in result["students_per_replica"].values())
    cpu = result.get("server_cpu_ms_per_interaction")
    return (f"| {replicas} | {result['sessions']} | {result['think_s']:g} s | {result['median_s'] * 1000:,.0f} ms | "
            f"**{result['p95_s'] * 1000:,.0f} ms** | {f'{cpu} ms' if cpu else '—'} | {rss} MiB | {spread} | "
            f"{result['missing_markers']} / {result['foreign_markers']} | {result['failed_interactions']} |")


def matrix(args) -> list[tuple[int, dict]]:
    results = []
    for replicas in args.replicas:
        school = School(replicas)
        try:
            for think in args.think:
                for students in args.students:
                    result = load_test(school.url, students, think, args.interactions)
                    results.append((replicas, result))
                    print(row(replicas, result), flush=True)
        finally:
            school.stop()
    return results


def held(results: list[tuple[int, dict]]) -> None:
    for think in sorted({r["think_s"] for _, r in results}, reverse=True):
        for replicas in sorted({n for n, _ in results}):
            ok = [r["sessions"] for n, r in results if n == replicas and r["think_s"] == think
                  and r["p95_s"] <= P95_TARGET_S and not r["missing_markers"] and not r["foreign_markers"]]
            print(f"think {think:g} s, {replicas} replica(s): largest class at p95 ≤ {P95_TARGET_S:g} s: "
                  f"{max(ok) if ok else 'none of those tried'}")


def fault(args) -> None:
    school = School(2)
    events: dict[str, float] = {}

    def kill_and_watch():
        time.sleep(KILL_AFTER_S)
        pid = school.pid_of("app1")
        events["killed"] = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        while "up" not in events and time.monotonic() - events["killed"] < 120:
            status = school.status("app1")
            if status.startswith("DOWN") and "down" not in events:
                events["down"] = time.monotonic()
            if status == "UP" and "down" in events:
                events["up"] = time.monotonic()
            time.sleep(0.1)

    try:
        result = load_test(school.url, max(args.students), 5, args.interactions, kill_and_watch)
        deadline = time.monotonic() + 120
        while "up" not in events and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        school.stop()
    since = {k: round(v - events["killed"], 2) for k, v in events.items() if k != "killed"} if "killed" in events else {}
    print(f"fault: app1 killed {KILL_AFTER_S} s into the interactions of {result['sessions']} students "
          f"(think 5 s; per replica at the start {result['students_per_replica']})")
    print(f"  failed interactions {result['failed_interactions']} (sessions on app2 with a failure: "
          f"{result['failed_sessions_on_other_replicas']}), reconnects {result['reconnects']} "
          f"(median {result['reconnect_median_s']} s, max {result['reconnect_max_s']} s), "
          f"lessons restored from the URL {result['restored']} of {result['reconnects']}")
    print(f"  HAProxy: app1 DOWN after {since.get('down')} s, UP again after {since.get('up')} s; "
          f"p95 over the run {result['p95_s'] * 1000:.0f} ms; supervisor: "
          + "; ".join(line.strip() for line in school.lines if line.startswith("[serve") and "app1" in line))
    print(json.dumps({"fault": result, "since_kill_s": since}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--students", type=int, nargs="+", default=[20, 40, 60])
    parser.add_argument("--think", type=float, nargs="+", default=[5, 0])
    parser.add_argument("--interactions", type=int, default=5)
    parser.add_argument("--no-fault", action="store_true")
    args = parser.parse_args()
    print(f"before: {uptime()}", flush=True)
    print("| replicas | students | think | median | p95 | server CPU per interaction | peak RSS per replica "
          "| students per replica | missing / foreign markers | failed |\n|---|---|---|---|---|---|---|---|---|---|",
          flush=True)
    results = matrix(args)
    print(f"after the matrix: {uptime()}")
    held(results)
    if not args.no_fault:
        fault(args)
        print(f"after the fault run: {uptime()}")


if __name__ == "__main__":
    main()
