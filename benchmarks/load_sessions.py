"""Many students at once: concurrent sessions on the attention page's real-model widget.

    PYTHONPATH=. .venv/bin/python benchmarks/load_sessions.py [--sessions 20] [--interactions 5]
                                                              [--think 0] [--seed 0]

Starts one `streamlit run streamlit_app.py --server.headless true` on a free
port (HF_HUB_OFFLINE=1) and opens `--sessions` sessions against it over
Streamlit's own websocket protocol (BackMsg / ForwardMsg protobufs on
/_stcore/stream, as the browser front-end speaks it), so that no browser
competes with the server for the CPU. One student first loads both models;
then every session opens /attention at once, and when all have it, each
`--interactions` times changes the "Text for the model" box to its own
sentence (or switches the model between MiniLM and SmolLM2) and waits for the
script to finish. `--think` seconds (uniformly 0…2×think) pass between a
student's interactions; 0 means every student sends again the moment the last
answer arrives.

Prints per-interaction latency (send → script finished: median, p95, max) by
kind, the page opening, the server's CPU time per page and per interaction
(the better guide on a busy machine), its peak RSS (its process tree,
sampled every 0.1 s by psutil), its RSS after the first session, and how many
sessions were shown the "Loading the model" spinner (the model is loaded once
for the class when that count is at most one per model). Each answer is also
checked: the real-attention heatmap must carry that session's own marker word
and no other session's.
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
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from conftest import free_port, wait_for_health  # noqa: E402

TEXT_LABEL = "Text for the model"
ROLE_LABEL = "Show"
HEATMAP_KEY = "attention_real_heatmap"
LOADING_SPINNER = "Loading the model"
# One marker per student: a word that MiniLM and SmolLM2 each keep as one token.
MARKERS = ["volcano", "lantern", "glacier", "tornado", "compass", "mango", "violin", "harbour", "cactus",
           "meteor", "pyramid", "orchid", "falcon", "canyon", "kettle", "anchor", "beacon", "squirrel",
           "piano", "dragon", "rocket", "pirate", "castle", "turtle"]
TEMPLATES = ["The {m} near the old river looked strange this morning.",
             "My teacher said the {m} was the best example in the whole chapter.",
             "Nobody expected a {m} to appear in the middle of the exam.",
             "A small {m} can change how the sentence is read by the model."]
ROLES = {"encoder": "Encoder (bidirectional)", "decoder": "Decoder (causal)"}


@dataclass
class Interaction:
    kind: str  # "open" | "text" | "role"
    model: str  # the role shown when the answer came: "encoder" (MiniLM) or "decoder" (SmolLM2)
    seconds: float
    heatmap_sent: bool
    own_marker_seen: bool
    foreign_markers: list[str]
    loading_spinner: bool


@dataclass
class Session:
    url: str
    marker: str
    others: list[str]
    widget_ids: dict[str, str] = field(default_factory=dict)  # label -> widget id
    fragments: dict[str, str] = field(default_factory=dict)  # label -> id of the fragment drawing it
    widget_states: dict[str, WidgetState] = field(default_factory=dict)
    page_script_hash: str = ""
    query_string: str = ""
    results: list[Interaction] = field(default_factory=list)

    async def open(self) -> None:
        self.ws = await websockets.connect(self.url.replace("http", "ws", 1) + "/_stcore/stream",
                                           subprotocols=["streamlit"], max_size=None, open_timeout=120,
                                           ping_interval=None)
        await self.rerun("open", page_name="attention")

    async def interact(self, interactions: int, think: float, rng: random.Random) -> None:
        for i in range(interactions):
            await asyncio.sleep(rng.uniform(0, 2 * think))
            if i % 5 == 2:  # the third of every five: switch the model
                role = "decoder" if self.role() == "encoder" else "encoder"
                await self.change(ROLE_LABEL, ROLES[role], "role")
            else:
                sentence = TEMPLATES[i % len(TEMPLATES)].format(m=self.marker) + f" ({i})"
                await self.change(TEXT_LABEL, sentence, "text")

    def role(self) -> str:
        state = self.widget_states.get(self.widget_ids.get(ROLE_LABEL))
        return "decoder" if state is not None and state.string_value == ROLES["decoder"] else "encoder"

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
            msg.ParseFromString(await self.ws.recv())
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
                                        [m for m in self.others if m in heatmap], spinner))

    def note_element(self, element, fragment_id: str) -> str:
        """Remember widget ids and fragments by label; return the real-attention heatmap's spec."""
        which = element.WhichOneof("type")
        if which in ("text_area", "radio"):
            widget = getattr(element, which)
            self.widget_ids[widget.label] = widget.id
            self.fragments[widget.label] = fragment_id
        if which == "plotly_chart" and HEATMAP_KEY in element.plotly_chart.id:
            return element.plotly_chart.spec
        return ""


