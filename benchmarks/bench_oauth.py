"""OAuth token requests with ``--data`` as live tokens pile up.

    python benchmarks/bench_oauth.py [--spec PATH] [--levels 0,1000,4000] [--requests 100]

Starts ``clio-mock serve --data TMP``, mints access tokens through the control API
(``POST /__mock__/tokens``) up to each level, then times ``--requests`` token requests
(``POST /oauth/token`` with ``grant_type=refresh_token``, one keep-alive connection) and prints
their p50/p90 per level and the ratio of the last level's p50 to the first's. With OAuth state
kept as one row per token, grant and code, the ratio stays near 1; when every OAuth write
rewrote all tokens as one row, it grew with the token count.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Proc, stop_all
from bench_api import HOST, TOKEN, clio_mock_command, default_spec, free_port

CLIENT = {"client_id": "clio-mock-app-key", "client_secret": "clio-mock-app-secret"}


def mint(client: httpx.Client, count: int) -> float:
    """Mint ``count`` tokens through the control API; the seconds it took."""
    started = time.perf_counter()
    for _ in range(count):
        r = client.post("/__mock__/tokens", json={})
        r.raise_for_status()
    return time.perf_counter() - started


def token_requests(client: httpx.Client, refresh_token: str, requests: int) -> list[float]:
    """Milliseconds per ``grant_type=refresh_token`` request (each mints an access token)."""
    times = []
    form = {**CLIENT, "grant_type": "refresh_token", "refresh_token": refresh_token}
    for _ in range(requests + 1):
        started = time.perf_counter()
        r = client.post("/oauth/token", data=form)
        elapsed = (time.perf_counter() - started) * 1000
        if r.status_code != 200:
            raise SystemExit(f"token request answered {r.status_code}: {r.text[:300]}")
        times.append(elapsed)
    return times[1:]  # the first may pay for a prune or a cold path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", default=default_spec())
    parser.add_argument("--levels", default="0,1000,4000", help="live tokens to measure at (ascending)")
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    if not args.spec:
        raise SystemExit("no spec: pass --spec or set CLIO_MOCK_SPEC")
    levels = sorted(int(n) for n in args.levels.split(","))
    medians: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = Proc("clio-mock-oauth", [*clio_mock_command(), "serve", "--spec", args.spec, "--port", str(port), "--host", HOST,
                                          "--data", f"{tmp}/bench.sqlite", "--dev-token", TOKEN, "--rate-limit", "0",
                                          "--log-level", "warning", "--no-access-log"], port, "/__mock__/health", tmp)
        try:
            server.start()
            with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=60) as client:
                refresh_token = client.post("/__mock__/tokens", json={}).json()["refresh_token"]
                minted = 0
                for level in levels:
                    spent = mint(client, level - minted)
                    if level > minted:
                        print(f"minted {level - minted} tokens in {spent:.1f}s ({spent * 1000 / (level - minted):.2f} ms each)")
                    minted = level
                    times = sorted(token_requests(client, refresh_token, args.requests))
                    medians[level] = statistics.median(times)
                    p90 = statistics.quantiles(times, n=10)[-1]
                    print(f"{level:>6} live tokens: token request p50 {medians[level]:.2f} ms, p90 {p90:.2f} ms over {len(times)} requests")
        finally:
            stop_all()
    first, last = levels[0], levels[-1]
    print(f"ratio {last}/{first} live tokens: {medians[last] / medians[first]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
