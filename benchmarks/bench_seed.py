"""Seeding time and the hot read path, this checkout against a baseline git ref, in one run.

    python benchmarks/bench_seed.py [--matters 100000] [--baseline main] [--reads 300]

Each side runs in its own subprocess (the baseline from ``git archive`` of the ref into a
temporary folder): it builds the app with ``--records Matter=N`` (no seed cache), timing the
seeding, then times ``GET /matters.json?limit=200`` pages and ``GET /matters/{id}.json`` by
calling the ASGI app directly. Prints both sides' figures and the ratios (this / baseline).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SPEC = ROOT.parent / "shared" / "clio" / "openapi-v4.json"

CHILD = r"""
import asyncio, json, sys, time
from mockserver.app import create_app
from mockserver.config import Settings
try:
    from mockserver.spec.source import load_index
except ImportError:  # a baseline from before the package was in layers (and --records was `counts`)
    from mockserver.specsource import load_index
spec, matters, reads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
index = load_index(spec)
records = "records" if "records" in Settings.__dataclass_fields__ else "counts"
settings = Settings(spec=spec, rate_limit=0, index_cache=False, **{records: {"Matter": matters}})
start = time.perf_counter()
app = create_app(settings, index=index)
seed_s = time.perf_counter() - start
loop = asyncio.new_event_loop()
def call(path, query=""):
    headers = [(b"host", b"127.0.0.1"), (b"authorization", b"Bearer dev")]
    scope = {"type": "http", "method": "GET", "path": path, "query_string": query.encode(), "headers": headers,
             "scheme": "http", "server": ("127.0.0.1", 80)}
    out = []
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    async def send(message):
        out.append(message)
    loop.run_until_complete(app(scope, receive, send))
    assert out[0]["status"] == 200, out
def timed(fn, n):
    values = []
    for _ in range(n):
        t = time.perf_counter(); fn(); values.append((time.perf_counter() - t) * 1000)
    values.sort()
    return values[len(values) // 2]
ids = app.state.store.accounts[1].table("Matter").ids
mid = ids[len(ids) // 2]
for _ in range(20):
    call("/api/v4/matters.json", "limit=200")
page = timed(lambda: call("/api/v4/matters.json", "limit=200&fields=id,etag,display_number,status,open_date,client{name}"), reads)
show = timed(lambda: call(f"/api/v4/matters/{mid}.json", "fields=id,etag,display_number,status"), reads * 5)
print(json.dumps({"seed_s": seed_s, "page_ms": page, "show_ms": show}))
"""


def run(src: Path, spec: str, matters: int, reads: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run([sys.executable, "-c", CHILD, spec, str(matters), str(reads)], env=env, cwd=src,
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"benchmark run in {src} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", default=str(DEFAULT_SPEC))
    parser.add_argument("--matters", type=int, default=100_000)
    parser.add_argument("--baseline", default="main", help="git ref to compare with (default main)")
    parser.add_argument("--reads", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "archive", args.baseline], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        base = run(Path(tmp), args.spec, args.matters, args.reads)
        print(f"{args.baseline}: {base}", flush=True)
    this = run(ROOT, args.spec, args.matters, args.reads)
    print(f"Matter={args.matters}: seeding and reads, {args.baseline} vs this checkout")
    print(f"{'':22}{args.baseline:>12}{'this':>12}{'ratio':>8}")
    for key, label in (("seed_s", "seed (s)"), ("page_ms", "list page p50 (ms)"), ("show_ms", "show p50 (ms)")):
        print(f"{label:22}{base[key]:12.3f}{this[key]:12.3f}{this[key] / base[key]:8.2f}")


if __name__ == "__main__":
    main()
