"""Clio's three-step document upload (BEHAVIOR.md 12.2), served by the mock end to end.

1. ``POST /documents.json`` answers ``latest_document_version{uuid, put_url, put_headers}``: a
   new :class:`DocumentVersion` waiting for its bytes. ``parent.type`` ``Document`` adds that
   version to an existing document instead of making a new one; ``Matter``/``Contact`` file it
   in that record's folder.
2. The client ``PUT``s the bytes to ``put_url``, which the mock itself serves
   (``/__mock__/uploads/{uuid}``, in place of a pre-signed S3 URL): bounded per upload and in
   all, refused like S3 refuses (413 ``EntityTooLarge``, 403 ``SignatureDoesNotMatch`` for a
   Content-Type other than the one in ``put_headers``).
3. ``PATCH /documents/{id}.json {"uuid": ..., "fully_uploaded": true}`` completes it (the rule
   in :mod:`mockserver.clio.rules.documents`; ``UploadNotFoundError`` when nothing was PUT).

The bytes live on the version record (``_content``, base64, never rendered), so ``--data``
keeps them in the SQLite file with the record; ``download`` then answers exactly those bytes.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import uuid as uuidlib
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from mockserver.engine.bodies import read_limited
from mockserver.engine.errors import decimal
from mockserver.engine.records import set_reference, stamp
from mockserver.engine.store import Account, MemoryStore, Record

if TYPE_CHECKING:
    from mockserver.engine.handlers import ApiRequest, ApiResponse, Engine

UPLOAD_PATH = "/__mock__/uploads"
MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # one file
MAX_TOTAL_BYTES = 200 * 1024 * 1024  # all uploads held by one mock
SSE_HEADER = {"name": "x-amz-server-side-encryption", "value": "AES256"}


def content_type_for(name: str | None, given: str | None) -> str:
    """``content_type`` as sent, else derived from the file name's extension (12.2)."""
    if given:
        return given
    guessed, _ = mimetypes.guess_type(name or "")
    return guessed or "application/octet-stream"


def content_of(version: Record | None) -> bytes | None:
    raw = version.get("_content") if version is not None else None
    return base64.b64decode(raw) if isinstance(raw, str) else None


