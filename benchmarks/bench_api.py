#!/usr/bin/env python3
"""Benchmark clio-mock: start-up time, throughput/latency under load, and memory.

    python benchmarks/bench_api.py [--spec PATH] [--duration 5] [--json OUT]

1. Start-up: time from launching ``clio-mock serve`` until ``/__mock__/health`` answers
   200 (polled every 20 ms), cold (a fresh, empty ``CLIO_MOCK_CACHE_DIR``) and warm (the
   same cache dir again). Median of ``--repeats`` runs each.
2. Throughput and latency against one live (warm-started) server: requests/second and
   p50/p90/p99 latency for a list with every field, a show, a show with every field, and
   a create, at each ``--concurrency`` level. Uses ``wrk`` when it is on PATH (with a
   small Lua script that also counts statuses and keeps a few error bodies), else an
   asyncio load generator (keep-alive HTTP/1.1 on raw streams; slower than wrk, and it
   competes with the server for the 2 CPUs, so its figures are lower bounds).
3. Memory of that server from /proc/<pid>/status: VmRSS idle after start-up, and
   VmRSS / VmHWM (peak) after the load.

All traffic goes to 127.0.0.1. Every process started here is stopped in ``finally``.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HOST = "127.0.0.1"
TOKEN = "bench"
POLL_INTERVAL = 0.020
START_TIMEOUT = 120.0
CREATE_BODY = {"data": {"type": "Person", "name": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace"}}
ERROR_SAMPLES = 5

_STARTED: list[subprocess.Popen] = []  # every server launched here, stopped in finally


# --------------------------------------------------------------------------- helpers


def default_spec() -> str | None:
    env = os.environ.get("CLIO_MOCK_SPEC")
    if env:
        return env
    shared = Path(__file__).resolve().parents[2] / "shared" / "clio" / "openapi-v4.json"
    return str(shared) if shared.exists() else None


def clio_mock_command() -> list[str]:
    """The ``clio-mock`` entry point of this interpreter (avoids version-manager shims,
    whose own start-up would be counted), else the one on PATH."""
    beside = Path(sys.executable).parent / "clio-mock"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("clio-mock")
    if found:
        return [found]
    return [sys.executable, "-m", "mockserver.cli"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def proc_status(pid: int) -> dict[str, float]:
    """VmRSS / VmHWM of a process in MB (MiB), from /proc/<pid>/status."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024.0  # kB -> MB
    except OSError:
        pass
    return out


def request_once(port: int, method: str, path: str, body: bytes | None = None, timeout: float = 10.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(p / 100.0 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


# --------------------------------------------------------------------------- servers


class Server:
    """One ``clio-mock serve`` subprocess with its own port and log file."""

    def __init__(self, spec: str, cache_dir: str, log_dir: str, label: str) -> None:
        self.spec = spec
        self.cache_dir = cache_dir
        self.port = free_port()
        self.log_path = Path(log_dir) / f"{label}.log"
        self.proc: subprocess.Popen | None = None
        self.startup_s: float | None = None

    def start(self) -> float:
        """Launch and wait for health 200; returns seconds from launch to 200."""
        env = dict(os.environ, CLIO_MOCK_CACHE_DIR=self.cache_dir)
        cmd = [*clio_mock_command(), "serve", "--spec", self.spec, "--seed", "42",
               "--port", str(self.port), "--host", HOST, "--dev-token", TOKEN, "--rate-limit", "0", "--log-level", "warning"]
        log = open(self.log_path, "wb")
        try:
            t0 = time.perf_counter()
            self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()
        _STARTED.append(self.proc)
        deadline = t0 + START_TIMEOUT
        while True:
            if self._healthy():
                self.startup_s = time.perf_counter() - t0
                return self.startup_s
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode} before becoming healthy:\n{self.log_tail()}")
            if time.perf_counter() > deadline:
                raise RuntimeError(f"server not healthy after {START_TIMEOUT:.0f}s:\n{self.log_tail()}")
            time.sleep(POLL_INTERVAL)

    def _healthy(self) -> bool:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=1.0)
        try:
            conn.request("GET", "/__mock__/health")
            resp = conn.getresponse()
            resp.read()
            return resp.status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def server_reported_seconds(self) -> float | None:
        """The server's own 'records ready in X s' figure (spec load + index + seed)."""
        m = re.search(rb"(?:seeded|ready) in ([0-9.]+)s", self.log_path.read_bytes() if self.log_path.exists() else b"")
        return float(m.group(1)) if m else None

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        stop_process(self.proc)


