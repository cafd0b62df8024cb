"""The ``clio-mock`` command: serve the mock, fetch and compare specs."""

from __future__ import annotations

import argparse
import importlib.util
import sys

from mockserver.config import add_arguments, check_records, describe, resolve, unknown_environment
from mockserver.engine.errors import ClioError
from mockserver.spec.index import SpecError

EXIT_USAGE = 2
EXIT_CHANGED = 1  # spec diff --fail-on-change: the documents differ


EXAMPLES = {
    "serve": """examples:
  clio-mock serve --spec ../shared/clio/openapi-v4.json --seed 42 --port 8000
  clio-mock serve --spec ../shared/clio/openapi-v4.json --records Matter=5000 --fixture solo-practice
  CLIO_MOCK_DATA=state.sqlite clio-mock serve --workers 2     # state survives restarts""",
    "config": """examples:
  clio-mock config show --port 9000
  CLIO_MOCK_CONFIG=mock.toml clio-mock config show""",
    "show": """examples:
  clio-mock config show --records Matter=100 --log-level debug""",
    "spec": """examples:
  clio-mock spec path
  clio-mock spec diff ../shared/clio/snapshots/openapi-v4-2025-11-20.json ../shared/clio/openapi-v4.json --fail-on-change""",
    "fetch": """examples:
  clio-mock spec fetch
  CLIO_MOCK_SPEC_URL=https://mirror.example/openapi.json clio-mock spec fetch""",
    "diff": """examples:
  clio-mock spec diff OLD.json NEW.json               # text; exit 0
  clio-mock spec diff OLD.json NEW.json --json --fail-on-change   # exit 1 when they differ""",
    "path": """examples:
  clio-mock spec path""",
}


