"""The contract-test kit: Clio's spec against a target, operation by operation.

Phases (each can be switched off):

``examples``
    one valid request per operation (real ids, a minimal valid body, every field asked
    for) that must succeed with the declared status and match the schema;
``generated``
    ``max_examples`` schemathesis-generated requests per operation: any *declared* status
    is fine (a fuzzed ``fields`` earning 400 ``InvalidFields`` is a correct answer), but
    content type and body must match what the spec declares for it;
``clio``
    what schemathesis cannot know: ``fields`` honoured (and 400 ``InvalidFields`` for a bad
    one), ``meta.paging.next`` followed until exhausted, ETag -> 304, 404 error shape;
``stateful``
    create -> show -> update (If-Match) -> show -> stale If-Match 412 -> destroy -> show
    404, walking the links the kit adds to the spec (:mod:`mockserver.contract.specprep`);
``negative``
    schemathesis's negative mode (invalid input): never a 5xx, errors in Clio's shape.

Against a live target the kit is read-only unless ``allow_writes``; then it writes only
to records it created and deletes them at the end (:mod:`mockserver.contract.client`).
"""

from __future__ import annotations

import random
import re
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx
import orjson

from mockserver.contract.checks import Verdict, body_json, judge
from mockserver.contract.client import (
    AuthFailed,
    BudgetExhausted,
    Credentials,
    KitClient,
    KitError,
    Limits,
    RateLimitGaveUp,
    ReadOnlyViolation,
    exchange_of,
    normalise_path,
    resolve_target,
)
from mockserver.contract.discovery import Created, Discovery
from mockserver.contract.progress import Progress
from mockserver.contract.report import (
    CheckResult,
    OperationResult,
    RunResult,
)
from mockserver.contract.specprep import (
    CrudSet,
    link_parameters,
    load_document,
    load_schema,
    prepare,
)
from mockserver.spec import allowances
from mockserver.spec.index import Operation, SpecIndex, flatten

ALL_PHASES = ("examples", "generated", "clio", "stateful", "negative")
LIVE_PHASES = ("examples", "generated", "clio", "stateful")
ORDER = {"create": 0, "index": 1, "list": 1, "show": 2, "who_am_i": 2, "update": 7, "destroy": 9}
MOCK_BASE = "http://127.0.0.1:8000"
NO_SUCH_ID = 987654321987
NO_SUCH_FIELD = "kit_no_such_field"
STALE_ETAG = '"kit-stale-etag"'


@dataclass
class KitConfig:
    """Everything a run needs; the CLI and the pytest options fill it in."""

    target: str = "mock"  # "mock", a URL, or clio / clio-eu / clio-ca / clio-au
    spec: str | None = None  # path or URL; None: $CLIO_MOCK_SPEC or Clio's published copy
    allow_writes: bool = False
    budget: int | None = None
    max_examples: int = 3
    phases: tuple[str, ...] | None = None  # None: all for the mock, all but negative for live
    operations: str | None = None  # regex on operationId or "METHOD /path"
    max_wait: float = 120.0
    max_retries: int = 5
    page_size: int = 10
    max_pages: int = 30
    seed: int | None = None
    junit_xml: str | None = None
    report_md: str | None = None
    report_html: str | None = None
    credentials: Credentials | None = None  # None: from the environment (mock: the dev token)
    mock_settings: Any = None  # mockserver.config.Settings for the in-process mock
    http: httpx.Client | None = None  # for tests: a client of one's own
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.time
    progress: Callable[[str], None] | None = None

    @property
    def is_mock(self) -> bool:
        return self.target == "mock"

    def active_phases(self) -> tuple[str, ...]:
        if self.phases is not None:
            unknown = set(self.phases) - set(ALL_PHASES)
            if unknown:
                raise ValueError(f"unknown phase(s) {', '.join(sorted(unknown))}; choose from {', '.join(ALL_PHASES)}")
            return tuple(p for p in ALL_PHASES if p in self.phases)
        return ALL_PHASES if self.is_mock else LIVE_PHASES