def stop_process(proc: subprocess.Popen | None, timeout: float = 5.0) -> None:
    """SIGTERM (the process group this script created for it), then SIGKILL on time-out."""
    if proc is None or proc.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)  # start_new_session=True: pgid == pid, only our own child
        except ProcessLookupError:
            return
        except PermissionError:
            proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            continue
    proc.wait(timeout=timeout)


def measure_startup(spec: str, repeats: int, workdir: str) -> tuple[dict, str]:
    """Cold and warm start-up times; returns the results and a warm cache dir."""
    cold, warm, cold_srv, warm_srv = [], [], [], []
    caches = [tempfile.mkdtemp(prefix=f"cold{i}-", dir=workdir) for i in range(repeats)]  # fresh and empty
    warm_cache = caches[0]  # filled by the first cold start
    for label, cache_dirs, times, reported in (("cold", caches, cold, cold_srv), ("warm", [warm_cache] * repeats, warm, warm_srv)):
        for i, cache in enumerate(cache_dirs):
            srv = Server(spec, cache, workdir, f"{label}{i}")
            try:
                times.append(srv.start())
                reported.append(srv.server_reported_seconds())
            finally:
                srv.stop()
            print(f"  {label} start {i + 1}/{repeats}: {times[-1]:.3f}s", file=sys.stderr)
    result = {
        "cold": {"median_s": statistics.median(cold), "runs_s": cold, "server_reported_s": cold_srv},
        "warm": {"median_s": statistics.median(warm), "runs_s": warm, "server_reported_s": warm_srv},
    }
    return result, warm_cache


def all_fields(spec: str, model: str, cache_dir: str) -> str:
    code = ("import sys; from mockserver.spec.source import load_index; from mockserver.engine.serializer import Serializer; "
            "print(Serializer(load_index(sys.argv[1])).all_fields(sys.argv[2]))")
    out = subprocess.run([sys.executable, "-c", code, spec, model], check=True, capture_output=True, text=True,
                         env=dict(os.environ, CLIO_MOCK_CACHE_DIR=cache_dir), timeout=120)
    return out.stdout.strip()


# --------------------------------------------------------------------------- load: wrk

WRK_LUA = r"""
-- generated by benchmarks/bench_api.py
wrk.method = "%(method)s"
wrk.headers["Authorization"] = "Bearer %(token)s"
%(body)s
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  samples = {}
  nsamples = 0
end

function response(status, headers, body)
  local k = tostring(status)
  statuses[k] = (statuses[k] or 0) + 1
  if (status < 200 or status >= 300) and nsamples < %(samples)d then
    nsamples = nsamples + 1
    samples[nsamples] = k .. " " .. string.sub(body or "", 1, 500)
  end
end

local function q(s)
  s = string.gsub(s, '[%%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == '\\' then return '\\\\' end
    return string.format("\\u%%04x", string.byte(c))
  end)
  return '"' .. s .. '"'
end

function done(summary, latency, requests)
  local st, smp = {}, {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses") or {}) do st[k] = (st[k] or 0) + v end
    for _, v in ipairs(t:get("samples") or {}) do table.insert(smp, q(v)) end
  end
  local sp = {}
  for k, v in pairs(st) do table.insert(sp, q(k) .. ":" .. v) end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%%d,"duration_us":%%d,"bytes":%%d,' ..
    '"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,"max_us":%%d,"mean_us":%%f,' ..
    '"errors":{"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d},' ..
    '"statuses":{%%s},"samples":[%%s]}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout,
    table.concat(sp, ","), table.concat(smp, ",")))
end
"""


