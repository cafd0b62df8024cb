"""Settings of one mock server: defaults, and where each value comes from.

Every setting can be given as a command-line flag, an environment variable
``CLIO_MOCK_<NAME>`` or a key in a TOML file (``--config FILE`` or ``CLIO_MOCK_CONFIG``).
One precedence: **flag > environment > TOML file > default**. ``clio-mock config show``
prints the effective values and where each came from.
"""

from __future__ import annotations

import argparse
import difflib
import os
import tomllib
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from mockserver.engine.errors import ClioError

ENV_PREFIX = "CLIO_MOCK_"
SERVERS = ("uvicorn", "granian")
SECRET = frozenset({"admin_token"})
# CLIO_MOCK_* variables that are not settings (read elsewhere); any other is a typo or unknown.
OTHER_ENV = frozenset({"CONFIG", "CACHE_DIR", "SPEC_URL", "WORKER_SETTINGS", "RESOLVE"})  # RESOLVE: the Node test helper's
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


def _opt(default: Any, help: str, flag: str | None = None, *, choices: tuple[str, ...] | None = None,
         lo: float | None = None, hi: float | None = None, **extra: Any) -> Any:
    """A setting: its default, help, and what values are allowed (``choices``, or ``lo``..``hi``)."""
    meta = {"help": help, "flag": flag, "choices": choices, "lo": lo, "hi": hi}
    if callable(default):
        return field(default_factory=default, metadata=meta, **extra)
    return field(default=default, metadata=meta, **extra)


@dataclass
class Settings:
    """Everything ``create_app`` needs; the CLI, the environment, a TOML file or the pytest
    plugin fill it in."""

    spec: str | None = _opt(None, "OpenAPI document path or URL (default: Clio's published copy, downloaded once)")
    host: str = _opt("127.0.0.1", "address to listen on")
    port: int = _opt(8000, "port to listen on", lo=0, hi=65535)
    workers: int = _opt(1, "uvicorn worker processes (more than 1 needs data)", lo=1, hi=64)
    data: str | None = _opt(None, "SQLite file keeping all state across restarts (default: in memory)")
    seed: int = _opt(42, "seed for generated data (deterministic)")
    scale: float = _opt(1.0, "multiply the seeded firm's size", lo=0)
    records: dict[str, int] = _opt(dict, "records to seed per model (MODEL=N, repeatable)")
    accounts: int = _opt(1, "number of seeded firms", lo=0, hi=1000)
    fixture: list[str] = _opt(list, "scenario YAML loaded into a new firm (repeatable)")
    index_cache: bool = _opt(True, "read and write the on-disk spec index")
    token_lifetime: int = _opt(30 * 86400, "access token lifetime in seconds (Clio: 30 days)", lo=1)
    code_lifetime: int = _opt(600, "authorization code lifetime in seconds", lo=1)
    auto_approve: bool = _opt(False, "skip the OAuth approval page for every app")
    dev_token: str | None = _opt("dev", "a long-lived token for the default firm ('' for none)")
    rate_limit: int = _opt(50, "requests per token per minute (0: no limit)", lo=0)
    rate_window: int = _opt(60, "rate-limit window in seconds", lo=1)
    apps: str | None = _opt(None, "YAML file declaring more developer apps")
    admin_token: str | None = _opt(None, "token the control API requires when not bound to loopback")
    webhook_allow_http: bool = _opt(False, "accept http:// webhook URLs on loopback")
    webhook_time_scale: float = _opt(1.0, "scale Clio's webhook retry schedule (e.g. 0.01)", lo=0)
    log_level: str = _opt("info", "log level", choices=LOG_LEVELS)
    json_logs: bool = _opt(False, "write logs as JSON lines")
    access_log: bool = _opt(True, "log every request with its request id")
    # --- hardening (issue 14): who may reach what
    public_url: str | None = _opt(None, "the mock's public base URL (https://mock.example:8443) for paging links, redirects and generated URLs, instead of the Host header")
    oauth_redirect_origin: list[str] = _opt(list, "an origin every app (the default app too) may redirect to, e.g. http://app:3000 (repeatable; matched exactly on scheme, host and port)")
    webhook_allow_host: list[str] = _opt(list, "a webhook destination host or CIDR allowed although private/loopback/link-local; plain http too (repeatable)")
    fixture_dir: list[str] = _opt(list, "a folder the control API may load scenario files from (repeatable; default: the working directory and the shipped fixtures)")
    dev_token_public: bool = _opt(False, "keep the dev token active when bound to a non-loopback address")
    timeout_keep_alive: int = _opt(5, "seconds an idle keep-alive connection stays open")
    limit_concurrency: int = _opt(1000, "most connections and tasks at once before uvicorn answers 503 (0: no limit)")
    # --- newcomer: the request journal's bounds (issue 14.2)
    journal_entries: int = _opt(10_000, "requests the journal keeps (oldest dropped first)", lo=1)
    journal_body_bytes: int = _opt(64 * 1024, "bytes of each request and response body the journal keeps (the rest marked truncated)", lo=0)
    journal_bytes: int = _opt(32 * 1024 * 1024, "bytes the whole journal may hold (oldest entries dropped first)", lo=0)
    # Serving on Clio's host names (hosts: issues 16.2 and 18): HTTPS, the local CA, the forward proxy.
    tls: bool = _opt(False, "serve HTTPS with a certificate for Clio's hosts from the local CA (`clio-mock ca path`)")
    tls_host: list[str] = _opt(list, "another host name (or IP) for the certificate and the proxy (repeatable)")
    tls_cert: str | None = _opt(None, "serve HTTPS with this certificate (PEM) instead of the local CA's")
    tls_key: str | None = _opt(None, "the private key (PEM) of --tls-cert")
    proxy_port: int = _opt(0, "also listen on this port as an HTTP forward proxy (HTTPS_PROXY) for Clio's hosts (0: off)")
    proxy_pass_through: bool = _opt(False, "let the proxy tunnel to other public hosts on port 443 (default: refuse with 403)")
    # -- serving (perf)
    server: str = _opt("uvicorn", "HTTP server: uvicorn (uvloop + httptools when installed) or granian (Rust; "
                       "pip install 'clio-mock[granian]')", choices=SERVERS)