class Kit:
    """One contract run against one target. ``with Kit(config) as kit: kit.run()``."""

    def __init__(self, config: KitConfig, index: SpecIndex | None = None, document: dict[str, Any] | None = None) -> None:
        self.config = config
        self._index = index
        self._document = document
        self.opened = False
        self.closed = False

    # ------------------------------------------------------------------ set-up

    def __enter__(self) -> Kit:  # noqa: PYI034
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        if self.opened:
            return
        from mockserver.spec.source import load_index, resolve_location

        cfg = self.config
        keep_hypothesis_out_of_cwd()
        if not cfg.is_mock:
            resolve_target(cfg.target)  # a bad target or missing credentials fail before the spec is loaded
            credentials = cfg.credentials or Credentials.from_env()
            if not credentials.access_token and not credentials.can_refresh:
                raise AuthFailed("a live target needs CLIO_ACCESS_TOKEN, or CLIO_CLIENT_ID + CLIO_CLIENT_SECRET + CLIO_REFRESH_TOKEN")
        self.location = resolve_location(cfg.spec)
        self.index = self._index or load_index(self.location)
        self.prepared = prepare(self._document or load_document(self.location), self.index)
        self.schema = load_schema(self.prepared)
        self.crud = self.prepared.crud
        self.crud_by_op: dict[str, CrudSet] = {}
        for crud in self.crud.values():
            for op in (crud.update, crud.destroy, crud.show):
                if op is not None:
                    self.crud_by_op.setdefault(op.operation_id, crud)
        self.phases = cfg.active_phases()
        self._ops_by_key = {(o.method, o.path): o for o in self.index.operations}
        self.write_enums = allowances.write_enums(self.index)
        self._used_ids: dict[str, set] = {}  # seeded ids a destroy has used up, per operation
        self.app = None
        store_account = None
        if cfg.is_mock:
            api_root, live = MOCK_BASE + "/api/v4", False
            http = cfg.http or self._in_process_client()
            store_account = self.app.state.store.accounts[1] if self.app is not None else None
            credentials = cfg.credentials or Credentials(access_token=getattr(cfg.mock_settings, "dev_token", None) or "dev")
        else:
            api_root, live = resolve_target(cfg.target)
            http = cfg.http or httpx.Client(timeout=60.0)
        self.client = KitClient(
            http, api_root, credentials, live=live, allow_writes=cfg.allow_writes,
            limits=Limits(cfg.budget, cfg.max_wait, cfg.max_retries), sleep=cfg.sleep, now=cfg.now,
        )
        self.client.creatable = {normalise_path(c.create.path) for c in self.crud.values() if c.destroy is not None}
        self.discovery = Discovery(self.client, self.index, self.crud, store_account)
        self.result = RunResult(
            target="in-process mock" if cfg.is_mock else api_root,
            spec=self.location,
            settings={
                "phases": ",".join(self.phases), "max_examples": cfg.max_examples, "writes": "allowed" if self.client.writes_allowed else "read-only",
                "budget": cfg.budget or "none", "seed": cfg.seed if cfg.seed is not None else "derandomized",
            },
        )
        self.result.notes.append(f"kit-added links: {self.prepared.link_count}; header parameters left to the kit: {self.prepared.removed_headers}")
        self._budget_spent = False
        self._started = time.perf_counter()
        self.opened = True

    def _in_process_client(self) -> httpx.Client:
        from mockserver.app import create_app
        from mockserver.config import Settings

        # Example webhook bodies point at the discard port on loopback (engine/examples.py): allowed here.
        settings = self.config.mock_settings or Settings(spec=self.location, rate_limit=0, webhook_allow_host=["127.0.0.1"])
        self.app = create_app(settings, index=self.index)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # starlette's httpx deprecation notice: the kit only needs a sync ASGI client
            from starlette.testclient import TestClient

            return TestClient(self.app, base_url=MOCK_BASE, raise_server_exceptions=False)

    def close(self) -> RunResult:
        """Delete what the kit created, total up, write the reports."""
        if self.closed or not self.opened:
            return self.result
        self.closed = True
        self.result.cleanup = self.discovery.cleanup()
        self.result.traffic = self.client.summary()
        self.result.duration = time.perf_counter() - self._started
        if self.discovery.create_failures:
            self.result.notes.append("records the kit could not create: " + "; ".join(f"{m}: {r}" for m, r in sorted(self.discovery.create_failures.items())))
        self.result.write(self.config.junit_xml, self.config.report_md, self.config.report_html)
        return self.result

    # ------------------------------------------------------------------ selection

    def operations(self) -> list[Operation]:
        """The operations to test, creates first and destroys last."""
        pattern = re.compile(self.config.operations) if self.config.operations else None
        ops = [op for op in self.index.operations if pattern is None or pattern.search(op.operation_id) or pattern.search(f"{op.method} {op.path}")]
        return sorted(ops, key=lambda o: ORDER.get(o.action, 5))

    def sequences(self) -> list[CrudSet]:
        pattern = re.compile(self.config.operations) if self.config.operations else None
        return [c for m, c in sorted(self.crud.items()) if c.complete and (pattern is None or pattern.search(m) or pattern.search(c.create.operation_id))]

    def run(self) -> RunResult:
        """Every phase over every selected operation; then clean up and write the reports."""
        self.open()
        per_op = any(p in self.phases for p in ("examples", "generated", "clio"))
        sequences = self.sequences() if "stateful" in self.phases else []
        ops = self.operations()
        progress = Progress(len(ops) * per_op + len(sequences) + len(ops) * ("negative" in self.phases))
        try:
            if per_op:
                for op in ops:
                    self._say(progress.step(f"operation {op.operation_id}", self.run_operation(op).status))
                if "clio" in self.phases:
                    self.run_global_probes()
            for crud in sequences:
                self._say(progress.step(f"sequence {crud.model}", self.run_sequence(crud).status))
            if "negative" in self.phases:
                for op in ops:
                    self._say(progress.step(f"negative {op.operation_id}", self.run_negative(op).status))
        finally:
            self.close()
        return self.result

    def _say(self, message: str) -> None:
        if self.config.progress:
            self.config.progress(message)

    # ------------------------------------------------------------------ one operation

    def run_operation(self, op: Operation) -> OperationResult:
        """Examples, generated cases and Clio's own checks for one operation."""
        result = OperationResult(op.operation_id, f"{op.method} {op.path}")
        self.result.suite("operations")[op.operation_id] = result
        started = time.perf_counter()
        if "examples" in self.phases:
            self._guarded(result.check("example"), lambda c: self._example(op, result, c))
        if "generated" in self.phases:
            self._guarded(result.check("generated"), lambda c: self._generated(op, result, c, negative=False))
        if "clio" in self.phases:
            if op.method == "GET" and "fields" in op.params and op.model in self.index.models and op.response_schema and op.action != "ids":
                self._guarded(result.check("fields"), lambda c: self._fields_probe(op, result, c))
            if op.method == "GET" and op.list_response and ("page_token" in op.params or "limit" in op.params):
                self._guarded(result.check("paging"), lambda c: self._paging_probe(op, result, c))
            if op.method == "GET" and "IF-NONE-MATCH" in op.params:
                self._guarded(result.check("conditional"), lambda c: self._conditional_probe(op, result, c))
            if op.method == "GET" and "id" in op.path_params and 404 in op.responses:
                self._guarded(result.check("not-found"), lambda c: self._not_found_probe(op, result, c))
        result.duration = time.perf_counter() - started
        return result

    def run_negative(self, op: Operation) -> OperationResult:
        result = OperationResult(op.operation_id, f"{op.method} {op.path}")
        self.result.suite("negative")[op.operation_id] = result
        started = time.perf_counter()
        self._guarded(result.check("negative"), lambda c: self._generated(op, result, c, negative=True))
        result.duration = time.perf_counter() - started
        return result

    def _guarded(self, check: CheckResult, body: Callable[[CheckResult], None]) -> None:
        """Run one check; what the safety rules stop becomes a skip, never a failure."""
        if self._budget_spent:
            check.skip("request budget spent")
            return
        before = self.client.sent
        try:
            body(check)
        except BudgetExhausted as exc:
            self._budget_spent = True
            check.skip(f"request budget spent ({exc})")
        except RateLimitGaveUp as exc:
            check.skip(f"rate limited: {exc}")
        except ReadOnlyViolation as exc:
            check.skip(str(exc))
        except KitError as exc:
            check.skip(f"{type(exc).__name__}: {exc}")
        finally:
            check.requests += self.client.sent - before

    # ------------------------------------------------------------------ path parameters

    def _path_values(self, op: Operation, check: CheckResult, fresh: bool = False) -> dict[str, Any] | None:
        """Path parameters that name real records, under the safety rules; None (with the
        check skipped) when there are none to use."""
        live = self.client.live
        if op.method in ("PATCH", "PUT", "DELETE"):
            if not self.client.writes_allowed:
                check.skip("read-only target (writes need --allow-writes)")
                return None
            crud = self.crud_by_op.get(op.operation_id)
            if crud is not None and op in (crud.update, crud.destroy):
                record = self._record_for(crud, fresh or op is crud.destroy)
                if record is not None:
                    return {"id": record.id} if "id" in op.path_params else {}
                if live:
                    check.skip(f"could not create a {crud.model} of the kit's own: {self.discovery.create_failures.get(crud.model, '')}")
                    return None
            elif live:
                check.skip("the kit changes only records it created, and it cannot create one for this operation")
                return None
            return self._existing(op, check, skip_used=op.method == "DELETE")
        if op.method == "POST":
            if live and not self.client.allow_writes:
                check.skip("read-only target (writes need --allow-writes)")
                return None
            if live and normalise_path(op.path) not in self.client.creatable:
                check.skip("a write the kit could not undo (it creates only records it can delete)")
                return None
            return self._existing(op, check)
        crud = self.crud_by_op.get(op.operation_id)
        if crud is not None and op is crud.show and not op.path_params and self.client.writes_allowed:
            self._record_for(crud, fresh=False)  # a singleton (the timer) must exist to be shown
        return self._existing(op, check)

    def _existing(self, op: Operation, check: CheckResult, skip_used: bool = False) -> dict[str, Any] | None:
        if not op.path_params:
            return {}
        used = self._used_ids.setdefault(op.operation_id, set()) if skip_used else None
        values = self.discovery.path_values(op, skip=used)
        if values is None:
            check.skip("no record found to call it with")
            return None
        if used is not None and values.get(op.path_params[-1]) is not None:
            used.add(values[op.path_params[-1]])
            self.discovery.cache.clear()  # a destroyed record leaves the listings
        return values

    def _record_for(self, crud: CrudSet, fresh: bool) -> Created | None:
        """A record of the kit's own: a new one, or the last one still alive."""
        if not fresh:
            for record in reversed(self.discovery.created):
                if record.model == crud.model and record.clean and self.client.is_owned(record.path):
                    return record
        return self.discovery.create(crud.model)

    # ------------------------------------------------------------------ sending

    def api_operation(self, op: Operation):
        return self.schema[op.path][op.method]

    def send(self, case, *, extra_headers: dict[str, str] | None = None) -> httpx.Response:
        """Send a schemathesis Case through the kit's client (Clio's body encodings)."""
        params = _query_pairs(case)
        headers = {k: str(v) for k, v in (case.headers or {}).items() if k.lower() not in _OWN_HEADERS}
        content, ctype = encode_body(case)
        if ctype:
            headers["Content-Type"] = ctype
        headers.update(extra_headers or {})
        path = case.formatted_path
        response = self.client.request(case.method, path, params=params, headers=headers, content=content)
        if case.method in ("POST", "DELETE") and response.status_code in (200, 201, 204):
            self.discovery.cache.clear()  # listings changed: find ids afresh
        self._note_created(case, response)
        return response

    def _note_created(self, case, response: httpx.Response) -> None:
        """A 201 from a create: remember the record, so it is cleaned up."""
        if response.status_code != 201 or case.method != "POST":
            return
        op = self.index_op(case)
        crud = self.crud.get(op.model) if op is not None else None
        if crud is None or crud.create is not op:
            return
        data = (body_json(response) or {}).get("data")
        record_id = data.get("id") if isinstance(data, dict) else None
        if crud.show is not None and not crud.show.path_params:
            path = crud.show.path  # a singleton (the timer)
        elif record_id is not None:
            path = op.path[: -len(".json")] + f"/{record_id}.json"
        else:
            self.result.notes.append(f"{op.operation_id} created a record whose id the answer does not give; the kit cannot delete it ({case.formatted_path})")
            return
        if not self.client.is_owned(path):
            self.discovery.remember(Created(op.model, record_id, path, crud.destroy, clean=False))

    def index_op(self, case) -> Operation | None:
        return self._ops_by_key.get((case.method.upper(), case.path))

    def _judge(self, case, response: httpx.Response, op: Operation, result: OperationResult, check: CheckResult, negative: bool = False) -> Verdict:
        verdict = judge(case, response, op, negative=negative, write_enums=self.write_enums)
        result.cases += 1
        result.allowances.update(verdict.allowances)
        if verdict.problems:
            exchange = exchange_of(response)
            for problem in verdict.problems:
                check.fail(problem.check, problem.reason, exchange)
        return verdict

    def _expect(self, check: CheckResult, response: httpx.Response, wanted: int | tuple[int, ...], what: str) -> bool:
        wanted_set = (wanted,) if isinstance(wanted, int) else wanted
        if response.status_code in wanted_set:
            return True
        check.fail(check.name, f"{what}: expected {' or '.join(map(str, wanted_set))}, got {response.status_code}", exchange_of(response))
        return False

    # ------------------------------------------------------------------ examples

    def all_fields(self, op: Operation) -> str | None:
        """Every top-level field of the operation's record (scalars and associations)."""
        if "fields" not in op.params or not op.response_schema:
            return None
        data = flatten(op.response_schema).get("properties", {}).get("data", {})
        record = flatten(data.get("items", data) if data.get("type") == "array" else data)
        names = list(record.get("properties", {}))
        if not names:
            return None
        return ",".join(names)

    def _example(self, op: Operation, result: OperationResult, check: CheckResult) -> None:
        values = self._path_values(op, check)
        if values is None:
            return
        query: dict[str, Any] = {}
        fields = self.all_fields(op)
        if fields:
            query["fields"] = fields
        body = fit_to_model(self.discovery.builder.body(op, self.discovery.account), op, self.index)
        api_op = self.api_operation(op)
        dropped: list[str] = []
        for _ in range(4):
            case = api_op.Case(path_parameters=values, query=dict(query), body=body if body is not None else _not_set(), media_type="application/json" if body is not None else None)
            response = self.send(case)
            bad = _invalid_field(response)
            if bad and "fields" in query and bad in query["fields"].split(","):
                dropped.append(bad)  # a field the spec lists but the target rejects: retry without it
                query["fields"] = ",".join(f for f in query["fields"].split(",") if f != bad)
                continue
            break
        if dropped:
            check.fail("fields-in-spec", f"the target rejects fields the spec lists for {op.model}: {', '.join(dropped)}", exchange_of(response))
        if response.status_code == 403 and self.client.live:
            check.skip("403: this token may not use the operation")
            return
        self._judge(case, response, op, result, check)
        self._expect(check, response, op.success_status, "a valid request")
        if op.method == "DELETE" and response.status_code in (200, 204):
            self.client.disown(case.formatted_path)
        check.detail = f"{case.method} {case.formatted_path} -> {response.status_code}"

    # ------------------------------------------------------------------ generated

    def _generate(self, op: Operation, negative: bool, values: dict[str, Any] | None) -> list:
        from hypothesis import HealthCheck, Phase, Verbosity, given, settings
        from hypothesis import seed as hypothesis_seed
        from hypothesis import strategies as st
        from hypothesis.errors import Unsatisfiable
        from schemathesis.generation import GenerationMode

        api_op = self.api_operation(op)
        mode = GenerationMode.NEGATIVE if negative else GenerationMode.POSITIVE
        fixed: dict[str, Any] = {"path_parameters": values} if values else {}
        fields = self.all_fields(op)
        crud = self.crud.get(op.model)
        if fields and crud is not None and crud.create is op:
            # a create must answer with the new id, or the kit could not delete the record again
            fixed["query"] = {"fields": fields if not negative else "id"}
        strategy = api_op.as_strategy(mode, **fixed)
        if fields and not negative and "query" not in fixed:
            strategy = st.one_of(api_op.as_strategy(mode, query={"fields": fields}, **fixed), strategy)
        cases: list = []

        def collect(case) -> None:
            cases.append(case)

        test = given(strategy)(collect)
        test = settings(
            max_examples=self.config.max_examples, database=None, phases=[Phase.generate], deadline=None,
            suppress_health_check=list(HealthCheck), derandomize=self.config.seed is None, verbosity=Verbosity.quiet, print_blob=False,
        )(test)
        if self.config.seed is not None:
            test = hypothesis_seed(self.config.seed + _stable_hash(op.operation_id))(test)
        try:
            test()
        except Unsatisfiable:
            return []
        return cases

    def _generated(self, op: Operation, result: OperationResult, check: CheckResult, negative: bool) -> None:
        values = self._path_values(op, check)
        if values is None:
            return
        cases = self._generate(op, negative, values)
        if not cases and negative and values:
            cases = self._generate(op, negative, None)  # only the path is left to negate (the guard still applies)
        if not cases:
            check.skip("nothing to negate" if negative else "schemathesis generated no cases")
            return
        crud = self.crud_by_op.get(op.operation_id)
        fresh = crud is not None and op is crud.destroy
        statuses = []
        for n, case in enumerate(cases):
            if n and (fresh or (op.method == "DELETE" and values)) and (not negative or case.path_parameters == values):
                again = self._path_values(op, check, fresh=True)  # a destroy needs a record per case
                if again is None:
                    break
                case.path_parameters = {**case.path_parameters, **again}
            response = self.send(case)
            statuses.append(response.status_code)
            self._judge(case, response, op, result, check, negative=negative)
            if op.method == "DELETE" and response.status_code in (200, 204):
                self.client.disown(case.formatted_path)
        check.detail = f"{len(statuses)} cases, statuses {_histogram(statuses)}"

    # ------------------------------------------------------------------ Clio checks

    def _get(self, op: Operation, values: dict[str, Any], params: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> tuple[Any, httpx.Response]:
        case = self.api_operation(op).Case(path_parameters=values, query=params or {}, headers=headers or {})
        return case, self.send(case, extra_headers=headers)

    def _fields_probe(self, op: Operation, result: OperationResult, check: CheckResult) -> None:
        values = self._path_values(op, check)
        if values is None:
            return
        model = self.index.models[op.model]
        scalars = [f for f in sorted(model.fields) if f not in ("id", "etag")][:2]
        top = (["id"] if "id" in model.fields else []) + scalars
        nested = None
        for name, assoc in sorted(model.associations.items()):
            target = self.index.models.get(assoc.target)
            if target is not None and "id" in target.fields and not assoc.many:
                nested = name
                break
        wanted = ",".join(top + ([f"{nested}{{id}}"] if nested else []))
        case, response = self._get(op, values, {"fields": wanted})
        self._judge(case, response, op, result, check)
        if self._expect(check, response, 200, f"fields={wanted}"):
            asked = set(top) | ({nested} if nested else set())
            data = (body_json(response) or {}).get("data")
            records = data if isinstance(data, list) else [data]
            for record in records:
                if not isinstance(record, dict):
                    continue
                if set(record) != asked:
                    check.fail("fields", f"fields={wanted} returned keys {sorted(record)}; asked for {sorted(asked)}", exchange_of(response))
                    break
                inner = record.get(nested) if nested else None
                for item in inner if isinstance(inner, list) else [inner]:
                    if isinstance(item, dict) and set(item) != {"id"}:
                        check.fail("fields", f"{nested}{{id}} returned keys {sorted(item)}; asked for ['id']", exchange_of(response))
                        break
        case, response = self._get(op, values, {"fields": f"id,{NO_SUCH_FIELD}"})
        self._judge(case, response, op, result, check)
        if self._expect(check, response, 400, f"fields=id,{NO_SUCH_FIELD}"):
            error = (body_json(response) or {}).get("error") or {}
            if error.get("type") != "InvalidFields":
                check.fail("fields", f"an unknown field should be 400 InvalidFields, got type {error.get('type')!r}", exchange_of(response))
        check.detail = f"fields={wanted}; unknown field -> {response.status_code}"

    def _paging_probe(self, op: Operation, result: OperationResult, check: CheckResult) -> None:
        values = self._path_values(op, check)
        if values is None:
            return
        low, high = op.limit_range()
        limit = max(low, min(high, self.config.page_size))
        params: dict[str, Any] = {}
        if "limit" in op.params:
            params["limit"] = limit
        model = self.index.models.get(op.model)
        if "fields" in op.params and model is not None and "id" in model.fields:
            params["fields"] = "id"
        case, response = self._get(op, values, params)
        seen: list[Any] = []
        pages = 0
        first_url = str(response.request.url)
        while True:
            pages += 1
            self._judge(case, response, op, result, check)
            if not self._expect(check, response, 200, f"page {pages}"):
                return
            body = body_json(response) or {}
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, list):
                check.fail("paging", f"page {pages} has no data list", exchange_of(response))
                return
            if "limit" in params and len(data) > limit:
                check.fail("paging", f"page {pages} has {len(data)} records for limit={limit}", exchange_of(response))
            ids = [r.get("id") for r in data if isinstance(r, dict) and r.get("id") is not None]
            repeated = sorted({i for i in ids if i in seen}, key=str)
            if repeated:
                check.fail("paging", f"page {pages} repeats records {repeated[:5]} from earlier pages", exchange_of(response))
                return
            seen += ids
            paging = ((body.get("meta") or {}).get("paging") or {}) if isinstance(body.get("meta"), dict) else {}
            nxt = paging.get("next")
            if not nxt:
                break
            problem = _bad_next(nxt, first_url, params)
            if problem:
                check.fail("paging", f"meta.paging.next {nxt!r}: {problem}", exchange_of(response))
                return
            if pages >= self.config.max_pages:
                check.detail = f"{len(seen)} records in {pages} pages, stopped at --max-pages before the end"
                return
            response = self.client.request("GET", nxt)
            case = self.api_operation(op).Case(path_parameters=values, query={k: v[0] for k, v in parse_qs(urlsplit(nxt).query).items()})
        check.detail = f"{len(seen)} records in {pages} pages of limit={params.get('limit', 'default')}, next followed until absent"

    def _conditional_probe(self, op: Operation, result: OperationResult, check: CheckResult) -> None:
        values = self._path_values(op, check)
        if values is None:
            return
        case, response = self._get(op, values)
        self._judge(case, response, op, result, check)
        if not self._expect(check, response, 200, "a show"):
            return
        etag = response.headers.get("etag")
        if not etag:
            model = self.index.models.get(op.model)
            if model is not None and "etag" not in model.fields:
                check.skip(f"{op.model} has no etag field in the spec, so no ETag to send back")
            else:
                check.fail("conditional", "no ETag header on a show", exchange_of(response))
            return
        steps = [("If-None-Match", etag, 304), ("If-None-Match", STALE_ETAG, 200)]
        last_modified = response.headers.get("last-modified")
        if last_modified and "IF-MODIFIED-SINCE" in op.params:
            steps.append(("If-Modified-Since", last_modified, 304))
        for header, value, wanted in steps:
            case, response = self._get(op, values, headers={header: value})
            self._judge(case, response, op, result, check)
            if self._expect(check, response, wanted, f"{header}: {value}") and wanted == 304 and response.content:
                check.fail("conditional", "304 with a body", exchange_of(response))
        check.detail = "ETag -> 304, stale ETag -> 200" + (", Last-Modified -> 304" if len(steps) > 2 else "") + " (412 on a stale If-Match: stateful suite)"

    def _not_found_probe(self, op: Operation, result: OperationResult, check: CheckResult) -> None:
        values = self._path_values(op, check)
        if values is None:
            return
        values = {**values, "id": NO_SUCH_ID}
        case, response = self._get(op, values)
        self._judge(case, response, op, result, check)
        self._expect(check, response, 404, f"id {NO_SUCH_ID}")
        check.detail = f"id {NO_SUCH_ID} -> {response.status_code}"

    def run_global_probes(self) -> None:
        """Requests about the API as a whole: a bad token, an unknown path."""
        suite = self.result.suite("operations")
        who = next((o for o in self.index.operations if o.action == "who_am_i"), None)
        if who is not None:
            result = OperationResult("auth:invalid-token", f"GET {who.path} with a bad token")
            suite[result.key] = result
            check = result.check("unauthorized")

            def bad_token(check: CheckResult) -> None:
                case = self.api_operation(who).Case()
                response = self.client.request("GET", who.path, headers={"Authorization": "Bearer kit-invalid-token"}, authenticate=False)
                self._judge(case, response, who, result, check)
                self._expect(check, response, 401, "a bad token")
                check.detail = f"-> {response.status_code}"

            self._guarded(check, bad_token)
        result = OperationResult("route:unknown", "GET /kit_no_such_resource.json")
        suite[result.key] = result
        check = result.check("not-found")

        def unknown(check: CheckResult) -> None:
            response = self.client.request("GET", "/kit_no_such_resource.json")
            self._expect(check, response, 404, "an unknown path")
            error = (body_json(response) or {}).get("error") if isinstance(body_json(response), dict) else None
            if not (isinstance(error, dict) and isinstance(error.get("type"), str) and isinstance(error.get("message"), str)):
                check.fail("error-envelope", f"404 body is not Clio's error envelope: {response.text[:200]!r}", exchange_of(response))
            result.cases += 1
            check.detail = f"-> {response.status_code}"

        self._guarded(check, unknown)

    # ------------------------------------------------------------------ stateful

    def run_sequence(self, crud: CrudSet) -> OperationResult:
        """create -> show -> update -> show -> stale update 412 -> destroy -> show 404, via links."""
        labels = " -> ".join(op.operation_id for op in (crud.create, crud.show, crud.update, crud.destroy) if op is not None)
        result = OperationResult(crud.model, labels)
        self.result.suite("stateful")[crud.model] = result
        started = time.perf_counter()
        check = result.check("crud")
        if not self.client.writes_allowed:
            check.skip("read-only target (writes need --allow-writes)")
        else:
            self._guarded(check, lambda c: self._sequence(crud, result, c))
        result.duration = time.perf_counter() - started
        return result

    def _step(self, op: Operation, values: dict[str, Any], result: OperationResult, check: CheckResult, *, query=None, body=None, headers=None) -> tuple[httpx.Response, Any]:
        case = self.api_operation(op).Case(
            path_parameters=values, query=query or {}, headers=headers or {},
            body=body if body is not None else _not_set(), media_type="application/json" if body is not None else None,
        )
        response = self.send(case, extra_headers=headers)
        self._judge(case, response, op, result, check)
        return response, body_json(response)

    def _sequence(self, crud: CrudSet, result: OperationResult, check: CheckResult) -> None:
        links = self.prepared.links
        steps: list[str] = []
        builder, account = self.discovery.builder, self.discovery.account
        create_body = fit_to_model(builder.body(crud.create, account) or {"data": {}}, crud.create, self.index)
        response, created = self._step(crud.create, {}, result, check, query={"fields": "id,etag"} if "fields" in crud.create.params else None, body=create_body)
        steps.append(f"create {response.status_code}")
        if not self._expect(check, response, crud.create.success_status, "create"):
            check.detail = ", ".join(steps)
            return
        record = (created or {}).get("data") or {}
        path = crud.show.path if not crud.show.path_params else crud.create.path[: -len(".json")] + f"/{record.get('id')}.json"
        if not self.client.is_owned(path):
            self.discovery.remember(Created(crud.model, record.get("id"), path, crud.destroy))
        link_source = (crud.create, {}, created)

        def follow(name: str) -> dict[str, Any]:
            source, request_path, body = link_source
            link = links.get(source.operation_id, {}).get(name)
            if link is None:
                raise KitError(f"no kit link {name!r} from {source.operation_id}")
            return link_parameters(link, request_path, body)

        show_values = follow("show")
        response, shown = self._step(crud.show, show_values, result, check)
        steps.append(f"show {response.status_code}")
        if not self._expect(check, response, 200, "show of the created record"):
            check.detail = ", ".join(steps)
            return
        etag = response.headers.get("etag") or ((shown or {}).get("data") or {}).get("etag")
        if crud.update is not None:
            update_values = follow("update")
            field_name, new_value = _changeable_field(crud.update, self.index.models.get(crud.model))
            update_body = builder.body(crud.update, account) or {"data": {}}
            if field_name:
                update_body = {"data": {**update_body.get("data", {}), field_name: new_value}}
            headers = {"If-Match": etag} if etag and "IF-MATCH" in crud.update.params else None
            query = {"fields": f"id,etag{',' + field_name if field_name else ''}"} if "fields" in crud.update.params else None
            response, updated = self._step(crud.update, update_values, result, check, query=query, body=update_body, headers=headers)
            steps.append(f"update {response.status_code}")
            if not self._expect(check, response, crud.update.success_status, "update with a current If-Match"):
                check.detail = ", ".join(steps)
                return
            link_source = (crud.update, update_values, updated)
            new_etag = response.headers.get("etag") or ((updated or {}).get("data") or {}).get("etag")
            response, shown = self._step(crud.show, follow("show"), result, check, query={"fields": f"id,etag{',' + field_name if field_name else ''}"} if field_name and "fields" in crud.show.params else None)
            steps.append(f"show {response.status_code}")
            if self._expect(check, response, 200, "show after update") and field_name:
                got = ((shown or {}).get("data") or {}).get(field_name)
                if got != new_value:
                    check.fail("crud", f"after updating {field_name} to {new_value!r}, show returned {got!r}", exchange_of(response))
            if etag and new_etag and "IF-MATCH" in crud.update.params:
                if new_etag == etag:
                    check.fail("crud", f"the etag did not change after an update ({etag})", exchange_of(response))
                else:
                    response, _ = self._step(crud.update, update_values, result, check, body=update_body, headers={"If-Match": etag})
                    steps.append(f"stale update {response.status_code}")
                    self._expect(check, response, 412, "update with a stale If-Match")
                if "IF-NONE-MATCH" in crud.show.params:
                    response, _ = self._step(crud.show, follow("show"), result, check, headers={"If-None-Match": new_etag})
                    steps.append(f"show If-None-Match {response.status_code}")
                    self._expect(check, response, 304, "show with the current ETag")
        destroy_values = follow("destroy")
        response, destroyed = self._step(crud.destroy, destroy_values, result, check)
        steps.append(f"destroy {response.status_code}")
        if not self._expect(check, response, crud.destroy.success_status, "destroy"):
            check.detail = ", ".join(steps)
            return
        self.client.disown(path)
        link_source = (crud.destroy, destroy_values, destroyed)
        response, _ = self._step(crud.show, follow("show"), result, check)
        steps.append(f"show {response.status_code}")
        self._expect(check, response, 404, "show after destroy")
        check.detail = ", ".join(steps)


