"""Dashboard pages on a small and a 100k-matter firm: bytes and time per page.

    python benchmarks/bench_dashboard.py [--spec PATH] [--sizes 1000,100000] [--journal 10000]

In-process ASGI calls (no HTTP). For each firm size, with the journal filled to ``--journal``
entries: the overview, the firm, the Matter list (first and last page), a search that hits a
record in the middle and one that matches nothing (the bounded full scan), a record page, the
journal and its live-refresh rows. Prints bytes and p50 ms per page, and the large/small ratios:
paged pages should stay the same size whatever the firm's size.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_store import DEFAULT_SPEC, AsgiCaller, _p, _timed  # noqa: E402

from mockserver.app import create_app  # noqa: E402
from mockserver.config import Settings  # noqa: E402
from mockserver.spec.source import load_index  # noqa: E402

UI = "/__mock__/ui"


def measure(index, size: int, journal: int, repeat: int) -> dict[str, tuple[int, float]]:
    app = create_app(Settings(seed=1, records={"Matter": size}, rate_limit=0, access_log=False, index_cache=False), index=index)
    call = AsgiCaller(app)
    for _ in range(journal):
        call("GET", "/api/v4/users/who_am_i.json")
    matters = app.state.store.accounts[1].tables["Matter"]
    middle = matters.get(matters.ids[len(matters.ids) // 2])
    last_page = -(-len(matters) // 50)
    pages = {
        "overview": (UI, ""), "firm": (f"{UI}/firms/1", ""),
        "matters p1": (f"{UI}/firms/1/Matter", ""), "matters last": (f"{UI}/firms/1/Matter", f"page={last_page}"),
        "search hit": (f"{UI}/firms/1/Matter", f"q={middle['display_number']}"),
        "search miss": (f"{UI}/firms/1/Matter", "q=no-such-text"),
        "record": (f"{UI}/firms/1/Matter/{middle['id']}", ""),
        "journal": (f"{UI}/journal", ""), "journal rows": (f"{UI}/journal/rows", f"since={journal - 5}"),
    }
    out = {}
    for name, (path, query) in pages.items():
        status, body = call("GET", path, query)
        assert status == 200, (name, status)
        times = _timed(lambda: call("GET", path, query), max(3, repeat // 10) if name == "search miss" else repeat)
        out[name] = (len(body), _p(times, 0.5))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", default=str(DEFAULT_SPEC))
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--journal", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    index = load_index(args.spec)
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    for size in sizes:
        started = time.perf_counter()
        results[size] = measure(index, size, args.journal, args.repeat)
        print(f"  {size} matters done in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    print(f"\nDashboard pages (in-process ASGI; journal of {args.journal} entries; bytes and p50 ms)")
    print(f"{'page':<14}" + "".join(f"{f'{s} bytes':>15}{f'{s} ms':>12}" for s in sizes))
    for name in results[sizes[0]]:
        print(f"{name:<14}" + "".join(f"{results[s][name][0]:>15,}{results[s][name][1]:>12.2f}" for s in sizes))
    if len(sizes) > 1:
        small, large = results[sizes[0]], results[sizes[-1]]
        print(f"\n{sizes[-1]}/{sizes[0]} matters: " + ", ".join(
            f"{name} {large[name][0] / small[name][0]:.2f}x bytes {large[name][1] / max(small[name][1], 1e-6):.1f}x time" for name in small))
    return 0


if __name__ == "__main__":
    sys.exit(main())
