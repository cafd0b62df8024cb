"""The ``clio-mock`` command: serve the mock, fetch and compare specs."""

from __future__ import annotations

import argparse
import sys

from mockserver.config import Settings
from mockserver.errors import ClioError
from mockserver.spec import SpecError

EXIT_USAGE = 2


def _counts(values: list[str]) -> dict[str, int]:
    counts = {}
    for item in values:
        model, _, number = item.partition("=")
        if not number.isdigit():
            raise SystemExit(f"clio-mock: --records takes Model=N (e.g. Matter=5000), got {item!r}")
        counts[model] = int(number)
    return counts


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clio-mock", description="A stateful mock of the Clio Manage API v4.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the mock server")
    serve.add_argument("--spec", help="OpenAPI document path or URL (default: $CLIO_MOCK_SPEC or Clio's published copy)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (more than 1 needs --data)")
    serve.add_argument("--data", help="SQLite file keeping all state across restarts (default: in memory)")
    serve.add_argument("--seed", type=int, default=42, help="seed for generated data (deterministic)")
    serve.add_argument("--scale", type=float, default=1.0, help="multiply the seeded firm's size")
    serve.add_argument("--records", action="append", default=[], metavar="MODEL=N", help="records to seed for a model")
    serve.add_argument("--accounts", type=int, default=1, help="number of seeded firms")
    serve.add_argument("--no-index-cache", action="store_true", help="do not read or write the on-disk spec index")
    serve.add_argument("--rate-limit", type=int, default=50, help="requests per token per minute (0: no limit)")
    serve.add_argument("--token-lifetime", type=int, default=30 * 86400, help="access token lifetime in seconds")
    serve.add_argument("--code-lifetime", type=int, default=600, help="authorization code lifetime in seconds")
    serve.add_argument("--auto-approve", action="store_true", help="skip the OAuth approval page for every app")
    serve.add_argument("--dev-token", default="dev", help="a long-lived token for the default account ('' for none)")
    serve.add_argument("--apps", dest="apps_file", help="YAML file declaring more developer apps")
    serve.add_argument("--admin-token", help="token the control API (/__mock__/) requires when not bound to loopback")
    serve.add_argument("--webhook-allow-http", action="store_true", help="accept http:// webhook URLs on loopback")
    serve.add_argument("--webhook-time-scale", type=float, default=1.0, help="scale Clio's webhook retry schedule (e.g. 0.01)")
    serve.add_argument("--fixture", action="append", default=[], metavar="FILE", help="scenario YAML loaded into a new firm (repeatable)")
    serve.add_argument("--log-level", default="info")

    spec = sub.add_parser("spec", help="work with Clio's OpenAPI document")
    spec_sub = spec.add_subparsers(dest="spec_command", required=True)
    fetch = spec_sub.add_parser("fetch", help="download Clio's published document into the user cache")
    fetch.add_argument("--url", default=None)
    diff = spec_sub.add_parser("diff", help="compare two spec documents")
    diff.add_argument("old")
    diff.add_argument("new")
    diff.add_argument("--json", action="store_true", help="print the diff as JSON")
    spec_sub.add_parser("path", help="print where the cached published document lives")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return serve(args)
        if args.command == "spec":
            return spec_command(args)
    except SpecError as exc:
        print(f"clio-mock: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ClioError as exc:  # a bad apps or scenario file: one line, no traceback
        print(f"clio-mock: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    return 0


def serve(args: argparse.Namespace) -> int:
    import time

    import uvicorn

    from mockserver.app import create_app
    from mockserver.control import LOOPBACK
    from mockserver.specsource import load_index, resolve_location

    if args.workers > 1 and not args.data:
        print("clio-mock: --workers above 1 needs --data FILE: workers share state through it", file=sys.stderr)
        return EXIT_USAGE
    started = time.perf_counter()
    location = resolve_location(args.spec, progress=lambda m: print(m, file=sys.stderr))
    index = load_index(location, use_cache=not args.no_index_cache)
    settings = Settings(
        spec=location, seed=args.seed, scale=args.scale, counts=_counts(args.records),
        accounts=args.accounts, host=args.host, port=args.port, rate_limit=args.rate_limit,
        token_lifetime=args.token_lifetime, code_lifetime=args.code_lifetime, auto_approve=args.auto_approve,
        dev_token=args.dev_token or None, apps_file=args.apps_file, admin_token=args.admin_token,
        webhook_allow_http=args.webhook_allow_http, webhook_time_scale=args.webhook_time_scale, data=args.data,
    )
    if args.host not in LOOPBACK and not settings.admin_token:
        import secrets

        settings.admin_token = secrets.token_urlsafe(24)
        print(f"clio-mock: bound to {args.host}; control API admin token: {settings.admin_token}", file=sys.stderr)
    app = create_app(settings, index=index)
    from mockserver.scenarios import load_scenario_file

    for fixture in args.fixture:  # a bad file is one line naming file, place and reason (exit 2)
        firm = load_scenario_file(app.state, fixture)
        print(f"clio-mock: loaded {fixture} as firm {firm.id} ({firm.name}, {firm.count()} records)", file=sys.stderr)
    print(
        f"clio-mock: {len(index.operations)} operations from {location}; "
        f"{app.state.store.accounts[1].count()} records seeded in {time.perf_counter() - started:.2f}s; "
        f"listening on http://{args.host}:{args.port}/api/v4",
        file=sys.stderr,
        flush=True,
    )
    if args.workers > 1:
        from mockserver.asgi import settings_to_env

        settings_to_env(settings)  # each worker builds its app from these, over the same --data file
        uvicorn.run("mockserver.asgi:app_from_env", factory=True, workers=args.workers, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
        return 0
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0


def spec_command(args: argparse.Namespace) -> int:
    from mockserver import specsource

    if args.spec_command == "fetch":
        path = specsource.fetch_published_spec(args.url, progress=lambda m: print(m, file=sys.stderr))
        print(path)
        return 0
    if args.spec_command == "path":
        print(specsource.cached_spec_path())
        return 0
    from mockserver.specdiff import diff_specs, load_spec_document

    result = diff_specs(load_spec_document(args.old), load_spec_document(args.new))
    if args.json:
        import orjson

        print(orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        print(result.to_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
