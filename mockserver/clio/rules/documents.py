"""Documents and their versions: the latest version names the file; versions count up."""

from __future__ import annotations

import uuid
from typing import Any

from mockserver.clio.rules import Change, Firm, Rule, derived
from mockserver.engine.errors import ClioError
from mockserver.engine.store import Record


def versions_of(firm: Firm, document_id: Any) -> list[Record]:
    return sorted(firm.children("DocumentVersion", "document_id", document_id), key=lambda v: (v.get("version_number") or 0, v["id"]))


def _latest(firm: Firm, record: Record) -> dict[str, Any]:
    """The document's file fields are its latest version's."""
    versions = versions_of(firm, record["id"])
    latest = firm.get("DocumentVersion", record.get("latest_document_version"))
    if latest is None or latest.get("document_id") != record["id"]:
        latest = versions[-1] if versions else None
    if latest is None:
        return {"latest_document_version": None}
    return {"latest_document_version": latest["id"], "filename": latest.get("filename"), "size": latest.get("size"),
            "content_type": latest.get("content_type")}


def _version_defaults(change: Change) -> None:
    record = change.record
    if record.get("uuid") is None:
        record["uuid"] = str(uuid.uuid4())
    if record.get("version_number") is None:
        others = [v for v in change.firm.children("DocumentVersion", "document_id", record.get("document_id")) if v is not record]
        record["version_number"] = max((v.get("version_number") or 0 for v in others), default=0) + 1


def _uploaded(firm: Firm, record: Record) -> dict[str, Any]:
    return {"put_url": None, "put_headers": []} if record.get("fully_uploaded") else {}


def _complete_upload(change: Change) -> None:
    """``PATCH {uuid, fully_uploaded: true}`` completes an upload whose bytes were PUT."""
    data, record = change.data, change.record
    if not data.get("fully_uploaded"):
        return
    token = data.get("uuid")
    version = next((v for v in change.firm.children("DocumentVersion", "document_id", record["id"]) if v.get("uuid") == token), None)
    if version is None or not isinstance(version.get("_content"), str):
        name = version.get("filename") if version else record.get("filename") or record.get("name")
        raise ClioError(422, "UploadNotFoundError", f"A matching remote file was not found for the file named {name} with UUID {token}")
    version.update({"fully_uploaded": True, "size": int(version.get("_uploaded_size") or 0), "put_url": None, "put_headers": []})
    change.firm.touch("DocumentVersion", version, change.now)
    record.update({"latest_document_version": version["id"], "filename": version.get("filename"), "size": version["size"],
                   "content_type": version.get("content_type")})


RULES = [
    Rule("DocumentVersion", "version-defaults", "default",
         "DocumentVersion_base.version_number 'The ordered number of when this DocumentVersion was uploaded'; "
         "uuid 'UUID associated with the DocumentVersion'", _version_defaults,
         lambda f, r: r.get("uuid") is not None and r.get("version_number") is not None, on="create"),
    derived("DocumentVersion", "no-put-url-once-uploaded", ("put_url",), _uploaded,
            "DocumentVersion_base.put_url 'If the document is fully uploaded, the field is empty'"),
    derived("Document", "latest-version", ("filename", "size", "content_type", "latest_document_version"), _latest,
            "Document_base.filename 'The uploaded file name of the latest document version'; size; content_type; "
            "Document.latest_document_version"),
    Rule("Document", "complete-upload", "transition",
         "BEHAVIOR.md 12.2 step 3 (PATCH uuid + fully_uploaded: true; UploadNotFoundError 'A matching remote file was "
         "not found for the file named <name> with UUID <uuid>'). UNCONFIRMED: status 422", _complete_upload, on="update"),
]
