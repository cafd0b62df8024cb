"""Judging one response: schemathesis's checks, Clio's error shape, and the named allowances.

:func:`judge` runs schemathesis's own checks (``not_a_server_error``,
``status_code_conformance``, ``content_type_conformance``,
``response_schema_conformance``) on a response the kit received, one at a time so each
failure is attributed. Where the schema check fails only because of a known gap between
Clio's spec and Clio's real answers, the allowance (from :mod:`mockserver.spec.allowances`) is
applied, the check re-run, and the allowance's name counted in the verdict: allowances are
reported, never silent. Clio's error envelope ``{"error": {"type", "message"}}`` is checked
on every 4xx/5xx, declared or not.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import jsonschema_rs
import orjson

from mockserver.spec import allowances
from mockserver.spec.index import Operation

ERROR_ENVELOPE = "error-envelope"


@dataclass
class Problem:
    """One failed check on one response."""

    check: str
    reason: str


@dataclass
class Verdict:
    problems: list[Problem] = field(default_factory=list)
    allowances: Counter = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not self.problems


def _checks(negative: bool):
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    if negative:
        return [("not_a_server_error", not_a_server_error)]
    return [
        ("not_a_server_error", not_a_server_error),
        ("status_code_conformance", status_code_conformance),
        ("content_type_conformance", content_type_conformance),
        ("response_schema_conformance", response_schema_conformance),
    ]


def _run(case, response, check) -> list[str]:
    """Failure messages of one schemathesis check (empty: passed)."""
    from schemathesis.core.failures import Failure, FailureGroup

    try:
        case.validate_response(response, checks=[check])
    except FailureGroup as group:
        return [_message(f) for f in group.exceptions]
    except Failure as failure:
        return [_message(failure)]
    return []


def _message(failure) -> str:
    text = f"{failure.title}: {failure.message}" if failure.message else str(failure.title)
    return text if len(text) < 3000 else text[:3000] + " ..."


def body_json(response: httpx.Response) -> Any:
    try:
        return orjson.loads(response.content) if response.content else None
    except orjson.JSONDecodeError:
        return None


def _with_body(response, body: Any):
    """A copy of a schemathesis Response with another JSON body."""
    from schemathesis.core.transport import Response

    content = orjson.dumps(body)
    headers = {k: list(v) for k, v in response.headers.items()}
    headers["content-length"] = [str(len(content))]
    return Response(
        status_code=response.status_code, headers=headers, content=content, request=response.request,
        elapsed=response.elapsed, verify=response.verify, message=response.message, encoding=response.encoding,
    )


def judge(case, response: httpx.Response, op: Operation, *, negative: bool = False, write_enums: dict | None = None) -> Verdict:
    """Every check on one response to ``case`` (a schemathesis Case of ``op``). ``write_enums``
    (:func:`allowances.write_enums`) enables the ``write-enum-values`` allowance."""
    from schemathesis.core.transport import Response

    verdict = Verdict()
    used: set[str] = set()  # allowances this response needed, each counted once
    if not hasattr(response, "_elapsed"):  # a response built by hand (tests, drift fixtures)
        import datetime

        response.elapsed = datetime.timedelta(0)
    st_response = Response.from_httpx(response, verify=True)
    body = body_json(response)
    for name, check in _checks(negative):
        messages = _run(case, st_response, check)
        if messages and name == "response_schema_conformance":
            messages = _with_allowances(case, st_response, check, op, response.status_code, body, used, messages, write_enums or {})
        if messages and name == "status_code_conformance" and allowances.is_oauth_401(response.status_code, body):
            messages = []  # 401 is declared; only its body differs (counted below)
        verdict.problems += [Problem(name, m) for m in messages]
    _error_envelope(response, body, verdict, used)
    if op.list_response and response.status_code == 200 and isinstance(body, dict) and "meta" in body:
        used.add(allowances.LIST_META.name)  # observed: the spec declares no meta
    verdict.allowances.update(used)
    return verdict


def _with_allowances(case, st_response, check, op: Operation, status: int, body: Any, used: set[str], original: list[str], write_enums: dict) -> list[str]:
    """Re-run the schema check under the allowances that apply; the failures that remain."""
    if allowances.is_oauth_401(status, body):
        used.add(allowances.OAUTH_401.name)
        return []
    amended = allowances.response_schema_for(op, status)
    if op.action == "ids" and amended is not None:
        errors = list(jsonschema_rs.validator_for(amended).iter_errors(body))
        if not errors:
            used.add(allowances.IDS_ARRAY.name)
            return []
        return [f"{allowances.IDS_ARRAY.name} allowance applied, still: {errors[0].message[:500]}"]
    if body is None:
        return original
    schema = op.responses.get(status) or {}
    no_nulls = allowances.without_nulls(body)
    cased, changed = allowances.with_enum_casing(body, schema)
    both, _ = allowances.with_enum_casing(no_nulls, schema)
    attempts = [((allowances.NULL_VALUES.name,), no_nulls)]
    if changed:
        attempts += [((allowances.ENUM_CASING.name,), cased), ((allowances.NULL_VALUES.name, allowances.ENUM_CASING.name), both)]
    widened, n_widened = allowances.with_write_enums(both, schema, write_enums)
    if n_widened:
        names = (allowances.NULL_VALUES.name, allowances.WRITE_ENUMS.name) + ((allowances.ENUM_CASING.name,) if changed else ())
        attempts.append((names, widened))
    remaining = original
    for names, amended_body in attempts:
        if amended_body == body:
            continue
        remaining = _run(case, _with_body(st_response, amended_body), check)
        if not remaining:
            used.update(names)
            return []
        remaining = [f"(after the {' and '.join(names)} allowance) {m}" for m in remaining]
    return remaining


def _error_envelope(response: httpx.Response, body: Any, verdict: Verdict, used: set[str]) -> None:
    """Clio's errors are ``{"error": {"type": str, "message": str}}`` (JSON), whatever the status."""
    status = response.status_code
    if status < 400:
        return
    if allowances.is_oauth_401(status, body):
        used.add(allowances.OAUTH_401.name)
        return
    error = body.get("error") if isinstance(body, dict) else None
    if not (isinstance(error, dict) and isinstance(error.get("type"), str) and isinstance(error.get("message"), str)):
        verdict.problems.append(Problem(ERROR_ENVELOPE, f"{status} body is not Clio's error envelope {{\"error\": {{\"type\", \"message\"}}}}: {response.text[:300]!r}"))
        return
    ctype = response.headers.get("content-type", "")
    if not ctype.startswith("application/json"):
        verdict.problems.append(Problem(ERROR_ENVELOPE, f"{status} error body has content type {ctype!r}, not application/json"))
