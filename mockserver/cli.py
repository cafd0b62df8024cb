"""The ``clio-mock`` command: serve the mock, fetch and compare specs."""

from __future__ import annotations

import argparse
import importlib.util
import sys

from mockserver.config import add_arguments, describe, resolve
from mockserver.engine.errors import ClioError
from mockserver.spec.index import SpecError

EXIT_USAGE = 2
SERVERS = ("uvicorn", "granian")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clio-mock", description="A stateful mock of the Clio Manage API v4.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the mock server")
    add_arguments(serve)
    config = sub.add_parser("config", help="show the effective settings")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    add_arguments(config_sub.add_parser("show", help="print each setting, its value and where it came from"))

    spec = sub.add_parser("spec", help="work with Clio's OpenAPI document")
    spec_sub = spec.add_subparsers(dest="spec_command", required=True)
    fetch = spec_sub.add_parser("fetch", help="download Clio's published document into the user cache")
    fetch.add_argument("--url", default=None)
    diff = spec_sub.add_parser("diff", help="compare two spec documents")
    diff.add_argument("old")
    diff.add_argument("new")
    diff.add_argument("--json", action="store_true", help="print the diff as JSON")
    spec_sub.add_parser("path", help="print where the cached published document lives")
    from mockserver.contract.command import (
        add_contract_parser,  # the contract-test kit (contract_tests/)
    )

    add_contract_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return serve(args)
        if args.command == "spec":
            return spec_command(args)
        if args.command == "config":
            settings, sources = resolve(vars(args))
            print(describe(settings, sources))
            return 0
        if args.command == "contract":
            from mockserver.contract.command import contract_command

            return contract_command(args)
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
    from mockserver.control.api import LOOPBACK
    from mockserver.data.scenarios import load_scenario_file
    from mockserver.logs import configure_logging, uvicorn_log_config
    from mockserver.spec.source import load_index, resolve_location

    settings, _ = resolve(vars(args))
    if settings.server not in SERVERS:
        print(f"clio-mock: --server must be one of {', '.join(SERVERS)}, got {settings.server!r}", file=sys.stderr)
        return EXIT_USAGE
    if settings.server == "granian" and importlib.util.find_spec("granian") is None:
        print("clio-mock: --server granian needs granian: pip install 'clio-mock[granian]'", file=sys.stderr)
        return EXIT_USAGE
    if settings.workers > 1 and not settings.data:
        print("clio-mock: --workers above 1 needs --data FILE: workers share state through it", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings.log_level, settings.json_logs)
    started = time.perf_counter()
    settings.spec = resolve_location(settings.spec, progress=lambda m: print(m, file=sys.stderr))
    index = load_index(settings.spec, use_cache=settings.index_cache)
    if settings.host not in LOOPBACK and not settings.admin_token:
        import secrets

        settings.admin_token = secrets.token_urlsafe(24)
        print(f"clio-mock: bound to {settings.host}; control API admin token: {settings.admin_token}", file=sys.stderr)
    app = create_app(settings, index=index)
    for fixture in settings.fixture:  # a bad file is one line naming file, place and reason (exit 2)
        firm = load_scenario_file(app.state, fixture)
        print(f"clio-mock: loaded {fixture} as firm {firm.id} ({firm.name}, {firm.count()} records)", file=sys.stderr)
    print(
        f"clio-mock: {len(index.operations)} operations from {settings.spec}; "
        f"{sum(a.count() for a in app.state.store.accounts.values())} records ready in {time.perf_counter() - started:.2f}s; "
        f"listening on http://{settings.host}:{settings.port}/api/v4",
        file=sys.stderr,
        flush=True,
    )
    if settings.server == "granian":
        return serve_granian(settings, app)
    run = {"host": settings.host, "port": settings.port, "log_level": settings.log_level, "access_log": False,
           "log_config": uvicorn_log_config(settings.json_logs), "timeout_graceful_shutdown": 10,
           # uvloop + httptools when installed (uvicorn[standard]), else asyncio + h11
           "loop": "auto", "http": "auto"}
    if settings.workers > 1:
        from mockserver.asgi import settings_to_env

        settings.fixture = []  # loaded once, above, into the shared data file
        settings_to_env(settings)  # each worker builds its app from these, over the same data file
        uvicorn.run("mockserver.asgi:app_from_env", factory=True, workers=settings.workers, **run)
    else:
        uvicorn.run(app, **run)
    return 0


def serve_granian(settings, app) -> int:
    """Serve on granian (Rust HTTP, ASGI). One worker serves ``app`` in this process, on
    uvloop when installed; with ``--workers N`` granian's own processes each build the app
    from the environment, as uvicorn's do. SIGTERM and SIGINT stop gracefully: granian
    finishes the requests in flight, then the app's lifespan ends."""
    from granian.constants import HTTPModes, Interfaces
    from granian.log import LogLevels

    from mockserver.logs import granian_log_config

    options = {"address": settings.host, "port": settings.port, "interface": Interfaces.ASGI, "http": HTTPModes.http1,
               "websockets": False, "log_level": LogLevels(settings.log_level.lower()),
               "log_dictconfig": granian_log_config(settings.json_logs), "log_access": False}
    if settings.workers > 1:
        from granian.server import Server

        from mockserver.asgi import settings_to_env

        settings.fixture = []  # loaded once, above, into the shared data file
        settings_to_env(settings)
        Server("mockserver.asgi:app_from_env", factory=True, workers=settings.workers, **options).serve()
        return 0
    import asyncio
    import logging
    import signal

    from granian.log import configure_logging as granian_logging
    from granian.server.embed import Server as Embedded

    async def run() -> None:
        server = Embedded(app, **options)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, server.stop)
        await server.serve()

    granian_logging(options["log_level"], options["log_dictconfig"])
    # One in-process worker is granian's "embedded" mode, which says it is experimental on
    # every start; the worker is the same Rust server either way.
    logging.getLogger("_granian").addFilter(lambda record: "experimental" not in record.getMessage())
    try:
        import uvloop
    except ImportError:
        asyncio.run(run())
    else:
        uvloop.run(run())
    return 0


def spec_command(args: argparse.Namespace) -> int:
    from mockserver.spec import source as specsource
    if args.spec_command == "fetch":
        path = specsource.fetch_published_spec(args.url, progress=lambda m: print(m, file=sys.stderr))
        print(path)
        return 0
    if args.spec_command == "path":
        print(specsource.cached_spec_path())
        return 0
    from mockserver.spec.diff import diff_specs, load_spec_document

    result = diff_specs(load_spec_document(args.old), load_spec_document(args.new))
    if args.json:
        import orjson

        print(orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        print(result.to_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
