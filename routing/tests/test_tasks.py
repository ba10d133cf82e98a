"""Celery tasks and beat entries of routing (tasks run eagerly, in-process, against the real stores)."""

from __future__ import annotations

import time

import pytest
from django_redis import get_redis_connection

from evesite.celery import app
from evesite.testing.fakeserver import FakeHttpServer, FakeResponse
from routing import tasks
from routing.cache import KILLS_KEY
from routing.risk import KillEntry
from routing.schedule import BEAT_SCHEDULE

pytestmark = pytest.mark.usefixtures("tiny_graph")


def test_every_beat_entry_names_a_registered_task() -> None:
    """The beat schedule only names tasks that exist, with positive periods."""
    app.loader.import_default_modules()
    for entry in BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks
        assert float(entry["schedule"]) > 0  # type: ignore[arg-type]


def test_risk_sync_task_counts_flagged_systems() -> None:
    """The sync task writes the risk and returns the number of flagged systems (twice: idempotent)."""
    now = time.time()
    entries = {KillEntry(1000 + n, 3, now - 30, False, None).member(): now - 30 for n in range(5)}
    get_redis_connection("default").zadd(KILLS_KEY, entries)
    assert tasks.risk_graph_sync.apply().get() == 1
    assert tasks.risk_graph_sync.apply().get() == 1


@pytest.mark.django_db
def test_feed_task_runs_once_at_a_time(zkill_server: FakeHttpServer) -> None:
    """While another run holds the consumer lock the task returns at once without a request."""
    lock = get_redis_connection("default").lock("routing:zkill_feed_poll", timeout=60)
    assert lock.acquire(blocking=False)
    try:
        assert tasks.zkill_feed_poll.apply().get() == 0
    finally:
        lock.release()
    assert zkill_server.count() == 0
    zkill_server.add("GET", "/ephemeral/sequence.json", FakeResponse(json={"sequence": 5}))
    assert tasks.zkill_feed_poll.apply().get() == 0  # the feed has nothing after 5 yet (404)
    assert zkill_server.count("GET", "/ephemeral/5.json") == 1


def test_weights_task_writes_every_gate() -> None:
    """The weights task writes all 28 directed gates of the tiny graph."""
    assert tasks.route_weights_refresh.apply().get() == 28