def lua_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def run_wrk(url: str, method: str, body: bytes | None, conns: int, threads: int, duration: float, workdir: str) -> dict:
    body_lua = ""
    if body is not None:
        body_lua = f'wrk.body = {lua_string(body.decode())}\nwrk.headers["Content-Type"] = "application/json"'
    script = Path(workdir) / f"wrk-{method.lower()}.lua"
    script.write_text(WRK_LUA % {"method": method, "token": TOKEN, "body": body_lua, "samples": ERROR_SAMPLES})
    cmd = ["wrk", f"-t{min(threads, conns)}", f"-c{conns}", f"-d{max(1, round(duration))}s", "--latency",
           "--timeout", "10s", "-s", str(script), "-H", f"Authorization: Bearer {TOKEN}", url]
    out = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=duration + 60)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCHJSON ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    raw = json.loads(line[len("BENCHJSON "):])
    secs = raw["duration_us"] / 1e6
    socket_errors = {k: v for k, v in raw["errors"].items() if k != "status" and v}
    return {
        "requests": raw["requests"],
        "duration_s": secs,
        "rps": raw["requests"] / secs if secs else 0.0,
        "p50_ms": raw["p50_us"] / 1000, "p90_ms": raw["p90_us"] / 1000, "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000, "mean_ms": raw["mean_us"] / 1000,
        "mb_per_s": raw["bytes"] / secs / 1e6 if secs else 0.0,
        "statuses": dict(sorted(raw["statuses"].items())),
        "socket_errors": socket_errors,
        "error_samples": raw["samples"],
        "wrk_output": out.stdout.split("BENCHJSON")[0].rstrip(),
    }


# --------------------------------------------------------------------------- load: asyncio fallback
# A keep-alive HTTP/1.1 client on raw asyncio streams: one task per connection, each
# sending its next request when the last answer is read (like wrk). httpx's AsyncClient
# was tried first and tops out near 100 req/s here, so it would measure itself.


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(None, 2)[1])
    length, chunked = None, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # (no trailers expected)
                return status, bytes(body)
            body += await reader.readexactly(size + 2)
            del body[-2:]
    return status, (await reader.readexactly(length) if length else b"")


async def _asyncio_load(port: int, method: str, path: str, body: bytes | None, conns: int, duration: float) -> dict:
    head = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", f"Authorization: Bearer {TOKEN}", "Connection: keep-alive"]
    if body is not None:
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    raw = ("\r\n".join(head) + "\r\n\r\n").encode() + (body or b"")
    latencies: list[float] = []
    statuses: Counter = Counter()
    errors: Counter = Counter()
    samples: list[str] = []
    nbytes = 0
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        nonlocal nbytes
        writer = None
        try:
            while time.perf_counter() < deadline:
                if writer is None:
                    try:
                        reader, writer = await asyncio.open_connection(HOST, port)
                    except OSError:
                        errors["connect"] += 1
                        await asyncio.sleep(0.01)
                        continue
                t = time.perf_counter()
                try:
                    writer.write(raw)
                    status, data = await asyncio.wait_for(_read_response(reader), timeout=10.0)
                except asyncio.TimeoutError:
                    errors["timeout"] += 1
                    writer.close()
                    writer = None
                    continue
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError):
                    errors["read"] += 1
                    writer.close()
                    writer = None
                    continue
                latencies.append(time.perf_counter() - t)
                statuses[str(status)] += 1
                nbytes += len(data)
                if not 200 <= status < 300 and len(samples) < ERROR_SAMPLES:
                    samples.append(f"{status} {data[:500].decode(errors='replace')}")
        finally:
            if writer is not None:
                writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conns)))
    secs = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "duration_s": secs,
        "rps": len(latencies) / secs if secs else 0.0,
        "p50_ms": percentile(latencies, 50) * 1000, "p90_ms": percentile(latencies, 90) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": (latencies[-1] if latencies else float("nan")) * 1000,
        "mean_ms": (statistics.fmean(latencies) if latencies else float("nan")) * 1000,
        "mb_per_s": nbytes / secs / 1e6 if secs else 0.0,
        "statuses": dict(sorted(statuses.items())),
        "socket_errors": dict(errors),
        "error_samples": samples,
    }


def run_asyncio(port: int, method: str, path: str, body: bytes | None, conns: int, duration: float) -> dict:
    return asyncio.run(_asyncio_load(port, method, path, body, conns, duration))


# --------------------------------------------------------------------------- main


