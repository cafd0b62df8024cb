"""Tests for mockserver.spec.diff: drift between OpenAPI documents."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest

from mockserver.spec.diff import SpecLoadError, diff_specs, load_spec_document

CLIO_DIR = Path(__file__).resolve().parents[2] / "shared/clio"
NEWEST = CLIO_DIR / "openapi-v4.json"
NOV_2025 = CLIO_DIR / "snapshots/openapi-v4-2025-11-20.json"
MID_2025 = CLIO_DIR / "snapshots/openapi-v4-2025-mid.json"

needs_clio_specs = pytest.mark.skipif(
    not all(p.exists() for p in (NEWEST, NOV_2025, MID_2025)), reason=f"Clio OpenAPI documents not in {CLIO_DIR}"
)


# --------------------------------------------------------------------------- real snapshots


@pytest.fixture(scope="module")
def newest() -> dict[str, Any]:
    return load_spec_document(str(NEWEST))


@pytest.fixture(scope="module")
def nov_2025() -> dict[str, Any]:
    return load_spec_document(str(NOV_2025))


@pytest.fixture(scope="module")
def mid_2025() -> dict[str, Any]:
    return load_spec_document(str(MID_2025))


@needs_clio_specs
def test_newest_adds_submissions_reports(nov_2025, newest):
    diff = diff_specs(nov_2025, newest)
    assert any(op.startswith("GET /clio_file/submissions_reports.json (") for op in diff.added_operations)
    assert diff.removed_operations == []
    assert "ClioFileSubmissionsReport" in diff.added_schemas
    assert "GET /clio_file/submissions_reports.json" in diff.to_text()


@needs_clio_specs
def test_nov_2025_adds_save_as_latest_version(mid_2025, nov_2025):
    diff = diff_specs(mid_2025, nov_2025)
    expected = (
        "/documents/{id}/versions/{document_version_id}/save_as_latest_version.json"
        " (DocumentVersion#save_as_latest_version)"
    )
    assert [op for op in diff.added_operations if op.endswith(expected)], diff.added_operations
    assert diff.removed_operations == []


@needs_clio_specs
def test_document_against_itself_is_empty(newest):
    diff = diff_specs(newest, newest)
    assert diff.is_empty()
    assert diff.to_text().startswith("No differences.")


@needs_clio_specs
def test_real_diff_report_is_serialisable(nov_2025, newest):
    diff = diff_specs(nov_2025, newest)
    as_dict = orjson.loads(orjson.dumps(diff.to_dict()))
    assert as_dict["summary"]["operations_added"] == len(diff.added_operations)
    assert diff.to_text().splitlines()[-1].startswith("Summary: operations ")


# --------------------------------------------------------------------------- synthetic documents


def ref(name: str) -> dict[str, str]:
    """A $ref to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def make_spec() -> dict[str, Any]:
    """A small Clio-shaped document: matters with list, show, create and destroy."""
    error = {"content": {"application/json; charset=utf-8": {"schema": ref("Error")}}}
    return {
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "v4"},
        "paths": {
            "/matters.json": {
                "get": {
                    "operationId": "Matter#index",
                    "parameters": [
                        {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                        {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["open", "closed"]}},
                    ],
                    "responses": {
                        "200": {"content": {"application/json": {"schema": ref("Matter_List")}}},
                        "401": error,
                    },
                },
                "post": {
                    "operationId": "Matter#create",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "data": {
                                            "type": "object",
                                            "properties": {
                                                "description": {"type": "string"},
                                                "billable": {"type": "boolean"},
                                            },
                                        }
                                    },
                                }
                            }
                        }
                    },
                    "responses": {
                        "201": {"content": {"application/json": {"schema": ref("Matter_Show")}}}
                    },
                },
            },
            "/matters": {"get": {"operationId": "Matter#index", "responses": {"200": {}}}},
            "/matters/{id}.json": {
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "delete": {"operationId": "Matter#destroy", "responses": {"204": {}}},
            },
            "/timer": {"get": {"operationId": "Timer#show", "responses": {"200": {}}}},
        },
        "components": {
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "object"}}},
                "Matter_base": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer", "format": "int64"},
                        "status": {"type": "string", "enum": ["Open", "Closed"]},
                        "description": {"type": "string"},
                    },
                },
                "Matter": {
                    "allOf": [
                        ref("Matter_base"),
                        {"type": "object", "properties": {"client": ref("Contact_base")}},
                    ]
                },
                "Contact_base": {"type": "object", "properties": {"id": {"type": "integer"}}},
                "Matter_List": {"type": "object", "properties": {"data": {"type": "array", "items": ref("Matter")}}},
                "Matter_Show": {"type": "object", "properties": {"data": ref("Matter")}},
            }
        },
    }


