"""The market pipeline in one process: validation before ESI, failed jobs, staff refreshes, the command, no web sleep.

The end-to-end run with a real Celery worker is in ``test_pipeline_worker.py``.
"""

from __future__ import annotations

import io
import threading
import time
import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from esi import walks
from esi.limits import LOCKDOWN_KEY, redis_connection
from evesite.testing.defaults import settings_defaults
from evesite.testing.fakeserver import FakeHttpServer, FakeResponse
from jobs.models import Job
from market.models import MarketSnapshot
from market.refresh import market_region_refresh_enqueue, market_regions_refresh_run, market_regions_refresh_start
from market.services import market_snapshot_store
from market.tasks import market_refresh_region_task, market_snapshot_regions_task
from market.tests.conftest import REGION_1, REGION_2, STATION_A, SyntheticUniverse, pilot_login, synthetic_universe_load
from market.tests.test_api import ORDERS_PATH, _book, _serve_pages

pytestmark = [pytest.mark.django_db, pytest.mark.waits]  # mostly waits (conftest)


def _serve_failing_page(server: FakeHttpServer, path: str, pages: int, failing: int) -> None:
    """Serve a walk whose page ``failing`` answers 500.

    Args:
        server: The fake ESI.
        path: The orders route.
        pages: X-Pages.
        failing: The page that fails.
    """
    orders = _book(REGION_1, pages * 5, seed=21)

    def answer(request: Any) -> FakeResponse:
        """Answer one page, or the failure."""
        page = int(request.query.get("page", ["1"])[0])
        if page == failing:
            return FakeResponse(status=500, json={"error": "Internal Server Error"})
        return FakeResponse(json=orders[(page - 1) * 5 : page * 5], headers={"X-Pages": str(pages)})

    server.add("GET", path, answer, repeat_last=True)


@pytest.mark.parametrize(
    "url",
    [
        "/api/market/regions/19900009/scan/",  # not in the SDE
        "/api/market/regions/0/scan/",
        f"/api/market/regions/{2**40}/scan/",  # beyond 32 bits
        "/api/market/stations/69999999/scan/",
    ],
)
def test_unknown_ids_never_reach_esi(
    synthetic_universe: SyntheticUniverse, esi_server: FakeHttpServer, url: str
) -> None:
    """Unknown regions and stations answer 404 naming the id; ESI saw nothing; no lockdown; no job."""
    response = APIClient().get(url)
    assert response.status_code == 404, response.content
    assert response.json()["error"] == "not_found"
    assert url.split("/")[-3] in response.json()["detail"]
    assert esi_server.count() == 0
    assert redis_connection().exists(LOCKDOWN_KEY) == 0
    assert not Job.objects.exists()


def test_station_ids_longer_than_the_schema_allows_never_reach_esi(
    synthetic_universe: SyntheticUniverse, esi_server: FakeHttpServer
) -> None:
    """A station id beyond 64 bits is 400; one in the structure range needs a login (401); nothing asked, no job."""
    for station, status in ((2**63, 400), (10**19, 400), (10**18, 401), (69999999, 404)):
        response = APIClient().get(f"/api/market/stations/{station}/scan/")
        assert response.status_code == status, response.content
    assert esi_server.count() == 0
    assert not Job.objects.exists()


def test_esi_failure_on_page_7_fails_the_job_and_locks_down(
    synthetic_universe: SyntheticUniverse, esi_server: FakeHttpServer, settings: Any
) -> None:
    """The worker's walk stops at page 7: the job is failed naming the error, the lockdown is set, the worker slept.

    Scans during the retry pause point at the failed job instead of queueing another.
    """
    settings.ESI_ERROR_SLEEP_SECONDS = 0.4
    _serve_failing_page(esi_server, ORDERS_PATH, pages=10, failing=7)
    pending = APIClient().get(f"/api/market/regions/{REGION_1}/scan/")
    assert pending.status_code == 202
    job_id = pending.json()["job"]["id"]
    started = time.monotonic()
    assert market_refresh_region_task(job_id) is None
    assert time.monotonic() - started >= 0.4  # the worker sleeps after an ESI error
    job = APIClient().get(f"/api/jobs/{job_id}/").json()
    assert job["state"] == "failed"
    assert "EsiHttpError" in job["error"]
    assert "500" in job["error"]
    assert "page=7" in job["error"]
    assert job["progress"] == {"done": 6, "total": 10, "unit": "pages"}
    assert redis_connection().exists(LOCKDOWN_KEY) == 1
    requests_made = esi_server.count()
    assert requests_made == 7
    again = APIClient().get(f"/api/market/regions/{REGION_1}/scan/")
    assert again.status_code == 202
    assert again.json()["job"]["id"] == job_id
    assert int(again["Retry-After"]) == settings.MARKET_REFRESH_RETRY_SECONDS
    assert Job.objects.count() == 1
    assert not MarketSnapshot.objects.filter(region_id=REGION_1).exists()
    assert esi_server.count() == requests_made


