"""Long contract runs: one progress line with a counter, tally and ETA (not a bare line per
operation), one failure per failing response, short URLs in messages, no ``.hypothesis/``
left in the working directory."""

from __future__ import annotations

import io

from mockserver.contract.progress import Progress, ProgressPrinter


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_progress_line_counts_tallies_and_estimates():
    clock = _Clock()
    progress = Progress(10, now=clock)
    clock.t = 4.0
    progress.step("operation A", "passed")
    clock.t = 8.0
    line = progress.step("operation B", "failed")
    assert line.startswith("[ 2/10  20%] 1 passed, 1 failed, 0 skipped; 0:08 elapsed, ETA 0:32 | operation B")
    for n in range(8):
        progress.step(f"op {n}", "skipped")
    assert "done in" in progress.line() and "[10/10 100%]" in progress.line()


def test_printer_in_a_log_prints_every_5_percent_and_each_new_failure():
    out = io.StringIO()
    printer, progress = ProgressPrinter(out), Progress(200)
    for n in range(200):
        printer(progress.step(f"operation {n}", "failed" if n == 33 else "passed"))
    lines = out.getvalue().splitlines()
    assert 20 <= len(lines) <= 23  # every 5%, the failure, the end; not 200
    assert any("1 failed" in line and "operation 33" in line for line in lines)
    assert lines[-1].startswith("clio-mock contract: [200/200 100%]")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_printer_on_a_terminal_rewrites_one_line():
    out = _Tty()
    printer, progress = ProgressPrinter(out), Progress(3)
    for n in range(3):
        printer(progress.step(f"operation {n}", "passed"))
    text = out.getvalue()
    assert text.count("\r\x1b[K") == 3 and text.count("\n") == 1 and text.endswith("\n")


def test_one_injected_503_is_one_failure_with_a_short_url(spec_path, index, tmp_path, monkeypatch):
    from mockserver.contract.kit import Kit, KitConfig
    from mockserver.control.faults import Fault

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYPOTHESIS_STORAGE_DIRECTORY", raising=False)
    kit = Kit(KitConfig(target="mock", spec=str(spec_path), operations="^Matter#index$", phases=("examples", "generated", "clio")), index=index)
    kit.open()
    kit.app.state.faults.add(Fault(kind="status", status=503, path="/api/v4/matters.json", count=1))
    result = kit.run()
    failures = [f for r in result.suites["operations"].values() for f in r.failures]
    assert len(failures) == 1, [(f.check, f.reason) for f in failures]
    assert failures[0].exchange.status == 503 and failures[0].also  # the other checks it failed ride along
    text = result.failure_text()
    assert text.count("\n") == 0 and len(text) < 500 and "http://127.0.0.1:8000" not in text and "…" in text
    assert not (tmp_path / ".hypothesis").exists()