@pytest.fixture
def old() -> dict[str, Any]:
    return make_spec()


@pytest.fixture
def new(old) -> dict[str, Any]:
    return copy.deepcopy(old)


def test_synthetic_identical_is_empty(old, new):
    diff = diff_specs(old, new)
    assert diff.is_empty()
    assert diff.to_text().splitlines()[-1] == (
        "Summary: operations 0 added, 0 removed, 0 changed; schemas 0 added, 0 removed, 0 changed"
    )


def test_removed_operation(old, new):
    del new["paths"]["/matters/{id}.json"]["delete"]
    diff = diff_specs(old, new)
    assert diff.removed_operations == ["DELETE /matters/{id}.json (Matter#destroy)"]
    assert diff.added_operations == []
    assert "- DELETE /matters/{id}.json (Matter#destroy)" in diff.to_text()


def test_bare_path_twin_is_ignored_but_bare_only_path_is_kept(old, new):
    del new["paths"]["/matters"]
    del new["paths"]["/timer"]
    diff = diff_specs(old, new)
    assert diff.removed_operations == ["GET /timer (Timer#show)"]


def test_added_parameter(old, new):
    new["paths"]["/matters.json"]["get"]["parameters"].append(
        {"name": "query", "in": "query", "schema": {"type": "string"}}
    )
    diff = diff_specs(old, new)
    assert list(diff.changed_operations) == ["GET /matters.json"]
    assert diff.changed_operations["GET /matters.json"].params_added == ["query (query): string"]
    assert "parameter added: query (query): string" in diff.to_text()


def test_changed_parameter_type_and_required(old, new):
    limit = new["paths"]["/matters.json"]["get"]["parameters"][0]
    limit["schema"] = {"type": "string"}
    limit["required"] = True
    change = diff_specs(old, new).changed_operations["GET /matters.json"].params_changed["limit (query)"]
    assert "type integer -> string" in change
    assert "required false -> true" in change


def test_path_level_parameter_change(old, new):
    new["paths"]["/matters/{id}.json"]["parameters"][0]["schema"] = {"type": "string"}
    diff = diff_specs(old, new)
    changed = diff.changed_operations["DELETE /matters/{id}.json"].params_changed
    assert changed == {"id (path)": "type integer -> string"}


def test_parameter_enum_change(old, new):
    new["paths"]["/matters.json"]["get"]["parameters"][1]["schema"]["enum"] = ["open", "pending"]
    change = diff_specs(old, new).changed_operations["GET /matters.json"].params_changed["status (query)"]
    assert change == "enum +['pending'] -['closed']"


def test_request_body_fields(old, new):
    body = new["paths"]["/matters.json"]["post"]["requestBody"]["content"]["application/json"]
    data = body["schema"]["properties"]["data"]
    del data["properties"]["billable"]
    data["properties"]["client"] = {"type": "object", "properties": {"id": {"type": "integer"}}}
    op = diff_specs(old, new).changed_operations["POST /matters.json"]
    assert op.body_fields_added == ["client"]
    assert op.body_fields_removed == ["billable"]


