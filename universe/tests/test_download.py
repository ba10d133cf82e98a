"""``--download``: fetching the latest dump from a fake Fuzzwork server over real HTTP."""

from __future__ import annotations

import bz2
import hashlib
import io
import json
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings as SettingsWrapper

from evesite.exceptions import UpstreamError
from evesite.testing.defaults import settings_defaults
from evesite.testing.fakeserver import FakeHttpServer, FakeResponse, RecordedRequest
from universe.sde.download import DUMP_NAMES, META_DIR, dump_download
from universe.selectors import sde_counts

BODY = bytes(range(256)) * 4096  # 1 MiB: more than one chunk
ETAG = '"abc123"'
LAST_MODIFIED = "Tue, 20 Jan 2026 11:00:00 GMT"


def _md5(data: bytes) -> str:
    """Hex md5 of some bytes.

    Args:
        data: The bytes.

    Returns:
        The digest.
    """
    return hashlib.md5(data).hexdigest()  # noqa: S324 - what Fuzzwork publishes


@pytest.fixture
def fuzzwork(fake_server: FakeHttpServer, settings: SettingsWrapper, tmp_path: Path) -> FakeHttpServer:
    """A fake Fuzzwork dump folder; settings point at it and at a fresh data folder."""
    settings.FUZZWORK_DUMP_URL = fake_server.url + "/dump/"
    settings.FUZZWORK_RETRY_DELAY_SECONDS = 0.0
    settings.FUZZWORK_TIMEOUT_SECONDS = 5.0
    settings.EVE_DATA_DIR = tmp_path / "eve_data"
    return fake_server


def _serve_dump(server: FakeHttpServer, name: str, body: bytes = BODY, md5: str | None = None) -> None:
    """Serve a dump (answering 304 to a matching If-None-Match) and, when given, its md5 file.

    Args:
        server: The fake server.
        name: The dump's file name.
        body: Its bytes.
        md5: The published checksum text, or None for no md5 file.
    """

    def answer(request: RecordedRequest) -> FakeResponse:
        """Answer like a static file server with validators.

        Args:
            request: The request.

        Returns:
            304 when the client's ETag matches, else the file.
        """
        if request.headers.get("If-None-Match") == ETAG:
            return FakeResponse(status=304, headers={"ETag": ETAG})
        return FakeResponse(body=body, headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED})

    server.add("GET", f"/dump/{name}", answer)
    if md5 is not None:
        server.add("GET", f"/dump/{name}.md5", FakeResponse(body=f"{md5}  {name}\n"))


def _leftovers(folder: Path) -> list[str]:
    """List temporary download files left in a folder.

    Args:
        folder: The data folder.

    Returns:
        Names of ``.part`` files.
    """
    return [p.name for p in folder.iterdir() if p.name.endswith(".part")]


def test_falls_back_to_older_names_verifies_md5_and_keeps_validators(fuzzwork: FakeHttpServer) -> None:
    """The current names 404, an older one exists: it is streamed, md5-checked and renamed into place."""
    older = "sqlite-latest.sqlite.bz2"
    assert DUMP_NAMES.index(older) > 0
    _serve_dump(fuzzwork, older, md5=_md5(BODY))
    progress = io.StringIO()

    result = dump_download(progress=progress)

    data_dir = Path(django_settings.EVE_DATA_DIR)
    assert result.downloaded
    assert result.md5_verified
    assert result.path == data_dir / older
    assert result.path.read_bytes() == BODY
    assert result.bytes == len(BODY)
    assert fuzzwork.count("GET", f"/dump/{DUMP_NAMES[0]}") == 1  # the current name was tried first
    assert fuzzwork.count("GET", f"/dump/{older}") == 1
    assert _leftovers(data_dir) == []
    meta = json.loads((data_dir / META_DIR / f"{older}.json").read_text())
    assert meta["etag"] == ETAG
    assert meta["last_modified"] == LAST_MODIFIED
    assert meta["md5"] == _md5(BODY)
    assert older in progress.getvalue()  # the progress bar was drawn


