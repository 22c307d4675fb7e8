"""Many students at once: concurrent sessions on the attention page's real-model widget.

    PYTHONPATH=. .venv/bin/python benchmarks/load_sessions.py [--sessions 20] [--interactions 5]
                                                              [--think 0] [--seed 0] [--url URL]

Without `--url`, starts one `streamlit run streamlit_app.py --server.headless true` on a
free port (HF_HUB_OFFLINE=1); with `--url http://host:port` it drives a deployment that is
already running (`make serve`, a container, a cluster) instead. It opens `--sessions`
sessions against it over Streamlit's own websocket protocol (BackMsg / ForwardMsg
protobufs on /_stcore/stream, as the browser front-end speaks it), so that no browser
competes with the server for the CPU. Each session first loads the page over HTTP and keeps
the cookies it is given, as a browser does (HAProxy's stickiness cookie sends its websocket
and reconnects to the same replica). One student per replica first loads both models;
then every session opens /attention at once, and when all have it, each `--interactions`
times changes the "Text for the model" box to its own sentence (or switches the model
between MiniLM and SmolLM2) and waits for the script to finish. `--think` seconds
(uniformly 0…2×think) pass between a student's interactions; 0 means every student sends
again the moment the last answer arrives.

When a session's connection breaks (a replica killed), that interaction counts as failed,
and the session reconnects as a student's browser tab would on reload: the same cookie (the
balancer sends it to a live replica) and the page's URL (query string) only, no widget
state, so the lesson must come back from the URL state. The time from the failure to the
reopened page is the reconnect time.

Prints per-interaction latency (send → script finished: median, p95, max) by kind, the
page opening, the server's CPU time per page and per interaction (the better guide on a
busy machine), its peak RSS (its process tree, sampled every 0.1 s by psutil: with
`--url`, the processes listening on the URL's port on this machine and, behind `make
serve`, every replica, each also on its own), and how many sessions were shown the
"Loading the model" spinner (the model is loaded once per process when that count is at
most one per model and process). Each answer is also checked: the real-attention heatmap
must carry that session's own marker word and no other session's. The last line is JSON.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from scripts.screens import free_port, wait_for_health  # noqa: E402

TEXT_LABEL = "Text for the model"
ROLE_LABEL = "Show"
HEATMAP_KEY = "attention_real_heatmap"
LOADING_SPINNER = "Loading the model"
REPLICA_COOKIE = "GLASSBOX_REPLICA"  # deploy/haproxy.cfg's stickiness cookie
ANSWER_TIMEOUT_S = 180  # an answer slower than this counts as a failed interaction
RECONNECT_TIMEOUT_S = 120
# One marker per student: a word that MiniLM and SmolLM2 each keep as one token, none inside another, a template
# or the rest of a heatmap's spec (tests/test_load_markers.py checks all three).
MARKERS = ["volcano", "lantern", "glacier", "tornado", "compass", "mango", "violin", "harbour", "cactus",
           "meteor", "pyramid", "orchid", "falcon", "canyon", "kettle", "anchor", "beacon", "squirrel",
           "piano", "dragon", "rocket", "pirate", "castle", "turtle", "penguin", "dolphin", "tiger",
           "lemon", "banana", "guitar", "trumpet", "jungle", "circus", "museum", "ladder", "hammer",
           "pencil", "mirror", "candle", "blanket", "pillow", "carpet", "basket", "bottle", "jacket",
           "helmet", "knight", "monkey", "rabbit", "donkey", "parrot", "spider", "zebra", "camel", "eagle",
           "salmon", "tomato", "potato", "cherry", "pepper", "onion", "carrot", "walnut", "comet", "galaxy",
           "tractor", "wagon", "sailor", "farmer", "baker", "soldier", "ocean", "forest", "desert",
           "island", "bridge", "tunnel", "garden", "window", "bucket", "saddle", "feather", "thunder",
           "rainbow", "diamond", "crystal", "marble", "cotton", "velvet", "copper", "bronze", "giant",
           "robot", "engine", "motor", "vessel", "canoe", "tent", "cabin", "cottage", "palace", "temple",
           "tower", "fortress", "barn", "stable", "orchard", "meadow", "valley", "lake", "pond", "swamp",
           "marsh", "cliff", "cave", "prairie", "savanna", "oasis", "lagoon", "reef", "coral", "pearl",
           "shell", "crab", "lobster", "shrimp", "octopus", "squid", "whale", "shark", "seal", "beaver",
           "lizard", "snake", "frog", "toad", "hawk", "crow", "sparrow", "pigeon", "goose", "duck", "panda",
           "bison", "moose", "deer", "wolf", "bear", "lion", "leopard", "gorilla", "rhino", "elephant",
           "kangaroo", "violet", "rose", "lily", "cedar", "maple", "willow", "birch", "pine", "apple",
           "peach", "plum", "grape", "lime", "coconut", "almond", "peanut", "cookie", "pizza", "sandwich",
           "cheese", "butter", "honey", "sugar", "coffee", "spoon", "fork", "knife", "barrel", "drum",
           "flute", "harp"]
TEMPLATES = ["The {m} near the old river looked strange this morning.",
             "My teacher said the {m} was the best example in the whole chapter.",
             "Nobody expected a {m} to appear in the middle of the exam.",
             "A small {m} can change how the sentence is read by the model."]
ROLES = {"encoder": "Encoder (bidirectional)", "decoder": "Decoder (causal)"}
CONNECTION_LOST = (websockets.ConnectionClosed, OSError, asyncio.TimeoutError)


@dataclass
class Interaction:
    kind: str  # "open" | "text" | "role" | "reopen" (after a reconnect)
    model: str  # the role shown when the answer came: "encoder" (MiniLM) or "decoder" (SmolLM2)
    seconds: float
    heatmap_sent: bool
    own_marker_seen: bool
    foreign_markers: list[str]
    loading_spinner: bool
    replica: str  # the stickiness cookie's value ("" without a balancer)


@dataclass
class Reconnect:
    replica_lost: str
    replica_now: str
    seconds: float  # from the broken connection to the reopened page
    restored: bool  # the reopened page shows the lesson as it was (URL state)


@dataclass
class Session:
    url: str
    marker: str
    others: list[str]
    cookies: dict[str, str] = field(default_factory=dict)
    widget_ids: dict[str, str] = field(default_factory=dict)  # label -> widget id
    fragments: dict[str, str] = field(default_factory=dict)  # label -> id of the fragment drawing it
    shown: dict[str, str] = field(default_factory=dict)  # label -> the value the page last drew
    widget_states: dict[str, WidgetState] = field(default_factory=dict)
    page_script_hash: str = ""
    query_string: str = ""
    results: list[Interaction] = field(default_factory=list)
    failed: int = 0  # interactions whose connection broke
    reconnects: list[Reconnect] = field(default_factory=list)

    @property
    def replica(self) -> str:
        return self.cookies.get(REPLICA_COOKIE, "")

    async def connect(self) -> None:
        """Load the page over HTTP, keep its cookies, open the websocket with them."""
        await asyncio.to_thread(self.load_index)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        self.ws = await websockets.connect(self.url.replace("http", "ws", 1) + "/_stcore/stream",
                                           subprotocols=["streamlit"], max_size=None, open_timeout=120,
                                           ping_interval=None, additional_headers=headers)

    def load_index(self) -> None:
        request = urllib.request.Request(self.url + "/", headers={"Cookie": "; ".join(
            f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {})
        with urllib.request.urlopen(request, timeout=60) as reply:
            reply.read()
            for header in reply.headers.get_all("Set-Cookie") or []:
                name, _, value = header.split(";", 1)[0].partition("=")
                self.cookies[name.strip()] = value.strip()

    async def open(self) -> None:
        await self.connect()
        await self.rerun("open", page_name="attention")

    async def interact(self, interactions: int, think: float, rng: random.Random) -> None:
        for i in range(interactions):
            await asyncio.sleep(rng.uniform(0, 2 * think))
            try:
                if i % 5 == 2:  # the third of every five: switch the model
                    role = "decoder" if self.role() == "encoder" else "encoder"
                    await self.change(ROLE_LABEL, ROLES[role], "role")
                else:
                    sentence = TEMPLATES[i % len(TEMPLATES)].format(m=self.marker) + f" ({i})"
                    await self.change(TEXT_LABEL, sentence, "text")
            except CONNECTION_LOST:
                self.failed += 1
                await self.reconnect()

    async def reconnect(self) -> None:
        """A reload of the tab: the same cookie and URL, no widget state; retried until it answers."""
        lost, started = self.replica, time.perf_counter()
        had_marker = bool(self.results) and self.results[-1].own_marker_seen
        with contextlib.suppress(*CONNECTION_LOST):
            await self.ws.close()
        self.widget_states.clear()
        while True:
            try:
                await self.connect()
                await self.rerun("reopen", page_name="attention")
                break
            except CONNECTION_LOST:
                if time.perf_counter() - started > RECONNECT_TIMEOUT_S:
                    raise
                await asyncio.sleep(0.5)
        restored = self.results[-1].own_marker_seen == had_marker and self.results[-1].heatmap_sent
        self.reconnects.append(Reconnect(lost, self.replica, time.perf_counter() - started, restored))

    def role(self) -> str:
        state = self.widget_states.get(self.widget_ids.get(ROLE_LABEL))
        value = state.string_value if state is not None else self.shown.get(ROLE_LABEL)
        return "decoder" if value == ROLES["decoder"] else "encoder"

    async def change(self, label: str, value: str, kind: str) -> None:
        """What the browser does when a student edits a widget: send every widget's
        value, naming the widget's fragment (if any) so that only it reruns."""
        state = WidgetState(id=self.widget_ids[label], string_value=value)
        self.widget_states[state.id] = state
        await self.rerun(kind, fragment_id=self.fragments.get(label, ""))

    async def rerun(self, kind: str, page_name: str = "", fragment_id: str = "") -> None:
        client = ClientState(page_script_hash=self.page_script_hash, page_name=page_name,
                             query_string=self.query_string, fragment_id=fragment_id)
        client.widget_states.widgets.extend(self.widget_states.values())
        started = time.perf_counter()
        await self.ws.send(BackMsg(rerun_script=client).SerializeToString())
        heatmap, spinner = "", False
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await asyncio.wait_for(self.ws.recv(), ANSWER_TIMEOUT_S))
            kind_of = msg.WhichOneof("type")
            if kind_of == "navigation":  # the page that ran: later reruns name it by its hash
                self.page_script_hash = msg.navigation.page_script_hash
            elif kind_of == "page_info_changed":  # the page moved settings into the URL
                self.query_string = msg.page_info_changed.query_string
            elif kind_of == "delta":
                heatmap = self.note_element(msg.delta.new_element, msg.delta.fragment_id) or heatmap
                spinner = spinner or any(LOADING_SPINNER in e.spinner.text
                                         for e in msg.delta.new_transient.elements)
            elif kind_of == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
                if status not in ("FINISHED_SUCCESSFULLY", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"):
                    raise RuntimeError(f"{self.marker}: script ended with {status}")
                break
        self.results.append(Interaction(kind, self.role(), time.perf_counter() - started, bool(heatmap),
                                        self.marker in heatmap,
                                        [m for m in self.others if m in heatmap], spinner, self.replica))

    def note_element(self, element, fragment_id: str) -> str:
        """Remember widgets (id, fragment, value drawn) by label; return the real-attention heatmap's spec."""
        which = element.WhichOneof("type")
        if which in ("text_area", "radio"):
            widget = getattr(element, which)
            self.widget_ids[widget.label] = widget.id
            self.fragments[widget.label] = fragment_id
            if which == "radio" and widget.options:
                self.shown[widget.label] = widget.options[widget.default]
        if which == "plotly_chart" and HEATMAP_KEY in element.plotly_chart.id:
            return element.plotly_chart.spec
        return ""


def server_port(proc: psutil.Process) -> str:
    """The --server.port of a Streamlit process ('' for anything else)."""
    for arg in proc.cmdline():
        if arg.startswith("--server.port="):
            return arg.split("=", 1)[1]
    return ""


class RssSampler(threading.Thread):
    """Peak RSS of a process and its children, sampled every `period` seconds; also the
    peak of each Streamlit process among them, by its port (a restarted replica keeps its port)."""

    def __init__(self, pid: int, period: float = 0.1):
        super().__init__(daemon=True)
        self.process, self.period, self.peak, self.stopped = psutil.Process(pid), period, 0, threading.Event()
        self.replica_peaks: dict[str, int] = {}

    def processes(self) -> list[psutil.Process]:
        with contextlib.suppress(psutil.NoSuchProcess):
            return [self.process, *self.process.children(recursive=True)]
        return []

    def tree_sum(self, measure) -> float:
        total = 0
        for proc in self.processes():
            with contextlib.suppress(psutil.NoSuchProcess):
                total += measure(proc)
        return total

    def now(self) -> int:
        return self.tree_sum(lambda p: p.memory_info().rss)

    def cpu_seconds(self) -> float:
        return self.tree_sum(lambda p: sum(p.cpu_times()[:2]))

    def replicas(self) -> int:
        with contextlib.suppress(psutil.NoSuchProcess):
            return max(1, sum(bool(server_port(p)) for p in self.processes()))
        return 1

    def run(self) -> None:
        while not self.stopped.is_set():
            self.peak = max(self.peak, self.now())
            for proc in self.processes():
                with contextlib.suppress(psutil.NoSuchProcess):
                    port = server_port(proc)
                    if port:
                        self.replica_peaks[port] = max(self.replica_peaks.get(port, 0), proc.memory_info().rss)
            time.sleep(self.period)


def serving_process(url: str) -> int | None:
    """The pid behind `url` when it runs on this machine: the process listening on its port,
    or the supervisor above it (deploy/serve.py, so that every replica is counted)."""
    parsed = urllib.parse.urlparse(url)
    if parsed.hostname not in ("127.0.0.1", "localhost", "::1", "0.0.0.0"):
        return None
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        listening = [c.pid for c in psutil.net_connections("tcp")
                     if c.status == psutil.CONN_LISTEN and c.laddr.port == port and c.pid]
    except psutil.AccessDenied:
        return None
    if not listening:
        return None
    proc = psutil.Process(listening[0])
    with contextlib.suppress(psutil.Error):
        parent = proc.parent()
        if parent is not None and any(arg.endswith("serve.py") for arg in parent.cmdline()):
            return parent.pid
    return proc.pid


def start_server() -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
                               "--server.headless", "true", f"--server.port={port}",
                               "--server.address=127.0.0.1", "--browser.gatherUsageStats=false"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    wait_for_health(url, timeout=120)
    return server, url


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.wait(timeout=60)
    server.kill()  # a no-op once it has exited
    server.wait()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(label: str, seconds: list[float]) -> str:
    if not seconds:
        return f"{label}: none"
    return (f"{label}: n={len(seconds)} median {statistics.median(seconds) * 1000:.0f} ms, "
            f"p95 {percentile(seconds, 0.95) * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms")


@dataclass
class Phase:
    wall_s: float
    cpu_s: float  # the server's, over the phase


class NoSampler:
    """Stands in for RssSampler when the server's processes cannot be seen from here."""
    peak, replica_peaks = 0, {}

    def now(self) -> int:
        return 0

    def cpu_seconds(self) -> float:
        return 0.0

    def replicas(self) -> int:
        return 1


async def run_class(url: str, sessions: int, interactions: int, think: float, seed: int,
                    sampler: RssSampler | NoSampler) -> tuple[list[Session], Phase, Phase]:
    """Every student opens the page at once; when all have it, all start interacting."""
    markers = MARKERS[:sessions]
    students = [Session(url, m, [o for o in markers if o != m]) for m in markers]
    rngs = [random.Random(seed * 1000 + i) for i in range(sessions)]

    async def phase(runs) -> Phase:
        started, cpu = time.perf_counter(), sampler.cpu_seconds()
        await asyncio.gather(*runs)
        return Phase(time.perf_counter() - started, sampler.cpu_seconds() - cpu)

    try:
        opening = await phase(s.open() for s in students)
        if sessions > 1:
            print(f"all {sessions} sessions have the page; interacting", flush=True)  # load_matrix.py's cue
        working = await phase(s.interact(interactions, think, r) for s, r in zip(students, rngs))
    finally:
        await asyncio.gather(*(s.ws.close() for s in students if hasattr(s, "ws")), return_exceptions=True)
    return students, opening, working


async def warm_up(url: str, replicas: int, seed: int, sampler) -> list[Session]:
    """One student per replica (open, text, switch to SmolLM2), one after another so that the
    balancer sends each to the next replica; stops when no cookie names replicas (one server)."""
    seen: dict[str, Session] = {}
    for _ in range(3 * replicas):
        first = (await run_class(url, 1, 3, 0, seed, sampler))[0][0]
        seen.setdefault(first.replica, first)
        if not first.replica or len(seen) >= replicas:
            break
    return list(seen.values())


def report(args, students: list[Session], opening: Phase, working: Phase, sampler, rss_end: int) -> dict:
    results = [r for s in students for r in s.results]
    opens = [r.seconds for r in results if r.kind == "open"]
    answered = [r for r in results if r.kind in ("text", "role")]
    print(f"{args.sessions} sessions, load average after {os.getloadavg()[0]:.1f}")
    print(summary(f"all open the page at once (wall {opening.wall_s:.1f} s, server CPU "
                  f"{opening.cpu_s / max(1, len(opens)) * 1000:.0f} ms per page)", opens))
    print(f"then {args.interactions} interactions each, think {args.think} s: wall {working.wall_s:.1f} s, "
          f"server CPU {working.cpu_s / max(1, len(answered)) * 1000:.0f} ms per interaction")
    print(summary("interaction (new text or model switch)", [r.seconds for r in answered]))
    for label, kind, model in [("  new text, MiniLM", "text", "encoder"), ("  new text, SmolLM2", "text", "decoder"),
                               ("  model switch", "role", None)]:
        chosen = [r.seconds for r in answered if r.kind == kind and model in (None, r.model)]
        if chosen:
            print(summary(label, chosen))
    by_replica = {}
    for s in students:
        by_replica.setdefault(s.results[0].replica if s.results else "", []).append(s)
    if len(by_replica) > 1 or "" not in by_replica:
        print("students per replica at the start: " + ", ".join(f"{k} {len(v)}" for k, v in sorted(by_replica.items())))
    print(f"server RSS peak {sampler.peak / 2**20:.0f} MiB, at the end {rss_end / 2**20:.0f} MiB"
          + "".join(f"; replica on port {port} peak {peak / 2**20:.0f} MiB"
                    for port, peak in sorted(sampler.replica_peaks.items())))
    spinners = sum(r.loading_spinner for r in results)
    print(f"'Loading the model' spinner seen by {spinners} of {len(results)} runs")
    missing = sum(not r.own_marker_seen for r in answered)
    foreign = sum(bool(r.foreign_markers) for r in results)
    print(f"own marker missing from the heatmap: {missing} (heatmap not sent at all: "
          f"{sum(not r.heatmap_sent for r in answered)}); another student's marker seen: {foreign}")
    reconnects = [c for s in students for c in s.reconnects]
    failed = {s.marker: s.failed for s in students if s.failed}
    if failed or reconnects:
        lost_on = sorted({c.replica_lost for c in reconnects})
        print(f"failed interactions: {sum(failed.values())} in {len(failed)} sessions (on replicas {lost_on}); "
              f"sessions on other replicas with a failure: "
              f"{sum(1 for s in students if s.failed and s.results[0].replica not in lost_on)}")
        print(summary("reconnect (broken connection → page reopened)", [c.seconds for c in reconnects])
              + f"; lesson restored from the URL: {sum(c.restored for c in reconnects)} of {len(reconnects)}")
    seconds = [r.seconds for r in answered]
    return {"median_s": statistics.median(seconds) if seconds else None,
            "p95_s": percentile(seconds, 0.95) if seconds else None,
            "peak_rss_mib": round(sampler.peak / 2**20) if sampler.peak else None,
            "replica_peak_rss_mib": {p: round(v / 2**20) for p, v in sorted(sampler.replica_peaks.items())},
            "server_cpu_ms_per_interaction": round(working.cpu_s / max(1, len(answered)) * 1000) if sampler.peak else None,
            "sessions": args.sessions, "think_s": args.think, "interactions": len(seconds),
            "missing_markers": missing, "foreign_markers": foreign,
            "failed_interactions": sum(failed.values()), "reconnects": len(reconnects),
            "failed_sessions_on_other_replicas": sum(1 for s in students if s.failed and s.results[0].replica
                                                     not in {c.replica_lost for c in reconnects}),
            "reconnect_max_s": max((c.seconds for c in reconnects), default=None),
            "reconnect_median_s": statistics.median([c.seconds for c in reconnects]) if reconnects else None,
            "restored": sum(c.restored for c in reconnects),
            "students_per_replica": {k: len(v) for k, v in sorted(by_replica.items())}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--interactions", type=int, default=5)
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between a student's interactions (s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--url", help="a running deployment (http://host:port) instead of starting a server")
    args = parser.parse_args()
    if args.sessions > len(MARKERS):
        parser.error(f"at most {len(MARKERS)} sessions (one marker word each)")

    server, url = (None, args.url.rstrip("/")) if args.url else start_server()
    pid = server.pid if server else serving_process(url)
    sampler = RssSampler(pid) if pid else NoSampler()
    if pid:
        sampler.start()
    try:
        print(f"server at {url}, RSS {sampler.now() / 2**20:.0f} MiB; load average {os.getloadavg()[0]:.1f}")
        warmed = asyncio.run(warm_up(url, sampler.replicas(), args.seed, sampler))
        for first in warmed:
            print(f"one student first{f' on {first.replica}' if first.replica else ''} (loads both models): "
                  + ", ".join(f"{r.kind} {r.seconds:.2f} s" for r in first.results))
        print(f"RSS after {sampler.now() / 2**20:.0f} MiB")
        students, opening, working = asyncio.run(run_class(url, args.sessions, args.interactions, args.think,
                                                           args.seed, sampler))
        if pid:
            sampler.stopped.set()
            sampler.join()
        rss_end = sampler.now()
    finally:
        if server:
            stop_server(server)
    figures = report(args, students, opening, working, sampler, rss_end)
    print(json.dumps(figures))
    if figures["missing_markers"] or figures["foreign_markers"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
