"""The contract, one test per operation (and per CRUD sequence, and per negative run).

Collected only when asked for (``pytest contract_tests/ --target ...``): the repository's
own ``pytest`` run collects ``tests/`` alone.
"""

from __future__ import annotations

import pytest

from mockserver.contract.report import FAILED, SKIPPED, OperationResult


def _outcome(result: OperationResult) -> None:
    if result.status == FAILED:
        lines = [f"{result.key} ({result.label}) failed:"]
        for failure in result.failures[:10]:
            reason = failure.reason.strip().splitlines()
            lines.append(f"- {failure.check}: " + "\n  ".join(reason[:12]))
            if failure.exchange is not None:
                e = failure.exchange
                lines.append(f"  request: {e.method} {e.url}" + (f"\n  body: {e.request_body[:500]}" if e.request_body else ""))
                lines.append(f"  response: HTTP {e.status} {e.response_body[:500]}")
        if len(result.failures) > 10:
            lines.append(f"... and {len(result.failures) - 10} more (see --report-md)")
        pytest.fail("\n".join(lines), pytrace=False)
    if result.status == SKIPPED:
        pytest.skip(result.skip_reason or "skipped")


def test_operation(kit, operation):
    if not any(p in kit.phases for p in ("examples", "generated", "clio")):
        pytest.skip("examples, generated and clio phases are off")
    _outcome(kit.run_operation(operation))


def test_api_wide_probes(kit):
    if "clio" not in kit.phases:
        pytest.skip("clio phase is off")
    kit.run_global_probes()
    results = [r for key in ("auth:invalid-token", "route:unknown") if (r := kit.result.suite("operations").get(key)) is not None]
    for result in sorted(results, key=lambda r: r.status != FAILED):  # a failure first, else skips only if all skipped
        if result.status != SKIPPED or all(r.status == SKIPPED for r in results):
            _outcome(result)


def test_stateful(kit, sequence):
    if "stateful" not in kit.phases:
        pytest.skip("stateful phase is off")
    _outcome(kit.run_sequence(sequence))


def test_negative(kit, negative_operation):
    if "negative" not in kit.phases:
        pytest.skip("negative phase is off (add it with --phases)")
    _outcome(kit.run_negative(negative_operation))