def test_unchanged_dump_is_not_downloaded_again(fuzzwork: FakeHttpServer) -> None:
    """The second run sends If-None-Match/If-Modified-Since, gets 304 and keeps the file as is."""
    name = DUMP_NAMES[0]
    _serve_dump(fuzzwork, name, md5=_md5(BODY))
    first = dump_download()
    mtime = first.path.stat().st_mtime_ns

    second = dump_download()

    assert not second.downloaded
    assert second.path == first.path
    assert first.path.stat().st_mtime_ns == mtime
    conditional = fuzzwork.matching("GET", f"/dump/{name}")[-1]
    assert conditional.headers["If-None-Match"] == ETAG
    assert conditional.headers["If-Modified-Since"] == LAST_MODIFIED
    assert fuzzwork.count("GET", f"/dump/{name}.md5") == 1  # no second md5 fetch either


def test_md5_mismatch_keeps_the_old_file(fuzzwork: FakeHttpServer) -> None:
    """A body that does not match the published md5 is discarded; the previous dump stays."""
    name = DUMP_NAMES[0]
    data_dir = Path(django_settings.EVE_DATA_DIR)
    data_dir.mkdir(parents=True)
    (data_dir / name).write_bytes(b"previous dump")
    _serve_dump(fuzzwork, name, md5=_md5(b"something else"))

    with pytest.raises(UpstreamError, match="md5 mismatch"):
        dump_download()

    assert (data_dir / name).read_bytes() == b"previous dump"
    assert _leftovers(data_dir) == []


def test_no_published_md5_still_downloads(fuzzwork: FakeHttpServer) -> None:
    """Without a ``.md5`` file the dump is kept, marked as unverified."""
    name = DUMP_NAMES[0]
    _serve_dump(fuzzwork, name, md5=None)

    result = dump_download()

    assert result.downloaded
    assert not result.md5_verified
    assert result.path.read_bytes() == BODY


def test_server_errors_are_retried(fuzzwork: FakeHttpServer) -> None:
    """A 503 is retried (FUZZWORK_RETRIES) before the dump arrives."""
    name = DUMP_NAMES[0]
    fuzzwork.add("GET", f"/dump/{name}", FakeResponse(status=503), FakeResponse(body=BODY))

    result = dump_download()

    assert result.downloaded
    assert fuzzwork.count("GET", f"/dump/{name}") == 2


def test_no_dump_anywhere_is_an_upstream_error(fuzzwork: FakeHttpServer) -> None:
    """When every name is missing, the error names the folder and the names tried."""
    with pytest.raises(UpstreamError) as excinfo:
        dump_download()
    assert "no SDE dump found" in str(excinfo.value)
    assert DUMP_NAMES[-1] in str(excinfo.value)
    assert fuzzwork.count("GET") == len(DUMP_NAMES)


def test_broken_transfer_leaves_nothing_behind(fuzzwork: FakeHttpServer) -> None:
    """A connection that drops without an answer is an upstream error after the retries; no file appears."""
    name = DUMP_NAMES[0]
    fuzzwork.add("GET", f"/dump/{name}", FakeResponse(drop=True))
    data_dir = Path(django_settings.EVE_DATA_DIR)

    with pytest.raises(UpstreamError, match="did not answer"):
        dump_download()

    assert fuzzwork.count("GET", f"/dump/{name}") == django_settings.FUZZWORK_RETRIES + 1
    assert not (data_dir / name).exists()
    assert _leftovers(data_dir) == []


def test_fuzzwork_defaults_are_pinned() -> None:
    """With a clean environment the documented Fuzzwork defaults apply."""
    assert settings_defaults(
        "FUZZWORK_DUMP_URL", "FUZZWORK_TIMEOUT_SECONDS", "FUZZWORK_RETRIES", "FUZZWORK_RETRY_DELAY_SECONDS"
    ) == ["https://www.fuzzwork.co.uk/dump/", 60.0, 2, 5.0]


@pytest.mark.django_db
def test_command_download_of_a_damaged_dump_changes_nothing(fuzzwork: FakeHttpServer, sde_universe: Path) -> None:
    """``ingest_data --download`` fetches the dump, finds it truncated, exits with one line; the SDE is untouched."""
    name = DUMP_NAMES[0]
    damaged = bz2.compress(b"SQLite format 3\x00" + bytes(range(256)) * 2000)[:-40]
    _serve_dump(fuzzwork, name, body=damaged, md5=_md5(damaged))
    before = sde_counts()

    with pytest.raises(CommandError) as excinfo:
        call_command("ingest_data", "--download", "--quiet")

    message = str(excinfo.value)
    saved = Path(django_settings.EVE_DATA_DIR) / name
    assert "\n" not in message
    assert str(saved) in message
    assert "truncated or corrupt" in message
    assert saved.read_bytes() == damaged
    assert sde_counts() == before
