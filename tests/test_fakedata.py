"""ValueFaker: every generated record validates against Clio's own schemas, and looks real."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, FormatChecker

from mockserver.data.fakedata import ValueFaker

SPEC_PATH = Path(__file__).resolve().parents[2] / "shared/clio/openapi-v4.json"
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EMAIL_RE = re.compile(r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$")
ETAG_RE = re.compile(r'^"[0-9a-f]{32}"$')
SIGNS = {"USD": "$", "CAD": "$", "EUR": "€", "GBP": "£", "AUD": "$"}

pytestmark = pytest.mark.skipif(not SPEC_PATH.exists(), reason=f"Clio spec not found at {SPEC_PATH}")


# --------------------------------------------------------------------------- spec helpers


@lru_cache(maxsize=1)
def schemas() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text())["components"]["schemas"]


def resolve(node: Any, seen: frozenset[str] = frozenset()) -> Any:
    """Inline #/components/schemas refs; a cycle becomes an open object."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[1]
            return {"type": "object"} if name in seen else resolve(schemas()[name], seen | {name})
        return {key: resolve(value, seen) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(value, seen) for value in node]
    return node


BASE_NAMES = sorted(name for name in schemas() if name.endswith("_base")) if SPEC_PATH.exists() else []

format_checker = FormatChecker(formats=())


@format_checker.checks("date", raises=ValueError)
def is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not DATE_RE.match(value):
        raise ValueError(f"not YYYY-MM-DD: {value!r}")
    date.fromisoformat(value)
    return True


@format_checker.checks("date-time", raises=ValueError)
def is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if datetime.fromisoformat(value).utcoffset() is None:
        raise ValueError(f"timestamp without a UTC offset: {value!r}")
    return True


@format_checker.checks("int32")
def is_int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value <= 2**31 - 1


@format_checker.checks("int64")
def is_int64(value: object) -> bool:
    return not isinstance(value, int) or -(2**63) <= value <= 2**63 - 1


def record(faker: ValueFaker, schema_name: str) -> dict[str, Any]:
    model = schema_name.removesuffix("_base")
    props = resolve(schemas()[schema_name])["properties"]
    return {field: faker.value(model, field, prop) for field, prop in props.items()}


