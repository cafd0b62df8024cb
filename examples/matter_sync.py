"""A small, real Clio integration: sync every matter of a firm into a local dict.

It does what production code must: OAuth refresh when the access token is rejected,
cursor paging by following ``meta.paging.next``, and backing off on 429 ``Retry-After``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

FIELDS = "id,etag,display_number,description,status,updated_at,client{id,name}"


@dataclass
class OAuthCredentials:
    client_id: str
    client_secret: str
    refresh_token: str
    access_token: str = ""


class ClioClient:
    """Just enough of a Clio API client: bearer auth with refresh, paging and 429 handling."""

    def __init__(self, base_url: str, credentials: OAuthCredentials, http: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")  # e.g. https://app.clio.com
        self.credentials = credentials
        self.http = http or httpx.Client(timeout=10)
        self.refreshes = 0

    def refresh(self) -> None:
        response = self.http.post(f"{self.base_url}/oauth/token", data={
            "client_id": self.credentials.client_id, "client_secret": self.credentials.client_secret,
            "grant_type": "refresh_token", "refresh_token": self.credentials.refresh_token,
        })
        response.raise_for_status()
        self.credentials.access_token = response.json()["access_token"]
        self.refreshes += 1

    def get(self, url: str, params: dict | None = None) -> dict:
        for _ in range(5):
            response = self.http.get(url, params=params, headers={"Authorization": f"Bearer {self.credentials.access_token}"})
            if response.status_code == 401:
                self.refresh()
                continue
            if response.status_code == 429:
                time.sleep(min(float(response.headers.get("Retry-After", 1)), 5))
                continue
            response.raise_for_status()
            return response.json()
        raise RuntimeError(f"gave up on {url}")

    def pages(self, path: str, params: dict) -> list[dict]:
        """Every record of a list endpoint, following meta.paging.next."""
        records: list[dict] = []
        body = self.get(f"{self.base_url}/api/v4{path}", params)
        while True:
            records += body["data"]
            next_url = body.get("meta", {}).get("paging", {}).get("next")
            if not next_url:
                return records
            body = self.get(next_url)


def sync_matters(client: ClioClient, store: dict[int, dict], updated_since: str | None = None, page_size: int = 200) -> int:
    """Bring ``store`` up to date with the firm's matters; returns how many changed."""
    params = {"fields": FIELDS, "limit": page_size}
    if updated_since:
        params["updated_since"] = updated_since
    changed = 0
    for matter in client.pages("/matters.json", params):
        if store.get(matter["id"], {}).get("etag") != matter["etag"]:
            store[matter["id"]] = matter
            changed += 1
    return changed
