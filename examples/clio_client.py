"""A Clio integration written the way most are: Clio's host is a module constant.

Nothing here knows about clio-mock. Under ``clio_mock.intercept()`` (or ``mockserver.intercept()``)
its requests to ``https://app.clio.com`` are answered in-process; against a live mock the same
code is given the mock's URL instead (``examples/test_clio_client_example.py`` runs it both ways).
It refreshes its OAuth token on 401, follows ``meta.paging.next``, creates and downloads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests

CLIO_BASE = "https://app.clio.com"  # Clio's US region


class Clio:
    """Bearer auth with refresh on 401, cursor paging, create and download, over ``requests``."""

    def __init__(self, client_id: str, client_secret: str, refresh_token: str, access_token: str = "",
                 base_url: str = CLIO_BASE) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id, self.client_secret = client_id, client_secret
        self.refresh_token, self.access_token = refresh_token, access_token
        self.session = requests.Session()
        self.refreshes = 0

    def refresh(self) -> None:
        response = self.session.post(f"{self.base_url}/oauth/token", data={
            "client_id": self.client_id, "client_secret": self.client_secret,
            "grant_type": "refresh_token", "refresh_token": self.refresh_token,
        }, timeout=10)
        response.raise_for_status()
        self.access_token = response.json()["access_token"]
        self.refreshes += 1

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        if not url.startswith("http"):
            url = f"{self.base_url}/api/v4/{url.lstrip('/')}"
        for attempt in range(2):
            response = self.session.request(method, url, headers={"Authorization": f"Bearer {self.access_token}"}, timeout=10, **kwargs)
            if response.status_code != 401 or attempt:
                break
            self.refresh()
        response.raise_for_status()
        return response

    def each(self, path: str, **params: Any) -> Iterator[dict]:
        """Every record of a list endpoint, page after page (``meta.paging.next``)."""
        url: str | None = path
        while url:
            body = self.request("GET", url, params=params).json()
            yield from body["data"]
            url, params = body.get("meta", {}).get("paging", {}).get("next"), {}  # next carries the query

    def create_contact(self, first_name: str, last_name: str) -> dict:
        data = {"type": "Person", "name": f"{first_name} {last_name}", "first_name": first_name, "last_name": last_name}
        return self.request("POST", "contacts.json", params={"fields": "id,name"}, json={"data": data}).json()["data"]

    def download_document(self, document_id: int) -> bytes:
        """The document's content (Clio answers with a redirect to the file, which requests follows)."""
        return self.request("GET", f"documents/{document_id}/download.json").content