def test_web_requests_never_sleep_on_esi_errors(
    synthetic_universe: SyntheticUniverse, esi_server: FakeHttpServer, settings: Any
) -> None:
    """An ESI error met while serving a request locks ESI out and answers at once; then 429 with Retry-After."""
    settings.ESI_ERROR_SLEEP_SECONDS = 5.0
    user = pilot_login(settings=settings, username="docked", character_id=2112000002, access_token="access-token")
    esi_server.add("GET", "/characters/2112000002/location", FakeResponse(status=503, json={"error": "down"}))
    client = APIClient()
    client.force_login(user)
    started = time.monotonic()
    failed = client.get("/api/market/stations/current/scan/")
    assert time.monotonic() - started < 1.0
    assert failed.status_code == 502
    assert redis_connection().exists(LOCKDOWN_KEY) == 1
    locked = client.get("/api/market/stations/current/scan/")
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) >= 1
    assert locked.json()["error"] == "esi_lockdown"
    assert esi_server.count() == 1


def test_refresh_is_for_staff(synthetic_universe: SyntheticUniverse, esi_server: FakeHttpServer) -> None:
    """refresh=true answers 403 to others; staff get the rows and a queued job even when the snapshot is fresh."""
    market_snapshot_store(region_id=REGION_1, orders=_book(REGION_1, 60, seed=22))
    url = f"/api/market/regions/{REGION_1}/scan/"
    assert APIClient().get(url, {"refresh": "true"}).status_code == 403
    client = APIClient()
    client.force_login(get_user_model().objects.create_user(username="boss", is_staff=True))
    response = client.get(url, {"refresh": "true"})
    assert response.status_code == 200
    assert response.json()["snapshot"]["stale"] is False
    assert response.json()["snapshot"]["job"]["state"] == "queued"
    assert response.json()["count"] > 0
    assert esi_server.count() == 0


def test_jobs_api_unknown_ids() -> None:
    """Unknown job ids answer 404; what is not a UUID is no job either."""
    assert APIClient().get(f"/api/jobs/{uuid.uuid4()}/").status_code == 404
    assert APIClient().get("/api/jobs/not-a-uuid/").status_code == 404


def test_multi_region_job_counts_regions_and_skips_held_ones(
    synthetic_universe: SyntheticUniverse, esi_server: FakeHttpServer
) -> None:
    """The beat's job walks each region once, skips a region another job holds and an unknown one."""
    _serve_pages(esi_server, ORDERS_PATH, _book(REGION_1, 30, seed=23))
    _serve_pages(esi_server, f"/markets/{REGION_2}/orders", _book(REGION_2, 10, seed=24), pages=1)
    held = market_region_refresh_enqueue(region_id=REGION_2)
    job = market_regions_refresh_start(region_ids=[REGION_1, REGION_2, 19900009])
    stored = market_regions_refresh_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == "done"
    assert (job.progress_done, job.progress_total, job.progress_unit) == (3, 3, "regions")
    assert len(stored) == 1
    assert MarketSnapshot.objects.get(region_id=REGION_1).pk == stored[0]
    skipped = (job.result or {})["skipped"]
    assert skipped[str(REGION_2)] == f"held by job {held.pk}"
    assert "19900009" in skipped
    assert esi_server.count("GET", f"/markets/{REGION_2}/orders") == 0
    # Run twice (a redelivered task): nothing happens the second time.
    assert market_regions_refresh_run(job_id=job.pk) == []
    assert esi_server.count("GET", ORDERS_PATH) == 2