def test_request_body_ref_cycle_terminates(old, new):
    schemas = new["components"]["schemas"]
    schemas["Loop"] = {"allOf": [ref("Loop")], "properties": {"data": ref("Loop")}}
    new["paths"]["/matters.json"]["post"]["requestBody"]["content"]["application/json"]["schema"] = ref("Loop")
    op = diff_specs(old, new).changed_operations["POST /matters.json"]
    assert op.body_fields_added == ["data"]
    assert op.body_fields_removed == ["billable", "description"]


def test_response_statuses_and_schema(old, new):
    responses = new["paths"]["/matters.json"]["get"]["responses"]
    del responses["401"]
    responses["429"] = {}
    responses["200"]["content"]["application/json"]["schema"] = ref("Matter_Show")
    op = diff_specs(old, new).changed_operations["GET /matters.json"]
    assert op.statuses_added == ["429"]
    assert op.statuses_removed == ["401"]
    assert op.response_schemas_changed == {"200": "Matter_List -> Matter_Show"}


def test_added_and_removed_schema_property(old, new):
    props = new["components"]["schemas"]["Matter_base"]["properties"]
    del props["description"]
    props["display_number"] = {"type": "string"}
    diff = diff_specs(old, new)
    assert list(diff.changed_schemas) == ["Matter_base"]
    schema = diff.changed_schemas["Matter_base"]
    assert schema.properties_added == ["display_number: string"]
    assert schema.properties_removed == ["description"]
    text = diff.to_text()
    assert "~ Matter_base" in text and "field removed: description" in text


def test_schema_property_added_in_allof_part(old, new):
    new["components"]["schemas"]["Matter"]["allOf"][1]["properties"]["group"] = ref("Contact_base")
    diff = diff_specs(old, new)
    assert list(diff.changed_schemas) == ["Matter"]  # Matter_base is its own schema, unchanged
    assert diff.changed_schemas["Matter"].properties_added == ["group: Contact_base"]


def test_schema_enum_and_format_change(old, new):
    props = new["components"]["schemas"]["Matter_base"]["properties"]
    props["status"]["enum"] = ["Open", "Closed", "Pending"]
    props["id"]["format"] = "int32"
    changed = diff_specs(old, new).changed_schemas["Matter_base"].properties_changed
    assert changed == {"id": "type integer/int64 -> integer/int32", "status": "enum +['Pending']"}


def test_added_and_removed_schemas(old, new):
    schemas = new["components"]["schemas"]
    del schemas["Contact_base"]
    schemas["Group_base"] = {"type": "object", "properties": {}}
    diff = diff_specs(old, new)
    assert diff.added_schemas == ["Group_base"]
    assert diff.removed_schemas == ["Contact_base"]
    assert diff.to_dict()["summary"]["schemas_added"] == 1


# --------------------------------------------------------------------------- loading


def test_load_missing_file(tmp_path):
    with pytest.raises(SpecLoadError, match="not found"):
        load_spec_document(str(tmp_path / "nope.json"))


def test_load_non_json_file(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text("openapi: 3.0.0\npaths: {}\n")
    with pytest.raises(SpecLoadError, match="not valid JSON") as info:
        load_spec_document(str(path))
    assert "\n" not in str(info.value)


def test_load_json_that_is_not_openapi(tmp_path):
    path = tmp_path / "spec.json"
    path.write_bytes(orjson.dumps({"swagger": "2.0", "definitions": {}}))
    with pytest.raises(SpecLoadError, match="not an OpenAPI document"):
        load_spec_document(str(path))


def test_load_directory_is_unreadable(tmp_path):
    with pytest.raises(SpecLoadError, match="cannot read"):
        load_spec_document(str(tmp_path))


def test_load_valid_document(tmp_path):
    path = tmp_path / "spec.json"
    path.write_bytes(orjson.dumps(make_spec()))
    assert load_spec_document(str(path)) == make_spec()
