"""Settings of one mock server: defaults, and where each value comes from.

Every setting can be given as a command-line flag, an environment variable
``CLIO_MOCK_<NAME>`` or a key in a TOML file (``--config FILE`` or ``CLIO_MOCK_CONFIG``).
One precedence: **flag > environment > TOML file > default**. ``clio-mock config show``
prints the effective values and where each came from.
"""

from __future__ import annotations

import argparse
import os
import tomllib
from dataclasses import dataclass, field, fields
from typing import Any

from mockserver.engine.errors import ClioError

ENV_PREFIX = "CLIO_MOCK_"
SECRET = frozenset({"admin_token"})


def _opt(default: Any, help: str, flag: str | None = None, **extra: Any) -> Any:
    meta = {"help": help, "flag": flag}
    if callable(default):
        return field(default_factory=default, metadata=meta, **extra)
    return field(default=default, metadata=meta, **extra)


@dataclass
class Settings:
    """Everything ``create_app`` needs; the CLI, the environment, a TOML file or the pytest
    plugin fill it in."""

    spec: str | None = _opt(None, "OpenAPI document path or URL (default: Clio's published copy, downloaded once)")
    host: str = _opt("127.0.0.1", "address to listen on")
    port: int = _opt(8000, "port to listen on")
    workers: int = _opt(1, "uvicorn worker processes (more than 1 needs data)")
    data: str | None = _opt(None, "SQLite file keeping all state across restarts (default: in memory)")
    seed: int = _opt(42, "seed for generated data (deterministic)")
    scale: float = _opt(1.0, "multiply the seeded firm's size")
    records: dict[str, int] = _opt(dict, "records to seed per model (MODEL=N, repeatable)")
    accounts: int = _opt(1, "number of seeded firms")
    fixture: list[str] = _opt(list, "scenario YAML loaded into a new firm (repeatable)")
    index_cache: bool = _opt(True, "read and write the on-disk spec index")
    token_lifetime: int = _opt(30 * 86400, "access token lifetime in seconds (Clio: 30 days)")
    code_lifetime: int = _opt(600, "authorization code lifetime in seconds")
    auto_approve: bool = _opt(False, "skip the OAuth approval page for every app")
    dev_token: str | None = _opt("dev", "a long-lived token for the default firm ('' for none)")
    rate_limit: int = _opt(50, "requests per token per minute (0: no limit)")
    rate_window: int = _opt(60, "rate-limit window in seconds")
    apps: str | None = _opt(None, "YAML file declaring more developer apps")
    admin_token: str | None = _opt(None, "token the control API requires when not bound to loopback")
    webhook_allow_http: bool = _opt(False, "accept http:// webhook URLs on loopback")
    webhook_time_scale: float = _opt(1.0, "scale Clio's webhook retry schedule (e.g. 0.01)")
    log_level: str = _opt("info", "log level (debug, info, warning, error)")
    json_logs: bool = _opt(False, "write logs as JSON lines")
    access_log: bool = _opt(True, "log every request with its request id")
    # -- serving (perf)
    server: str = _opt("uvicorn", "HTTP server: uvicorn (uvloop + httptools when installed) or granian (Rust; "
                       "pip install 'clio-mock[granian]')")


def _kind(f) -> str:
    t = str(f.type)
    for name in ("dict", "list", "bool", "int", "float"):
        if t.startswith(name):
            return name
    return "str"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per setting (defaults stay unset, so the precedence can see what was given)."""
    parser.add_argument("--config", help="TOML file of settings (also CLIO_MOCK_CONFIG)")
    for f in fields(Settings):
        flag = f.metadata.get("flag") or "--" + f.name.replace("_", "-")
        kind, help_ = _kind(f), f.metadata.get("help", "")
        if kind == "bool":
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=help_)
        elif kind in ("dict", "list"):
            parser.add_argument(flag, dest=f.name, action="append", default=argparse.SUPPRESS, help=help_)
        else:
            parser.add_argument(flag, dest=f.name, type=int if kind == "int" else float if kind == "float" else str, default=argparse.SUPPRESS, help=help_)


def _convert(f, raw: Any, source: str) -> Any:
    kind = _kind(f)
    try:
        if kind == "dict":
            items = raw.items() if isinstance(raw, dict) else (p.partition("=")[::2] for v in _as_list(raw) for p in str(v).split(","))
            return {str(k).strip(): int(v) for k, v in items if str(k).strip()}
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
            return int(raw)
        if kind == "float":
            return float(raw)
        if raw in ("", None) and "None" in str(f.type):
            return None  # an empty value clears an optional setting (--dev-token '')
        return str(raw)
    except (TypeError, ValueError):
        raise ClioError(400, "InvalidSetting", f"{source}: {f.name} must be {kind}, got {raw!r}") from None


def _as_list(raw: Any) -> list[Any]:
    if isinstance(raw, (list, tuple)):
        return list(raw)
    return [part for part in str(raw).split(os.pathsep if os.pathsep in str(raw) else ",") if part]


def resolve(given: dict[str, Any], environ: dict[str, str] | None = None) -> tuple[Settings, dict[str, str]]:
    """Settings from flags (``given``), the environment and a TOML file, with each one's source."""
    environ = dict(os.environ if environ is None else environ)
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
            raise ClioError(400, "InvalidConfig", f"{path}: unknown setting {unknown[0]!r}")
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
