"""What a contract run found, and the three ways it is written down: JUnit XML, Markdown and
HTML (one standalone file, rendered with the dashboard's templates and stylesheet).

A run has suites (``operations``, ``stateful``, ``negative``); a suite has one
:class:`OperationResult` per operation (or per model, for stateful sequences); each
result has named checks that passed, failed or were skipped, the failures with the
request, response and reason, and the allowances the checks needed.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.contract.client import Exchange
from mockserver.spec import allowances as allowance_defs

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


@dataclass
class Failure:
    check: str
    reason: str
    exchange: Exchange | None = None
    also: list[str] = field(default_factory=list)  # other checks the same response failed (one failure, not several)


def same_response(a: Exchange | None, b: Exchange | None) -> bool:
    """Two exchanges of one response (each check builds its own Exchange of it)."""
    if a is None or b is None:
        return False
    rid_a, rid_b = a.response_headers.get("x-request-id"), b.response_headers.get("x-request-id")
    if rid_a or rid_b:
        return rid_a == rid_b and a.url == b.url
    return (a.method, a.url, a.status, a.response_body) == (b.method, b.url, b.status, b.response_body)


def short_url(url: str, limit: int = 120) -> str:
    """A URL for a one-line message: path and query without scheme and host, long values cut."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    text = parts.path + (f"?{parts.query}" if parts.query else "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class CheckResult:
    name: str
    status: str = PASSED
    detail: str = ""  # what was done, or why it was skipped
    failures: list[Failure] = field(default_factory=list)
    requests: int = 0

    def fail(self, check: str, reason: str, exchange: Exchange | None = None) -> None:
        """Record a failure; further failures of the same response (an injected 503 fails the
        status, schema and expectation checks at once) join the first as ``also``."""
        self.status = FAILED
        for earlier in self.failures:
            if same_response(earlier.exchange, exchange):
                if check not in earlier.also and check != earlier.check:
                    earlier.also.append(check)
                return
        self.failures.append(Failure(check, reason, exchange))

    def skip(self, reason: str) -> None:
        if self.status != FAILED:
            self.status = SKIPPED
            self.detail = reason


@dataclass
class OperationResult:
    key: str  # operationId, or "Model" for a stateful sequence
    label: str  # "GET /matters.json"
    checks: list[CheckResult] = field(default_factory=list)
    cases: int = 0  # requests judged against the spec
    allowances: Counter = field(default_factory=Counter)
    duration: float = 0.0

    def check(self, name: str) -> CheckResult:
        result = CheckResult(name)
        self.checks.append(result)
        return result

    @property
    def status(self) -> str:
        if any(c.status == FAILED for c in self.checks):
            return FAILED
        if not self.checks or all(c.status == SKIPPED for c in self.checks):
            return SKIPPED
        return PASSED

    @property
    def failures(self) -> list[Failure]:
        return [f for c in self.checks for f in c.failures]

    @property
    def skip_reason(self) -> str:
        reasons = [c.detail for c in self.checks if c.status == SKIPPED and c.detail]
        return "; ".join(dict.fromkeys(reasons))

    def summary_line(self) -> str:
        parts = [f"{c.name}:{c.status}" for c in self.checks]
        return f"{self.key} ({self.label}) {self.status} [{' '.join(parts)}]"


