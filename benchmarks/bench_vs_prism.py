#!/usr/bin/env python3
"""clio-mock side by side with Stoplight Prism and with the bare Starlette floor, in one run.

    python benchmarks/bench_vs_prism.py [--spec PATH] [--duration 10 | --quick] [--json OUT]

1. Installs ``@stoplight/prism-cli@5`` from npm into a temp dir (or reuses ``--prism-dir``).
2. Start-up (launch -> first 2xx of the GET show URL, polled every 20 ms), median of
   ``--repeats``: clio-mock cold (empty ``CLIO_MOCK_CACHE_DIR``) and warm (the same cache
   again); Prism static and Prism dynamic (``-d``), which have no cache, so one figure each.
3. Load, with wrk (-t2) for ``--duration`` s per run at 2 and 50 connections, against a
   fresh server of each kind: GET list (``?limit=200``), GET show, POST create for Prism
   static, Prism dynamic and clio-mock (whose list and show also run with ``fields=`` every
   top-level Matter field, since by default clio-mock returns only id and etag); then the
   floor (``floor_app.py``: bare Starlette + uvicorn answering clio-mock's own show bodies).
   RSS idle after start-up and peak (VmHWM) after the load, for the whole process tree.
4. Scale: clio-mock with ``--records Matter=N`` for each N of ``--scale``: seeding time,
   RSS, and wrk p50 of the first list page, of a deep page (``next`` followed up to 20
   times) and of the show of the middle record.
5. Prints the tables and the issue's targets as ratios, each MET / NOT MET; ``--json OUT``.

Every request (Prism too) sends ``Authorization: Bearer <bench_api.TOKEN>``; clio-mock is
started with that string as its ``--dev-token``. All traffic stays on 127.0.0.1, and every
process started here is stopped (its process group) in ``finally``, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_api as ba  # noqa: E402
from _harness import Proc, seeded_report, stop_all  # noqa: E402

HERE = Path(__file__).resolve().parent
HOST = ba.HOST
PRISM_PACKAGE = "@stoplight/prism-cli@5"
CREATE_BODY = json.dumps({"data": {"type": "Person", "name": "Ada Lovelace"}}).encode()
API = "/api/v4"
WARMUP_REQUESTS = 5
DEEP_PAGES = 20

TARGETS = {"list_vs_static": 3.0, "list_vs_dynamic": 20.0, "p99_c50_vs_prism": 1 / 3, "show_vs_floor": 0.5,
           "warm_startup_s": 1.0, "idle_rss_mb": 150.0, "scale_p50_ratio": 1.5}


# --------------------------------------------------------------------------- servers

def install_prism(prism_dir: str | None, workdir: str) -> dict:
    """npm-install Prism into a temp dir (or reuse ``prism_dir`` if it already holds it)."""
    target = prism_dir or tempfile.mkdtemp(prefix="prism-", dir=workdir)
    pkg = Path(target) / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
    t0 = time.perf_counter()
    installed = False
    if not pkg.exists():
        npm = shutil.which("npm")
        if not npm:
            raise RuntimeError("npm is not on PATH (Prism is installed with npm)")
        print(f"npm install {PRISM_PACKAGE} into {target} ...", file=sys.stderr)
        out = subprocess.run([npm, "install", "--prefix", target, "--no-audit", "--no-fund", "--loglevel=error",
                              PRISM_PACKAGE], capture_output=True, text=True, timeout=900,
                             env=dict(os.environ, npm_config_update_notifier="false"))
        if out.returncode != 0 or not pkg.exists():
            raise RuntimeError(f"npm install failed ({out.returncode}):\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
        installed = True
    meta = json.loads(pkg.read_text())
    bin_rel = meta["bin"]["prism"] if isinstance(meta.get("bin"), dict) else meta["bin"]
    node = shutil.which("node")
    if not node:
        raise RuntimeError("node is not on PATH")
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    return {"dir": target, "version": meta["version"], "entry": str(pkg.parent / bin_rel), "node": node,
            "node_version": node_version, "install_s": time.perf_counter() - t0 if installed else None}


def prism_proc(prism: dict, spec: str, dynamic: bool, workdir: str, label: str) -> Proc:
    # node runs the CLI's JS entry directly (not through a wrapper), so the pid is the server's.
    port = ba.free_port()
    cmd = [prism["node"], prism["entry"], "mock", "-h", HOST, "-p", str(port), spec] + (["-d"] if dynamic else [])
    return Proc(label, cmd, port, "/matters/1.json", workdir)


SERVER = "uvicorn"  # --server: clio-mock and the floor run on the same HTTP server


def clio_proc(spec: str, cache_dir: str, workdir: str, label: str, records: int | None = None,
              timeout: float = 120.0) -> Proc:
    port = ba.free_port()
    cmd = [*ba.clio_mock_command(), "serve", "--spec", spec, "--host", HOST, "--port", str(port),
           "--rate-limit", "0", "--log-level", "warning", "--dev-token", ba.TOKEN, "--server", SERVER]
    if records:
        cmd += ["--records", f"Matter={records}"]
    env = dict(os.environ, CLIO_MOCK_CACHE_DIR=cache_dir)
    return Proc(label, cmd, port, f"{API}/matters/1.json", workdir, env=env, timeout=timeout)


def floor_proc(bodies: dict[str, Path], workdir: str) -> Proc:
    port = ba.free_port()
    cmd = [sys.executable, str(HERE / "floor_app.py"), "--host", HOST, "--port", str(port), "--log-level", "warning",
           "--server", SERVER]
    for path, file in bodies.items():
        cmd += ["--route", f"{path}={file}"]
    return Proc("floor", cmd, port, next(iter(bodies)), workdir)


# --------------------------------------------------------------------------- measuring

def time_starts(make, repeats: int) -> list[float]:
    times = []
    for i in range(repeats):
        p = make(i)
        try:
            times.append(p.start())
        finally:
            p.stop()
        print(f"  {p.label}: {times[-1]:.3f}s", file=sys.stderr)
    return times


def summary(times: list[float]) -> dict:
    return {"median_s": statistics.median(times), "runs_s": times}


def wrk(proc: Proc, sc: dict, conns: int, args, workdir: str) -> dict:
    url = f"http://{HOST}:{proc.port}{sc['path']}"
    print(f"  wrk {proc.label} {sc['label']} c={conns} ({args.duration:g}s) ...", file=sys.stderr)
    r = ba.run_wrk(url, sc["method"], sc["body"], conns, args.threads, args.duration, workdir)
    r.pop("wrk_output", None)
    if not proc.alive():
        raise RuntimeError(f"{proc.label} died under load:\n{proc.log_tail()}")
    r["unexpected"] = {k: v for k, v in r["statuses"].items() if k != str(sc["expect"])}
    time.sleep(0.5)
    return r


def probe(proc: Proc, sc: dict) -> tuple[int, bytes]:
    status, body = ba.request_once(proc.port, sc["method"], sc["path"], sc["body"], timeout=30)
    if status != sc["expect"]:
        print(f"  probe {proc.label} {sc['label']}: status {status}: {body[:300]!r}", file=sys.stderr)
    for _ in range(WARMUP_REQUESTS):
        ba.request_once(proc.port, sc["method"], sc["path"], sc["body"], timeout=30)
    return status, body


def load_server(proc: Proc, scenarios: list[dict], args, workdir: str, keep_bodies: bool = False) -> dict:
    """Start ``proc``, take idle memory, run every scenario at every concurrency, take peak."""
    out: dict = {"startup_s": proc.start()}
    time.sleep(0.5)
    out["idle"] = proc.memory()
    out["runs"] = {}
    out["probes"] = {}
    bodies = {}
    for sc in scenarios:
        status, body = probe(proc, sc)
        out["probes"][sc["key"]] = {"status": status, "bytes": len(body), "path": sc["path"], "method": sc["method"]}
        if keep_bodies:
            bodies[sc["key"]] = body
        out["runs"][sc["key"]] = {str(c): wrk(proc, sc, c, args, workdir) for c in args.conns}
    out["after"] = proc.memory()
    out["log_tracebacks"] = proc.log_text().count("Traceback")
    return out if not keep_bodies else {**out, "_bodies": bodies}


def follow_next(port: int, path: str, hops: int) -> tuple[str, int, int | None]:
    """Follow ``meta.paging.next`` up to ``hops`` times; the last page's path, the hops made
    and the first id on that page."""
    made = 0
    first_id = None
    while True:
        status, body = ba.request_once(port, "GET", path, timeout=60)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {body[:200]!r}")
        doc = json.loads(body)
        first_id = doc["data"][0]["id"] if doc.get("data") else None
        nxt = (doc.get("meta") or {}).get("paging", {}).get("next")
        if made >= hops or not nxt:
            return path, made, first_id
        u = urlsplit(nxt)
        candidate = u.path + ("?" + u.query if u.query else "")
        status, body = ba.request_once(port, "GET", candidate, timeout=60)
        if status != 200 or not json.loads(body).get("data"):
            return path, made, first_id  # next points at an empty page: stay on the last full one
        path = candidate
        made += 1


def scale_run(n: int, spec: str, cache: str, args, workdir: str) -> dict:
    proc = clio_proc(spec, cache, workdir, f"clio-mock-matter-{n}", records=n, timeout=args.seed_timeout)
    out: dict = {"records": n}
    try:
        print(f"scale: clio-mock --records Matter={n} ...", file=sys.stderr)
        out["startup_s"] = proc.start()
        out["server_records"], out["server_seeded_s"] = seeded_report(proc.log_text())
        time.sleep(0.5)
        out["idle"] = proc.memory()
        deep_path, hops, deep_first = follow_next(proc.port, f"{API}/matters.json?limit=200", DEEP_PAGES)
        mid = max(1, n // 2)
        show_path = f"{API}/matters/{mid}.json"
        if ba.request_once(proc.port, "GET", show_path)[0] != 200:
            show_path = f"{API}/matters/{deep_first}.json"
        out.update(deep_hops=hops, deep_first_id=deep_first, show_path=show_path)
        scen = [
            {"key": "list_first", "label": "GET list page 1", "method": "GET", "path": f"{API}/matters.json?limit=200", "body": None, "expect": 200},
            {"key": "list_deep", "label": f"GET list page {hops + 1}", "method": "GET", "path": deep_path, "body": None, "expect": 200},
            {"key": "show_mid", "label": "GET show", "method": "GET", "path": show_path, "body": None, "expect": 200},
        ]
        out["runs"] = {}
        for sc in scen:
            probe(proc, sc)
            out["runs"][sc["key"]] = wrk(proc, sc, args.scale_conns, args, workdir)
        out["after"] = proc.memory()
    except TimeoutError as exc:
        out["error"] = f"not ready after {args.seed_timeout:.0f}s (raise --seed-timeout)"
        print(f"scale {n}: {exc}", file=sys.stderr)
    except Exception as exc:  # report and keep going with the other sizes
        out["error"] = f"{type(exc).__name__}: {exc}"[:2000]
        print(f"scale {n}: {out['error']}", file=sys.stderr)
    finally:
        proc.stop()
    return out


# --------------------------------------------------------------------------- scenarios

def prism_scenarios() -> list[dict]:
    return [
        {"key": "list", "label": "GET list", "method": "GET", "path": "/matters.json?limit=200", "body": None, "expect": 200},
        {"key": "show", "label": "GET show", "method": "GET", "path": "/matters/1.json", "body": None, "expect": 200},
        {"key": "create", "label": "POST create", "method": "POST", "path": "/contacts.json", "body": CREATE_BODY, "expect": 201},
    ]


def clio_scenarios(fields: str) -> list[dict]:
    return [
        {"key": "list", "label": "GET list", "method": "GET", "path": f"{API}/matters.json?limit=200", "body": None, "expect": 200},
        {"key": "list_all", "label": "GET list all fields", "method": "GET", "path": f"{API}/matters.json?limit=200&fields={fields}", "body": None, "expect": 200},
        {"key": "show", "label": "GET show", "method": "GET", "path": f"{API}/matters/1.json", "body": None, "expect": 200},
        {"key": "show_all", "label": "GET show all fields", "method": "GET", "path": f"{API}/matters/1.json?fields={fields}", "body": None, "expect": 200},
        # last: each request adds a contact
        {"key": "create", "label": "POST create", "method": "POST", "path": f"{API}/contacts.json", "body": CREATE_BODY, "expect": 201},
    ]


# rows of the comparison table: (clio-mock scenario, Prism scenario, label)
ROWS = [("list", "list", "GET list, clio default fields (id,etag)"),
        ("list_all", "list", "GET list, clio all top-level fields"),
        ("show", "show", "GET show, clio default fields (id,etag)"),
        ("show_all", "show", "GET show, clio all top-level fields"),
        ("create", "create", "POST create contact")]
FLOOR_ROWS = [("show", "GET show, default fields"), ("show_all", "GET show, all top-level fields"),
              ("list_all", "GET list, all top-level fields")]


# --------------------------------------------------------------------------- analysis

def run_of(res: dict, server: str, key: str, conns) -> dict | None:
    try:
        return res["load"][server]["runs"][key][str(conns)]
    except (KeyError, TypeError):
        return None


def ratio(a, b) -> float | None:
    return a / b if a is not None and b else None


def targets(res: dict) -> list[dict]:
    out = []

    def add(name, value, goal, ok_if):
        met = None if value is None else (value >= goal if ok_if == ">=" else value <= goal)
        out.append({"target": name, "value": value, "goal": f"{ok_if} {goal:.3g}", "met": met})

    for ckey, pkey, label in ROWS[:4]:
        short = label.split(",")[0] + (" (all fields)" if "all" in ckey else " (default fields)")
        for c in res["meta"]["concurrency"]:
            cm = run_of(res, "clio-mock", ckey, c)
            for mode, goal in (("prism-static", TARGETS["list_vs_static"]), ("prism-dynamic", TARGETS["list_vs_dynamic"])):
                pr = run_of(res, mode, pkey, c)
                add(f"{short} c={c} req/s vs {mode}", ratio(cm and cm["rps"], pr and pr["rps"]), goal, ">=")
    for ckey, pkey, label in ROWS:
        short = label.split(",")[0] + ("" if ckey == "create" else " (all fields)" if "all" in ckey else " (default fields)")
        cm = run_of(res, "clio-mock", ckey, 50)
        for mode in ("prism-static", "prism-dynamic"):
            pr = run_of(res, mode, pkey, 50)
            add(f"{short} c=50 p99 vs {mode}", ratio(cm and cm["p99_ms"], pr and pr["p99_ms"]), TARGETS["p99_c50_vs_prism"], "<=")
    for key, label in (("show", "GET show (default fields)"), ("list_all", "GET list (all fields)")):
        for c in res["meta"]["concurrency"]:
            cm, fl = run_of(res, "clio-mock", key, c), run_of(res, "floor", key, c)
            add(f"{label} c={c} req/s vs bare Starlette floor", ratio(cm and cm["rps"], fl and fl["rps"]),
                TARGETS["show_vs_floor"], ">=")
    st = res.get("startup") or {}
    warm = (st.get("clio-mock-warm") or {}).get("median_s")
    cold = (st.get("clio-mock-cold") or {}).get("median_s")
    add("clio-mock warm start-up (s)", warm, TARGETS["warm_startup_s"], "<=")
    for mode in ("prism-static", "prism-dynamic"):
        p = (st.get(mode) or {}).get("median_s")
        add(f"clio-mock cold start-up / {mode} start-up", ratio(cold, p), 1.0, "<=")
    idle = ((res["load"].get("clio-mock") or {}).get("idle") or {}).get("rss_mb")
    add("clio-mock idle RSS, default seed (MB)", idle, TARGETS["idle_rss_mb"], "<=")
    sc = scale_summary(res)
    if sc:
        for key, label in (("list_first", "GET list page 1"), ("list_deep", "GET list deep page"), ("show_mid", "GET show")):
            add(f"scale: {label} p50 at {sc['hi']} / at {sc['lo']} records", sc["p50_ratio"].get(key),
                TARGETS["scale_p50_ratio"], "<=")
    return out


def scale_summary(res: dict) -> dict | None:
    ok = [s for s in res.get("scale") or [] if "runs" in s and "error" not in s]
    if len(ok) < 2:
        return None
    lo, hi = ok[0], ok[-1]
    dn = hi["records"] - lo["records"]
    p50 = {k: ratio(hi["runs"][k]["p50_ms"], lo["runs"][k]["p50_ms"]) for k in hi["runs"]}
    mem = ratio((hi["idle"]["rss_mb"] - lo["idle"]["rss_mb"]) * 100_000, dn)
    seed = None
    if hi.get("server_seeded_s") is not None and lo.get("server_seeded_s") is not None:
        seed = ratio((hi["server_seeded_s"] - lo["server_seeded_s"]) * 100_000, dn)
    return {"lo": lo["records"], "hi": hi["records"], "p50_ratio": p50, "rss_mb_per_100k": mem, "seed_s_per_100k": seed}


# --------------------------------------------------------------------------- output

def f(v, spec=".1f", suffix="") -> str:
    return "-" if v is None else format(v, spec) + suffix


def x(v) -> str:
    return "-" if v is None else f"{v:.2f}x"


def render(res: dict) -> str:
    m = res["meta"]
    L = []
    L.append("")
    L.append(f"clio-mock vs Prism vs bare Starlette  ({m['duration_s']:g} s per wrk run, wrk -t{m['threads']}, "
             f"{m['cpus']} CPUs, Python {m['python']}, {m['wrk']})")
    pr = res.get("prism") or {}
    L.append(f"spec: {m['spec']}")
    L.append(f"Prism: @stoplight/prism-cli {pr.get('version', '?')} on node {pr.get('node_version', '?')}"
             + (f" (npm install took {pr['install_s']:.1f}s)" if pr.get("install_s") else ""))
    L.append(f"clio-mock: {' '.join(m['clio_cmd'])} serve --rate-limit 0 --log-level warning --dev-token {ba.TOKEN}"
             f" --server {m.get('server', 'uvicorn')} (the floor runs on the same server)")
    L.append(f"every request sends 'Authorization: Bearer {ba.TOKEN}'; Prism paths are the spec's (/matters.json), "
             f"clio-mock's are under {API}")
    L.append("")

    # start-up and memory
    st = res.get("startup") or {}
    load = res.get("load") or {}
    cols = ["prism-static", "prism-dynamic", "clio-mock", "floor"]
    L.append("Start-up (launch -> first 2xx of GET show, polled every 20 ms; median of %d) and memory (process tree)" % m["repeats"])
    L.append(f"  {'':<22}" + "".join(f"{c:>15}" for c in cols) + f"{'clio/static':>13}{'clio/dynamic':>14}")

    def start_val(col, kind):
        if col.startswith("prism"):
            return (st.get(col) or {}).get("median_s")  # no cache: the same figure for cold and warm
        if col == "clio-mock":
            return (st.get(f"clio-mock-{kind}") or {}).get("median_s")
        return (load.get("floor") or {}).get("startup_s")

    def mem_val(col, which):
        d = load.get(col) or {}
        return (d.get("idle") or {}).get("rss_mb") if which == "idle" else (d.get("after") or {}).get("hwm_mb")

    for label, getter, spec in (("start-up cold (s)", lambda c: start_val(c, "cold"), ".3f"),
                                ("start-up warm (s)", lambda c: start_val(c, "warm"), ".3f"),
                                ("RSS idle (MB)", lambda c: mem_val(c, "idle"), ".1f"),
                                ("RSS peak VmHWM (MB)", lambda c: mem_val(c, "peak"), ".1f")):
        vals = [getter(c) for c in cols]
        L.append(f"  {label:<22}" + "".join(f"{f(v, spec):>15}" for v in vals)
                 + f"{x(ratio(vals[2], vals[0])):>13}{x(ratio(vals[2], vals[1])):>14}")
    if st:
        L.append("  runs (s): " + "; ".join(f"{k} " + ", ".join(f"{t:.2f}" for t in v["runs_s"]) for k, v in st.items()))
    procs = {k: (v.get("after") or {}).get("processes") for k, v in load.items()}
    L.append("  Prism has no cache: its cold and warm figures are the same runs. Processes measured: "
             + ", ".join(f"{k} {v}" for k, v in procs.items()))
    L.append("")

    # load comparison
    L.append("Load: req/s and latency (ms); ratios are clio-mock / Prism (req/s: higher is better; p99: lower is better)")
    hdr = (f"  {'endpoint':<41}{'c':>3} | {'Prism static':^22} | {'Prism dynamic':^22} | {'clio-mock':^24} |"
           f" {'clio/static':^15} | {'clio/dynamic':^15}")
    L.append(hdr)
    sub = f"  {'':<41}{'':>3} |" + (f" {'req/s':>7}{'p50':>7}{'p99':>8} |" * 2) + f" {'req/s':>8}{'p50':>7}{'p99':>8} |" + (f" {'req/s':>7}{'p99':>7} |" * 2)
    L.append(sub)
    L.append("  " + "-" * (len(sub) - 2))
    for ckey, pkey, label in ROWS:
        for c in m["concurrency"]:
            ps, pd, cm = (run_of(res, "prism-static", pkey, c), run_of(res, "prism-dynamic", pkey, c),
                          run_of(res, "clio-mock", ckey, c))

            def trio(r, w=7):
                return (f" {f(r and r['rps'], '.0f'):>{w}}{f(r and r['p50_ms'], '.1f'):>7}{f(r and r['p99_ms'], '.1f'):>8} |")

            def rat(p):
                return f" {x(ratio(cm and cm['rps'], p and p['rps'])):>7}{x(ratio(cm and cm['p99_ms'], p and p['p99_ms'])):>7} |"

            L.append(f"  {label:<41}{c:>3} |" + trio(ps) + trio(pd) + trio(cm, 8) + rat(ps) + rat(pd))
    L.append("")
    L.append("Response sizes (bytes of one probe response; Prism static/dynamic return one full example)")
    L.append(f"  {'endpoint':<41}{'Prism static':>14}{'Prism dynamic':>15}{'clio-mock':>11}   clio-mock path")
    for ckey, pkey, label in ROWS:
        def size(server, key):
            return ((load.get(server) or {}).get("probes") or {}).get(key, {}).get("bytes")
        path = ((load.get("clio-mock") or {}).get("probes") or {}).get(ckey, {}).get("path", "")
        if len(path) > 70:
            path = path[:70] + "..."
        L.append(f"  {label:<41}{f(size('prism-static', pkey), 'd'):>14}{f(size('prism-dynamic', pkey), 'd'):>15}"
                 f"{f(size('clio-mock', ckey), 'd'):>11}   {path}")
    L.append("")

    # floor
    L.append(f"Floor: bare Starlette + {m.get('server', 'uvicorn')} (floor_app.py) answering clio-mock's own response bytes, "
             "no serialisation")
    L.append(f"  {'endpoint':<34}{'bytes':>7}{'c':>4} | {'floor req/s':>11}{'p50':>7}{'p99':>7} | {'clio req/s':>10}{'p50':>7}{'p99':>7} | {'clio/floor':>10}")
    for key, label in FLOOR_ROWS:
        b = ((load.get("floor") or {}).get("probes") or {}).get(key, {}).get("bytes")
        for c in m["concurrency"]:
            fl, cm = run_of(res, "floor", key, c), run_of(res, "clio-mock", key, c)
            L.append(f"  {label:<34}{f(b, 'd'):>7}{c:>4} | {f(fl and fl['rps'], '.0f'):>11}{f(fl and fl['p50_ms'], '.1f'):>7}"
                     f"{f(fl and fl['p99_ms'], '.1f'):>7} | {f(cm and cm['rps'], '.0f'):>10}{f(cm and cm['p50_ms'], '.1f'):>7}"
                     f"{f(cm and cm['p99_ms'], '.1f'):>7} | {x(ratio(cm and cm['rps'], fl and fl['rps'])):>10}")
    L.append("")

    # problems under load
    problems = []
    for server, d in load.items():
        if "error" in d:
            problems.append(f"  {server}: {d['error'][:500]}")
            continue
        for key, byc in (d.get("runs") or {}).items():
            for c, r in byc.items():
                if r["unexpected"] or r["socket_errors"]:
                    problems.append(f"  {server} {key} c={c}: unexpected statuses {r['unexpected'] or '-'}, "
                                    f"socket errors {r['socket_errors'] or '-'}"
                                    + (f"; e.g. {r['error_samples'][0][:200]}" if r["error_samples"] else ""))
        if d.get("log_tracebacks"):
            problems.append(f"  {server}: {d['log_tracebacks']} traceback(s) in its log")
    L.append("Unexpected statuses / socket errors under load:" if problems else "No unexpected statuses or socket errors under load.")
    L.extend(problems)
    L.append("")

    # scale
    if res.get("scale"):
        L.append(f"Scale: clio-mock --records Matter=N (warm index cache); wrk c={m['scale_conns']}, p50/p99 ms; "
                 f"'deep' = meta.paging.next followed up to {DEEP_PAGES} times")
        L.append(f"  {'records':>8} {'all recs':>8} {'server s':>9} {'ready s':>8} {'RSS MB':>8} | {'list p1 p50/p99':>16} {'req/s':>6} |"
                 f" {'deep page':>9} {'p50/p99':>12} {'req/s':>6} | {'show id':>8} {'p50/p99':>12} {'req/s':>6}")
        L.append("  (all recs, server s: the server's own 'N records ready in X s' line -- every seeded record, and the"
                 " time includes loading the cached spec index; ready s: launch -> first 2xx)")
        for s in res["scale"]:
            if "runs" not in s:
                L.append(f"  {s['records']:>8}  {s.get('error', 'failed')}")
                continue
            r = s["runs"]

            def pp(k):
                return f"{r[k]['p50_ms']:.2f}/{r[k]['p99_ms']:.1f}"

            sid = s["show_path"].rsplit("/", 1)[1].split(".")[0]
            L.append(f"  {s['records']:>8} {f(s.get('server_records'), 'd'):>8} {f(s.get('server_seeded_s'), '.2f'):>9}"
                     f" {s['startup_s']:>8.2f} {f(s['idle']['rss_mb']):>8} | {pp('list_first'):>16} {r['list_first']['rps']:>6.0f} |"
                     f" {s['deep_hops'] + 1:>9} {pp('list_deep'):>12} {r['list_deep']['rps']:>6.0f} |"
                     f" {sid:>8} {pp('show_mid'):>12} {r['show_mid']['rps']:>6.0f}")
        sc = scale_summary(res)
        if sc:
            pr_ = sc["p50_ratio"]
            L.append(f"  p50 at {sc['hi']} / at {sc['lo']}: list page 1 {x(pr_.get('list_first'))}, deep page "
                     f"{x(pr_.get('list_deep'))}, show {x(pr_.get('show_mid'))}")
            L.append(f"  memory per 100k records: {f(sc['rss_mb_per_100k'])} MB RSS; seeding per 100k records: "
                     f"{f(sc['seed_s_per_100k'], '.1f')} s (differences between {sc['lo']} and {sc['hi']}, from the "
                     f"server's 'records ready in' line, which includes loading the cached index)")
        L.append("")

    # targets
    L.append("Targets (ratios from this run)")
    L.append(f"  {'target':<70}{'value':>10}  {'goal':<9} result")
    for t in res.get("targets", []):
        v = t["value"]
        vs = "-" if v is None else (f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}")
        verdict = "n/a" if t["met"] is None else ("MET" if t["met"] else "NOT MET")
        L.append(f"  {t['target']:<70}{vs:>10}  {t['goal']:<9} {verdict}")
    n_met = sum(1 for t in res.get("targets", []) if t["met"])
    n_all = sum(1 for t in res.get("targets", []) if t["met"] is not None)
    L.append(f"  {n_met}/{n_all} met")
    L.append("")
    la = " / ".join(", ".join(f"{v:.2f}" for v in m[k]) for k in ("loadavg_start", "loadavg_end") if m.get(k))
    L.append(f"Total run time: {m.get('total_s', 0):.0f} s; load average (1/5/15 min) at start / end: {la} "
             f"(anything above ~0 before start means other work shared the CPUs)")
    return "\n".join(L)


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", default=ba.default_spec(), help="OpenAPI document (default: $CLIO_MOCK_SPEC or ../shared/clio/openapi-v4.json)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run (default 10, the issue's protocol)")
    parser.add_argument("--quick", action="store_true", help="3 s per wrk run")
    parser.add_argument("--json", metavar="OUT", help="also write the results as JSON to OUT")
    parser.add_argument("--repeats", type=int, default=3, help="start-ups of each kind; the median is reported (default 3)")
    parser.add_argument("--concurrency", default="2,50", help="wrk connection counts (default 2,50)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--scale", default="1000,10000,100000", help="Matter record counts for the scale part ('' to skip)")
    parser.add_argument("--scale-concurrency", type=int, default=2, help="wrk connections for the scale part (default 2)")
    parser.add_argument("--seed-timeout", type=float, default=600.0, help="seconds to wait for a scale server to seed (default 600)")
    parser.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn",
                        help="HTTP server for clio-mock and the floor alike (default uvicorn, clio-mock's default)")
    parser.add_argument("--prism-dir", help="install Prism here, or reuse the install already here (default: a temp dir)")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration = 3.0
    if not args.spec:
        parser.error("no spec: pass --spec or set CLIO_MOCK_SPEC")
    if not shutil.which("wrk"):
        parser.error("wrk is not on PATH (apt-get install -y wrk)")
    args.spec = str(Path(args.spec).resolve())
    global SERVER
    SERVER = args.server
    args.conns = [int(c) for c in args.concurrency.split(",") if c.strip()]
    args.scale_conns = args.scale_concurrency
    scale_sizes = [int(n) for n in args.scale.split(",") if n.strip()]

    def _exit(signum, frame):
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit)

    t_begin = time.perf_counter()
    workdir = tempfile.mkdtemp(prefix="clio-bench-vs-prism-")
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("Copyright")[0].strip()
    res: dict = {"meta": {
        "spec": args.spec, "duration_s": args.duration, "threads": args.threads, "concurrency": args.conns,
        "scale_conns": args.scale_conns, "repeats": args.repeats, "cpus": os.cpu_count(),
        "python": platform.python_version(), "wrk": wrk_version, "clio_cmd": ba.clio_mock_command(),
        "token": ba.TOKEN, "server": args.server, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "loadavg_start": os.getloadavg(),
    }, "startup": {}, "load": {}, "scale": []}
    try:
        res["prism"] = prism = install_prism(args.prism_dir, workdir)
        print(f"Prism {prism['version']} ({prism['entry']})", file=sys.stderr)

        print("start-up ...", file=sys.stderr)
        cold_caches = [tempfile.mkdtemp(prefix=f"cache-cold{i}-", dir=workdir) for i in range(args.repeats)]
        warm_cache = cold_caches[0]  # filled by the first cold start
        st = res["startup"]
        st["clio-mock-cold"] = summary(time_starts(lambda i: clio_proc(args.spec, cold_caches[i], workdir, f"clio-mock-cold{i}"), args.repeats))
        st["clio-mock-warm"] = summary(time_starts(lambda i: clio_proc(args.spec, warm_cache, workdir, f"clio-mock-warm{i}"), args.repeats))
        for mode, dyn in (("prism-static", False), ("prism-dynamic", True)):
            st[mode] = summary(time_starts(lambda i, d=dyn, mo=mode: prism_proc(prism, args.spec, d, workdir, f"{mo}{i}"), args.repeats))

        fields = ba.all_fields(args.spec, "Matter", warm_cache)
        res["meta"]["matter_all_fields"] = fields.split(",")

        for mode, dyn in (("prism-static", False), ("prism-dynamic", True)):
            print(f"load: {mode} ...", file=sys.stderr)
            p = prism_proc(prism, args.spec, dyn, workdir, f"{mode}-load")
            try:
                res["load"][mode] = load_server(p, prism_scenarios(), args, workdir)
            finally:
                p.stop()

        print("load: clio-mock ...", file=sys.stderr)
        p = clio_proc(args.spec, warm_cache, workdir, "clio-mock-load")
        try:
            cm = load_server(p, clio_scenarios(fields), args, workdir, keep_bodies=True)
        finally:
            p.stop()
        bodies = cm.pop("_bodies")
        res["load"]["clio-mock"] = cm

        print("load: floor ...", file=sys.stderr)
        files = {}
        for key, _ in FLOOR_ROWS:
            fp = Path(workdir) / f"floor-{key}.json"
            fp.write_bytes(bodies[key])
            files[f"/floor/{key}.json"] = fp
        p = floor_proc(files, workdir)
        floor_sc = [{"key": key, "label": label, "method": "GET", "path": f"/floor/{key}.json", "body": None, "expect": 200}
                    for key, label in FLOOR_ROWS]
        try:
            res["load"]["floor"] = load_server(p, floor_sc, args, workdir)
        finally:
            p.stop()

        for n in scale_sizes:
            res["scale"].append(scale_run(n, args.spec, warm_cache, args, workdir))
    except Exception as exc:  # print what was measured before the failure
        import traceback

        traceback.print_exc()
        res["error"] = f"{type(exc).__name__}: {exc}"[:4000]
    finally:
        stop_all()
        shutil.rmtree(workdir, ignore_errors=True)  # (a --prism-dir install lives elsewhere and is kept)
        res["meta"]["total_s"] = time.perf_counter() - t_begin
        res["meta"]["loadavg_end"] = os.getloadavg()

    res["targets"] = targets(res)
    print(render(res))
    if res.get("error"):
        print(f"\nThe run stopped early: {res['error']}")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2, default=str) + "\n")
        print(f"\nwrote {args.json}")
    return 1 if res.get("error") else 0


if __name__ == "__main__":
    sys.exit(main())
