"""Shared helpers for the benchmark scripts, on top of ``bench_api.py``.

``bench_api.Server`` launches ``clio-mock serve`` with a fixed command line and waits for
``/__mock__/health``. The cross-server benchmark (``bench_vs_prism.py``) also launches Prism
(node) and the bare Starlette floor (``floor_app.py``), so it needs a server process for any
command, a readiness probe on any path, and the memory of a whole process tree. Those are
here; the rest (ports, wrk, stopping process groups, /proc memory) is reused from
``bench_api``.
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_api import HOST, POLL_INTERVAL, TOKEN, proc_status, stop_process  # noqa: E402

STARTED: list["Proc"] = []  # every process launched through Proc; stop_all() in a finally


def child_pids(pid: int) -> list[int]:
    """Every descendant of ``pid`` (scans /proc/*/stat for parent ids)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ..." -- comm may contain spaces and parentheses
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def tree_memory(pid: int) -> dict:
    """VmRSS and VmHWM (MB) of ``pid`` and of all its descendants, summed, plus the
    process count. (Summed peaks are an upper bound when there is more than one process.)"""
    pids = [pid, *child_pids(pid)]
    rss = hwm = 0.0
    seen = 0
    for p in pids:
        st = proc_status(p)
        if st:
            seen += 1
            rss += st.get("VmRSS", 0.0)
            hwm += st.get("VmHWM", 0.0)
    return {"rss_mb": rss if seen else None, "hwm_mb": hwm if seen else None, "processes": seen}


class Proc:
    """A server subprocess (any command) in its own process group, with its own log file.

    ``start()`` returns the seconds from launch until ``GET ready_path`` first answers 2xx,
    polled every 20 ms (``POLL_INTERVAL``), with ``Authorization: Bearer TOKEN``."""

    def __init__(self, label: str, cmd: list[str], port: int, ready_path: str, log_dir: str,
                 env: dict | None = None, timeout: float = 120.0) -> None:
        self.label = label
        self.cmd = cmd
        self.port = port
        self.ready_path = ready_path
        self.env = env
        self.timeout = timeout
        self.log_path = Path(log_dir) / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', label)}.log"
        self.proc: subprocess.Popen | None = None
        self.startup_s: float | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> float:
        log = open(self.log_path, "wb")
        try:
            t0 = time.perf_counter()
            self.proc = subprocess.Popen(self.cmd, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()
        STARTED.append(self)
        deadline = t0 + self.timeout
        while True:
            if self.ready():
                self.startup_s = time.perf_counter() - t0
                return self.startup_s
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label}: exited with {self.proc.returncode} before answering:\n{self.log_tail()}")
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{self.label}: no 2xx from {self.ready_path} after {self.timeout:.0f}s:\n{self.log_tail()}")
            time.sleep(POLL_INTERVAL)

    def ready(self) -> bool:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=2.0)
        try:
            conn.request("GET", self.ready_path, headers={"Authorization": f"Bearer {TOKEN}"})
            resp = conn.getresponse()
            resp.read()
            return 200 <= resp.status < 300
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def memory(self) -> dict:
        return tree_memory(self.pid) if self.alive() else {"rss_mb": None, "hwm_mb": None, "processes": 0}

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, n: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-n:])

    def stop(self) -> None:
        stop_process(self.proc)


def stop_all() -> None:
    for p in STARTED:
        try:
            p.stop()
        except Exception as exc:  # keep stopping the others
            print(f"could not stop {p.label}: {exc}", file=sys.stderr)


def seeded_report(log_text: str) -> tuple[int | None, float | None]:
    """``clio-mock serve``'s own "N records ready in X s" line (spec load + index + seed; older
    versions said "seeded in")."""
    m = re.search(r"(\d+) records (?:seeded|ready) in ([0-9.]+)s", log_text)
    return (int(m.group(1)), float(m.group(2))) if m else (None, None)