def validate(schema: dict[str, Any], instance: Any) -> None:
    errors = sorted(Draft7Validator(schema, format_checker=format_checker).iter_errors(instance), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def no_nulls(value: Any) -> bool:
    if isinstance(value, dict):
        return all(no_nulls(v) for v in value.values())
    if isinstance(value, list):
        return all(no_nulls(v) for v in value)
    return value is not None


# --------------------------------------------------------------------------- schema validity


def test_spec_has_base_schemas() -> None:
    assert len(BASE_NAMES) > 100


@pytest.mark.parametrize("seed", [1, 7])
def test_every_base_schema_validates(seed: int) -> None:
    faker = ValueFaker(seed)
    failures = []
    for name in BASE_NAMES:
        schema = resolve(schemas()[name])
        for _ in range(3):  # several records so rarer branches (arrays, enums) get exercised
            rec = record(faker, name)
            errors = list(Draft7Validator(schema, format_checker=format_checker).iter_errors(rec))
            failures += [f"{name}.{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]
            if not no_nulls(rec):
                failures.append(f"{name}: contains None")
    assert not failures, "\n".join(failures[:30])


@pytest.mark.parametrize("name", ["Contact", "Matter", "Bill", "User", "Activity", "CalendarEntry"])
def test_full_models_with_associations_validate(name: str) -> None:
    """Whole resolved models (allOf base + nested associations) come out valid too."""
    faker = ValueFaker(3)
    schema = resolve(schemas()[name])
    for _ in range(5):
        validate(schema, faker.value(name, "", schema))


@pytest.mark.parametrize("locale", ["en_CA", "en_GB", "fr_CA", "de_DE"])
def test_other_locales_validate(locale: str) -> None:
    faker = ValueFaker(5, locale)
    for name in ("Contact_base", "Address_base", "EmailAddress_base", "User_base", "Matter_base"):
        validate(resolve(schemas()[name]), record(faker, name))
    for _ in range(30):
        assert "\n" not in faker.value("Address", "street", {"type": "string"})
        assert EMAIL_RE.match(faker.value("Contact", "primary_email_address", {"type": "string"}))


def test_hand_made_schema_keywords_are_honoured() -> None:
    faker = ValueFaker(11)
    bounded = {"type": "integer", "minimum": 5, "maximum": 9}
    short = {"type": "string", "maxLength": 4}
    listed = {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}
    for _ in range(50):
        assert 5 <= faker.value("Thing", "limit", bounded) <= 9
        assert len(faker.value("Thing", "description", short)) <= 4
        assert len(faker.value("Thing", "tags", listed)) == 2


# --------------------------------------------------------------------------- determinism


def _sample(seed: int) -> list[Any]:
    faker = ValueFaker(seed)
    out: list[Any] = [record(faker, n) for n in ("Matter_base", "Contact_base", "User_base", "Bill_base")]
    out += [faker.timestamp(), faker.date(), faker.etag()]
    return out


def test_same_seed_same_output() -> None:
    assert _sample(42) == _sample(42)


def test_different_seeds_differ() -> None:
    assert _sample(42) != _sample(43)


def test_cached_generator_does_not_change_output() -> None:
    """Generators are cached per schema identity; an equal but distinct dict gives the same stream."""
    schema = {"type": "string"}
    a, b = ValueFaker(9), ValueFaker(9)
    assert [a.value("Matter", "description", schema) for _ in range(5)] == [
        b.value("Matter", "description", dict(schema)) for _ in range(5)
    ]


# --------------------------------------------------------------------------- realism


def test_emails_look_like_emails() -> None:
    faker = ValueFaker(1)
    string = {"type": "string"}
    for model, field in [("User", "email"), ("Contact", "primary_email_address"),
                         ("EmailAddress", "address"), ("ClioPaymentsLink", "email_address")]:
        for _ in range(50):
            value = faker.value(model, field, string)
            assert EMAIL_RE.match(value), (model, field, value)


def test_matter_status_in_enum() -> None:
    faker = ValueFaker(2)
    status = resolve(schemas()["Matter_base"])["properties"]["status"]
    seen = {faker.value("Matter", "status", status) for _ in range(200)}
    assert seen == set(status["enum"])


def test_timestamps_carry_an_offset() -> None:
    faker = ValueFaker(3)
    for _ in range(100):
        stamp = faker.timestamp()
        assert re.search(r"[+-]\d{2}:\d{2}$", stamp), stamp
        assert datetime.fromisoformat(stamp).utcoffset() is not None
    for _ in range(20):
        assert DATE_RE.match(faker.date(30))


def test_timestamp_window() -> None:
    faker = ValueFaker(4)
    newest = datetime.fromisoformat(faker.timestamp(0))
    for _ in range(100):
        assert (newest - datetime.fromisoformat(faker.timestamp(10))).days <= 11


def test_etag_format() -> None:
    faker = ValueFaker(4)
    tags = {faker.etag() for _ in range(100)}
    assert all(ETAG_RE.match(tag) for tag in tags)
    assert len(tags) == 100


def test_field_heuristics_look_real() -> None:
    faker = ValueFaker(8)
    string = {"type": "string"}
    money = {"type": "number", "format": "double"}
    for _ in range(30):
        assert re.fullmatch(r"\d{5}-\S.*", faker.value("Matter", "display_number", string))
        assert re.fullmatch(r"#[0-9A-F]{6}", faker.value("Thing", "color", string))
        assert faker.value("Thing", "currency", string) in {"USD", "CAD", "EUR", "GBP", "AUD"}
        assert faker.value("Contact", "prefix", string) in {"Mr.", "Ms.", "Mrs.", "Dr.", "Mx."}
        assert faker.value("WebSite", "address", string).startswith("https://")
        assert faker.value("DocumentVersion", "put_url", string).startswith("https://")
        assert re.fullmatch(r"[^/]+\.[a-z]{3,4}", faker.value("Document", "filename", string))
        assert "/" in faker.value("Document", "content_type", string)
        amount = faker.value("Bill", "total", money)
        assert amount >= 0 and round(amount, 2) == amount
        assert faker.value("Activity", "quantity", money) > 0
        assert faker.value("Matter", "client_id", {"type": "integer", "format": "int64"}) > 0
    areas = {faker.value("PracticeArea", "name", string) for _ in range(50)}
    assert "Family Law" in areas or "Criminal Defense" in areas
    assert len(faker.value("Contact", "initials", string)) in (2, 3)


def test_nested_embedded_values_are_recognised() -> None:
    """Association names map back to embedded models (email_addresses -> EmailAddress)."""
    faker = ValueFaker(6)
    contact = resolve(schemas()["Contact"])
    emails = {"type": "array", "items": resolve(schemas()["EmailAddress_base"]), "minItems": 1}
    for _ in range(20):
        for item in faker.value("Contact", "email_addresses", emails):
            assert EMAIL_RE.match(item["address"])
        full = faker.value("Contact", "", contact)
        for address in full["addresses"]:
            assert address["street"] and address["country"]
        currency = full["currency"]
        assert currency["sign"] == SIGNS[currency["code"]]