def version() -> str:
    """The installed distribution's version (``clio-mock --version``)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("clio-mock")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _sub(sub: argparse._SubParsersAction, name: str, help: str, **kw) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=help, description=kw.pop("description", help[:1].upper() + help[1:] + "."),
                          epilog=EXAMPLES.get(name), formatter_class=argparse.RawDescriptionHelpFormatter, **kw)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clio-mock", description="A stateful mock of the Clio Manage API v4.",
                                     epilog="examples:\n  clio-mock serve --spec ../shared/clio/openapi-v4.json --port 8000\n"
                                            "  clio-mock contract --target mock --spec ../shared/clio/openapi-v4.json\n"
                                            "  clio-mock COMMAND --help            # each command's flags, defaults and examples",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"clio-mock {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = _sub(sub, "serve", "run the mock server")
    add_arguments(serve)
    config = _sub(sub, "config", "show the effective settings")
    config_sub = config.add_subparsers(dest="config_command", required=True, metavar="COMMAND")
    add_arguments(_sub(config_sub, "show", "print each setting, its value and where it came from"))

    spec = _sub(sub, "spec", "work with Clio's OpenAPI document")
    spec_sub = spec.add_subparsers(dest="spec_command", required=True, metavar="COMMAND")
    fetch = _sub(spec_sub, "fetch", "download Clio's published document into the user cache")
    fetch.add_argument("--url", default=None, help="where to download from (default: $CLIO_MOCK_SPEC_URL or Clio's published URL)")
    diff = _sub(spec_sub, "diff", "compare two spec documents")
    diff.add_argument("old", help="the older document (path or URL)")
    diff.add_argument("new", help="the newer document (path or URL)")
    diff.add_argument("--json", action="store_true", help="print the diff as JSON")
    diff.add_argument("--fail-on-change", action="store_true", help="exit 1 when the documents differ (for CI); default: exit 0")
    _sub(spec_sub, "path", "print where the cached published document lives")
    ca = _sub(sub, "ca", "the local certificate authority of --tls and --proxy-port")
    ca_sub = ca.add_subparsers(dest="ca_command", required=True, metavar="COMMAND")
    _sub(ca_sub, "path", "print the CA certificate file (created if missing) for SSL_CERT_FILE, NODE_EXTRA_CA_CERTS...")
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
        if args.command == "ca":
            from mockserver.serving.ca import LocalCA

            try:
                print(LocalCA().ensure())
            except OSError as exc:
                print(f"clio-mock: cannot create the local CA in {LocalCA().directory}: {exc.strerror or exc} (CLIO_MOCK_CACHE_DIR moves it)", file=sys.stderr)
                return EXIT_USAGE
            return 0
        if args.command == "config":
            settings, sources = resolve(vars(args))
            _warn_unknown_environment()
            print(describe(settings, sources))
            return 0
        if args.command == "contract":
            from mockserver.contract.command import contract_command

            return contract_command(args)
    except SpecError as exc:
        print(f"clio-mock: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ClioError as exc:  # a bad setting, apps or scenario file: one line, no traceback
        print(f"clio-mock: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return 0


def _warn_unknown_environment() -> None:
    """Unknown ``CLIO_MOCK_*`` variables with no close match (near misses are errors in resolve)."""
    import os

    for name, _ in unknown_environment(dict(os.environ)):
        print(f"clio-mock: warning: {name} is not a clio-mock setting and is ignored (see clio-mock serve --help)", file=sys.stderr)


def check_can_listen(host: str, port: int) -> None:
    """Fail before "listening on" when the address is taken or not ours (``--port``, ``--host``)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ClioError(400, "InvalidSetting", f"--host {host!r}: cannot resolve it ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no conflict
        try:
            probe.bind(address)
        except OSError as exc:
            import errno

            if exc.errno == errno.EADDRINUSE:
                raise ClioError(400, "InvalidSetting", f"--port {port}: {host}:{port} is already in use; stop what listens there or choose another --port") from None
            raise ClioError(400, "InvalidSetting", f"--host {host!r} --port {port}: cannot listen there ({exc.strerror})") from None


def serve(args: argparse.Namespace) -> int:
    import time

    import uvicorn

    from mockserver.app import create_app
    from mockserver.control.api import LOOPBACK
    from mockserver.data.scenarios import load_scenario_file
    from mockserver.logs import announce, configure_logging, uvicorn_log_config
    from mockserver.spec.source import load_index, resolve_location

    settings, sources = resolve(vars(args))
    _warn_unknown_environment()
    if settings.server == "granian" and importlib.util.find_spec("granian") is None:
        print("clio-mock: --server granian needs granian: pip install 'clio-mock[granian]'", file=sys.stderr)
        return EXIT_USAGE
    if settings.workers > 1 and not settings.data:
        print("clio-mock: --workers above 1 needs --data FILE: workers share state through it", file=sys.stderr)
        return EXIT_USAGE
    check_can_listen(settings.host, settings.port)  # before the spec loads: fail fast, and never after "listening on"
    configure_logging(settings.log_level, settings.json_logs)
    started = time.perf_counter()
    settings.spec = resolve_location(settings.spec, progress=lambda m: announce(m, settings.json_logs))
    index = load_index(settings.spec, use_cache=settings.index_cache)
    check_records(settings.records, index.models, sources.get("records", "flag"))
    if settings.host not in LOOPBACK and not settings.admin_token:
        import secrets

        settings.admin_token = secrets.token_urlsafe(24)
        announce(f"clio-mock: bound to {settings.host}; control API admin token: {settings.admin_token}", settings.json_logs)
    app = create_app(settings, index=index)
    for fixture in settings.fixture:  # a bad file is one line naming file, place and reason (exit 2)
        firm = load_scenario_file(app.state, fixture)
        announce(f"clio-mock: loaded {fixture} as firm {firm.id} ({firm.name}, {firm.count()} records)", settings.json_logs)
    from mockserver.serving.runner import plan, tune_collector

    tune_collector()
    serving = plan(settings, index, app)  # --tls and --proxy-port: certificates and the proxy's socket
    for note in serving.notes:
        announce(f"clio-mock: {note}", settings.json_logs)
    announce(
        f"clio-mock: {len(index.operations)} operations from {settings.spec}; "
        f"{sum(a.count() for a in app.state.store.accounts.values())} records ready in {time.perf_counter() - started:.2f}s; "
        f"listening on {serving.scheme}://{settings.host}:{settings.port}/api/v4",
        settings.json_logs,
    )
    if settings.server == "granian":
        if serving.proxy is not None or serving.uvicorn_options:
            print("clio-mock: --tls and --proxy-port run on uvicorn only: leave out --server granian", file=sys.stderr)
            return EXIT_USAGE
        return serve_granian(settings, app)
    run = {"host": settings.host, "port": settings.port, "log_level": settings.log_level, "access_log": False,
           "log_config": uvicorn_log_config(settings.json_logs), "timeout_graceful_shutdown": 10,
           # uvloop + httptools when installed (uvicorn[standard]), else asyncio + h11
           "loop": "auto", "http": "auto",
           # Slow or idle clients must not hold connections forever (issue 14.9): idle keep-alive
           # closes, concurrency is capped (503 past it), a request head is at most 64 KB (h11).
           "timeout_keep_alive": settings.timeout_keep_alive, "limit_concurrency": settings.limit_concurrency or None,
           "h11_max_incomplete_event_size": 64 * 1024, **serving.uvicorn_options}
    if serving.proxy is not None:  # the proxy hands requests to this process's app, on uvicorn's loop
        from mockserver.serving.runner import run as run_with_proxy

        run_with_proxy(app, run, serving.proxy, serving.proxy_socket)
    elif settings.workers > 1:
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
    return EXIT_CHANGED if args.fail_on_change and not result.is_empty() else 0


if __name__ == "__main__":
    sys.exit(main())