def test_snapshot_task_records_a_job(synthetic_universe: SyntheticUniverse, esi_server: FakeHttpServer) -> None:
    """The beat task is one job whose progress counts regions."""
    _serve_pages(esi_server, ORDERS_PATH, _book(REGION_1, 20, seed=25), pages=1)
    assert len(market_snapshot_regions_task([REGION_1])) == 1
    job = Job.objects.get(kind="market.snapshot_regions")
    assert (job.state, job.progress_done, job.progress_total) == ("done", 1, 1)


def test_refresh_market_command(synthetic_universe: SyntheticUniverse, esi_server: FakeHttpServer) -> None:
    """The command walks the regions in the foreground and reports; bad regions and ESI errors exit non-zero."""
    _serve_pages(esi_server, ORDERS_PATH, _book(REGION_1, 40, seed=26), pages=3)
    out = io.StringIO()
    call_command("refresh_market", "--region", str(REGION_1), stdout=out)
    snapshot = MarketSnapshot.objects.get(region_id=REGION_1)
    assert f"region {REGION_1}: snapshot {snapshot.pk}, 40 orders" in out.getvalue()
    assert "Stored 1 snapshot(s) of 1 region(s)" in out.getvalue()
    assert esi_server.count() == 3
    with pytest.raises(CommandError, match="19900009"):
        call_command("refresh_market", "--region", str(REGION_1), "--region", "19900009")
    assert esi_server.count() == 3
    esi_server.reset()
    _serve_failing_page(esi_server, f"/markets/{REGION_2}/orders", pages=3, failing=2)
    with pytest.raises(CommandError) as failure:
        call_command("refresh_market", "--region", str(REGION_2))
    assert "\n" not in str(failure.value)
    assert "failed" in str(failure.value)
    assert "500" in str(failure.value)


def test_station_scan_reads_only_sde_stations(synthetic_universe: SyntheticUniverse) -> None:
    """A stored snapshot answers a station scan with its age."""
    market_snapshot_store(region_id=REGION_1, orders=_book(REGION_1, 80, seed=27))
    body = APIClient().get(f"/api/market/stations/{STATION_A}/scan/").json()
    assert body["snapshot"]["stale"] is False
    assert body["snapshot"]["as_of"] == body["snapshots"][0]["fetched_at"]


def test_pipeline_defaults_are_pinned() -> None:
    """The documented defaults of the pipeline settings."""
    assert settings_defaults(
        "ESI_WALK_LOCK_SECONDS",
        "ESI_WALK_WAIT_SECONDS",
        "JOBS_STALE_SECONDS",
        "JOBS_KEEP_DAYS",
        "MARKET_REFRESH_LOCK_SECONDS",
        "MARKET_REFRESH_RETRY_SECONDS",
    ) == [120.0, 3600.0, 300.0, 7.0, 3600, 60]


@pytest.mark.django_db(transaction=True)
def test_a_job_waiting_for_the_walk_slot_stays_alive(
    esi_server: FakeHttpServer, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refresh job queued behind another walk keeps its region (scans get the same job), then walks."""
    synthetic_universe_load()
    settings.JOBS_STALE_SECONDS = 0.5
    monkeypatch.setattr(walks, "WAIT_REPORT_SECONDS", 0.1)
    _serve_pages(esi_server, ORDERS_PATH, _book(REGION_1, 20, seed=28), pages=1)
    held = redis_connection().lock(walks.WALK_LOCK_KEY, timeout=30)
    assert held.acquire(blocking=False)
    job = market_region_refresh_enqueue(region_id=REGION_1)
    runner = threading.Thread(target=market_refresh_region_task, args=(str(job.pk),))
    runner.start()
    try:
        time.sleep(1.5)  # three times JOBS_STALE_SECONDS
        assert Job.objects.get(pk=job.pk).state == "running"
        assert market_region_refresh_enqueue(region_id=REGION_1).pk == job.pk
        assert esi_server.count() == 0
    finally:
        held.release()
        runner.join(30)
    assert Job.objects.get(pk=job.pk).state == "done"
    assert esi_server.count() == 1