# ---------------------------------------------------------------------- helpers

_OWN_HEADERS = frozenset({"user-agent", "x-schemathesis-testcaseid", "content-type", "accept", "accept-encoding", "connection", "authorization", "content-length"})


def keep_hypothesis_out_of_cwd() -> None:
    """Hypothesis writes ``.hypothesis/`` (its example database and a constants cache) into the
    working directory; the kit uses no database, so send the rest to clio-mock's user cache
    (``CLIO_MOCK_CACHE_DIR``), unless ``HYPOTHESIS_STORAGE_DIRECTORY`` says where."""
    import os

    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return
    from hypothesis.configuration import set_hypothesis_home_dir

    from mockserver.spec.source import cache_dir

    set_hypothesis_home_dir(cache_dir() / "hypothesis")


def _not_set():
    from schemathesis.core import NOT_SET

    return NOT_SET


def _stable_hash(text: str) -> int:
    return sum(ord(c) * (i + 1) for i, c in enumerate(text)) % 100_000


def _histogram(statuses: list[int]) -> str:
    counts: dict[int, int] = {}
    for s in statuses:
        counts[s] = counts.get(s, 0) + 1
    return ", ".join(f"{s} x{n}" for s, n in sorted(counts.items()))


def _scalar(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return _dumps(value).decode("utf-8", "replace")
    return str(value)


def _query_pairs(case) -> list[tuple[str, str]]:
    """The case's query as sent: arrays as repeated keys (``ids[]=1&ids[]=2``)."""
    pairs = []
    for key, value in (case.query or {}).items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((str(key), _scalar(item)))
    return pairs


def rails_pairs(value: Any, prefix: str = "") -> list[tuple[str, str]] | None:
    """Rails-style form fields (``data[name]=x``, ``data[tags][]=a``); None if the value
    cannot be expressed that way without loss (empty objects or arrays)."""
    if isinstance(value, dict):
        if not value and prefix:
            return None
        out: list[tuple[str, str]] = []
        for key, item in value.items():
            inner = rails_pairs(item, f"{prefix}[{key}]" if prefix else str(key))
            if inner is None:
                return None
            out += inner
        return out
    if isinstance(value, list):
        if not value:
            return None
        out = []
        for item in value:
            inner = rails_pairs(item, f"{prefix}[]")
            if inner is None:
                return None
            out += inner
        return out
    if not prefix:
        return None
    return [(prefix, _scalar(value))]


def _multipart(pairs: list[tuple[str, str]]) -> tuple[bytes, str]:
    boundary = "kit" + "".join(random.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=24))
    chunks = []
    for name, value in pairs:
        safe = name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{safe}"\r\n\r\n'.encode() + value.encode("utf-8", "surrogatepass") + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    return str(value)


