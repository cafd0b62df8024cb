"""Clio's three-step document upload (BEHAVIOR.md 12.2), end to end against the mock."""

from __future__ import annotations

import pytest

FIELDS = "id,name,filename,size,content_type,latest_document_version{id,uuid,put_url,put_headers,fully_uploaded,version_number}"


def start(client, parent, name="retainer.pdf"):
    r = client.post("/api/v4/documents.json", params={"fields": FIELDS}, json={"data": {"name": name, "parent": parent}})
    assert r.status_code == 201, r.text
    return r.json()["data"]


def put(client, version, body: bytes):
    headers = {h["name"]: h["value"] for h in version["put_headers"]}
    return client.put(version["put_url"], content=body, headers=headers)


def complete(client, document, version):
    return client.patch(f"/api/v4/documents/{document['id']}.json", params={"fields": FIELDS},
                        json={"data": {"uuid": version["uuid"], "fully_uploaded": True}})


@pytest.fixture
def matter_id(app):
    return app.state.store.accounts[1].table("Matter").ids[0]


def test_create_answers_an_upload_url_the_mock_serves(client, matter_id):
    document = start(client, {"id": matter_id, "type": "Matter"})
    version = document["latest_document_version"]
    assert version["uuid"] and version["fully_uploaded"] is False and version["version_number"] == 1
    assert version["put_url"] == f"http://127.0.0.1:8000/__mock__/uploads/{version['uuid']}"
    assert {"name": "Content-Type", "value": "application/pdf"} in version["put_headers"]
    assert {"name": "x-amz-server-side-encryption", "value": "AES256"} in version["put_headers"]


def test_upload_put_complete_download(client, matter_id):
    payload = b"%PDF-1.7 retainer agreement\n" + bytes(range(256))
    document = start(client, {"id": matter_id, "type": "Matter"})
    version = document["latest_document_version"]
    assert put(client, version, payload).status_code == 200
    done = complete(client, document, version)
    assert done.status_code == 200, done.text
    shown = done.json()["data"]
    assert shown["size"] == len(payload) and shown["latest_document_version"]["fully_uploaded"] is True
    assert shown["latest_document_version"]["put_url"] is None
    download = client.get(f"/api/v4/documents/{document['id']}/download.json", follow_redirects=False)
    assert download.status_code == 303
    content = client.get(download.headers["location"])
    assert content.content == payload and content.headers["content-type"] == "application/pdf"


def test_completing_without_a_put_is_upload_not_found(client, matter_id):
    document = start(client, {"id": matter_id, "type": "Matter"}, "memo.docx")
    r = complete(client, document, document["latest_document_version"])
    assert r.status_code == 422
    assert r.json()["error"] == {"type": "UploadNotFoundError", "message":
                                 f"A matching remote file was not found for the file named memo.docx with UUID {document['latest_document_version']['uuid']}"}


def test_parent_document_adds_a_version_listed_in_versions(client, matter_id):
    document = start(client, {"id": matter_id, "type": "Matter"})
    first = document["latest_document_version"]
    put(client, first, b"one")
    complete(client, document, first)
    again = start(client, {"id": document["id"], "type": "Document"})
    assert again["id"] == document["id"]
    second = again["latest_document_version"]
    assert second["version_number"] == 2 and second["id"] != first["id"]
    put(client, second, b"two, longer")
    complete(client, document, second)
    versions = client.get(f"/api/v4/documents/{document['id']}/versions.json", params={"fields": "id,version_number,fully_uploaded"}).json()["data"]
    assert [(v["id"], v["version_number"], v["fully_uploaded"]) for v in versions] == [(first["id"], 1, True), (second["id"], 2, True)]
    old = client.get(f"/api/v4/documents/{document['id']}/download.json", params={"document_version_id": first["id"]}, follow_redirects=False)
    assert client.get(old.headers["location"]).content == b"one"
    latest = client.get(f"/api/v4/documents/{document['id']}/download.json", follow_redirects=False)
    assert client.get(latest.headers["location"]).content == b"two, longer"


def test_put_with_another_content_type_or_too_large_is_refused(client, matter_id, monkeypatch):
    from mockserver.clio import uploads

    version = start(client, {"id": matter_id, "type": "Matter"})["latest_document_version"]
    wrong = client.put(version["put_url"], content=b"x", headers={"Content-Type": "text/plain"})
    assert wrong.status_code == 403 and b"SignatureDoesNotMatch" in wrong.content
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 10)
    big = put(client, version, b"x" * 11)
    assert big.status_code == 413 and b"EntityTooLarge" in big.content
    assert client.put(client.base_url.join("/__mock__/uploads/not-a-uuid"), content=b"x").status_code == 403


def test_uploaded_bytes_persist_with_data(tmp_path, index, spec_path):
    from starlette.testclient import TestClient

    from mockserver.app import create_app
    from mockserver.config import Settings

    settings = Settings(spec=str(spec_path), seed=42, rate_limit=0, data=str(tmp_path / "firm.sqlite"))
    with TestClient(create_app(settings, index=index), base_url="http://127.0.0.1:8000", headers={"Authorization": "Bearer dev"}) as client:
        matter = client.get("/api/v4/matters.json", params={"limit": 1}).json()["data"][0]["id"]
        document = start(client, {"id": matter, "type": "Matter"})
        put(client, document["latest_document_version"], b"kept on disk")
        assert complete(client, document, document["latest_document_version"]).status_code == 200
    with TestClient(create_app(settings, index=index), base_url="http://127.0.0.1:8000", headers={"Authorization": "Bearer dev"}) as client:
        download = client.get(f"/api/v4/documents/{document['id']}/download.json", follow_redirects=False)
        assert client.get(download.headers["location"]).content == b"kept on disk"
