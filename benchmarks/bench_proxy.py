#!/usr/bin/env python3
"""What the forward proxy and HTTPS cost: median milliseconds per request, one run.

    python benchmarks/bench_proxy.py [--spec PATH] [--requests 400]

Starts ``clio-mock serve --tls --proxy-port P`` (HTTPS on its own port) and ``clio-mock serve``
(plain HTTP) on loopback, then times ``GET /api/v4/users/who_am_i.json`` with one keep-alive httpx
client per way in:

- plain http, direct to the mock's port (the baseline);
- https direct to ``--tls`` (``https://app.clio.com``, resolved to the loopback port in-process);
- through the proxy: ``https://app.clio.com`` in a CONNECT tunnel, and ``http://app.clio.com``
  as absolute-form requests;

and the TLS handshake itself: TCP connect + handshake against TCP connect alone, median over the
same count. Prints each figure and its ratio to the baseline. All traffic goes to 127.0.0.1;
every process started is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
AUTH = {"Authorization": "Bearer dev"}
PATH = "/api/v4/users/who_am_i.json"
CLIO = ("app.clio.com", "eu.app.clio.com", "ca.app.clio.com", "au.app.clio.com")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mockserver.cli", "serve", "--host", "127.0.0.1", "--log-level", "warning",
                             "--no-access-log", "--rate-limit", "0", *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait(url: str, verify: ssl.SSLContext | bool, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/__mock__/health", verify=verify, timeout=1, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not start")


def interleaved_medians(ways: list[tuple[str, httpx.Client, str]], n: int) -> list[tuple[str, float]]:
    """Median ms per request for each way, the ways taken in turn (rotating which goes first), so
    a noisy shared machine slows them alike rather than whichever ran during a busy spell."""
    for _, client, url in ways:  # warm-up: connections open, caches filled
        for _ in range(20):
            client.get(url, headers=AUTH)
    times: list[list[float]] = [[] for _ in ways]
    for i in range(n):
        for k in range(len(ways)):
            j = (i + k) % len(ways)
            _, client, url = ways[j]
            t = time.perf_counter()
            r = client.get(url, headers=AUTH)
            times[j].append(time.perf_counter() - t)
            assert r.status_code == 200, r.text
    return [(name, statistics.median(t) * 1000) for (name, _, _), t in zip(ways, times)]


def handshake_ms(port: int, context: ssl.SSLContext, n: int) -> tuple[float, float]:
    tcp, tls = [], []
    for _ in range(n):
        t = time.perf_counter()
        sock = socket.create_connection(("127.0.0.1", port))
        tcp.append(time.perf_counter() - t)
        sock.close()
        t = time.perf_counter()
        with context.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="app.clio.com"):
            tls.append(time.perf_counter() - t)
    return statistics.median(tcp) * 1000, statistics.median(tls) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spec", default=str(ROOT.parent / "shared" / "clio" / "openapi-v4.json"))
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    n = args.requests
    cache = tempfile.mkdtemp(prefix="clio-mock-bench-proxy-")
    env = {**os.environ, "CLIO_MOCK_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
    plain_port, tls_port, proxy_port = free_port(), free_port(), free_port()
    procs = [start(["--spec", args.spec, "--port", str(plain_port)], env),
             start(["--spec", args.spec, "--port", str(tls_port), "--tls", "--proxy-port", str(proxy_port)], env)]
    real = socket.getaddrinfo
    try:
        ca = Path(cache) / "tls" / "clio-mock-ca.pem"
        wait(f"http://127.0.0.1:{plain_port}", False)
        while not ca.exists():
            time.sleep(0.05)
        context = ssl.create_default_context(cafile=str(ca))
        wait(f"https://127.0.0.1:{tls_port}", context)
        socket.getaddrinfo = lambda host, port, *a, **k: real("127.0.0.1", tls_port if port == 443 else port, *a, **k) if host in CLIO else real(host, port, *a, **k)
        proxy = f"http://127.0.0.1:{proxy_port}"
        direct_https = httpx.Client(verify=context, trust_env=False)
        direct_https.get(f"https://app.clio.com{PATH}", headers=AUTH)  # connect while app.clio.com maps to --tls
        socket.getaddrinfo = real  # the proxy clients resolve nothing: the proxy is asked for app.clio.com
        ways = [("plain http, direct (baseline)", httpx.Client(trust_env=False), f"http://127.0.0.1:{plain_port}{PATH}"),
                ("https://app.clio.com direct to --tls", direct_https, f"https://app.clio.com{PATH}"),
                ("https://app.clio.com through the proxy (CONNECT)", httpx.Client(verify=context, proxy=proxy, trust_env=False), f"https://app.clio.com{PATH}"),
                ("http://app.clio.com through the proxy (absolute-form)", httpx.Client(proxy=proxy, trust_env=False), f"http://app.clio.com{PATH}")]
        try:
            rows = interleaved_medians(ways, n)
        finally:
            for _, client, _ in ways:
                client.close()
        tcp, tls = handshake_ms(tls_port, context, n)
    finally:
        socket.getaddrinfo = real
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=20)
    base = rows[0][1]
    print(f"median ms per keep-alive request, {n} requests each (GET {PATH})")
    for name, ms in rows:
        print(f"  {name:<55} {ms:7.3f} ms  x{ms / base:.2f}")
    print(f"new connection: TCP connect {tcp:.3f} ms; TCP connect + TLS 1.3 handshake (ECDSA P-256) {tls:.3f} ms; "
          f"handshake alone ~{tls - tcp:.3f} ms ({n} each)")


if __name__ == "__main__":
    main()