def _kind(f) -> str:
    t = str(f.type)
    for name in ("dict", "list", "bool", "int", "float"):
        if t.startswith(name):
            return name
    return "str"


def flag_name(f) -> str:
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def _default_text(f) -> str:
    if f.default_factory is not MISSING:  # type: ignore[misc]
        return "none"
    if f.default is None:
        return "none"
    if isinstance(f.default, bool):
        return "on" if f.default else "off"
    return repr(f.default) if f.default == "" else str(f.default)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per setting (defaults stay unset, so the precedence can see what was given).

    Values are taken as text and converted by :func:`resolve`, so a bad one gets the same
    one-line message whether it came from a flag, the environment or a file."""
    parser.add_argument("--config", help="TOML file of settings (also CLIO_MOCK_CONFIG)")
    for f in fields(Settings):
        flag = flag_name(f)
        kind, help_ = _kind(f), f.metadata.get("help", "")
        if f.metadata.get("choices"):
            help_ += f" ({', '.join(f.metadata['choices'])})"
        if "default" not in help_:
            help_ += f"; default {_default_text(f)}"
        help_ += f"; env {ENV_PREFIX}{f.name.upper()}"
        help_ = help_.replace("%", "%%")
        if kind == "bool":
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=help_)
        elif kind in ("dict", "list"):
            parser.add_argument(flag, dest=f.name, action="append", default=argparse.SUPPRESS, metavar="MODEL=N" if kind == "dict" else None, help=help_)
        else:
            parser.add_argument(flag, dest=f.name, default=argparse.SUPPRESS, metavar=kind.upper() if kind != "str" else None, help=help_)


def _label(f, source: str, raw: Any) -> str:
    """Where a value came from, as the user wrote it: ``--port 99999``, ``CLIO_MOCK_PORT=99999``."""
    if source == "flag":
        return f"{flag_name(f)} {raw!r}" if not isinstance(raw, list) else f"{flag_name(f)} {' '.join(map(str, raw))!r}"
    if source.startswith("env "):
        return f"{source[4:]}={raw!r}"
    return f"{source[5:]}: {f.name} = {raw!r}"


_KIND_TEXT = {"int": "int (a whole number)", "float": "float (a number)", "bool": "bool (true/false, yes/no, 1/0, on/off)",
              "dict": "dict of MODEL=N (N a whole number), comma-separated or repeated", "list": "list", "str": "str"}


def _convert(f, raw: Any, source: str) -> Any:
    kind = _kind(f)
    try:
        value = _parse(f, kind, raw)
    except (TypeError, ValueError):
        raise ClioError(400, "InvalidSetting", f"{_label(f, source, raw)}: {f.name} must be {_KIND_TEXT[kind]}") from None
    _check_allowed(f, value, source, raw)
    return value


def _parse(f, kind: str, raw: Any) -> Any:
    if kind == "dict":
        if isinstance(raw, dict):
            items = list(raw.items())
        else:
            items = []
            for v in _as_list(raw):
                for part in str(v).split(","):
                    if not part.strip():
                        continue
                    name, eq, number = part.partition("=")
                    if not eq or not name.strip():
                        raise ValueError(part)
                    items.append((name, number))
        out = {}
        for k, v in items:
            if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
                raise ValueError(v)
            n = int(str(v).strip()) if not isinstance(v, int) else v
            if n < 0:
                raise ValueError(v)
            out[str(k).strip()] = n
        return out
    if kind == "list":
        return [str(v) for v in _as_list(raw)]
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        if str(raw).lower() in ("1", "true", "yes", "on"):
            return True
        if str(raw).lower() in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(raw)
    if kind == "int":
        if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
            raise ValueError(raw)
        return int(str(raw).strip().replace("_", "")) if not isinstance(raw, int) else raw
    if kind == "float":
        value = float(raw)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(raw)
        return value
    if raw in ("", None) and "None" in str(f.type):
        return None  # an empty value clears an optional setting (--dev-token '')
    return str(raw)


def _check_allowed(f, value: Any, source: str, raw: Any) -> None:
    meta = f.metadata
    if meta.get("choices") and value not in meta["choices"]:
        close = difflib.get_close_matches(str(value).lower(), meta["choices"], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ClioError(400, "InvalidSetting", f"{_label(f, source, raw)}: {f.name} must be one of {', '.join(meta['choices'])}{hint}")
    lo, hi = meta.get("lo"), meta.get("hi")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and ((lo is not None and value < lo) or (hi is not None and value > hi)):
        allowed = f"from {lo} to {hi}" if lo is not None and hi is not None else f"{lo} or more" if lo is not None else f"{hi} or less"
        raise ClioError(400, "InvalidSetting", f"{_label(f, source, raw)}: {f.name} must be {allowed}")


def _as_list(raw: Any) -> list[Any]:
    if isinstance(raw, (list, tuple)):
        return list(raw)
    return [part for part in str(raw).split(os.pathsep if os.pathsep in str(raw) else ",") if part]


def unknown_environment(environ: dict[str, str]) -> list[tuple[str, str | None]]:
    """``CLIO_MOCK_*`` variables that are no setting: ``(name, closest known name or None)``."""
    known = {ENV_PREFIX + f.name.upper() for f in fields(Settings)} | {ENV_PREFIX + n for n in OTHER_ENV}
    out = []
    for name in sorted(environ):
        if name.startswith(ENV_PREFIX) and name not in known:
            # compared without the shared prefix, which would make every name look alike
            close = difflib.get_close_matches(name.removeprefix(ENV_PREFIX), sorted(k.removeprefix(ENV_PREFIX) for k in known), n=1, cutoff=0.7)
            out.append((name, ENV_PREFIX + close[0] if close else None))
    return out


def check_records(records: dict[str, int], models: set[str] | dict[str, Any], source: str = "flag") -> None:
    """Every ``--records`` model is one of the spec's (``Matter``, not ``matter`` or ``Mattr``)."""
    names = sorted(models)
    lower = {n.lower(): n for n in names}
    for name in records:
        if name in models:
            continue
        close = [lower[name.lower()]] if name.lower() in lower else difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else "; models are the spec's schema names (Matter, Contact, Activity...)"
        where = "--records" if source == "flag" else source.replace("env ", "") if source.startswith("env ") else source
        raise ClioError(400, "InvalidSetting", f"{where} {name + '=' + str(records[name])!r}: no model {name!r} in the spec{hint}")


