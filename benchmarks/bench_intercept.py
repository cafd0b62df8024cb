"""In-process interception against a live loopback mock: the median time of one request.

    python benchmarks/bench_intercept.py [--spec PATH] [--requests 2000] [--json OUT]

The same client code sends the same requests, one after another, two ways:

- **in-process**: ``mockserver.intercept(app=...)`` is on and the client calls
  ``https://app.clio.com``; the mock's ASGI app answers in this process (sync clients through the
  interceptor's private event loop thread, async clients on their own loop);
- **live loopback**: the client calls a ``clio-mock serve`` subprocess (uvicorn) on 127.0.0.1 over
  one keep-alive connection.

For each client (httpx sync, httpx async, requests) and each request (``GET /matters/1.json`` and a
20-matter page), it reports the median and p90 per-request time of ``--requests`` requests (after
``--warmup`` unmeasured ones) and the in-process / live ratio. The target (issue 16): in-process
costs no more than live loopback, a ratio at or under 1.0. The two take turns in blocks of 100
requests, so a busy moment on a shared machine falls on both. Both mocks have the same spec, seed and
settings (rate limit off, dev token ``bench``). All traffic stays on 127.0.0.1 or in-process; the
server process is stopped in ``finally``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_api import TOKEN, Server, default_spec, percentile  # noqa: E402

AUTH = {"Authorization": f"Bearer {TOKEN}"}
REQUESTS = [("show", "/api/v4/matters/1.json", {"fields": "id,display_number,status"}),
            ("page of 20", "/api/v4/matters.json", {"limit": "20", "fields": "id,display_number,status,client{id,name}"})]
MAX_REQUESTS = 20_000  # bounded, whatever --requests says


BLOCK = 100  # requests per turn: in-process and live take turns, so a busy moment hits both


def _figures(times: list[float]) -> dict:
    times = sorted(times)
    return {"median_us": statistics.median(times) * 1e6, "p90_us": percentile(times, 90) * 1e6, "requests": len(times)}


def timed(calls: dict[str, Callable[[], int]], count: int, warmup: int) -> dict[str, dict]:
    """Per-request times of each of ``calls`` (each must answer 200), taking turns in blocks."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():
        for _ in range(warmup):
            assert call() == 200
    while any(len(t) < count for t in times.values()):
        for name, call in calls.items():
            for _ in range(min(BLOCK, count - len(times[name]))):
                t0 = time.perf_counter()
                status = call()
                times[name].append(time.perf_counter() - t0)
                if status != 200:
                    raise RuntimeError(f"{name}: got {status}")
    return {name: _figures(t) for name, t in times.items()}


async def timed_async(calls: dict[str, Callable], count: int, warmup: int) -> dict[str, dict]:
    times: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():
        for _ in range(warmup):
            assert await call() == 200
    while any(len(t) < count for t in times.values()):
        for name, call in calls.items():
            for _ in range(min(BLOCK, count - len(times[name]))):
                t0 = time.perf_counter()
                status = await call()
                times[name].append(time.perf_counter() - t0)
                if status != 200:
                    raise RuntimeError(f"{name}: got {status}")
    return {name: _figures(t) for name, t in times.items()}


def measure(bases: dict[str, str], path: str, params: dict, count: int, warmup: int) -> dict[str, dict]:
    """The three clients, one request at a time, against each of ``bases`` in turn."""
    import httpx
    import requests

    out = {}
    clients = {name: httpx.Client(headers=AUTH) for name in bases}
    out["httpx sync"] = timed({name: (lambda c=clients[name], u=f"{base}{path}": c.get(u, params=params).status_code)
                               for name, base in bases.items()}, count, warmup)
    for client in clients.values():
        client.close()
    sessions = {name: requests.Session() for name in bases}
    for session in sessions.values():
        session.headers.update(AUTH)
    out["requests"] = timed({name: (lambda s=sessions[name], u=f"{base}{path}": s.get(u, params=params).status_code)
                             for name, base in bases.items()}, count, warmup)

    async def run_async() -> dict:
        async_clients = {name: httpx.AsyncClient(headers=AUTH) for name in bases}

        def caller(client: httpx.AsyncClient, url: str) -> Callable:
            async def call() -> int:
                return (await client.get(url, params=params)).status_code
            return call

        try:
            return await timed_async({name: caller(async_clients[name], f"{base}{path}") for name, base in bases.items()}, count, warmup)
        finally:
            for client in async_clients.values():
                await client.aclose()

    out["httpx async"] = asyncio.run(run_async())
    return out


def render(results: dict) -> str:
    lines = [f"{'request':<12} {'client':<12} {'in-process':>12} {'live loopback':>14} {'ratio':>7}   (median per request, p90 in brackets, microseconds)"]
    for name, clients in results["requests"].items():
        for client, both in clients.items():
            inp, live = both["in-process"], both["live loopback"]
            ratio = inp["median_us"] / live["median_us"]
            both["ratio"] = ratio
            lines.append(f"{name:<12} {client:<12} {inp['median_us']:>6.0f} [{inp['p90_us']:>4.0f}] {live['median_us']:>7.0f} [{live['p90_us']:>4.0f}] {ratio:>7.2f}")
    worst = max(b["ratio"] for c in results["requests"].values() for b in c.values())
    lines.append(f"worst ratio {worst:.2f}: in-process {'costs no more than' if worst <= 1.0 else 'costs MORE than'} live loopback")
    results["worst_ratio"] = worst
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", default=default_spec())
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per client and request kind")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    if not args.spec:
        parser.error("no spec: pass --spec or set CLIO_MOCK_SPEC")
    count = max(1, min(args.requests, MAX_REQUESTS))

    import mockserver
    from mockserver.app import create_app
    from mockserver.config import Settings

    load_before = os.getloadavg()[0]
    settings = Settings(spec=args.spec, seed=42, dev_token=TOKEN, rate_limit=0, access_log=False)
    results: dict = {"requests_each": count, "warmup": args.warmup, "requests": {}}
    with tempfile.TemporaryDirectory() as workdir:
        server = Server(args.spec, str(Path(workdir) / "cache"), workdir, "live")
        try:
            server.start()
            live = f"http://127.0.0.1:{server.port}"
            app = create_app(settings)
            # Interception stays on throughout: Clio's host is answered in-process, 127.0.0.1 passes.
            with mockserver.intercept(app=app):
                for name, path, params in REQUESTS:
                    results["requests"][name] = measure({"in-process": "https://app.clio.com", "live loopback": live}, path, params, count, args.warmup)
        finally:
            server.stop()
    results["load_average"] = [load_before, os.getloadavg()[0]]
    print(f"bench_intercept: {count} requests per figure after {args.warmup} warm-up, one at a time; "
          f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after (on {os.cpu_count()} cores)")
    print(render(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
