"""``manage.py refresh_system_kills`` and ``poll_kill_feed`` against a fake ESI and a fake R2Z2 feed, tiny graph."""

from __future__ import annotations

import copy
import io
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_redis import get_redis_connection

from evesite.testing.fakeserver import FakeHttpServer, FakeResponse
from evesite.testing.output import TtyStringIO
from routing import tasks
from routing.cache import KILLS_KEY, SYSTEM_KILLS_KEY
from routing.models import KillFeedCursor
from routing.risk import risk_list
from routing.services import FEED_POLL_LOCK_KEY, R2Z2_FEED
from routing.tests.test_risk import HOURLY_KILLS

pytestmark = pytest.mark.usefixtures("tiny_sde")

XRAY, CHARLIE, FOXTROT = 8, 3, 6


@pytest.fixture
def sample(shared_dir: Path) -> dict[str, Any]:
    """The real R2Z2 record from ``../shared/samples/killmails``."""
    return json.loads((shared_dir / "samples/killmails/r2z2_134265477.json").read_text())


def _feed(server: FakeHttpServer, sample: dict[str, Any], *, first: int, count: int, system: int) -> None:
    """Script a feed whose latest sequence is ``first`` with ``count`` fresh kills in one system from there."""
    server.add("GET", "/ephemeral/sequence.json", FakeResponse(json={"sequence": first}))
    when = datetime.fromtimestamp(time.time() - 60, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for sequence in range(first, first + count):
        record = copy.deepcopy(sample)
        record["killmail_id"] = record["esi"]["killmail_id"] = 700000 + sequence
        record["sequence_id"] = sequence
        record["esi"]["solar_system_id"] = system
        record["esi"]["killmail_time"] = when
        server.add("GET", f"/ephemeral/{sequence}.json", FakeResponse(json=record))


def _run(name: str, *args: str, stdout: io.StringIO | None = None) -> str:
    """Run a command and return what it wrote to stdout."""
    out = stdout if stdout is not None else io.StringIO()
    call_command(name, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _lock_held() -> bool:
    """Tell whether the feed lock is in Redis."""
    return bool(get_redis_connection("default").exists(FEED_POLL_LOCK_KEY))


# ----------------------------------------------------------------------------- refresh_system_kills
def test_refresh_system_kills_writes_the_risk_and_counts_the_systems(zkill_server: FakeHttpServer) -> None:
    """ESI's hourly counts are kept and turned into risk; the summary gives the number of systems listed."""
    zkill_server.add(
        "GET",
        "/universe/system_kills",
        FakeResponse(json=HOURLY_KILLS),
    )
    tty = TtyStringIO()
    out = _run("refresh_system_kills", stdout=tty)
    assert "ESI listed kills of the last hour for 3 systems" in out
    assert "2/2" in out  # the bar: fetched, then risk written
    assert zkill_server.count("GET", "/universe/system_kills") == 1
    assert get_redis_connection("default").exists(SYSTEM_KILLS_KEY)
    assert {r.system_id: r.level for r in risk_list()} == {CHARLIE: "high", FOXTROT: "elevated"}
    assert _run("refresh_system_kills", "--quiet") == ""


def test_refresh_system_kills_esi_failure_is_one_line(zkill_server: FakeHttpServer) -> None:
    """A 503 from ESI ends the command non-zero with one line; nothing is kept."""
    zkill_server.add("GET", "/universe/system_kills", FakeResponse(status=503, json={"error": "down"}))
    with pytest.raises(CommandError) as caught:
        _run("refresh_system_kills")
    assert "503" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert caught.value.returncode != 0
    assert not get_redis_connection("default").exists(SYSTEM_KILLS_KEY)
    assert risk_list() == []


# ----------------------------------------------------------------------------- poll_kill_feed
def test_poll_kill_feed_reads_up_to_max_records_and_summarises(
    zkill_server: FakeHttpServer, sample: dict[str, Any]
) -> None:
    """--max-records bounds the run; the cursor, the kills and the summary agree; the lock is given back."""
    _feed(zkill_server, sample, first=50, count=3, system=XRAY)
    tty = TtyStringIO()
    out = _run("poll_kill_feed", "--max-records", "2", stdout=tty)
    assert "2/2" in out
    assert (
        "Read 2 records of the R2Z2 feed from sequence 50; 2 new recent kills kept; stopped at the record limit "
        "(the rest waits for the next run); the next run starts at sequence 52." in out
    )
    assert KillFeedCursor.objects.get(name=R2Z2_FEED).next_sequence == 52
    assert get_redis_connection("default").zcard(KILLS_KEY) == 2
    assert not _lock_held()

    out = _run("poll_kill_feed")
    assert (
        "Read 1 records of the R2Z2 feed from sequence 52; 1 new recent kills kept; reached the end of the feed; "
        "the next run starts at sequence 53." in out
    )
    assert zkill_server.count("GET", "/ephemeral/50.json") == 1
    assert not _lock_held()


def test_poll_kill_feed_fails_while_another_poll_holds_the_lock(
    zkill_server: FakeHttpServer, sample: dict[str, Any]
) -> None:
    """With the consumer lock held (as by the Celery task) the command exits non-zero at once, asking nothing."""
    _feed(zkill_server, sample, first=50, count=1, system=XRAY)
    lock = get_redis_connection("default").lock(FEED_POLL_LOCK_KEY, timeout=60)
    assert lock.acquire(blocking=False)
    try:
        with pytest.raises(CommandError) as caught:
            _run("poll_kill_feed")
        assert str(caught.value) == "another feed poll is running"
        assert caught.value.returncode != 0
        assert tasks.zkill_feed_poll.apply().get() == 0  # the task sees the same lock
    finally:
        lock.release()
    assert zkill_server.count() == 0
    assert not KillFeedCursor.objects.exists()

    assert "Read 1 records" in _run("poll_kill_feed")  # free again: it runs


def test_poll_kill_feed_upstream_failure_is_one_line_and_releases_the_lock(zkill_server: FakeHttpServer) -> None:
    """A zKillboard failing after its retries ends the command with one line; the cursor is not created."""
    zkill_server.add("GET", "/ephemeral/sequence.json", FakeResponse(status=502))
    with pytest.raises(CommandError) as caught:
        _run("poll_kill_feed")
    assert "kept failing" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not KillFeedCursor.objects.exists()
    assert not _lock_held()


def test_feed_task_logs_one_line_when_the_feed_fails(
    zkill_server: FakeHttpServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The beat's feed task meets a failing zKillboard: one warning line, 0 records, the lock released."""
    zkill_server.add("GET", "/ephemeral/sequence.json", FakeResponse(status=503))
    assert tasks.zkill_feed_poll.apply().get() == 0
    warnings = [r for r in caplog.records if r.name == "routing" and r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "kill feed poll failed" in warnings[0].getMessage()
    assert warnings[0].exc_info is None
    assert not _lock_held()
    assert zkill_server.count("GET", "/ephemeral/sequence.json") == 3  # the first try and 2 retries


def test_poll_kill_feed_rejects_a_bad_max_records(zkill_server: FakeHttpServer) -> None:
    """--max-records must be 1 or more."""
    with pytest.raises(CommandError, match="--max-records"):
        _run("poll_kill_feed", "--max-records", "0")
    assert zkill_server.count() == 0


def test_poll_kill_feed_redis_down_is_one_line(zkill_server: FakeHttpServer, settings: Any) -> None:
    """With Redis unreachable (nothing listens on its port) the command fails with one line, asking nothing."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient", "SOCKET_CONNECT_TIMEOUT": 1},
        }
    }
    with pytest.raises(CommandError) as caught:
        _run("poll_kill_feed")
    assert str(caught.value).startswith("ConnectionError: ")
    assert "\n" not in str(caught.value)
    assert zkill_server.count() == 0
