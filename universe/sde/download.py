"""Downloads of the latest SDE dump from Fuzzwork (``FUZZWORK_DUMP_URL``).

This module owns every request to Fuzzwork: timeouts, retries, the file
names tried (the current ones first, then older ones), the conditional
request that skips an unchanged dump (``If-None-Match`` /
``If-Modified-Since`` answered by 304), the md5 check against the published
``<name>.md5`` where one exists, and the atomic rename into ``EVE_DATA_DIR``.
The body is streamed to a temporary file beside the target, never held in
memory. What the server said about a file (ETag, Last-Modified, md5) is kept
in ``EVE_DATA_DIR/.fuzzwork/<name>.json``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import IO

import requests
from django.conf import settings
from tqdm import tqdm

from evesite.exceptions import UpstreamError

# Single-file dumps Fuzzwork publishes, the current names first, then older ones.
DUMP_NAMES: tuple[str, ...] = (
    "latest-sqlite.db.gz",
    "sqlite-latest.sqlite.bz2",
    "latest-postgres.pgdump",
    "postgres-latest.dmp.bz2",
    "latest-mysql.sql.gz",
    "mysql-latest.tar.bz2",
)
META_DIR = ".fuzzwork"
CHUNK = 1 << 20
_MISSING = {404, 410}
_MD5_HEX_DIGITS = 32


@dataclass(frozen=True)
class DownloadResult:
    """What :func:`dump_download` did."""

    path: Path
    url: str
    downloaded: bool
    md5_verified: bool
    bytes: int


def _url(base_url: str, name: str) -> str:
    """Join the dump folder's URL and a file name."""
    return base_url.rstrip("/") + "/" + name


def _meta_path(data_dir: Path, name: str) -> Path:
    """Where the server's validators for a file are kept."""
    return data_dir / META_DIR / f"{name}.json"


def _read_meta(data_dir: Path, name: str) -> dict[str, str]:
    """Read the validators saved for a file, when the file itself is still there."""
    path = _meta_path(data_dir, name)
    if not (data_dir / name).is_file() or not path.is_file():
        return {}
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


def _write_meta(data_dir: Path, name: str, meta: dict[str, str]) -> None:
    """Save a file's validators."""
    path = _meta_path(data_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(meta, indent=1, sort_keys=True), encoding="utf-8")


def _get(session: requests.Session, url: str, headers: dict[str, str]) -> requests.Response:
    """GET a URL as a stream, retrying connection failures and server errors."""
    attempts = max(1, settings.FUZZWORK_RETRIES + 1)
    for attempt in range(1, attempts + 1):
        try:
            response = session.get(url, headers=headers, stream=True, timeout=settings.FUZZWORK_TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            if attempt == attempts:
                raise UpstreamError(f"{url}: Fuzzwork did not answer ({type(exc).__name__})") from exc
        else:
            if response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR or attempt == attempts:
                return response
            response.close()
        time.sleep(settings.FUZZWORK_RETRY_DELAY_SECONDS)
    raise AssertionError("unreachable")  # pragma: no cover


def _published_md5(session: requests.Session, url: str) -> str | None:
    """Fetch the md5 Fuzzwork publishes beside a dump (``<url>.md5``)."""
    with _get(session, url + ".md5", {}) as response:
        if response.status_code != HTTPStatus.OK:
            return None
        text = response.content.decode("ascii", errors="replace").strip()
    digest = text.split()[0].lower() if text else ""
    if len(digest) != _MD5_HEX_DIGITS or any(c not in "0123456789abcdef" for c in digest):
        raise UpstreamError(f"{url}.md5: not an md5 checksum")
    return digest


def _stream_to_temp(
    response: requests.Response, data_dir: Path, name: str, progress: IO[str] | None
) -> tuple[Path, str, int]:
    """Write a response body to a temporary file in ``data_dir``, hashing it."""
    expected = int(response.headers.get("Content-Length") or 0) or None
    digest = hashlib.md5()  # noqa: S324 - Fuzzwork publishes md5 checksums
    written = 0
    fd, tmp_name = tempfile.mkstemp(dir=data_dir, prefix=f".{name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with (
            os.fdopen(fd, "wb") as out,
            tqdm(
                total=expected,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=name,
                file=progress,
                disable=progress is None,
                leave=False,
            ) as bar,
        ):
            for chunk in response.iter_content(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                written += len(chunk)
                bar.update(len(chunk))
    except requests.RequestException as exc:
        tmp.unlink(missing_ok=True)
        raise UpstreamError(f"{response.url}: download failed ({type(exc).__name__})") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if expected is not None and written != expected:
        tmp.unlink(missing_ok=True)
        raise UpstreamError(f"{response.url}: download cut short ({written} of {expected} bytes)")
    return tmp, digest.hexdigest(), written


def dump_download(
    *,
    data_dir: Path | None = None,
    base_url: str | None = None,
    names: Sequence[str] = DUMP_NAMES,
    progress: IO[str] | None = None,
) -> DownloadResult:
    """Fetch the latest Fuzzwork dump into ``data_dir`` unless the server says it is unchanged.

    The names are tried in order; a 404 or 410 moves on to the next one.

    Args:
        data_dir: Target folder (``settings.EVE_DATA_DIR`` by default; created when missing).
        base_url: Dump folder URL (``settings.FUZZWORK_DUMP_URL`` by default).
        names: File names to try, the preferred first.
        progress: Where to draw a progress bar (e.g. a terminal), or None for none.

    Returns:
        The dump's local path and whether it was downloaded this time.

    Raises:
        UpstreamError: When no name exists, the server fails, the transfer
            breaks, or the md5 does not match (the old file is then kept).
    """
    folder = Path(data_dir or settings.EVE_DATA_DIR)
    base = base_url or settings.FUZZWORK_DUMP_URL
    folder.mkdir(parents=True, exist_ok=True)
    with requests.Session() as session:
        session.headers["User-Agent"] = settings.ESI_USER_AGENT
        for name in names:
            url = _url(base, name)
            meta = _read_meta(folder, name)
            headers: dict[str, str] = {}
            if meta.get("etag"):
                headers["If-None-Match"] = meta["etag"]
            if meta.get("last_modified"):
                headers["If-Modified-Since"] = meta["last_modified"]
            with _get(session, url, headers) as response:
                if response.status_code in _MISSING:
                    continue
                if response.status_code == HTTPStatus.NOT_MODIFIED and meta:
                    target = folder / name
                    return DownloadResult(target, url, False, bool(meta.get("md5")), target.stat().st_size)
                if response.status_code != HTTPStatus.OK:
                    raise UpstreamError(f"{url}: Fuzzwork answered HTTP {response.status_code}")
                tmp, md5, size = _stream_to_temp(response, folder, name, progress)
                validators = {
                    "etag": response.headers.get("ETag", ""),
                    "last_modified": response.headers.get("Last-Modified", ""),
                }
            try:
                published = _published_md5(session, url)
                if published is not None and published != md5:
                    raise UpstreamError(f"{url}: md5 mismatch (got {md5}, Fuzzwork publishes {published})")
                os.replace(tmp, folder / name)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
            _write_meta(folder, name, {**validators, "md5": published or "", "url": url})
            return DownloadResult(folder / name, url, True, published is not None, size)
    raise UpstreamError(f"{base}: no SDE dump found (tried {', '.join(names)})")