@dataclass
class RunResult:
    target: str
    spec: str
    settings: dict[str, Any] = field(default_factory=dict)
    suites: dict[str, dict[str, OperationResult]] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    duration: float = 0.0
    traffic: dict[str, Any] = field(default_factory=dict)  # KitClient.summary()
    cleanup: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def suite(self, name: str) -> dict[str, OperationResult]:
        return self.suites.setdefault(name, {})

    def counts(self, suite: str | None = None) -> Counter:
        counts: Counter = Counter({PASSED: 0, FAILED: 0, SKIPPED: 0})
        for name, results in self.suites.items():
            if suite is None or name == suite:
                counts.update(r.status for r in results.values())
        return counts

    @property
    def failed(self) -> int:
        return self.counts()[FAILED]

    def allowances(self, suite: str | None = None) -> dict[str, dict[str, Any]]:
        """Allowance name -> reason, times used, operations that needed it."""
        used: dict[str, dict[str, Any]] = {}
        for name, results in self.suites.items():
            if suite is not None and name != suite:
                continue
            for r in results.values():
                for name, n in r.allowances.items():
                    entry = used.setdefault(name, {"reason": _reason(name), "uses": 0, "operations": []})
                    entry["uses"] += n
                    if r.key not in entry["operations"]:
                        entry["operations"].append(r.key)
        return dict(sorted(used.items()))

    def cases(self) -> int:
        return sum(r.cases for results in self.suites.values() for r in results.values())

    # ------------------------------------------------------------------ text

    def summary_text(self) -> str:
        lines = [f"Contract run against {self.target}: {self.duration:.1f}s"]
        for name in self.suites:
            c = self.counts(name)
            lines.append(f"  {name}: {c[PASSED]} passed, {c[FAILED]} failed, {c[SKIPPED]} skipped ({len(self.suites[name])} total)")
        traffic = self.traffic
        if traffic:
            lines.append(f"  requests: {traffic.get('total', 0)} {traffic.get('requests', {})}; rate-limited {traffic.get('rate_limited', 0)}x, waited {traffic.get('waited_seconds', 0)}s" + (f"; budget {traffic['budget']}" if traffic.get("budget") else ""))
        lines.append(f"  cases judged against the spec: {self.cases()}")
        for name, entry in self.allowances().items():
            lines.append(f"  allowance {name}: {entry['uses']} uses in {len(entry['operations'])} operations")
        for note in self.notes:
            lines.append(f"  note: {note}")
        return "\n".join(lines)

    def failure_text(self, limit: int = 20) -> str:
        lines = []
        for suite, results in self.suites.items():
            for r in results.values():
                for f in r.failures:
                    if len(lines) >= limit:
                        return "\n".join(lines)
                    first = f.reason.strip().splitlines()[0] if f.reason.strip() else ""
                    where = f" [{f.exchange.method} {short_url(f.exchange.url)} -> {f.exchange.status}]" if f.exchange else ""
                    also = f" (also fails: {', '.join(f.also)})" if f.also else ""
                    lines.append(f"[{suite}] {r.key}: {f.check}: {first[:300]}{also}{where}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ Markdown

    def to_markdown(self) -> str:
        out = [f"# Contract report: {self.target}", ""]
        out.append(f"Spec `{self.spec}`; started {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(self.started))}; ran {self.duration:.1f} s.")
        if self.settings:
            out.append("Settings: " + ", ".join(f"{k}={v}" for k, v in self.settings.items()) + ".")
        out += ["", "| suite | passed | failed | skipped | total |", "|---|---:|---:|---:|---:|"]
        for name, results in self.suites.items():
            c = self.counts(name)
            out.append(f"| {name} | {c[PASSED]} | {c[FAILED]} | {c[SKIPPED]} | {len(results)} |")
        t = self.traffic
        if t:
            out += ["", f"Requests: {t.get('total', 0)} ({', '.join(f'{m} {n}' for m, n in t.get('requests', {}).items())})"
                    + (f" of a budget of {t['budget']}" if t.get("budget") else "")
                    + f"; 429 answers: {t.get('rate_limited', 0)}; waited {t.get('waited_seconds', 0)} s; token refreshes: {t.get('token_refreshes', 0)}."]
        out.append(f"Cases judged against the spec: {self.cases()}.")
        if self.cleanup:
            out.append(f"Clean-up: {self.cleanup}.")
        for note in self.notes:
            out.append(f"Note: {note}")
        out += ["", "## Allowances used", ""]
        used = self.allowances()
        if used:
            out += ["Known gaps between Clio's spec and Clio's real answers, applied and counted (see `mockserver/spec/allowances.py`).", "",
                    "| allowance | uses | operations | why |", "|---|---:|---:|---|"]
            for name, entry in used.items():
                ops = ", ".join(entry["operations"][:6]) + (" ..." if len(entry["operations"]) > 6 else "")
                out.append(f"| `{name}` | {entry['uses']} | {len(entry['operations'])} ({ops}) | {_md(entry['reason'])} |")
        else:
            out.append("None.")
        unused = [a.name for a in allowance_defs.ALL if a.name not in used]
        if unused:
            out += ["", "Defined but not needed in this run: " + ", ".join(f"`{n}`" for n in unused) + "."]
        for name, results in self.suites.items():
            out += ["", f"## {name.capitalize()}", "", "| operation | status | cases | checks |", "|---|---|---:|---|"]
            for r in results.values():
                checks = ", ".join(f"{c.name} {_mark(c.status)}" for c in r.checks)
                note = f" ({_md(r.skip_reason)})" if r.status == SKIPPED and r.skip_reason else ""
                out.append(f"| `{r.key}` {_md(r.label)} | {_mark(r.status)} {r.status}{note} | {r.cases} | {checks} |")
        failures = [(suite, r, f) for suite, results in self.suites.items() for r in results.values() for f in r.failures]
        out += ["", "## Failures", ""]
        if not failures:
            out.append("None.")
        for suite, r, f in failures:
            out += [f"### [{suite}] `{r.key}` {_md(r.label)}: {f.check}", "", "Reason:", "", "```", f.reason.strip(), "```"]
            if f.also:
                out += ["", f"The same response also fails: {', '.join(f.also)}."]
            if f.exchange is not None:
                e = f.exchange
                out += ["", "Request:", "", "```http", f"{e.method} {e.url}"]
                out += [f"{k}: {v}" for k, v in e.request_headers.items() if k.lower() not in ("user-agent", "accept-encoding", "connection", "host")]
                if e.request_body:
                    out += ["", e.request_body]
                out += ["```", "", "Response:", "", "```http", f"HTTP {e.status}"]
                out += [f"{k}: {v}" for k, v in e.response_headers.items()]
                if e.response_body:
                    out += ["", e.response_body]
                out += ["```"]
            out.append("")
        return "\n".join(out) + "\n"

    # ------------------------------------------------------------------ HTML

    def to_html(self) -> str:
        """The report as one standalone HTML page (``templates/report.html``, on the dashboard's
        base layout): styles inline, no script, every body cut to a bounded length."""
        import base64
        import hashlib

        from mockserver.control.templating import environment, inline_css

        css = inline_css()
        digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
        suites, failures = [], []
        for name, results in self.suites.items():
            rows = []
            for r in results.values():
                ids = []
                for f in r.failures:
                    ids.append(f"failure-{len(failures) + 1}")
                    failures.append({"id": ids[-1], "suite": name, "key": r.key, "label": r.label, "check": f.check,
                                     "reason": f.reason.strip(), "exchange": f.exchange})
                rows.append({"key": r.key, "label": r.label, "status": r.status, "cases": r.cases, "checks": r.checks,
                             "skip_reason": r.skip_reason if r.status == SKIPPED else "", "failure_ids": ids})
            suites.append({"name": name, "counts": dict(self.counts(name)), "results": rows})
        used = self.allowances()
        return environment().get_template("report.html").render(
            title=f"Contract report: {self.target}", css=css, css_hash=f"sha256-{digest}",
            target=self.target, spec=self.spec, started=time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started)),
            duration=self.duration, settings=self.settings, totals=dict(self.counts()), cases=self.cases(),
            traffic=self.traffic, cleanup=self.cleanup, notes=self.notes, suites=suites, failures=failures,
            allowances=used, unused=[a.name for a in allowance_defs.ALL if a.name not in used],
        )

    # ------------------------------------------------------------------ JUnit

    def to_junit(self) -> str:
        root = ET.Element("testsuites", name="clio-mock contract", time=f"{self.duration:.3f}")
        for name, results in self.suites.items():
            c = self.counts(name)
            suite = ET.SubElement(root, "testsuite", name=f"contract.{name}", tests=str(len(results)), failures=str(c[FAILED]), skipped=str(c[SKIPPED]), errors="0", time=f"{sum(r.duration for r in results.values()):.3f}")
            props = ET.SubElement(suite, "properties")
            ET.SubElement(props, "property", name="target", value=self.target)
            for allowance, entry in self.allowances(name).items():
                ET.SubElement(props, "property", name=f"allowance.{allowance}", value=f"{entry['uses']} uses: {entry['reason']}")
            for r in results.values():
                case = ET.SubElement(suite, "testcase", classname=f"contract.{name}", name=f"{r.key} {r.label}", time=f"{r.duration:.3f}")
                if r.status == FAILED:
                    text = "\n\n".join(_failure_text(f) for f in r.failures)
                    first = r.failures[0]
                    ET.SubElement(case, "failure", message=f"{first.check}: {first.reason.splitlines()[0][:200] if first.reason else ''}", type=first.check).text = text
                elif r.status == SKIPPED:
                    ET.SubElement(case, "skipped", message=r.skip_reason or "skipped")
                if r.allowances:
                    ET.SubElement(case, "system-out").text = "allowances used: " + ", ".join(f"{k} x{v}" for k, v in sorted(r.allowances.items()))
        ET.indent(root)
        return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

    def write(self, junit_xml: str | Path | None = None, markdown: str | Path | None = None, html: str | Path | None = None) -> None:
        if html:
            Path(html).parent.mkdir(parents=True, exist_ok=True)
            Path(html).write_text(self.to_html(), encoding="utf-8")
        if junit_xml:
            Path(junit_xml).parent.mkdir(parents=True, exist_ok=True)
            Path(junit_xml).write_text(self.to_junit(), encoding="utf-8")
        if markdown:
            Path(markdown).parent.mkdir(parents=True, exist_ok=True)
            Path(markdown).write_text(self.to_markdown(), encoding="utf-8")


def _reason(name: str) -> str:
    found = allowance_defs.BY_NAME.get(name)
    return found.reason if found else ""


def _mark(status: str) -> str:
    return {PASSED: "✅", FAILED: "❌", SKIPPED: "⏭️"}.get(status, "")


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _failure_text(f: Failure) -> str:
    lines = [f"{f.check}: {f.reason}"] + ([f"(the same response also fails: {', '.join(f.also)})"] if f.also else [])
    if f.exchange is not None:
        e = f.exchange
        lines += ["", f"Request: {e.method} {e.url}"]
        if e.request_body:
            lines.append(e.request_body)
        lines += [f"Response: HTTP {e.status}", e.response_body]
    return "\n".join(lines)
