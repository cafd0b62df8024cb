"""Finding real ids on the target, and making records of the kit's own.

Generated path ids would almost always be 404, so the kit fills path parameters with ids
that exist: left to right, each parameter from the collection at its prefix
(``/documents/{id}/versions/{document_version_id}`` lists ``/documents.json``, then
``/documents/<id>/versions.json``), backtracking when a parent has no children. It works
the same against a live target (a few GETs, cached) as against the in-process mock; only
for the handful of records no collection lists does it fall back on the mock's store.

:class:`ApiAccount` lets :class:`mockserver.engine.examples.ExampleBuilder` build valid bodies
against any target: it only needs ``account.table(model).ids``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from mockserver.contract.checks import body_json
from mockserver.contract.client import KitClient, KitError
from mockserver.contract.specprep import CrudSet, member_path
from mockserver.engine.examples import ExampleBuilder
from mockserver.spec.index import Operation, SpecIndex

LIST_SIZE = 5  # ids fetched per collection
FANOUT = 3  # parent candidates tried before giving up on a nested path


@dataclass
class Ids:
    ids: list[int]


class ApiAccount:
    """``account.table(model).ids`` answered from the target's collections (cached)."""

    def __init__(self, discovery: Discovery) -> None:
        self.discovery = discovery

    def table(self, model: str) -> Ids:
        return Ids(self.discovery.model_ids(model))


@dataclass
class Created:
    """A record the kit created (and must delete)."""

    model: str
    id: Any
    path: str  # concrete member path, e.g. /contacts/12.json (the collection for singletons)
    destroy: Operation | None
    clean: bool = True  # created from a valid example (not a generated case): fit to reuse


class Discovery:
    def __init__(self, client: KitClient, index: SpecIndex, crud: dict[str, CrudSet], store_account: Any = None) -> None:
        self.client = client
        self.index = index
        self.crud = crud
        self.store_account = store_account  # the in-process mock's account (fallback only)
        self.cache: dict[str, list[Any]] = {}
        self.builder = ExampleBuilder(index)
        self.account = ApiAccount(self)
        self.created: list[Created] = []
        self.create_failures: dict[str, str] = {}
        self._index_paths = {op.path for op in index.operations if op.method == "GET" and op.action in ("index", "list")}

    # ------------------------------------------------------------------ reading

    def list_ids(self, path: str) -> list[Any]:
        """Ids of up to LIST_SIZE records at a concrete collection path (``/contacts.json``)."""
        if path in self.cache:
            return self.cache[path]
        ids: list[Any] = []
        response = self.client.request("GET", path, params={"fields": "id", "limit": str(LIST_SIZE)})
        body = body_json(response)
        data = body.get("data") if response.status_code == 200 and isinstance(body, dict) else None
        if isinstance(data, dict):  # a "collection" the spec answers with one record
            data = [data]
        if isinstance(data, list):
            ids = [r["id"] for r in data if isinstance(r, dict) and r.get("id") is not None]
        self.cache[path] = ids
        return ids

    def model_ids(self, model: str) -> list[Any]:
        op = next((o for o in self.index.operations if o.model == model and o.action == "index" and not o.path_params), None)
        if op is not None:
            ids = self.list_ids(op.path)
            if ids:
                return ids
        return self._store_ids(model)

    def _store_ids(self, model: str) -> list[Any]:
        if self.store_account is None:
            return []
        try:
            return list(self.store_account.table(model).ids)[:LIST_SIZE]
        except (KeyError, AttributeError):  # a model the store has no table for
            return []

    def _candidates(self, op: Operation, template_prefix: str, values: dict[str, Any]) -> list[Any]:
        if template_prefix + ".json" in self._index_paths:
            return self.list_ids(_fill(template_prefix + ".json", values))
        show = next((o for o in self.index.operations if o.method == "GET" and o.path == template_prefix + "/{id}.json"), None)
        return self._store_ids(show.model if show else op.model)

    def path_values(self, op: Operation, skip: set[Any] | None = None) -> dict[str, Any] | None:
        """Existing ids for every path parameter of ``op`` (None: no record found)."""
        params = op.path_params
        values: dict[str, Any] = {}

        def resolve(i: int) -> bool:
            if i == len(params):
                return True
            name = params[i]
            prefix = op.path.split("/{" + name + "}", 1)[0]
            candidates = [c for c in self._candidates(op, prefix, values) if i < len(params) - 1 or not skip or c not in skip]
            for candidate in candidates[:FANOUT]:
                values[name] = candidate
                if resolve(i + 1):
                    return True
            values.pop(name, None)
            return False

        return values if resolve(0) else None

    # ------------------------------------------------------------------ writing

    def create(self, model: str, fields: str | None = None) -> Created | None:
        """Create a record of ``model`` with a minimal valid body; None if that failed."""
        crud = self.crud.get(model)
        if crud is None:
            return None
        op = crud.create
        from mockserver.contract.kit import fit_to_model

        body = fit_to_model(self.builder.body(op, self.account) or {"data": {}}, op, self.index)
        import orjson

        params = {"fields": fields} if fields else ({"fields": "id,etag"} if "fields" in op.params else None)
        response = self.client.request("POST", op.path, params=params, headers={"Content-Type": "application/json"}, content=orjson.dumps(body))
        data = (body_json(response) or {}).get("data") if response.status_code in (200, 201) else None
        if not isinstance(data, dict):
            self.create_failures[model] = f"POST {op.path} -> {response.status_code} {response.text[:200]}"
            return None
        self.cache.clear()  # listings changed
        record_id = data.get("id")
        if crud.show is not None and "id" not in crud.show.path_params:
            path = crud.show.path  # a singleton (the timer) lives at its collection's path
        elif record_id is not None:
            path = member_path(op).replace("{id}", str(record_id))
        else:
            path = op.path
        created = Created(model, record_id, path, crud.destroy)
        self.remember(created)
        return created

    def remember(self, created: Created) -> None:
        self.created.append(created)
        self.client.own(created.path, reserve=created.destroy is not None)

    def cleanup(self) -> dict[str, int]:
        """Delete every record the kit created and still owns (newest first)."""
        deleted = gone = failed = kept = 0
        for record in reversed(self.created):
            if not self.client.is_owned(record.path) or record.destroy is None:
                kept += record.destroy is None
                continue
            try:
                response = self.client.request("DELETE", record.path, cleanup=True)
            except (KitError, httpx.HTTPError):  # rate-limit or network trouble: report, keep going
                failed += 1
                continue
            if response.status_code in (200, 204):
                deleted += 1
            elif response.status_code == 404:
                gone += 1
            else:
                failed += 1
                continue
            self.client.disown(record.path)
        return {"deleted": deleted, "already_gone": gone, "failed": failed, "not_deletable": kept}


def _fill(template: str, values: dict[str, Any]) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", str(value))
    return template
