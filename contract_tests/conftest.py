"""``pytest contract_tests/``: the contract-test kit as a pytest run, one test per operation.

    pytest contract_tests/ --target mock
    CLIO_ACCESS_TOKEN=... pytest contract_tests/ --target https://app.clio.com --budget 300
    pytest contract_tests/ --target mock --report-md report.md --report-html report.html --junitxml junit.xml

The options mirror ``clio-mock contract``; the run is the same :class:`~mockserver.contract.kit.Kit`
(one per session), so the safety rules, allowances and reports are the same too.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

SHARED_SPEC = Path(__file__).resolve().parents[2] / "shared" / "clio" / "openapi-v4.json"
RESULT_KEY = pytest.StashKey[object]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("clio-contract", "Clio contract-test kit")
    group.addoption("--target", default="mock", help="'mock' (in-process), a URL, or clio / clio-eu / clio-ca / clio-au")
    group.addoption("--spec", default=None, help="Clio's OpenAPI document (default: ../shared/clio/openapi-v4.json beside the checkout, else $CLIO_MOCK_SPEC or the published copy)")
    group.addoption("--allow-writes", action="store_true", default=False, help="live targets: create records (and only touch and delete those)")
    group.addoption("--budget", type=int, default=None, help="most API requests to send")
    group.addoption("--max-examples", type=int, default=3, help="generated cases per operation and phase")
    group.addoption("--phases", default=None, help="comma list of examples,generated,clio,stateful,negative")
    group.addoption("--operations", default=None, help="regex on operationId or 'METHOD /path'")
    group.addoption("--report-md", default=None, help="write the kit's per-operation Markdown report here")
    group.addoption("--report-html", default=None, help="write the kit's report as one standalone HTML page here")
    group.addoption("--contract-junit", default=None, help="write the kit's own JUnit XML (pytest's --junitxml works too)")
    group.addoption("--max-wait", type=float, default=120.0, help="longest single wait for a rate limit, seconds")
    group.addoption("--contract-seed", type=int, default=None, help="seed for generated data (default: derandomized)")


def _spec(config: pytest.Config) -> str | None:
    given = config.getoption("--spec")
    if given:
        return given
    return str(SHARED_SPEC) if SHARED_SPEC.exists() else None


def kit_config(config: pytest.Config):
    from mockserver.contract.kit import KitConfig

    phases = config.getoption("--phases")
    return KitConfig(
        target=config.getoption("--target"), spec=_spec(config), allow_writes=config.getoption("--allow-writes"),
        budget=config.getoption("--budget"), max_examples=config.getoption("--max-examples"),
        phases=tuple(p.strip() for p in phases.split(",") if p.strip()) if phases else None,
        operations=config.getoption("--operations"), max_wait=config.getoption("--max-wait"), seed=config.getoption("--contract-seed"),
        report_md=config.getoption("--report-md"), report_html=config.getoption("--report-html"),
        junit_xml=config.getoption("--contract-junit"),
    )


_SELECTION: dict[int, object] = {}


def _selection(config: pytest.Config):
    """The kit, opened once per session: the spec, the target, the operations to test."""
    if id(config) not in _SELECTION:
        from mockserver.contract.kit import Kit

        logging.getLogger("clio_mock.api").setLevel(logging.CRITICAL)  # 5xx are reported by the kit
        kit = Kit(kit_config(config))
        kit.open()
        _SELECTION[id(config)] = kit
    return _SELECTION[id(config)]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    names = set(metafunc.fixturenames)
    if not names & {"operation", "sequence", "negative_operation"}:
        return
    kit = _selection(metafunc.config)
    if "operation" in names:
        ops = kit.operations()
        metafunc.parametrize("operation", ops, ids=[o.operation_id for o in ops])
    if "negative_operation" in names:
        ops = kit.operations()
        metafunc.parametrize("negative_operation", ops, ids=[o.operation_id for o in ops])
    if "sequence" in names:
        seqs = kit.sequences()
        metafunc.parametrize("sequence", seqs, ids=[c.model for c in seqs])


@pytest.fixture(scope="session")
def kit(request: pytest.FixtureRequest):
    kit = _selection(request.config)
    yield kit
    request.config.stash[RESULT_KEY] = kit.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    result = config.stash.get(RESULT_KEY, None)
    if result is None:
        return
    terminalreporter.section("Clio contract kit")
    for line in result.summary_text().splitlines():
        terminalreporter.write_line(line)
    for path in (config.getoption("--report-md"), config.getoption("--report-html"), config.getoption("--contract-junit")):
        if path:
            terminalreporter.write_line(f"wrote {path}")