def resolve(given: dict[str, Any], environ: dict[str, str] | None = None) -> tuple[Settings, dict[str, str]]:
    """Settings from flags (``given``), the environment and a TOML file, with each one's source."""
    environ = dict(os.environ if environ is None else environ)
    for name, close in unknown_environment(environ):
        if close:  # a near miss is a typo, not a variable of someone else's (CLIO_MOCK_PROT=9000)
            raise ClioError(400, "InvalidSetting", f"{name}={environ[name]!r}: no such setting; did you mean {close}?")
    path = given.get("config") or environ.get(ENV_PREFIX + "CONFIG")
    toml: dict[str, Any] = {}
    if path:
        try:
            with open(path, "rb") as fh:
                toml = {k.replace("-", "_"): v for k, v in tomllib.load(fh).items()}
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ClioError(400, "InvalidConfig", f"{path}: {exc}") from None
        known = {f.name for f in fields(Settings)}
        unknown = sorted(set(toml) - known)
        if unknown:
            close = difflib.get_close_matches(unknown[0], sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ClioError(400, "InvalidConfig", f"{path}: unknown setting {unknown[0]!r}{hint}")
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for f in fields(Settings):
        env_name = ENV_PREFIX + f.name.upper()
        if f.name in given:
            raw, source = given[f.name], "flag"
        elif env_name in environ:
            raw, source = environ[env_name], f"env {env_name}"
        elif f.name in toml:
            raw, source = toml[f.name], f"file {path}"
        else:
            sources[f.name] = "default"
            continue
        values[f.name] = _convert(f, raw, source)
        sources[f.name] = source
    return Settings(**values), sources


def describe(settings: Settings, sources: dict[str, str]) -> str:
    """``name = value  # source`` lines, secrets masked."""
    lines = []
    for f in fields(Settings):
        value = getattr(settings, f.name)
        shown = "***" if f.name in SECRET and value else repr(value)
        lines.append(f"{f.name} = {shown}  # {sources.get(f.name, 'default')}")
    return "\n".join(lines)