def _dumps(value: Any) -> bytes:
    """JSON of generated data, including what orjson refuses (integers past 64 bits)."""
    try:
        return orjson.dumps(value, default=_json_default, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        import json

        return json.dumps(value, default=_json_default, ensure_ascii=False).encode("utf-8", "surrogatepass")


def encode_body(case) -> tuple[bytes | None, str | None]:
    """The body of a case in its media type: JSON, or Clio's (Rails) form encodings. A form
    body that brackets cannot express (an empty object) goes as JSON instead."""
    from schemathesis.core import NOT_SET

    body = case.body
    if body is NOT_SET:
        return None, None
    media = (case.media_type or "application/json").split(";")[0].strip().lower()
    if isinstance(body, (bytes, bytearray)):
        return bytes(body), media
    if media in ("application/x-www-form-urlencoded", "multipart/form-data"):
        pairs = rails_pairs(body) if isinstance(body, dict) else None
        if pairs:
            try:
                if media == "multipart/form-data":
                    return _multipart(pairs)
                return urlencode(pairs, quote_via=quote).encode(), media
            except UnicodeEncodeError:
                pass
        if isinstance(body, str):
            return body.encode("utf-8", "surrogatepass"), media
    return _dumps(body), "application/json"


def _invalid_field(response: httpx.Response) -> str | None:
    """The field a 400 InvalidFields names (``x is not a valid field``)."""
    if response.status_code != 400:
        return None
    error = (body_json(response) or {}).get("error") if isinstance(body_json(response), dict) else None
    if not isinstance(error, dict) or error.get("type") != "InvalidFields":
        return None
    m = re.match(r"\s*([\w.]+) is not a valid field", str(error.get("message", "")))
    return m.group(1) if m else None


def _bad_next(nxt: Any, first_url: str, params: dict[str, Any]) -> str | None:
    """Why a ``meta.paging.next`` is not followable (None: it is)."""
    if not isinstance(nxt, str):
        return "not a string"
    parts, first = urlsplit(nxt), urlsplit(first_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "not a complete URL"
    if parts.netloc != first.netloc:
        return f"points at another host than {first.netloc}"
    if normalise_path(parts.path) != normalise_path(first.path):
        return f"points at another collection than {first.path}"
    query = parse_qs(parts.query)
    if "fields" in params and query.get("fields") != [str(params["fields"])]:
        return "does not keep the original fields"
    return None


PREFERRED_TEXT_FIELDS = ("name", "description", "title", "subject", "note", "body", "summary", "detail")
NOT_TEXT = frozenset({"type", "etag", "fields", "file", "filename", "password", "color", "url", "uri", "email"})


def _changeable_field(op: Operation, model: Any) -> tuple[str | None, Any]:
    """A plain text field the update accepts and the record shows, and a new value for it."""
    data = flatten((op.request_schema or {}).get("properties", {}).get("data", {}))
    shown = model.fields if model is not None else {}

    def plain(name: str, prop: dict[str, Any]) -> bool:
        return (
            prop.get("type") == "string" and "enum" not in prop and "format" not in prop and name not in NOT_TEXT
            and not name.endswith(("_id", "_type", "_url", "_at", "_date")) and shown.get(name, {}).get("type") == "string"
            and "enum" not in shown.get(name, {}) and "format" not in shown.get(name, {})
        )

    candidates = [n for n, p in data.get("properties", {}).items() if plain(n, p)]
    candidates.sort(key=lambda n: (PREFERRED_TEXT_FIELDS.index(n) if n in PREFERRED_TEXT_FIELDS else len(PREFERRED_TEXT_FIELDS), n))
    return (candidates[0], f"kit-updated {candidates[0]}") if candidates else (None, None)


_VALID_BY_FORMAT = {"date": "2026-01-15", "date-time": "2026-01-15T09:30:00-05:00"}


def fit_to_model(body: Any, op: Operation, index: SpecIndex) -> Any:
    """A request body whose values also satisfy the record's own schema: Clio's request
    schemas are looser than its models (``received_at`` a plain string in the request, a
    date-time in the record), and a valid example should be valid in both."""
    model = index.models.get(op.model)
    if model is None or not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        return body
    data = dict(body["data"])
    for name, value in data.items():
        field_schema = model.fields.get(name) or {}
        wanted_format = field_schema.get("format")
        if isinstance(value, str) and wanted_format in _VALID_BY_FORMAT:
            data[name] = _VALID_BY_FORMAT[wanted_format]
        elif isinstance(value, str) and isinstance(field_schema.get("enum"), list) and value not in field_schema["enum"]:
            data[name] = field_schema["enum"][0]
    return {**body, "data": data}