class DocumentUploads:
    """The Document#create handler that hands out upload URLs, and the PUT endpoint."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store: MemoryStore = engine.store
        self.index = engine.index

    def install(self) -> None:
        """Take over ``Document#create`` (the engine lets modules own an operation's handler)."""
        for op in self.index.operations:
            if op.operation_id == "Document#create":
                self.engine.handlers[op.operation_id] = self.create

    # ------------------------------------------------------------------ step 1

    def create(self, request: ApiRequest, account: Account) -> ApiResponse:
        data = dict((request.data or {}).get("data") or {})
        parent = data.get("parent") if isinstance(data.get("parent"), dict) else {}
        models = self.index.models
        root = request.base_url.rsplit("/api/v4", 1)[0]
        actor = request.principal.user_id
        with self.store.write():
            document = account.table("Document").get(parent.get("id")) if parent.get("type") == "Document" else None
            if document is not None:  # a new version of an existing document
                self._new_version(account, document, data, root, actor)
                stamp(models["Document"], document, self.engine.writer.clock.now(), created=False)
                self.store.touch(account.id, "Document", document["id"])
                event = "updated"
            else:
                preset = self._filed(account, parent, data)
                document = self.engine.writer.create(account, models["Document"], data, preset, actor)
                self._new_version(account, document, data, root, actor)
                event = "created"
        self.store.notify(event, account.id, "Document", document)
        return self.engine._record_response(request, account, document, request.op.success_status, conditional=False)

    def _filed(self, account: Account, parent: dict[str, Any], data: dict[str, Any]) -> Record:
        """A document given a Matter or Contact as parent goes in its folder (and names it)."""
        preset: Record = {}
        kind = parent.get("type")
        if kind in ("Matter", "Contact"):
            owner = account.table(kind).get(parent.get("id"))
            if owner is None:  # (an id that names no record is read as a folder's, as before)
                return preset
            preset[kind.lower()] = owner["id"]
            folder = account.table("Folder").get(owner.get("folder"))
            data["parent"] = {"id": folder["id"] if folder else owner["id"]}
            if folder is not None:
                data["parent"].update({k: folder.get(k) for k in ("name", "root", "locked")})
        return preset

    def _new_version(self, account: Account, document: Record, data: dict[str, Any], root: str, actor: int | None) -> Record:
        model = self.index.models["DocumentVersion"]
        filename = data.get("filename") or data.get("name") or document.get("name")
        content_type = content_type_for(filename, data.get("content_type"))
        token = str(uuidlib.uuid4())
        values = {"uuid": token, "filename": filename, "content_type": content_type, "fully_uploaded": False,
                  "received_at": data.get("received_at")}
        version = self.engine.writer.create(account, model, values, {"document_id": document["id"]}, actor)
        version["put_url"] = f"{root}{UPLOAD_PATH}/{token}"
        version["put_headers"] = [{"name": "Content-Type", "value": content_type}, dict(SSE_HEADER)]
        set_reference(self.index.models["Document"], document, "latest_document_version", version["id"])
        document.update({"filename": filename, "content_type": content_type})
        return version

    # ------------------------------------------------------------------ step 2

    def find(self, token: str) -> tuple[Account, Record] | None:
        for account in self.store.accounts.values():
            table = account.tables.get("DocumentVersion")
            for version in table.rows.values() if table is not None else ():
                if version.get("uuid") == token:
                    return account, version
        return None

    async def put(self, request: Request) -> Response:
        """The stand-in for S3's pre-signed PUT: store the bytes on the version."""
        self.store.refresh()
        found = self.find(request.path_params["uuid"])
        if found is None or found[1].get("fully_uploaded") or not found[1].get("put_url"):
            return _s3_error(403, "AccessDenied", "Request has expired or the upload is complete")
        account, version = found
        wanted = next((h.get("value") for h in version.get("put_headers") or [] if str(h.get("name")).lower() == "content-type"), None)
        if wanted and request.headers.get("content-type", "").split(";")[0].strip().lower() != wanted.lower():
            return _s3_error(403, "SignatureDoesNotMatch", f"The request signature does not match: send Content-Type: {wanted}")
        declared = request.headers.get("content-length")
        if (decimal(declared) or 0) > MAX_UPLOAD_BYTES:
            return _s3_error(413, "EntityTooLarge", f"Your proposed upload exceeds the maximum allowed size ({MAX_UPLOAD_BYTES} bytes)")
        body = await read_limited(request.stream(), MAX_UPLOAD_BYTES)
        if body is None:
            return _s3_error(413, "EntityTooLarge", f"Your proposed upload exceeds the maximum allowed size ({MAX_UPLOAD_BYTES} bytes)")
        if self._held(exclude=version) + len(body) > MAX_TOTAL_BYTES:
            return _s3_error(413, "EntityTooLarge", f"The mock holds at most {MAX_TOTAL_BYTES} bytes of uploads; reset it or delete documents")
        with self.store.write():
            version["_content"] = base64.b64encode(body).decode()
            version["_uploaded_size"] = len(body)
            self.store.touch(account.id, "DocumentVersion", version["id"])
        return Response(status_code=200, headers={"ETag": f'"{hashlib.md5(body).hexdigest()}"'})

    def _held(self, exclude: Record) -> int:
        total = 0
        for account in self.store.accounts.values():
            table = account.tables.get("DocumentVersion")
            for version in table.rows.values() if table is not None else ():
                if version is not exclude:
                    total += int(version.get("_uploaded_size") or 0)
        return total

    # ------------------------------------------------------------------ downloads

    def download(self, account: Account, model: str, record_id: int, version_id: int | None) -> tuple[bytes, str, str] | None:
        """The uploaded bytes of a document (its latest version, or ``version_id``)."""
        if model != "Document":
            return None
        document = account.table("Document").get(record_id)
        if document is None:
            return None
        version = account.table("DocumentVersion").get(version_id if version_id is not None else document.get("latest_document_version"))
        if version is None or version.get("document_id") != document["id"]:
            return None
        body = content_of(version)
        if body is None:
            return None
        return body, version.get("content_type") or "application/octet-stream", version.get("filename") or f"document-{record_id}"


def _s3_error(status: int, code: str, message: str) -> Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return Response(body, status_code=status, media_type="application/xml")
