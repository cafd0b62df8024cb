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
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import Proc, stop_all
from bench_api import HOST, TOKEN, clio_mock_command, default_spec, free_port


def _read_response(sock: socket.socket, buffer: bytearray) -> None:
    while b"\r\n\r\n" not in buffer:
        buffer += sock.recv(65536)
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    while len(rest) < length:
        rest += sock.recv(65536)
    buffer[:] = rest[length:]


def measure(spec: str, workers: int, requests: int) -> list[float]:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [*clio_mock_command(), "serve", "--spec", spec, "--host", HOST, "--port", str(port), "--data", f"{tmp}/b.sqlite",
               "--workers", str(workers), "--rate-limit", "0", "--log-level", "warning", "--no-access-log", "--dev-token", TOKEN]
        proc = Proc(f"workers-{workers}", cmd, port, "/__mock__/health", tmp)
        try:
            proc.start()
            path = os.environ.get("BENCH_PATH", "/api/v4/users/who_am_i.json")
            request = f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode()
            times = []
            with socket.create_connection((HOST, port)) as sock:
                buffer = bytearray()
                for _ in range(requests):
                    started = time.perf_counter()
                    sock.sendall(request)
                    _read_response(sock, buffer)
                    times.append((time.perf_counter() - started) * 1000)
            return times[1:]  # the first pays for connection set-up
        finally:
            proc.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spec", default=default_spec())
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
    try:
        main()
    finally:
        stop_all()
