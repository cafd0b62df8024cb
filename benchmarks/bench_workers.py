"""Keep-alive latency with ``--workers N``: one client, one connection, sequential requests.

    python benchmarks/bench_workers.py [--spec PATH] [--requests 200] [--workers 1,2]

Starts ``clio-mock serve --data TMP --workers N`` for each N, sends ``--requests`` GETs of
``/api/v4/users/who_am_i.json`` over one keep-alive connection (a raw socket, so the client adds
nothing) and prints the median and p90 in ms per worker count, and their ratio.
``BENCH_PATH=/__mock__/health`` measures a path that never touches the store.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SPEC = ROOT.parent / "shared" / "clio" / "openapi-v4.json"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /__mock__/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if s.recv(12).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server on {port} did not start")


def _read_response(sock: socket.socket, buffer: bytearray) -> None:
    while b"\r\n\r\n" not in buffer:
        buffer += sock.recv(65536)
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    while len(rest) < length:
        rest += sock.recv(65536)
    buffer[:] = rest[length:]


def measure(spec: str, workers: int, requests: int) -> list[float]:
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen([sys.executable, "-m", "mockserver.cli", "serve", "--spec", spec, "--port", str(port), "--data", f"{tmp}/b.sqlite",
                                 "--workers", str(workers), "--rate-limit", "0", "--log-level", "warning", "--no-access-log"],
                                start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait(port)
            request = os.environ.get("BENCH_PATH", "/api/v4/users/who_am_i.json").encode().join([b"GET ", b" HTTP/1.1"]) + b"\r\nHost: 127.0.0.1\r\nAuthorization: Bearer dev\r\n\r\n"
            times = []
            with socket.create_connection(("127.0.0.1", port)) as sock:
                buffer = bytearray()
                for _ in range(requests):
                    started = time.perf_counter()
                    sock.sendall(request)
                    _read_response(sock, buffer)
                    times.append((time.perf_counter() - started) * 1000)
            return times[1:]  # the first pays for connection set-up
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spec", default=str(DEFAULT_SPEC))
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    medians = {}
    for n in [int(w) for w in args.workers.split(",")]:
        times = measure(args.spec, n, args.requests)
        medians[n] = statistics.median(times)
        p90 = statistics.quantiles(times, n=10)[-1]
        print(f"workers={n}: keep-alive GET median {medians[n]:.2f} ms, p90 {p90:.2f} ms over {len(times)} requests")
    if 1 in medians and len(medians) > 1:
        for n, m in medians.items():
            if n != 1:
                print(f"ratio workers={n} / workers=1: {m / medians[1]:.1f}x")


if __name__ == "__main__":
    main()