class RssSampler(threading.Thread):
    """Peak RSS of a process and its children, sampled every `period` seconds."""

    def __init__(self, pid: int, period: float = 0.1):
        super().__init__(daemon=True)
        self.process, self.period, self.peak, self.stopped = psutil.Process(pid), period, 0, threading.Event()

    def tree_sum(self, measure) -> float:
        total = 0
        for proc in [self.process, *self.process.children(recursive=True)]:
            try:
                total += measure(proc)
            except psutil.NoSuchProcess:
                pass
        return total

    def now(self) -> int:
        return self.tree_sum(lambda p: p.memory_info().rss)

    def cpu_seconds(self) -> float:
        return self.tree_sum(lambda p: sum(p.cpu_times()[:2]))

    def run(self) -> None:
        while not self.stopped.is_set():
            self.peak = max(self.peak, self.now())
            time.sleep(self.period)


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
    return (f"{label}: n={len(seconds)} median {statistics.median(seconds) * 1000:.0f} ms, "
            f"p95 {percentile(seconds, 0.95) * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms")


@dataclass
class Phase:
    wall_s: float
    cpu_s: float  # the server's, over the phase


async def run_class(url: str, sessions: int, interactions: int, think: float, seed: int,
                    sampler: RssSampler) -> tuple[list[Session], Phase, Phase]:
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
        working = await phase(s.interact(interactions, think, r) for s, r in zip(students, rngs))
    finally:
        await asyncio.gather(*(s.ws.close() for s in students if hasattr(s, "ws")))
    return students, opening, working


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--interactions", type=int, default=5)
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between a student's interactions (s)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.sessions > len(MARKERS):
        parser.error(f"at most {len(MARKERS)} sessions (one marker word each)")

    server, url = start_server()
    sampler = RssSampler(server.pid)
    sampler.start()
    try:
        print(f"server up at {url}, RSS {sampler.now() / 2**20:.0f} MiB; load average {os.getloadavg()[0]:.1f}")
        first = asyncio.run(run_class(url, 1, 3, 0, args.seed, sampler))[0][0]  # open, text, switch to SmolLM2
        print("one student first (loads both models): " + ", ".join(f"{r.kind} {r.seconds:.2f} s"
                                                               for r in first.results)
              + f"; RSS after {sampler.now() / 2**20:.0f} MiB")
        students, opening, working = asyncio.run(run_class(url, args.sessions, args.interactions, args.think,
                                                           args.seed, sampler))
        sampler.stopped.set()
        sampler.join()
        rss_end = sampler.now()
    finally:
        stop_server(server)

    results = [r for s in students for r in s.results]
    opens = [r.seconds for r in results if r.kind == "open"]
    answered = [r for r in results if r.kind in ("text", "role")]
    print(f"{args.sessions} sessions, load average after {os.getloadavg()[0]:.1f}")
    print(summary(f"all open the page at once (wall {opening.wall_s:.1f} s, server CPU "
                  f"{opening.cpu_s / len(opens) * 1000:.0f} ms per page)", opens))
    print(f"then {args.interactions} interactions each, think {args.think} s: wall {working.wall_s:.1f} s, "
          f"server CPU {working.cpu_s / len(answered) * 1000:.0f} ms per interaction")
    print(summary("interaction (new text or model switch)", [r.seconds for r in answered]))
    for label, kind, model in [("  new text, MiniLM", "text", "encoder"), ("  new text, SmolLM2", "text", "decoder"),
                               ("  model switch", "role", None)]:
        chosen = [r.seconds for r in answered if r.kind == kind and model in (None, r.model)]
        if chosen:
            print(summary(label, chosen))
    print(f"server RSS peak {sampler.peak / 2**20:.0f} MiB, at the end {rss_end / 2**20:.0f} MiB")
    spinners = sum(r.loading_spinner for r in results)
    print(f"'Loading the model' spinner seen by {spinners} of {len(results)} runs "
          f"(first student: {sum(r.loading_spinner for r in first.results)})")
    missing = sum(not r.own_marker_seen for r in answered)
    foreign = sum(bool(r.foreign_markers) for r in answered)
    print(f"own marker missing from the heatmap: {missing} (heatmap not sent at all: "
          f"{sum(not r.heatmap_sent for r in answered)}); another student's marker seen: {foreign}")
    seconds = [r.seconds for r in answered]
    print(json.dumps({"median_s": statistics.median(seconds), "p95_s": percentile(seconds, 0.95),
                      "peak_rss_mib": round(sampler.peak / 2**20)}))
    if missing or foreign:
        sys.exit(1)


if __name__ == "__main__":
    main()
