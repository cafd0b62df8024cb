"""Where the spec comes from: a path, a URL, or Clio's published copy in the user cache.

The indexed form is pickled in the cache directory keyed by the document's SHA-256, so a
warm start skips parsing and indexing the 2.9 MB document.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from pathlib import Path

import platformdirs

from mockserver.spec.index import SpecError, SpecIndex, build_index, parse_spec_bytes

CLIO_SPEC_URL = "https://docs.developers.clio.com/openapi.json"
INDEX_FORMAT = 7  # bump when SpecIndex's shape changes, so old pickles are ignored


def cache_dir() -> Path:
    """The user cache directory (``CLIO_MOCK_CACHE_DIR`` overrides it)."""
    override = os.environ.get("CLIO_MOCK_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir("clio-mock"))


def cached_spec_path() -> Path:
    """Where ``clio-mock spec fetch`` stores Clio's published document."""
    return cache_dir() / "openapi-v4.json"


def read_spec_bytes(location: str, timeout: float = 30.0) -> bytes:
    """The raw bytes of a spec at a path or http(s) URL; SpecError on failure."""
    if location.startswith(("http://", "https://")):
        import httpx  # only for URLs: importing it costs a tenth of start-up

        try:
            response = httpx.get(location, timeout=timeout, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise SpecError(f"cannot download spec from {location}: {exc}") from None
        if response.status_code != 200:
            raise SpecError(f"cannot download spec from {location}: HTTP {response.status_code}")
        return response.content
    path = Path(location).expanduser()
    if not path.exists():
        raise SpecError(f"spec file not found: {path}")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read spec file {path}: {exc.strerror or exc}") from None


def published_spec_url() -> str:
    """Clio's published document (``CLIO_MOCK_SPEC_URL`` overrides it, e.g. for a mirror)."""
    return os.environ.get("CLIO_MOCK_SPEC_URL") or CLIO_SPEC_URL


def fetch_published_spec(url: str | None = None, dest: Path | None = None, progress=None) -> Path:
    """Download Clio's published OpenAPI document into the cache directory."""
    url = url or published_spec_url()
    dest = dest or cached_spec_path()
    if progress:
        progress(f"clio-mock: downloading Clio's OpenAPI document from {url} ...")
    raw = read_spec_bytes(url, timeout=120.0)
    parse_spec_bytes(raw, url)  # refuse to cache something that is not a spec
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".part")
    tmp.write_bytes(raw)
    tmp.replace(dest)
    if progress:
        progress(f"clio-mock: saved {len(raw) / 1e6:.1f} MB to {dest}")
    return dest


def resolve_location(location: str | None, progress=None) -> str:
    """The spec to use: the given one, ``CLIO_MOCK_SPEC``, or the cached published copy
    (downloaded first when there is none)."""
    location = location or os.environ.get("CLIO_MOCK_SPEC")
    if location:
        return location
    cached = cached_spec_path()
    if not cached.exists():
        fetch_published_spec(progress=progress or (lambda m: print(m, file=sys.stderr)))
    return str(cached)


def load_index(location: str, use_cache: bool = True) -> SpecIndex:
    """Load and index the spec at ``location``, using the on-disk index cache when warm."""
    raw = read_spec_bytes(location)
    digest = hashlib.sha256(raw).hexdigest()
    pickled = cache_dir() / "index" / f"{digest[:32]}-v{INDEX_FORMAT}.pickle"
    if use_cache and pickled.exists():
        try:
            with pickled.open("rb") as fh:
                index = pickle.load(fh)
            if isinstance(index, SpecIndex) and index.sha256 == digest:
                return index
        except Exception:  # a torn or stale cache file is rebuilt, never fatal
            pass
    index = build_index(parse_spec_bytes(raw, location), digest)
    if use_cache:
        write_cache_pickle(pickled, index)
    return index


def write_cache_pickle(path: Path, value: object) -> None:
    """Pickle ``value`` into the cache atomically (rename), so a reader never sees half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    except OSError:
        pass  # a read-only cache dir only costs start-up time
