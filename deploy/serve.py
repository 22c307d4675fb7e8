"""A school on one machine: several Glassbox processes behind HAProxy (`make serve`).

    python3 deploy/serve.py [--replicas N] [--port P] [--backend-port B] [--stats-port S] [--bind ADDR]

Starts N `streamlit run streamlit_app.py` processes (default: one per CPU core) on
127.0.0.1:B … B+N-1, and HAProxy on ADDR:P with deploy/haproxy.cfg (sticky cookie, health
checks on /_stcore/health, long websocket timeout, stats page on 127.0.0.1:S). A replica
that dies is started again (HAProxy marks it down, then up once its health check passes).
Ctrl-C (SIGINT) or SIGTERM stops every process it started; so does its own death, as each
child is told to exit with it (Linux PR_SET_PDEATHSIG).

The replicas' ports and process ids are kept up to date in <run dir>/replicas.json (the
run dir is printed at start), for tests and benchmarks/load_sessions.py.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "deploy" / "haproxy.cfg"
REPLICAS_MARK = "# @replicas "
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
RESTART_DELAYS_S = (1, 2, 5, 10, 30)  # a replica that keeps dying waits longer each time
HEALTHY_AFTER_S = 60  # a replica up this long has its restart delay reset


def render_config(template: str, replicas: list[int]) -> str:
    """deploy/haproxy.cfg with its `@replicas` line turned into one server line per port."""
    lines = []
    for line in template.splitlines():
        if line.strip().startswith(REPLICAS_MARK):
            indent = line[:len(line) - len(line.lstrip())]
            pattern = line.strip()[len(REPLICAS_MARK):]
            lines += [indent + pattern.format(n=n, port=port) for n, port in enumerate(replicas, start=1)]
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the supervisor dies, however it dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Child:
    name: str
    command: list[str]
    env: dict
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    next_start: float = 0.0
    log: list[str] = field(default_factory=list)

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, preexec_fn=die_with_parent,
                                        stdin=subprocess.DEVNULL)
        self.started_at = time.monotonic()

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def schedule_restart(self) -> float:
        """After an exit: when to start again (backing off while it keeps dying early)."""
        if time.monotonic() - self.started_at > HEALTHY_AFTER_S:
            self.restarts = 0
        delay = RESTART_DELAYS_S[min(self.restarts, len(RESTART_DELAYS_S) - 1)]
        self.restarts += 1
        self.next_start = time.monotonic() + delay
        self.process = None
        return delay


def streamlit_command(port: int) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless=true",
            f"--server.port={port}", "--server.address=127.0.0.1", "--browser.gatherUsageStats=false"]


def healthy(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/_stcore/health", timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


class Supervisor:
    def __init__(self, args: argparse.Namespace):
        if not Path(HAPROXY).exists():
            raise SystemExit(f"HAProxy is not installed ({HAPROXY} not found): `sudo apt-get install haproxy` "
                             "(Debian/Ubuntu), then `make serve` again")
        self.args = args
        self.run_dir = Path(tempfile.mkdtemp(prefix="glassbox-serve-"))
        self.ports = [args.backend_port + i for i in range(args.replicas)]
        env = {**os.environ, "HF_HUB_DISABLE_TELEMETRY": "1"}
        self.replicas = [Child(f"app{n}", streamlit_command(port), env) for n, port in enumerate(self.ports, 1)]
        haproxy_env = {**env, "GLASSBOX_BIND": args.bind, "GLASSBOX_PORT": str(args.port),
                       "GLASSBOX_STATS_PORT": str(args.stats_port)}
        self.config = self.run_dir / "haproxy.cfg"
        self.haproxy = Child("haproxy", [HAPROXY, "-db", "-f", str(self.config)], haproxy_env)
        self.stopping = False

    def say(self, text: str) -> None:
        print(f"[serve {time.strftime('%H:%M:%S')}] {text}", flush=True)

    def write_state(self) -> None:
        state = {"port": self.args.port, "stats_port": self.args.stats_port,
                 "haproxy_pid": self.haproxy.process.pid if self.haproxy.process else None,
                 "replicas": [{"name": c.name, "port": p, "pid": c.process.pid if c.process else None}
                              for c, p in zip(self.replicas, self.ports)]}
        temporary = self.run_dir / "replicas.json.tmp"
        temporary.write_text(json.dumps(state, indent=1))
        temporary.replace(self.run_dir / "replicas.json")  # readers never see half a file

    def start(self) -> None:
        self.config.write_text(render_config(CONFIG.read_text(), self.ports))
        check = subprocess.run([HAPROXY, "-c", "-q", "-f", str(self.config)], env=self.haproxy.env,
                               capture_output=True, text=True)
        if check.returncode:
            raise SystemExit(f"haproxy rejected {self.config}:\n{check.stdout}{check.stderr}")
        self.say(f"run dir {self.run_dir}")
        for child in self.replicas:
            child.start()
        self.write_state()
        deadline = time.monotonic() + self.args.start_timeout
        while not all(healthy(p) for p in self.ports):
            if time.monotonic() > deadline:
                raise SystemExit(f"replicas not healthy within {self.args.start_timeout} s")
            self.check_children()
            time.sleep(0.5)
        self.haproxy.start()  # once every replica answers, so that none starts out marked down
        self.write_state()
        host = "127.0.0.1" if self.args.bind in ("0.0.0.0", "::", "") else self.args.bind
        while not healthy(self.args.port, host):  # HAProxy passes the health check on to a replica
            if time.monotonic() > deadline:
                raise SystemExit(f"HAProxy not answering on port {self.args.port}")
            self.check_children()
            time.sleep(0.2)
        self.say(f"{len(self.ports)} replicas on 127.0.0.1:{self.ports[0]}–{self.ports[-1]}; "
                 f"students open http://{self.args.bind}:{self.args.port}/ ; "
                 f"stats on http://127.0.0.1:{self.args.stats_port}/ ; Ctrl-C stops everything")

    def check_children(self) -> None:
        """Restart whatever has exited, when its back-off delay has passed."""
        changed = False
        for child in [*self.replicas, self.haproxy]:
            if child.process is None and not child.next_start:
                continue  # not started yet (HAProxy, until the replicas answer)
            code = child.exited()
            if code is not None:
                delay = child.schedule_restart()
                self.say(f"{child.name} exited with {code}; starting it again in {delay} s")
                changed = True
            elif child.process is None and time.monotonic() >= child.next_start:
                child.start()
                self.say(f"{child.name} started again (pid {child.process.pid})")
                changed = True
        if changed:
            self.write_state()

    def run(self) -> None:
        while not self.stopping:
            self.check_children()
            time.sleep(0.25)

    def stop(self, grace_s: float = 20) -> None:
        """SIGTERM to every child, SIGKILL to any still there after `grace_s`."""
        children = [c for c in [self.haproxy, *self.replicas] if c.process is not None]
        for child in children:
            child.stop()
        deadline = time.monotonic() + grace_s
        for child in children:
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
        shutil.rmtree(self.run_dir, ignore_errors=True)
        self.say("stopped every process it started")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=len(os.sched_getaffinity(0)),
                        help="Streamlit processes (default: one per core this process may use)")
    parser.add_argument("--port", type=int, default=8501, help="the port students open (HAProxy)")
    parser.add_argument("--backend-port", type=int, default=0, help="first replica's port (default: port + 1)")
    parser.add_argument("--stats-port", type=int, default=0, help="HAProxy's stats page (default: port + 100)")
    parser.add_argument("--bind", default="0.0.0.0", help="address HAProxy listens on (0.0.0.0: the whole network)")
    parser.add_argument("--start-timeout", type=float, default=180, help="seconds for every replica to answer")
    args = parser.parse_args(argv)
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    args.backend_port = args.backend_port or args.port + 1
    args.stats_port = args.stats_port or args.port + 100
    return args


def main(argv: list[str] | None = None) -> None:
    supervisor = Supervisor(parse_args(argv))

    def on_signal(signum, _frame):
        supervisor.stopping = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        supervisor.start()
        supervisor.run()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        supervisor.stop()


if __name__ == "__main__":
    main()
