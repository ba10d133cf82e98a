"""Market history (issue 18) in one process: fetched through the ESI client from a fake ESI, stored, resumable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from esi.errors import EsiError, EsiPayloadError
from esi.limits import LOCKDOWN_KEY, redis_connection
from evesite.testing.fakeserver import FakeHttpServer
from jobs.models import Job, JobState
from market.history import (
    KIND_HISTORY,
    market_history_region_enqueue,
    market_history_region_run,
    market_history_regions_enqueue,
)
from market.history_models import MarketHistory, MarketHistoryType
from market.history_selectors import market_daily_volumes_get, market_history_series
from market.tasks import market_history_region_task, market_history_regions_task
from market.tests.conftest import REGION_1, REGION_2, SyntheticUniverse
from market.tests.history_support import esi_days, serve_history, snapshot_with_types, today

pytestmark = pytest.mark.django_db

T1, T2, T3 = 990000101, 990000102, 990000103
HISTORY = f"/markets/{REGION_1}/history"


def _run(region_id: int = REGION_1) -> tuple[Job, dict | None]:
    """Queue and run a region's history job in this process."""
    job = market_history_region_enqueue(region_id=region_id)
    result = market_history_region_run(job_id=job.pk)
    job.refresh_from_db()
    return job, result


def test_a_refresh_stores_every_traded_type_and_empty_ones_as_fetched(
    synthetic_universe: SyntheticUniverse, esi_server: FakeHttpServer
) -> None:
    """Types with orders are fetched once each; a type without history is stored as fetched and empty."""
    snapshot_with_types([T1, T2, T3])
    serve_history(esi_server, REGION_1, {T1: esi_days({0: 10, 1: 20, 5: 30}), T2: [], T3: esi_days({40: 7})})
    job, result = _run()
    assert job.kind == KIND_HISTORY
    assert job.state == JobState.DONE, job.error
    assert (job.progress_done, job.progress_total, job.progress_unit) == (3, 3, "types")
    assert result is not None
    assert (result["types"], result["stored"], result["empty"]) == (3, 3, 1)
    assert sorted(int(r.query["type_id"][0]) for r in esi_server.matching("GET", HISTORY)) == [T1, T2, T3]
    series = market_history_series(region_id=REGION_1, type_id=T1)
    assert series.status == "fetched"
    assert [d.volume for d in series.days] == [30, 20, 10]  # oldest first
    assert series.days[-1].date == today()
    assert market_history_series(region_id=REGION_1, type_id=T2).status == "empty"
    assert market_history_series(region_id=REGION_1, type_id=990000199).status == "not_fetched"
    # The window ends at the region's latest day: 30 days back, T3's lone day (40 days ago) is outside.
    assert market_daily_volumes_get(region_id=REGION_1, type_ids=[T1, T2, T3, 990000199]) == {
        T1: 60 / 30,
        T2: 0.0,
        T3: 0.0,
    }
    assert MarketHistoryType.objects.get(region_id=REGION_1, type_id=T1).expires_at > timezone.now()


def test_a_second_refresh_fetches_only_expired_types(
    synthetic_universe: SyntheticUniverse, esi_server: FakeHttpServer
) -> None:
    """Fresh types are skipped without a request; an expired one is fetched again and its series replaced."""
    snapshot_with_types([T1, T2])
    serve_history(esi_server, REGION_1, {T1: esi_days({0: 10, 1: 20}), T2: esi_days({0: 5})})
    _run()
    assert esi_server.count("GET", HISTORY) == 2
    job, result = _run()
    assert job.state == JobState.DONE
    assert result is not None
    assert result["types"] == 0
    assert esi_server.count("GET", HISTORY) == 2
    MarketHistoryType.objects.filter(type_id=T2).update(expires_at=timezone.now() - timedelta(seconds=1))
    serve_history(esi_server, REGION_1, {T1: esi_days({0: 10, 1: 20}), T2: esi_days({0: 8, 2: 9})})
    _, result = _run()
    assert result is not None
    assert result["types"] == 1
    assert [int(r.query["type_id"][0]) for r in esi_server.matching("GET", HISTORY)][-1] == T2
    assert [d.volume for d in market_history_series(region_id=REGION_1, type_id=T2).days] == [9, 8]