def scenarios(fields: str) -> list[dict]:
    body = json.dumps(CREATE_BODY).encode()
    return [
        {"name": "list matters, all fields, limit=200", "key": "list_all_fields", "method": "GET",
         "path": f"/api/v4/matters.json?limit=200&fields={fields}", "body": None, "expect": 200},
        {"name": "show matter", "key": "show", "method": "GET",
         "path": "/api/v4/matters/1.json", "body": None, "expect": 200},
        {"name": "show matter, all fields", "key": "show_all_fields", "method": "GET",
         "path": f"/api/v4/matters/1.json?fields={fields}", "body": None, "expect": 200},
        {"name": "create contact (POST)", "key": "create", "method": "POST",
         "path": "/api/v4/contacts.json", "body": body, "expect": 201},
    ]


def fmt(v: float | None, spec: str = ".1f") -> str:
    return "-" if v is None else format(v, spec)


def render(results: dict) -> str:
    lines = []
    meta = results["meta"]
    lines.append("")
    lines.append(f"clio-mock benchmark  (loader: {meta['loader']}, {meta['duration_s']:g}s per run, "
                 f"{meta['cpus']} CPUs, Python {meta['python']})")
    lines.append(f"spec: {meta['spec']}")
    lines.append("")
    if results["startup"] is None:
        lines.append("Start-up: skipped")
    else:
        lines.append("Start-up (launch -> /__mock__/health 200, polled every 20 ms), median of %d" % meta["repeats"])
        lines.append(f"  {'':6} {'median':>8}  {'runs (s)':<24} {'server-reported load+seed (s)':>30}")
        for kind in ("cold", "warm"):
            s = results["startup"][kind]
            runs = ", ".join(f"{x:.3f}" for x in s["runs_s"])
            srv = ", ".join(fmt(x, ".2f") for x in s["server_reported_s"])
            lines.append(f"  {kind:6} {s['median_s']:>7.3f}s  {runs:<24} {srv:>30}")
    lines.append("")
    lines.append("Throughput / latency (one warm server, Authorization: Bearer bench)")
    header = f"  {'endpoint':<38} {'conc':>4} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} {'MB/s':>7} {'requests':>9}  statuses"
    lines.append(header)
    lines.append("  " + "-" * (len(header) - 2 + 10))
    problems = []
    for r in results["load"]:
        st = " ".join(f"{k}:{v}" for k, v in r["statuses"].items())
        if r["socket_errors"]:
            st += "  sock-err " + " ".join(f"{k}:{v}" for k, v in r["socket_errors"].items())
        lines.append(f"  {r['name']:<38} {r['concurrency']:>4} {r['rps']:>9.1f} {r['p50_ms']:>8.2f} {r['p90_ms']:>8.2f} "
                     f"{r['p99_ms']:>8.2f} {r['max_ms']:>8.1f} {r['mb_per_s']:>7.2f} {r['requests']:>9}  {st}")
        bad = {k: v for k, v in r["statuses"].items() if k != str(r["expect"])}
        if bad or r["socket_errors"] or r["error_samples"]:
            problems.append((r, bad))
    lines.append("")
    sizes = {r["name"]: r["probe_bytes"] for r in results["load"]}
    lines.append("Response sizes (single probe): " + "; ".join(f"{k}: {v} B" for k, v in sizes.items()))
    lines.append("")
    m = results["memory"]
    lines.append("Server memory (/proc/<pid>/status)")
    lines.append(f"  idle after start-up: VmRSS {fmt(m['idle_rss_mb'])} MB")
    lines.append(f"  after load:          VmRSS {fmt(m['after_rss_mb'])} MB, peak VmHWM {fmt(m['peak_hwm_mb'])} MB")
    lines.append("")
    if problems:
        lines.append("Unexpected statuses / errors under load:")
        for r, bad in problems:
            lines.append(f"  {r['name']} @ c{r['concurrency']}: unexpected {bad or '-'} socket errors {r['socket_errors'] or '-'}")
            for s in r["error_samples"]:
                lines.append(f"    body: {s[:300]}")
    else:
        lines.append("No unexpected statuses or socket errors under load.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", default=default_spec(), help="OpenAPI document (default: $CLIO_MOCK_SPEC or ../shared/clio/openapi-v4.json)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per load run (default 5)")
    parser.add_argument("--json", metavar="OUT", help="also write the results as JSON to OUT")
    parser.add_argument("--repeats", type=int, default=3, help="start-ups of each kind (default 3)")
    parser.add_argument("--concurrency", default="2,50", help="comma-separated connection counts (default 2,50)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--loader", choices=("auto", "wrk", "asyncio"), default="auto", help="load generator (default: wrk if on PATH)")
    parser.add_argument("--skip-startup", action="store_true", help="only the load and memory figures")
    args = parser.parse_args(argv)
    if not args.spec:
        parser.error("no spec: pass --spec or set CLIO_MOCK_SPEC")
    args.spec = str(Path(args.spec).resolve()) if "://" not in args.spec else args.spec
    concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    loader = args.loader
    if loader == "auto":
        loader = "wrk" if shutil.which("wrk") else "asyncio"
    elif loader == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not on PATH")

    # SIGTERM/SIGHUP -> SystemExit so that the finally below stops the servers.
    def _exit(signum, frame):
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit)

    workdir = tempfile.mkdtemp(prefix="clio-mock-bench-")
    results: dict = {"meta": {
        "spec": args.spec, "duration_s": args.duration, "loader": loader, "repeats": args.repeats,
        "concurrency": concurrency, "wrk_threads": args.threads if loader == "wrk" else None,
        "cpus": os.cpu_count(), "python": platform.python_version(), "command": clio_mock_command(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }}
    server = None
    try:
        if args.skip_startup:
            warm_cache = tempfile.mkdtemp(prefix="cache-", dir=workdir)
            results["startup"] = None
        else:
            print("start-up ...", file=sys.stderr)
            results["startup"], warm_cache = measure_startup(args.spec, args.repeats, workdir)

        fields = all_fields(args.spec, "Matter", warm_cache)
        results["meta"]["matter_all_fields_count"] = len(fields.split(","))

        server = Server(args.spec, warm_cache, workdir, "load")
        results["meta"]["load_server_startup_s"] = server.start()
        time.sleep(0.5)
        idle = proc_status(server.proc.pid)

        results["load"] = []
        for sc in scenarios(fields):
            status, body = request_once(server.port, sc["method"], sc["path"], sc["body"])
            if status != sc["expect"]:
                print(f"  probe {sc['name']}: status {status}: {body[:300]!r}", file=sys.stderr)
            for conns in concurrency:
                url = f"http://{HOST}:{server.port}{sc['path']}"
                print(f"load: {sc['name']} @ {conns} connections ({loader}, {args.duration:g}s) ...", file=sys.stderr)
                if loader == "wrk":
                    r = run_wrk(url, sc["method"], sc["body"], conns, args.threads, args.duration, workdir)
                else:
                    r = run_asyncio(server.port, sc["method"], sc["path"], sc["body"], conns, args.duration)
                if server.proc.poll() is not None:
                    raise RuntimeError(f"server died under load:\n{server.log_tail()}")
                r.update(name=sc["name"], key=sc["key"], method=sc["method"], path=sc["path"], concurrency=conns,
                         expect=sc["expect"], probe_status=status, probe_bytes=len(body))
                results["load"].append(r)
                time.sleep(0.5)
        after = proc_status(server.proc.pid)
        results["memory"] = {"idle_rss_mb": idle.get("VmRSS"), "idle_hwm_mb": idle.get("VmHWM"),
                             "after_rss_mb": after.get("VmRSS"), "peak_hwm_mb": after.get("VmHWM")}
        log_tail = server.log_tail(200)
        tracebacks = log_tail.count("Traceback")
        results["meta"]["server_log_tracebacks"] = tracebacks
    finally:
        if server is not None:
            server.stop()
        for proc in _STARTED:
            stop_process(proc)
        shutil.rmtree(workdir, ignore_errors=True)

    text = render(results)
    if results["meta"].get("server_log_tracebacks"):
        text += f"\nServer log had {results['meta']['server_log_tracebacks']} traceback(s) (last 200 lines)."
    print(text)
    if args.json:
        for r in results["load"]:
            r.pop("wrk_output", None)
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
