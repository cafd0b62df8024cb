"""The contract kit's HTML report: one standalone page on the dashboard's templates, escaping
what targets answered, bounded bodies, written by `clio-mock contract --report-html` and by
`pytest contract_tests/ --report-html`."""

from __future__ import annotations

import base64
import hashlib
import html.parser
import re
import subprocess
import sys
from pathlib import Path

from mockserver.cli import main
from mockserver.contract.client import Exchange
from mockserver.contract.report import FAILED, OperationResult, RunResult

ROOT = Path(__file__).resolve().parents[1]


class _Tags(html.parser.HTMLParser):
    """Collects tags and attributes, to ask what the page would load or run."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def _result() -> RunResult:
    result = RunResult(target="http://127.0.0.1:9", spec="openapi-v4.json", settings={"max_examples": 2}, duration=1.5,
                       traffic={"total": 3, "requests": {"GET": 3}, "rate_limited": 0, "waited_seconds": 0})
    ok = OperationResult("Matter#index", "GET /matters.json", cases=4)
    ok.check("example")
    ok.allowances["null-values"] += 2
    bad = OperationResult("Contact#show", "GET /contacts/{id}.json", cases=1)
    exchange = Exchange("GET", "http://127.0.0.1:9/api/v4/contacts/1.json", {"authorization": "[redacted]"}, "", 200,
                        {"content-type": "application/json"}, '{"data": {"id": "1", "name": "<script>alert(1)</script>"}}' + " " * 50_000 + "x" * 10)
    bad.check("example").fail("response_schema_conformance", '"1" is not of type "integer" <b>', exchange)
    skipped = OperationResult("Bill#preview", "GET /bills/{id}/preview.json")
    skipped.check("example").skip("no bill to preview")
    result.suite("operations").update({r.key: r for r in (ok, bad, skipped)})
    return result


def test_html_report_shows_the_run_and_escapes_what_targets_answered():
    result = _result()
    page = result.to_html()
    assert "Contract report: http://127.0.0.1:9" in page
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "is not of type &#34;integer&#34; &lt;b&gt;" in page
    assert 'href="#failure-1"' in page and 'id="failure-1"' in page  # a failed row links to its failure
    assert "null-values" in page and "no bill to preview" in page and "response_schema_conformance" in page
    assert result.counts()[FAILED] == 1 and '<div class="n">1</div><div class="l"><span class="badge failed">' in page
    assert "more characters not shown" in page and len(page) < 60_000


def test_html_report_stands_alone():
    page = _result().to_html()
    tags = _Tags()
    tags.feed(page)
    assert not [t for t, a in tags.tags if t == "script"]
    assert not [a for t, a in tags.tags if t == "link" and a.get("rel") == "stylesheet"]
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing fetched from anywhere
    (csp,) = [a["content"] for t, a in tags.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    (css,) = tags.styles
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp  # the inline stylesheet, and only it
    assert ".badge" in css  # the dashboard's stylesheet


def test_cli_writes_the_html_report(spec_path, tmp_path, capsys):
    report = tmp_path / "out" / "report.html"
    rc = main(["contract", "--target", "mock", "--spec", str(spec_path), "--operations", "^Contact#show$", "--phases", "examples", "-q", "--report-html", str(report)])
    assert rc == 0 and f"wrote {report}" in capsys.readouterr().out
    page = report.read_text()
    assert "Contact#show" in page and 'id="suite-operations"' in page and "<h2 id=\"failures\">Failures</h2>\n<p>None.</p>" in page


def test_pytest_entry_point_writes_the_html_report(spec_path, tmp_path):
    report = tmp_path / "report.html"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "contract_tests/", "--target", "mock", "--spec", str(spec_path), "--operations", "^Contact#show$",
         "--phases", "examples", "--report-html", str(report), "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert f"wrote {report}" in proc.stdout
    assert "Contact#show" in report.read_text()
