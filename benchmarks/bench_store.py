"""Write throughput and list latency: the SQLite store (--data) against the in-memory store.

    python benchmarks/bench_store.py [--spec PATH] [--sizes 10000,100000] [--writes 2000]

In-process (no HTTP, so the store's cost is what shows): for each size, seed that many
matters, then time (a) creating contacts through the API's write path (records/s), and
(b) GET /matters.json?limit=200 first page and a deep cursor page (p50/p99 in ms), with the
memory store and with SQLite. Prints a table and the ratios.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.config import Settings
from mockserver.specsource import load_index

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


def measure(index, size: int, writes: int, data: str | None) -> dict[str, float]:
    started = time.perf_counter()
    app = create_app(Settings(seed=1, counts={"Matter": size}, rate_limit=0, data=data, access_log=False), index=index)
    seeded = time.perf_counter() - started
    with TestClient(app, headers={"Authorization": "Bearer dev"}) as c:
        body = {"data": {"type": "Company", "name": "Bench LLP"}}
        start = time.perf_counter()
        for _ in range(writes):
            assert c.post("/api/v4/contacts.json", json=body).status_code == 201
        write_rate = writes / (time.perf_counter() - start)
        first = _timed(lambda: c.get("/api/v4/matters.json", params={"limit": 200}), 200)
        page = c.get("/api/v4/matters.json", params={"limit": 200}).json()
        for _ in range(min(20, size // 200 - 1)):
            page = c.get(page["meta"]["paging"]["next"]).json()
        deep_url = page["meta"]["paging"].get("next") or "/api/v4/matters.json?limit=200"
        deep = _timed(lambda: c.get(deep_url), 200)
        show = _timed(lambda: c.get(f"/api/v4/matters/{size // 2}.json"), 500)
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
    print("\nStore benchmark (in-process, TestClient; ms are per request including the ASGI round trip)")
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