def test_a_failed_refresh_resumes_where_it_stopped(
    synthetic_universe: SyntheticUniverse, esi_server: FakeHttpServer, settings: object
) -> None:
    """Batches of one: T1 is stored, T2 fails (lockdown, job failed); the next job fetches T2 and T3 only."""
    settings.MARKET_HISTORY_BATCH_TYPES = 1  # type: ignore[attr-defined]
    snapshot_with_types([T1, T2, T3])
    serve_history(esi_server, REGION_1, {T1: esi_days({0: 1}), T2: 500, T3: esi_days({0: 3})})
    job = market_history_region_enqueue(region_id=REGION_1)
    with pytest.raises(EsiError):
        market_history_region_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert "500" in job.error
    assert redis_connection().exists(LOCKDOWN_KEY) == 1
    assert list(MarketHistoryType.objects.values_list("type_id", flat=True)) == [T1]
    # During the retry pause the region keeps the failed job (a page can show it); then a new job resumes.
    assert market_history_region_enqueue(region_id=REGION_1).pk == job.pk
    redis_connection().delete(LOCKDOWN_KEY)
    redis_connection().delete(f"market:history:{REGION_1}")
    serve_history(esi_server, REGION_1, {T1: esi_days({0: 1}), T2: esi_days({0: 2}), T3: esi_days({0: 3})})
    resumed, result = _run()
    assert resumed.state == JobState.DONE
    assert result is not None
    assert result["types"] == 2
    asked = [int(r.query["type_id"][0]) for r in esi_server.matching("GET", HISTORY)]
    assert asked == [T1, T2, T2, T3]
    assert MarketHistory.objects.filter(region_id=REGION_1).count() == 3


def test_a_payload_that_is_not_history_fails_the_job(
    synthetic_universe: SyntheticUniverse, esi_server: FakeHttpServer
) -> None:
    """A day without its volume is refused (EsiPayloadError), nothing is stored."""
    snapshot_with_types([T1])
    broken = [{k: v for k, v in day.items() if k != "volume"} for day in esi_days({0: 1})]
    serve_history(esi_server, REGION_1, {T1: broken})
    job = market_history_region_enqueue(region_id=REGION_1)
    with pytest.raises(EsiPayloadError):
        market_history_region_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert not MarketHistoryType.objects.exists()


def test_old_days_are_not_kept_and_a_job_runs_once(
    synthetic_universe: SyntheticUniverse, esi_server: FakeHttpServer, settings: object
) -> None:
    """Days beyond MARKET_HISTORY_KEEP_DAYS are dropped; running the same job twice runs it once."""
    settings.MARKET_HISTORY_KEEP_DAYS = 40  # type: ignore[attr-defined]
    snapshot_with_types([T1])
    serve_history(esi_server, REGION_1, {T1: esi_days({0: 1, 39: 2, 41: 3, 300: 4})})
    job = market_history_region_enqueue(region_id=REGION_1)
    assert market_history_region_task(str(job.pk)) is not None
    assert market_history_region_task(str(job.pk)) is None
    assert [d.volume for d in market_history_series(region_id=REGION_1, type_id=T1).days] == [2, 1]
    state = MarketHistoryType.objects.get(type_id=T1)
    assert (state.days, state.first_date, state.last_date) == (2, today() - timedelta(days=39), today())


def test_the_beat_task_queues_regions_with_a_snapshot_once(
    synthetic_universe: SyntheticUniverse, settings: object
) -> None:
    """Only regions with a snapshot get a job; asking again gives the same job; disabled: nothing."""
    snapshot_with_types([T1])
    first = market_history_regions_task([REGION_1, REGION_2])
    assert len(first) == 1
    assert Job.objects.get(pk=first[0]).params == {"region_id": REGION_1}
    assert market_history_regions_task([REGION_1, REGION_2]) == first
    settings.MARKET_HISTORY_ENABLED = False  # type: ignore[attr-defined]
    assert market_history_regions_enqueue(region_ids=[REGION_1]) == []


def test_a_region_without_snapshot_finishes_with_nothing_to_do(
    synthetic_universe: SyntheticUniverse, esi_server: FakeHttpServer
) -> None:
    """No snapshot: the job ends done, saying why, without a request."""
    job, result = _run(REGION_2)
    assert job.state == JobState.DONE
    assert result is not None
    assert result["types"] == 0
    assert "no market snapshot" in result["reason"]
    assert esi_server.requests == []
