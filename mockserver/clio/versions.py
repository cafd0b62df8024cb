"""Clio's API minor versions that change behaviour (BEHAVIOR.md section 9): one table.

Each :class:`VersionRule` names the versions it applies to (``until`` / ``since``, inclusive),
the model, and what it does: ``unit`` (a field in other units, both ways: request bodies and
responses), ``field`` (a field only some versions have, built from another or from related
records), ``cap`` (a nested list limited in size, 422 beyond). :class:`VersionRules` is
installed as the generic engine's ``versions`` hook, which calls it for every write and for
reads at a version other than the default, so the default version's reads never pay for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import orjson

from mockserver.engine.errors import decimal, unprocessable
from mockserver.engine.serializer import parse_fields
from mockserver.engine.store import Account

if TYPE_CHECKING:
    from mockserver.engine.handlers import ApiRequest, ApiResponse, Engine

Handler = Callable[["ApiRequest", Account], "ApiResponse"]


@dataclass(frozen=True)
class VersionRule:
    name: str
    model: str
    kind: str  # "unit" | "field" | "cap"
    source: str
    until: str | None = None  # the last version it applies to
    since: str | None = None  # the first version it applies to
    fields: tuple[str, ...] = ()  # unit: the fields; field: (new name, built from); cap: the lists
    factor: float = 1.0  # unit: stored value = version's value x factor
    limit: int = 0  # cap

    def applies(self, version: tuple[int, ...]) -> bool:
        return (self.until is None or version <= _v(self.until)) and (self.since is None or version >= _v(self.since))


CONTACT_LISTS = ("addresses", "web_sites", "instant_messengers", "custom_field_values", "related_contacts")

RULES = (
    VersionRule("activity-quantity-in-hours", "Activity", "unit",
                "BEHAVIOR.md 9 (<= 4.0.3: Activity quantity / rounded_quantity in hours); Activity_base.quantity "
                "'Version <= 4.0.3: The number of hours the TimeEntry took'", until="4.0.3",
                fields=("quantity", "rounded_quantity"), factor=3600.0),
    VersionRule("bill-matter-balances", "Bill", "field",
                "BEHAVIOR.md 9 (4.0.5: Bills lose matter_balances). UNCONFIRMED: the same entries as matter_totals",
                until="4.0.4", fields=("matter_balances", "matter_totals")),
    VersionRule("document-versions-field", "Document", "field",
                "BEHAVIOR.md 9 (4.0.6: Documents lose the document_versions collection field -> 400 InvalidFields; "
                "use /documents/{id}/versions.json)", until="4.0.5", fields=("document_versions", "DocumentVersion")),
    VersionRule("contact-phone-email-cap", "Contact", "cap",
                "BEHAVIOR.md 9 and 12.5 (4.0.11: Contact phone_numbers/email_addresses capped at 200)", since="4.0.11",
                fields=("phone_numbers", "email_addresses"), limit=200),
    VersionRule("contact-association-limits", "Contact", "cap",
                "BEHAVIOR.md 9 (4.0.13: association limits on Contacts; exceeding them -> 422). UNCONFIRMED: the "
                "limits are not published; 200, as for phone numbers", since="4.0.13", fields=CONTACT_LISTS, limit=200),
)


def _v(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if (p.isascii() and p.isdigit()))


class VersionRules:
    """Applies :data:`RULES` for a request's ``X-API-VERSION`` around the engine's handler."""

    def __init__(self, engine: Engine, rules: tuple[VersionRule, ...] = RULES) -> None:
        self.engine = engine
        self.rules = rules
        self.default = engine.index.versions.default
        self._active: dict[tuple[str, str], list[VersionRule]] = {}

    def install(self) -> None:
        self.engine.versions = self

    def active(self, version: str, model: str) -> list[VersionRule]:
        key = (version, model)
        found = self._active.get(key)
        if found is None:
            parsed = _v(version or self.default)
            found = self._active[key] = [r for r in self.rules if r.model == model and r.applies(parsed)]
        return found

    def __call__(self, request: ApiRequest, account: Account, handler: Handler) -> ApiResponse:
        version = request.version or self.default
        model = request.op.model
        rules = self.active(version, model)
        units = [r for r in self.active(version, "Activity") if r.kind == "unit"]
        if request.data is not None and rules:
            request = replace(request, data=self._request_data(request, account, rules))
        extra: list[tuple[VersionRule, str, list[str] | None, bool]] = []
        fields = request.arg("fields")
        if fields and any(r.kind == "field" for r in rules):
            request, extra = self._fields(request, fields, [r for r in rules if r.kind == "field"])
        response = handler(request, account)
        if isinstance(response.body, dict) and "data" in response.body and (extra or units):
            self._respond(account, model, response.body, extra, units)
        return response

    # ------------------------------------------------------------------ requests

    def _request_data(self, request: ApiRequest, account: Account, rules: list[VersionRule]) -> Any:
        data = dict((request.data or {}).get("data") or {})
        for rule in rules:
            if rule.kind == "unit":
                for name in rule.fields:
                    if isinstance(data.get(name), (int, float)) and not isinstance(data.get(name), bool):
                        data[name] = data[name] * rule.factor
            elif rule.kind == "cap":
                current = self._current(request, account)
                for name in rule.fields:
                    if isinstance(data.get(name), list) and _count_after(current.get(name) or [], data[name]) > rule.limit:
                        raise unprocessable(f"{name}: a contact can have at most {rule.limit} {name.replace('_', ' ')}")
        return {**(request.data or {}), "data": data}

    def _current(self, request: ApiRequest, account: Account) -> dict[str, Any]:
        raw = request.path_params.get("id")
        record_id = decimal(raw)
        if request.op.action != "update" or record_id is None:
            return {}
        return account.table(request.op.model).get(record_id) or {}

    # ------------------------------------------------------------------ fields

    def _fields(self, request: ApiRequest, fields: str, rules: list[VersionRule]):
        wanted = parse_fields(fields)
        extra = []
        kept = []
        names = {name for name, _ in wanted}
        for name, sub in wanted:
            rule = next((r for r in rules if r.fields[0] == name), None)
            if rule is None:
                kept.append((name, sub))
                continue
            source = rule.fields[1]
            if source in self.engine.index.models.get(request.op.model, _NoModel).associations:
                if source not in names:  # rendered as the field it became, renamed after
                    kept.append((source, sub))
                extra.append((rule, source, sub, source not in names))
            else:
                extra.append((rule, source, sub, False))
        if any(r.fields[1] == "DocumentVersion" for r, *_ in extra) and "id" not in names:
            kept.append(("id", None))
            extra.append((_DROP_ID, "id", None, True))
        text = ",".join(name + ("{" + ",".join(sub) + "}" if sub is not None else "") for name, sub in kept) or "id"
        query = {**request.query, "fields": [text]}
        return replace(request, query=query), extra

    # ------------------------------------------------------------------ responses

    def _respond(self, account: Account, model: str, body: dict[str, Any], extra, units: list[VersionRule]) -> None:
        data = body["data"]
        records = data if isinstance(data, list) else [data]
        # Pages may hold pre-rendered JSON (orjson.Fragment): read back as dicts to change them.
        records = [orjson.loads(orjson.dumps(r)) if isinstance(r, orjson.Fragment) else r for r in records]
        body["data"] = records if isinstance(data, list) else records[0]
        for record in records:
            if not isinstance(record, dict):
                continue
            for rule, source, sub, drop in extra:
                if rule is _DROP_ID:
                    continue
                if source == "DocumentVersion":
                    versions = [v for v in account.table("DocumentVersion") if v.get("document_id") == record.get("id")]
                    plan = self.engine.serializer.plan("DocumentVersion", ",".join(sub) if sub else None)
                    record[rule.fields[0]] = self.engine.serializer.render_many(account, versions, plan)
                elif source in record:
                    record[rule.fields[0]] = record.pop(source) if drop else record[source]
            if any(r is _DROP_ID for r, *_ in extra):
                record.pop("id", None)
            if units:
                self._units(model, record, units)

    def _units(self, model: str, record: dict[str, Any], units: list[VersionRule]) -> None:
        """Activity quantities in the version's units, at the top and one level down."""
        if model == "Activity":
            _scale(record, units)
        spec = self.engine.index.models.get(model)
        for name, assoc in (spec.associations.items() if spec is not None else ()):
            if assoc.target == "Activity" and name in record:
                value = record[name]
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, dict):
                        _scale(item, units)


def _scale(record: dict[str, Any], units: list[VersionRule]) -> None:
    for rule in units:
        for name in rule.fields:
            if isinstance(record.get(name), (int, float)) and not isinstance(record.get(name), bool):
                record[name] = round(record[name] / rule.factor, 4)


def _count_after(current: list[dict[str, Any]], changes: list[Any]) -> int:
    """How many entries a nested-attributes write leaves (``id`` updates, none creates,
    ``_destroy`` removes)."""
    ids = {item.get("id") for item in current if isinstance(item, dict)}
    count = len(current)
    for change in changes:
        if not isinstance(change, dict):
            continue
        if change.get("_destroy") and change.get("id") in ids:
            count -= 1
        elif change.get("id") is None:
            count += 1
    return count


class _NoModel:
    associations: dict[str, Any] = {}


_DROP_ID = VersionRule("drop-id", "", "field", "internal: id added to find a document's versions")
