"""`python app.py --workers N`: N app processes on consecutive ports, kept running.

Gradio's queue keeps each browser session's state in the process that served its first
request, so the processes stand side by side behind a reverse proxy with sticky sessions
(docs/deployment.md), not behind one shared socket. Everything else they share lives
outside them: the jobs database (Postgres; SQLite works on one host), the bucket, the
webhook secret, and the metrics, which the supervisor points at one folder
(PROMETHEUS_MULTIPROC_DIR) so any process's /metrics reports the whole deployment.

A process that exits is started again after a pause that doubles while it keeps failing;
SIGINT or SIGTERM stops them all (SIGTERM first, SIGKILL after a grace period).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("tenkaigen.supervisor")

METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
STOP_GRACE_S = 20.0
MAX_RESTART_DELAY_S = 30.0
# a process that ran this long before exiting counts as healthy: its next restart is quick
HEALTHY_RUN_S = 60.0


@dataclass
class Child:
    port: int
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None
    restarts: int = 0


def proxy_config(host: str, ports: Sequence[int]) -> str:
    """The reverse-proxy blocks for these processes (the full story is in docs/deployment.md)."""
    nginx_servers = "\n".join(f"    server {host}:{port};" for port in ports)
    caddy_upstreams = " ".join(f"{host}:{port}" for port in ports)
    return f"""\
Put a reverse proxy with sticky sessions in front of them (docs/deployment.md):

# nginx
upstream tenkaigen {{
    ip_hash;  # sticky: one client address, one process (Gradio's queue needs it)
{nginx_servers}
}}
# in the server block: location / {{ proxy_pass http://tenkaigen; proxy_buffering off;
#   proxy_read_timeout 3600s; client_max_body_size 20m; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; ... }}

# Caddy
your.domain {{
    reverse_proxy {caddy_upstreams} {{
        lb_policy cookie tenkaigen_backend
        flush_interval -1
    }}
}}"""


class Supervisor:
    """Runs `command + ["--port", P]` for each port until stopped."""

    def __init__(self, command: Sequence[str], ports: Sequence[int], env: dict[str, str] | None = None) -> None:
        self._command = list(command)
        self.children = [Child(port) for port in ports]
        self._env = dict(os.environ if env is None else env)
        self._stop = threading.Event()
        self._metrics_dir_made: Path | None = None

    def run(self) -> int:
        self._prepare_metrics_dir()
        previous = {}
        if threading.current_thread() is threading.main_thread():  # (signals reach the main thread only)
            previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for child in self.children:
                self._start(child)
            while not self._stop.wait(0.5):
                self._watch()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if self._metrics_dir_made is not None:
                shutil.rmtree(self._metrics_dir_made, ignore_errors=True)
        return 0

    def stop(self) -> None:
        self._stop.set()

    def _on_signal(self, signum: int, _frame: object) -> None:
        log.info("received %s: stopping %d process(es)", signal.Signals(signum).name, len(self.children))
        self._stop.set()

    def _prepare_metrics_dir(self) -> None:
        folder = self._env.get(METRICS_DIR_VARIABLE)
        if folder:
            # counts from a previous run would be added to this one's
            path = Path(folder)
            path.mkdir(parents=True, exist_ok=True)
            for stale in path.glob("*.db"):
                stale.unlink()
            return
        self._metrics_dir_made = Path(tempfile.mkdtemp(prefix="tenkaigen-metrics-"))
        self._env[METRICS_DIR_VARIABLE] = str(self._metrics_dir_made)

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen([*self._command, "--port", str(child.port)], env=self._env)
        child.started_at = time.monotonic()
        child.restart_at = None
        log.info("started process pid=%s port=%s", child.process.pid, child.port)

    def _watch(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.process is not None and child.process.poll() is not None:
                code = child.process.returncode
                ran_s = now - child.started_at
                child.failures = 0 if ran_s >= HEALTHY_RUN_S else child.failures + 1
                delay = min(MAX_RESTART_DELAY_S, 2.0 ** child.failures) if child.failures else 1.0
                log.warning("process pid=%s port=%s exited with %s after %.0f s; restarting in %.0f s",
                            child.process.pid, child.port, code, ran_s, delay)
                self._mark_dead(child.process.pid)
                child.process = None
                child.restart_at = now + delay
            if child.process is None and child.restart_at is not None and now >= child.restart_at:
                child.restarts += 1
                self._start(child)

    def _mark_dead(self, pid: int) -> None:
        if not self._env.get(METRICS_DIR_VARIABLE):
            return
        try:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(pid, self._env[METRICS_DIR_VARIABLE])
        except ImportError:
            pass

    def _stop_all(self) -> None:
        running = [c.process for c in self.children if c.process is not None and c.process.poll() is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + STOP_GRACE_S
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("process pid=%s did not stop in %.0f s: killing it", process.pid, STOP_GRACE_S)
                process.kill()
                process.wait()


def child_command(entry_file: str, host: str) -> list[str]:
    """The command that serves one app process, without its port."""
    return [sys.executable, entry_file, "--host", host]
