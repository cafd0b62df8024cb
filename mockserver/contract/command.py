"""``clio-mock contract``: run the contract-test kit from the command line.

    clio-mock contract --target mock                       # the in-process mock, every phase
    clio-mock contract --target https://app.clio.com       # real Clio (or clio-eu/-ca/-au), read-only
    clio-mock contract --target clio --allow-writes --budget 500
    clio-mock contract diff mock http://127.0.0.1:8000     # drift between two targets

The kit itself lives in :mod:`contract_tests` (also runnable as ``pytest contract_tests/``);
this module only parses arguments, so ``clio-mock serve`` never imports schemathesis.
Credentials for a live target come from the environment: ``CLIO_ACCESS_TOKEN``, or
``CLIO_CLIENT_ID`` + ``CLIO_CLIENT_SECRET`` + ``CLIO_REFRESH_TOKEN`` (refreshed on 401);
for ``diff``, ``CLIO_A_*`` / ``CLIO_B_*`` override them per target.
"""

from __future__ import annotations

import argparse
import sys

EXIT_FAILED = 1
EXIT_USAGE = 2


def add_contract_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    contract = sub.add_parser(
        "contract", help="run the contract-test kit against the mock or a live Clio account",
        description="Check a target (the in-process mock, a mock process, or Clio) against Clio's spec.",
        epilog="""examples:
  clio-mock contract --target mock --spec ../shared/clio/openapi-v4.json --report-md report.md
  clio-mock contract --target http://127.0.0.1:8000 --operations 'Matter' --budget 200
  CLIO_ACCESS_TOKEN=... clio-mock contract --target https://app.clio.com --budget 300""",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(contract)
    contract.add_argument("--target", default="mock", help="'mock' (in-process), a URL, or clio / clio-eu / clio-ca / clio-au (default: mock)")
    contract.add_argument("--allow-writes", action="store_true", help="live targets: create records (and only touch and delete those); default read-only")
    contract.add_argument("--max-examples", type=int, default=3, help="generated cases per operation and phase (default 3)")
    contract.add_argument("--phases", default=None, help="comma list of examples,generated,clio,stateful,negative (default: all for the mock; all but negative for live targets)")
    contract.add_argument("--negative", action="store_true", help="add the negative (invalid input) phase to the default phases")
    contract.add_argument("--page-size", type=int, default=10, help="limit used when following meta.paging.next (default 10)")
    contract.add_argument("--max-pages", type=int, default=30, help="pages followed per collection at most (default 30)")
    contract.add_argument("--seed", type=int, default=None, help="seed for generated data (default: derandomized, the same every run)")
    contract.add_argument("--junit-xml", default=None, metavar="PATH", help="write a JUnit XML report")
    contract.add_argument("--report-md", default=None, metavar="PATH", help="write a per-operation Markdown report")
    contract.add_argument("--report-html", default=None, metavar="PATH", help="write the report as one standalone HTML page")
    contract.add_argument("-q", "--quiet", action="store_true", help="no progress (default: one line with a counter, pass/fail tally and ETA)")
    contract_sub = contract.add_subparsers(dest="contract_command")
    diff = contract_sub.add_parser(
        "diff", help="compare two targets: status codes, field sets and types per GET operation",
        epilog="""examples:
  clio-mock contract diff mock http://127.0.0.1:8000 --spec ../shared/clio/openapi-v4.json
  CLIO_B_ACCESS_TOKEN=... clio-mock contract diff mock clio --budget 200 --json""",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    diff.add_argument("a", help="first target: mock, a URL, or a region name")
    diff.add_argument("b", help="second target")
    _common(diff)
    diff.add_argument("--json", action="store_true", help="print the drift as JSON")
    return contract


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--spec", default=None, help="OpenAPI document path or URL (default: $CLIO_MOCK_SPEC or Clio's published copy)")
    parser.add_argument("--operations", default=None, metavar="REGEX", help="only operations whose operationId or 'METHOD /path' matches")
    parser.add_argument("--budget", type=int, default=None, help="most API requests to send (per target)")
    parser.add_argument("--max-wait", type=float, default=120.0, help="longest single wait for a rate limit, seconds (default 120)")
    parser.add_argument("--max-retries", type=int, default=5, help="429 retries per request (default 5)")


def contract_command(args: argparse.Namespace) -> int:
    import logging
    import os
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    logging.getLogger("clio_mock.api").setLevel(logging.CRITICAL)  # 5xx are reported by the kit, not logged twice
    try:
        import schemathesis  # noqa: F401
    except ImportError:
        print("clio-mock contract: the kit needs schemathesis: pip install 'clio-mock[contract]'", file=sys.stderr)
        return EXIT_USAGE
    from mockserver.contract.client import AuthFailed, Credentials
    from mockserver.contract.kit import ALL_PHASES, LIVE_PHASES, Kit, KitConfig
    from mockserver.contract.progress import ProgressPrinter

    try:
        if args.contract_command == "diff":
            from mockserver.contract.drift import diff_targets

            configs = []
            for side, target in (("A", args.a), ("B", args.b)):
                creds = None if target == "mock" else _credentials(os.environ, side)
                configs.append(KitConfig(target=target, spec=args.spec, budget=args.budget, max_wait=args.max_wait, max_retries=args.max_retries, credentials=creds))
            report = diff_targets(*configs, operations=args.operations)
            if args.json:
                import orjson

                print(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode())
            else:
                print(report.to_text())
            return EXIT_FAILED if report.differing else 0
        phases = tuple(p.strip() for p in args.phases.split(",") if p.strip()) if args.phases else None
        if args.negative:
            phases = tuple(dict.fromkeys((phases or (ALL_PHASES if args.target == "mock" else LIVE_PHASES)) + ("negative",)))
        config = KitConfig(
            target=args.target, spec=args.spec, allow_writes=args.allow_writes, budget=args.budget, max_examples=args.max_examples,
            phases=phases, operations=args.operations, max_wait=args.max_wait, max_retries=args.max_retries, page_size=args.page_size,
            max_pages=args.max_pages, seed=args.seed, junit_xml=args.junit_xml, report_md=args.report_md,
            report_html=args.report_html,
            credentials=None if args.target == "mock" else Credentials.from_env(),
            progress=None if args.quiet else ProgressPrinter(sys.stderr),
        )
        result = Kit(config).run()
    except (AuthFailed, ValueError) as exc:
        print(f"clio-mock contract: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(result.summary_text())
    if result.failed:
        print("\nFailures (first 20; the reports have requests and responses):\n" + result.failure_text(20))
    for path in (args.junit_xml, args.report_md, args.report_html):
        if path:
            print(f"wrote {path}")
    return EXIT_FAILED if result.failed else 0


def _credentials(environ, side: str):
    from mockserver.contract.client import Credentials

    specific = {k.replace(f"CLIO_{side}_", "CLIO_", 1): v for k, v in environ.items() if k.startswith(f"CLIO_{side}_")}
    return Credentials.from_env({**environ, **specific})
