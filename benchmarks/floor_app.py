#!/usr/bin/env python3
"""The floor for clio-mock's stack: a bare Starlette app that answers GET with a constant JSON
body, served the way ``clio-mock serve`` serves its app: ``uvicorn.run`` with one worker, log
level warning, no access log, loop and HTTP parser "auto" (uvloop + httptools when installed),
or with ``--server granian`` through the same function ``clio-mock serve --server granian`` uses.

    python benchmarks/floor_app.py --port 8001 --route /api/v4/matters/1.json=body.json
    python benchmarks/floor_app.py --port 8001 --route /show.json=63

Each ``--route PATH=SOURCE`` adds one exact GET route. SOURCE is a file whose bytes are the
body (e.g. a response captured from clio-mock), or a number of bytes, for which a JSON
object of exactly that size is generated. The body is built once; each request only goes
through uvicorn, Starlette's router and a ``Response`` -- no serialisation.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route


def json_body(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes (at least the size of its empty shell)."""
    shell = {"data": {"id": 1, "pad": ""}}
    base = len(json.dumps(shell, separators=(",", ":")))
    shell["data"]["pad"] = "x" * max(0, size - base)
    return json.dumps(shell, separators=(",", ":")).encode()


def load_source(source: str) -> bytes:
    if source.isdigit():
        return json_body(int(source))
    return Path(source).read_bytes()


def make_app(routes: dict[str, bytes]) -> Starlette:
    def endpoint(body: bytes):
        async def handler(request):
            return Response(body, media_type="application/json")

        return handler

    return Starlette(routes=[Route(path, endpoint(body), methods=["GET"]) for path, body in routes.items()])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--route", action="append", default=[], metavar="PATH=SOURCE",
                        help="GET PATH answers the bytes of file SOURCE, or a JSON body of SOURCE bytes (repeatable)")
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn",
                        help="serve as `clio-mock serve --server` does (default uvicorn)")
    args = parser.parse_args(argv)
    routes = {}
    for item in args.route or ["/=64"]:
        path, sep, source = item.partition("=")
        if not sep or not path.startswith("/"):
            parser.error(f"--route takes PATH=SOURCE, got {item!r}")
        routes[path] = load_source(source)

    if args.server == "granian":  # the very code `clio-mock serve --server granian` runs
        from mockserver.cli import serve_granian
        from mockserver.config import Settings

        return serve_granian(Settings(host=args.host, port=args.port, log_level=args.log_level), make_app(routes))
    import uvicorn

    uvicorn.run(make_app(routes), host=args.host, port=args.port, log_level=args.log_level, access_log=False,
                loop="auto", http="auto")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
