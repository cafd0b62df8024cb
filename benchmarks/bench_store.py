"""Write throughput and list latency: the SQLite store (--data) against the in-memory store.

    python benchmarks/bench_store.py [--spec PATH] [--sizes 10000,100000] [--writes 2000]

In-process, calling the ASGI app directly (no HTTP, so the store's cost is what shows): for each size, seed that many
matters, then time (a) creating contacts through the API's write path (records/s), and
(b) GET /matters.json?limit=200 first page and a deep cursor page (p50/p99 in ms), with the
memory store and with SQLite. Prints a table and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import orjson

from mockserver.app import create_app
from mockserver.config import Settings
from mockserver.engine.query import encode_token
from mockserver.spec.source import load_index

DEFAULT_SPEC = Path(__file__).resolve().parents[2] / "shared" / "clio" / "openapi-v4.json"


def _timed(call, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def _p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


class AsgiCaller:
    """Calls the app directly (no HTTP, no test client), so what is timed is the mock itself."""

    def __init__(self, app) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()

    def __call__(self, method: str, path: str, query: str = "", body: bytes = b"") -> tuple[int, bytes]:
        headers = [(b"host", b"127.0.0.1"), (b"authorization", b"Bearer dev"), (b"content-type", b"application/json")]
        scope = {"type": "http", "method": method, "path": path, "query_string": query.encode(), "headers": headers,
                 "scheme": "http", "server": ("127.0.0.1", 80)}
        out: list[dict] = []

        async def receive() -> dict:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict) -> None:
            out.append(message)

        self.loop.run_until_complete(self.app(scope, receive, send))
        return out[0]["status"], b"".join(m.get("body", b"") for m in out[1:])


def measure(index, size: int, writes: int, data: str | None) -> dict[str, float]:
    started = time.perf_counter()
    # index_cache=False: no seed cache either, so both stores generate their firm.
    app = create_app(Settings(seed=1, records={"Matter": size}, rate_limit=0, data=data, access_log=False, index_cache=False), index=index)
    seeded = time.perf_counter() - started
    call = AsgiCaller(app)
    body = orjson.dumps({"data": {"type": "Company", "name": "Bench LLP"}})
    start = time.perf_counter()
    for _ in range(writes):
        assert call("POST", "/api/v4/contacts.json", body=body)[0] == 201
    write_rate = writes / (time.perf_counter() - start)
    first = _timed(lambda: call("GET", "/api/v4/matters.json", "limit=200"), 200)
    ids = app.state.store.accounts[1].table("Matter").ids
    deep_query = "limit=200&page_token=" + encode_token("a", ids[len(ids) // 2])
    deep = _timed(lambda: call("GET", "/api/v4/matters.json", deep_query), 200)
    show = _timed(lambda: call("GET", f"/api/v4/matters/{ids[len(ids) // 2]}.json"), 1000)
    return {"seed_s": seeded, "writes_per_s": write_rate, "list_p50": _p(first, 0.5), "list_p99": _p(first, 0.99),
            "deep_p50": _p(deep, 0.5), "show_p50": _p(show, 0.5)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", default=str(DEFAULT_SPEC))
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--writes", type=int, default=2000)
    args = parser.parse_args()
    index = load_index(args.spec)
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        for store in ("memory", "sqlite"):
            with tempfile.TemporaryDirectory() as tmp:
                data = str(Path(tmp) / "bench.sqlite") if store == "sqlite" else None
                result = measure(index, size, args.writes, data)
            rows.append((size, store, result))
            print(f"  {size:>7} {store:<7} done", file=sys.stderr)
    print("\nStore benchmark (in-process ASGI calls; ms per request)")
    print(f"{'matters':>8} {'store':<7} {'seed s':>8} {'writes/s':>9} {'list p50':>9} {'list p99':>9} {'deep p50':>9} {'show p50':>9}")
    for size, store, r in rows:
        print(f"{size:>8} {store:<7} {r['seed_s']:>8.1f} {r['writes_per_s']:>9.0f} {r['list_p50']:>9.2f} {r['list_p99']:>9.2f} {r['deep_p50']:>9.2f} {r['show_p50']:>9.2f}")
    by = {(s, st): r for s, st, r in rows}
    for size in sorted({s for s, _, _ in rows}):
        m, q = by[(size, "memory")], by[(size, "sqlite")]
        print(f"{size:>8} sqlite/memory: writes {q['writes_per_s'] / m['writes_per_s']:.2f}x, list p50 {q['list_p50'] / m['list_p50']:.2f}x, seed {q['seed_s'] / m['seed_s']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
