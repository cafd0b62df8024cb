"""Scenarios: a Clio firm described in a small YAML file, loaded into the mock.

A scenario names a firm, optionally asks for generated background records (what the
seeder makes for ``--seed``/``--records``), and declares the records a test or a demo
cares about, by model, with names other records refer to::

    firm: Solo Practice LLC            # the account's name (required for a new firm)
    description: free text             # optional, ignored
    base:                              # optional generated background (the Seeder)
      seed: 7                          #   default 42
      scale: 1.0                       #   default 1.0: multiplies the seeder's default counts
      counts: {Matter: 5000, User: 20} #   per model (model names or section keys)
      only_named: true                 #   models not in counts get 0 (default false)
    users:                             # a section: the snake_case plural of a stored model
      - ref: alice                     #   (users, matters, calendar_entries, custom_fields...)
        first_name: Alice              #   or the model name itself (User, CalendarEntry)
        last_name: Attorney
        email: alice@solo.example
    contacts:
      - ref: acme
        type: Company
        name: Acme Corp
        email_addresses:               # nested arrays: Rails nested attributes, as in POST
          - {name: Work, address: legal@acme.example, primary: true}
    matters:
      - ref: acme-lease
        description: Lease dispute
        status: open                   # enum values in any case: stored as Clio spells them (Open)
        client: "@acme"                # a reference: {"id": <acme's id>} (quote it: @ is reserved in YAML)
        responsible_attorney: "@alice"
        custom_field_values:
          - {custom_field: "@opposing-counsel", value: "Jane Roe, Roe LLP"}
    activities:
      - {type: TimeEntry, date: 2026-01-05, quantity: 3600, matter: "@acme-lease", user: "@alice"}
    custom_fields:
      - {ref: opposing-counsel, name: Opposing Counsel, parent_type: Matter, field_type: text_line}

Rules:

- Top-level keys are ``firm``, ``description``, ``base`` and sections. Section keys come from
  the spec: every stored model the API can write or seed (not the read-only views and mirrors
  such as ``BillableMatter``) answers to ``snake_case`` plural of its name and to its name.
  A section is a list of records (null or empty: none).
- A record's keys are the model's fields and associations in the spec, plus ``ref`` (a name,
  unique in the file) and ``<association>_id`` for a to-one association (``client_id: "@acme"``
  is the same as ``client: "@acme"``). ``id`` and ``etag`` are assigned, not declared.
  ``created_at``/``updated_at`` may be given to back-date a record; otherwise it is created now.
- Scalar values are checked against the field's schema (type, format, enum case-insensitively).
  YAML dates and timestamps become ISO strings; a timestamp without an offset is in the firm's
  time zone (the mock clock's).
- ``"@name"`` anywhere in a record (inside nested arrays and objects too) is a reference to the
  record declared with ``ref: name``, earlier or later in the file: ``{"id": N}`` where an
  association is expected, the bare ``N`` in a ``*_id`` field. A reference must be of the model
  the association points at. ``"@@text"`` is the literal string ``"@text"``. Plain integers are
  ids, checked by the writer (handy for base-generated records).
- Values are written as an API create writes them: :meth:`RecordWriter.apply
  <mockserver.engine.records.RecordWriter.apply>`, Clio's numbering (a matter without a
  ``display_number`` gets one), the writer's model rules, then ``stamp``. What those reject
  (a person with no name, an id that is not there) fails the load.
- Any error raises :class:`ScenarioError` (a 400 ``InvalidScenario`` ClioError) whose message is
  ``<file>: <path in document>: <reason>``, e.g.
  ``fixtures/x.yaml: matters[2].client: unknown reference @acme``. Nothing is changed then:
  the firm is built aside and swapped in only when the whole file has loaded.

Loading: :func:`load_scenario_file` (or :func:`read_scenario` + :func:`load_scenario`) makes a
new firm, or with ``account_id`` replaces that firm's records (name, records, refs; the account's
id, and so its tokens, stay). Background records come first (so their ids are the seeder's), then
the declared records in file order. Each declared record is announced with
``store.notify("created", ...)`` once the firm is in place; generated background records are not,
as with the server's own seeding. The returned :class:`~mockserver.engine.store.Account` carries
``account.refs``: ``{ref: (model, id)}``; :func:`refs` reads it.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs
import yaml

from mockserver.data.seeding import SeedPlan
from mockserver.engine.errors import ClioError
from mockserver.engine.records import fit_enum, stamp
from mockserver.engine.store import Account, Record
from mockserver.spec.index import Association, Model, SpecIndex, snake

if TYPE_CHECKING:
    from mockserver.state import MockState

TOP_LEVEL_KEYS = ("firm", "description", "base")
BASE_KEYS = ("seed", "scale", "counts", "only_named")
ASSIGNED_FIELDS = ("id", "etag")  # never declared: the store and stamp() set them
REF_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:/-]*")


class ScenarioError(ClioError):
    """An invalid scenario: ``<file>: <path in document>: <reason>`` (400 InvalidScenario)."""

    def __init__(self, source: str, path: str, reason: str) -> None:
        super().__init__(400, "InvalidScenario", f"{source}: {path}: {reason}")
        self.source = source
        self.path = path
        self.reason = reason


# --------------------------------------------------------------------------- reading


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML that refuses a key given twice in one mapping (it would silently win)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark, f"found duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


MAX_SCENARIO_BYTES = 16 * 1024 * 1024  # the shipped 20-lawyer firm is ~20 KB


def read_small_file(path: str | Path, limit: int) -> bytes:
    """A regular file's bytes, at most ``limit`` of them: a FIFO would block the reader and
    ``/dev/zero`` would never end, so anything but a regular file is refused (checked on the
    opened descriptor, opened without blocking, so a swap after a check cannot fool it)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        chunks, size = [], 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise OSError(errno.EFBIG, f"larger than {limit} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_scenario(path: str | Path) -> dict:
    """A scenario file's document (a mapping); ScenarioError if unreadable or not valid YAML."""
    source = str(path)
    try:
        text = read_small_file(path, MAX_SCENARIO_BYTES).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(source, "file", f"cannot be read ({exc.strerror or exc})") from None
    try:
        doc = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "document"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(source, where, f"invalid YAML: {problem}") from None
    if not isinstance(doc, dict):
        raise ScenarioError(source, "document", f"expected a mapping with 'firm' and sections, got {_kind(doc)}")
    return doc


# --------------------------------------------------------------------------- sections


def plural(word: str) -> str:
    """English plural of a snake_case name's last word (``calendar_entry`` -> ``calendar_entries``)."""
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    if word.endswith("s") and not word.endswith(("ss", "us")):
        return word  # already plural (event_metrics)
    if re.search(r"(ss|us|x|z|ch|sh)$", word):
        return word + "es"
    return word + "s"


def section_models(state: MockState) -> dict[str, str]:
    """Section key -> model name, for every model a scenario may declare (from the spec)."""
    index: SpecIndex = state.index
    engine = state.engine
    out: dict[str, str] = {}
    for model in index.models.values():
        if not state.seeder.seedable(model) or model.name in engine.mirrors or model.name in engine.user_singletons:
            continue
        out[plural(snake(model.name))] = model.name
        out[model.name] = model.name
    return out


# --------------------------------------------------------------------------- loading


@dataclass
class _Item:
    """One declared record: where it is in the file, its model and data."""

    path: str
    model: Model
    data: dict[str, Any]
    ref: str | None = None
    record: Record | None = None


def refs(account: Account) -> dict[str, tuple[str, int]]:
    """The ``ref -> (model, id)`` map of a firm loaded from a scenario (empty for others)."""
    return getattr(account, "refs", {})


SHIPPED_DIR = Path(__file__).resolve().parent / "fixtures"  # package data (pyproject's package-data)


def shipped_scenarios() -> list[str]:
    """Names of the scenarios that ship with the package (``solo-practice``, ``midsize-firm``)."""
    return sorted(p.stem for p in SHIPPED_DIR.glob("*.yaml"))


def scenario_path(name_or_path: str | Path) -> Path:
    """A scenario by file path, or by the name of a shipped one (``solo-practice``, with or
    without ``.yaml``); an existing file of that name wins. ScenarioError for a bare name
    that is neither, listing the shipped names."""
    path = Path(name_or_path)
    if path.exists() or len(path.parts) != 1:
        return path
    stem = path.stem if path.suffix in (".yaml", ".yml") else path.name
    shipped = SHIPPED_DIR / f"{stem}.yaml"
    if shipped.is_file():
        return shipped
    raise ScenarioError(str(name_or_path), "file", f"no such file, and no shipped scenario of that name (shipped: {', '.join(shipped_scenarios())})")


def load_scenario_file(state: MockState, path: str | Path, account_id: int | None = None) -> Account:
    """Read and load a scenario file (or a shipped one by name): a new firm, or with
    ``account_id`` that firm replaced."""
    path = scenario_path(path)
    return load_scenario(state, read_scenario(path), source=str(path), account_id=account_id)


def load_scenario(state: MockState, doc: dict, source: str = "<scenario>", account_id: int | None = None) -> Account:
    """Create a firm (account) from a scenario document, or replace firm ``account_id``'s records.

    Validates everything first (sections, fields, value types, references), then builds the
    firm aside (base records, then declared ones through the RecordWriter) and swaps it in;
    notifies store listeners of each declared record once it is visible. See the module doc.
    """
    return _Loader(state, source).load(doc, account_id)


class _Loader:
    def __init__(self, state: MockState, source: str) -> None:
        self.state = state
        self.source = source
        self.index: SpecIndex = state.index
        self.sections = section_models(state)
        self.tz = state.clock.tz
        self.validators: dict[tuple[str, str], Any] = {}
        self.lookup: dict[str, tuple[str, int]] = {}  # ref -> (model, id)

    def fail(self, path: str, reason: str) -> ScenarioError:
        return ScenarioError(self.source, path, reason)

    # ------------------------------------------------------------------ document

    def load(self, doc: Any, account_id: int | None) -> Account:
        if not isinstance(doc, dict):
            raise self.fail("document", f"expected a mapping with 'firm' and sections, got {_kind(doc)}")
        doc = self._plain(doc)
        store = self.state.store
        existing = None
        if account_id is not None:
            existing = store.account(account_id)
            if existing is None:
                raise self.fail("account_id", f"no firm with id {account_id}")
        firm = doc.get("firm", existing.name if existing else None)
        if not isinstance(firm, str) or not firm.strip():
            raise self.fail("firm", "the firm's name is required (a non-empty string)")
        plan = self._base(doc.get("base"))
        items = self._items(doc)
        # Validate references and values before any work: ids are placeholders here.
        self.lookup = {item.ref: (item.model.name, 0) for item in items if item.ref}
        for item in items:
            self._record_data(item.model, item.data, item.path)

        with store.write():
            new_id = account_id if account_id is not None else max(store.accounts, default=0) + 1
            scratch = Account(new_id, firm)
            if plan is not None:
                self.state.seeder.seed(scratch, plan)
            for item in items:
                item.record = scratch.table(item.model.name).insert({})
                if item.ref:
                    self.lookup[item.ref] = (item.model.name, item.record["id"])
            now = self.state.clock.now()
            writer = self.state.engine.writer
            users = scratch.table("User").ids
            for item in items:
                data, times = self._record_data(item.model, item.data, item.path)  # now with real ids
                try:  # written as the firm's first user (owner defaults: activity user, note author...)
                    writer.fill(scratch, item.model, item.record, data, users[0] if users else None)
                except ClioError as exc:
                    raise self.fail(_error_path(item.path, data, exc.message), exc.message) from None
                self._stamp(item, times, now)
            account = existing if existing is not None else store.add_account(firm, new_id)
            account.name = firm
            account.tables = scratch.tables
            account.embedded_ids = scratch.embedded_ids
            account.refs = dict(self.lookup)  # type: ignore[attr-defined]
            store.touch_account(account.id)
        for item in items:
            store.notify("created", account.id, item.model.name, item.record)
        return account

    def _base(self, base: Any) -> SeedPlan | None:
        if base is None:
            return None
        if base is True:
            base = {}
        if not isinstance(base, dict):
            raise self.fail("base", f"expected a mapping (seed, scale, counts, only_named), got {_kind(base)}")
        for key in base:
            if key not in BASE_KEYS:
                raise self.fail(f"base.{key}", f"unknown key (expected one of {', '.join(BASE_KEYS)})")
        seed, scale = base.get("seed", 42), base.get("scale", 1.0)
        if not _is_int(seed):
            raise self.fail("base.seed", f"wrong type: expected an integer, got {_kind(seed)}")
        if not _is_number(scale) or scale < 0:
            raise self.fail("base.scale", f"wrong type: expected a number >= 0, got {scale!r}")
        only_named = base.get("only_named", False)
        if not isinstance(only_named, bool):
            raise self.fail("base.only_named", f"wrong type: expected true or false, got {_kind(only_named)}")
        raw = base.get("counts") or {}
        if not isinstance(raw, dict):
            raise self.fail("base.counts", f"expected a mapping of model to count, got {_kind(raw)}")
        counts: dict[str, int] = {m: 0 for m in self.index.models} if only_named else {}
        for key, number in raw.items():
            model = self.sections.get(key) or (key if key in self.index.models and self.index.models[key].stored else None)
            if model is None:
                raise self.fail(f"base.counts.{key}", "unknown model")
            if not _is_int(number) or number < 0:
                raise self.fail(f"base.counts.{key}", f"wrong type: expected a count >= 0, got {number!r}")
            counts[model] = number
        return SeedPlan(seed, float(scale), counts)

    def _items(self, doc: dict) -> list[_Item]:
        items: list[_Item] = []
        declared: dict[str, str] = {}
        for key, records in doc.items():
            if key in TOP_LEVEL_KEYS:
                continue
            name = self.sections.get(key) if isinstance(key, str) else None
            if name is None:
                raise self.fail(str(key), _unknown_section(key, self.sections))
            model = self.index.models[name]
            if records is None:
                continue
            if not isinstance(records, list):
                raise self.fail(key, f"expected a list of {name} records, got {_kind(records)}")
            if name in self.state.engine.singletons and len(records) > 1:
                raise self.fail(key, f"{name} is a singleton: at most one record")
            for i, data in enumerate(records):
                path = f"{key}[{i}]"
                if not isinstance(data, dict):
                    raise self.fail(path, f"expected a mapping of {name} fields, got {_kind(data)}")
                data = dict(data)
                ref = data.pop("ref", None)
                if ref is not None:
                    if not isinstance(ref, str) or not REF_PATTERN.fullmatch(ref):
                        raise self.fail(f"{path}.ref", f"a ref is a name of letters, digits and _ . : / - (got {ref!r})")
                    if ref in declared:
                        raise self.fail(f"{path}.ref", f"duplicate ref {ref!r} (first declared at {declared[ref]})")
                    declared[ref] = path
                items.append(_Item(path, model, data, ref))
        return items

    # ------------------------------------------------------------------ records

    def _record_data(self, model: Model, data: dict[str, Any], path: str) -> tuple[dict[str, Any], dict[str, datetime]]:
        """Data for RecordWriter.apply (references resolved), and declared created/updated times."""
        times: dict[str, datetime] = {}
        for key in ("created_at", "updated_at"):
            if key in data and key in model.fields:
                value = data[key]
                self._check_scalar(model, key, value, f"{path}.{key}")
                try:
                    times[key] = datetime.fromisoformat(value)
                except (TypeError, ValueError):
                    raise self.fail(f"{path}.{key}", f"wrong type: {value!r} is not a date-time") from None
                if times[key].tzinfo is None:
                    times[key] = times[key].replace(tzinfo=self.tz)
        rest = {k: v for k, v in data.items() if k not in times}
        return self._convert(model, rest, path), times

    def _convert(self, model: Model, data: dict[str, Any], path: str) -> dict[str, Any]:
        """Check one (possibly nested) record's keys and values; resolve its references."""
        out: dict[str, Any] = {}
        for key, value in data.items():
            where = f"{path}.{key}"
            if not isinstance(key, str):
                raise self.fail(where, f"unknown field for {model.name}")
            if key in ASSIGNED_FIELDS and key in model.fields:
                raise self.fail(where, f"{key} is assigned by the mock; name the record with 'ref' instead")
            assoc = model.associations.get(key)
            stem = key[:-3] if key.endswith("_id") else None
            if assoc is None and stem and (twin := model.associations.get(stem)) and twin.stored and not twin.many:
                if stem in data:
                    raise self.fail(where, f"give {stem} or {key}, not both")
                out[stem] = self._association(twin, value, where)  # keeps the scalar twin in step
            elif assoc is not None:
                out[key] = self._association(assoc, value, where)
            elif key in model.fields:
                out[key] = self._scalar(model, key, value, where)
            else:
                raise self.fail(where, f"unknown field for {model.name}")
        return out

    def _association(self, assoc: Association, value: Any, path: str) -> Any:
        target = self.index.models.get(assoc.target)
        if assoc.stored and not assoc.many:
            return self._reference(assoc.target, value, path)
        if assoc.stored:
            if not isinstance(value, list):
                raise self.fail(path, f"wrong type: expected a list of {assoc.target} references, got {_kind(value)}")
            return [self._reference(assoc.target, v, f"{path}[{i}]") for i, v in enumerate(value)]
        if assoc.many:
            if not isinstance(value, list):
                raise self.fail(path, f"wrong type: expected a list of {assoc.target} values, got {_kind(value)}")
            return [self._embedded(target, assoc.target, v, f"{path}[{i}]") for i, v in enumerate(value)]
        if value is None:
            return None
        return self._embedded(target, assoc.target, value, path)

    def _embedded(self, target: Model | None, name: str, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"wrong type: expected a mapping of {name} fields, got {_kind(value)}")
        if target is None:  # a value the spec does not model field by field
            return self._resolve_anywhere(value, path, None)
        return self._convert(target, value, path)

    def _reference(self, target: str, value: Any, path: str) -> dict[str, Any] | None:
        """A to-one reference as the writer takes it: ``{"id": N}`` (or None)."""
        if isinstance(value, dict) and set(value) == {"id"}:
            value, path = value["id"], f"{path}.id"
        if value is None:
            return None
        if isinstance(value, str) and value.startswith("@") and not value.startswith("@@"):
            return {"id": self._ref_id(value, path, target)}
        if _is_int(value):
            return {"id": value}
        raise self.fail(path, f"wrong type: expected a reference to a {target} (\"@name\" or an id), got {value!r}")

    def _ref_id(self, value: str, path: str, target: str | None) -> int:
        found = self.lookup.get(value[1:])
        if found is None:
            raise self.fail(path, f"unknown reference {value}")
        model, record_id = found
        if target is not None and model != target:
            raise self.fail(path, f"{value} is a {model}, not a {target}")
        return record_id

    def _scalar(self, model: Model, key: str, value: Any, path: str) -> Any:
        if isinstance(value, str) and value.startswith("@"):
            if value.startswith("@@"):
                value = value[1:]
            else:  # a reference in a plain field: its bare id (parent_calendar_entry_id...)
                value = self._ref_id(value, path, self.index.model_for_id_field(key) if key.endswith("_id") else None)
        elif isinstance(value, (dict, list)):
            value = self._resolve_anywhere(value, path, key)
        self._check_scalar(model, key, value, path)
        return value

    def _check_scalar(self, model: Model, key: str, value: Any, path: str) -> None:
        if value is None:
            return  # clears the field
        schema = model.fields[key]
        validator = self.validators.get((model.name, key))
        if validator is None:
            validator = self.validators[(model.name, key)] = jsonschema_rs.validator_for(schema, validate_formats=True)
        error = next(iter(validator.iter_errors(fit_enum(value, schema))), None)
        if error is not None:
            expected = schema.get("format") or schema.get("type") or "value"
            raise self.fail(path, f"wrong type: {error.message} (expected {expected})")

    def _resolve_anywhere(self, value: Any, path: str, key: str | None) -> Any:
        """Replace "@name" at any depth: the bare id under a ``*_id`` key, else ``{"id": N}``."""
        if isinstance(value, dict):
            return {k: self._resolve_anywhere(v, f"{path}.{k}", str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self._resolve_anywhere(v, f"{path}[{i}]", key) for i, v in enumerate(value)]
        if isinstance(value, str) and value.startswith("@@"):
            return value[1:]
        if isinstance(value, str) and value.startswith("@"):
            record_id = self._ref_id(value, path, None)
            return record_id if key and key.endswith("_id") else {"id": record_id}
        return value

    def _stamp(self, item: _Item, times: dict[str, datetime], now: datetime) -> None:
        record = item.record
        assert record is not None
        created = times.get("created_at") or times.get("updated_at") or now
        stamp(item.model, record, created, created=True)
        if "updated_at" in times or "created_at" in times:
            stamp(item.model, record, times.get("updated_at") or created, created=False)

    # ------------------------------------------------------------------ YAML values

    def _plain(self, value: Any) -> Any:
        """YAML dates and timestamps as ISO strings (naive times in the firm's time zone)."""
        if isinstance(value, dict):
            return {k: self._plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._plain(v) for v in value]
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=self.tz)).isoformat()
        if isinstance(value, date):
            return value.isoformat()
        return value


# --------------------------------------------------------------------------- helpers


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "an integer", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _unknown_section(key: Any, sections: dict[str, str]) -> str:
    import difflib

    close = difflib.get_close_matches(str(key), [k for k in sections if k.islower()], n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown section: not a stored model of the spec{hint}"


def _error_path(path: str, data: dict[str, Any], message: str) -> str:
    """Point a writer error at the key it names (``client with id 5 was not found``)."""
    first = message.split(" ", 1)[0]
    return f"{path}.{first}" if first in data else path
