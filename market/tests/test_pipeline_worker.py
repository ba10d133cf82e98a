"""The pipeline end to end: gunicorn and a real Celery worker process on the real Redis broker, a fake ESI.

Requests never wait for ESI: the first scan answers 202 at once, the job's page progress can be
watched while the worker walks, other requests stay fast, and the next scan answers 200.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from email.utils import formatdate
from typing import Any

import pytest
import requests
from django.utils import timezone

from esi.limits import LOCKDOWN_KEY, redis_connection
from evesite.testing.fakeserver import FakeHttpServer, FakeResponse
from evesite.testing.worker import celery_worker, gunicorn_server
from market.models import MarketSnapshot
from market.services import market_snapshot_store
from market.tests.conftest import REGION_1, REGION_2, synthetic_universe_load
from market.tests.test_api import _book

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = 40
# Every request while the walk runs answers within this (seconds). The walk itself takes at least
# PAGES x 0.05 s = 2 s, so a request that waited on it could not; the margin is for a loaded machine
# (speed itself is measured by the benchmarks, not here).
FAST = 1.0
# The worker's sleep after a failing page (seconds): a request that waited on the walk would answer after it.
ERROR_SLEEP = 3


def _serve_book(server: FakeHttpServer, region_id: int, pages: int, *, failing: int | None = None) -> None:
    """Serve a region's orders over ``pages`` pages (page ``failing`` answers 500).

    Args:
        server: The fake ESI.
        region_id: The region.
        pages: X-Pages.
        failing: A page that fails, if any.
    """
    orders = _book(region_id, pages * 10, seed=31)
    headers = {
        "X-Pages": str(pages),
        "Last-Modified": "Sat, 28 Nov 2026 22:55:00 GMT",
        "Expires": formatdate(time.time() + 300, usegmt=True),
    }

    def answer(request: Any) -> FakeResponse:
        """Answer one page."""
        page = int(request.query.get("page", ["1"])[0])
        if page == failing:
            return FakeResponse(status=500, json={"error": "boom"})
        return FakeResponse(json=orders[(page - 1) * 10 : page * 10], headers=headers)

    server.add("GET", f"/markets/{region_id}/orders", answer, repeat_last=True)


def _timed_get(session: requests.Session, url: str, **params: Any) -> tuple[requests.Response, float]:
    """GET and time it.

    Args:
        session: The HTTP session.
        url: The URL.
        **params: Query parameters.

    Returns:
        The response and its duration in seconds.
    """
    started = time.monotonic()
    response = session.get(url, params=params, timeout=10)
    return response, time.monotonic() - started


def _answered_get(session: requests.Session, url: str) -> tuple[requests.Response, float]:
    """GET; return the answer and when it arrived (``time.monotonic``, the fake server's clock)."""
    response = session.get(url, timeout=10)
    return response, time.monotonic()


def _watch(session: requests.Session, base: str, job_id: str, probes: list[str], timeout: float = 60) -> dict:
    """Poll a job until it ends, timing other requests meanwhile.

    Args:
        session: The HTTP session.
        base: The live server's URL.
        job_id: The job.
        probes: Other paths requested on each round (each must answer within ``FAST``).
        timeout: Longest wait.

    Returns:
        ``{"job": last answer, "progress": [(done, total) seen while running], "slowest": (seconds, path)}``.
    """
    seen: list[tuple[int, int | None]] = []
    slowest = (0.0, "")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer, took = _timed_get(session, f"{base}/api/jobs/{job_id}/")
        slowest = max(slowest, (took, "job"))
        job = answer.json()
        if job["state"] == "running":
            seen.append((job["progress"]["done"], job["progress"]["total"]))
        if job["state"] in ("done", "failed"):
            return {"job": job, "progress": seen, "slowest": slowest}
        for path in probes:
            probe, took = _timed_get(session, base + path)
            assert probe.status_code < 500, probe.content
            slowest = max(slowest, (took, path))
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} did not end within {timeout} s")


@pytest.fixture
def universe() -> None:
    """The synthetic universe, committed (the worker reads it from its own connection)."""
    synthetic_universe_load()


@pytest.fixture(scope="module")
def web(django_db_setup: None) -> Iterator[str]:
    """Gunicorn (2 workers) on the test database, shared by the module's tests; its ESI answers nothing.

    Web requests never call ESI here (the workers do, each with its test's fake ESI): a request
    that did would fail its test.

    Args:
        django_db_setup: The test database (its name is what gunicorn connects to).

    Yields:
        Its base URL.
    """
    with FakeHttpServer() as no_esi, gunicorn_server(ESI_BASE_URL=no_esi.url) as base:
        # Each worker process connects and loads its code (and the schema) on its first requests: two at a
        # time, so that both workers warm up before anything is timed.
        paths = ["/api/schema/", "/api/market/global/scan/", "/api/market/regions/19900009/scan/", "/api/jobs/0/"]
        with ThreadPoolExecutor(2) as pool:
            for _ in range(3):
                for path in paths:
                    list(pool.map(lambda url: requests.get(url, timeout=30), [base + path] * 2))
        yield base


def test_first_scan_queues_and_the_worker_walks(universe: None, fake_server: FakeHttpServer, web: str) -> None:
    """202 at once, page progress while the worker walks 40 pages, fast answers meanwhile, then 200 with rows."""
    _serve_book(fake_server, REGION_1, PAGES)
    market_snapshot_store(region_id=REGION_2, orders=_book(REGION_2, 50, seed=32))
    session = requests.Session()
    base = web
    with celery_worker(ESI_BASE_URL=fake_server.url, ESI_PAGE_DELAY_SECONDS=0.05):
        first, answered_at = _answered_get(session, f"{base}/api/market/regions/{REGION_1}/scan/")
        assert first.status_code == 202, first.content
        job_id = first.json()["job"]["id"]
        assert first.headers["Location"] == f"/api/jobs/{job_id}/"
        watched = _watch(
            session,
            base,
            job_id,
            probes=["/api/market/global/scan/", f"/api/market/regions/{REGION_2}/scan/", "/api/schema/"],
        )
    assert watched["job"]["state"] == "done", watched["job"]
    assert watched["job"]["progress"] == {"done": PAGES, "total": PAGES, "unit": "pages"}
    partial = [done for done, total in watched["progress"] if total == PAGES and 0 < done < PAGES]
    assert partial, f"no page progress was seen while running: {watched['progress']}"
    assert watched["slowest"][0] < FAST, watched["slowest"]
    pages = fake_server.matching("GET", f"/markets/{REGION_1}/orders")
    assert len(pages) == PAGES
    # The 202 came while the walk (at least 2 s) was still running: the request did not wait for it.
    assert answered_at < pages[-1].received_at
    final = session.get(f"{base}/api/market/regions/{REGION_1}/scan/", timeout=10)
    assert final.status_code == 200
    assert final.json()["snapshot"]["stale"] is False
    assert final.json()["count"] > 0
    assert MarketSnapshot.objects.get(region_id=REGION_1).order_count == PAGES * 10


def test_concurrent_scans_share_one_job_and_one_walk(universe: None, fake_server: FakeHttpServer, web: str) -> None:
    """Six scans of one stale region at once: all answer from the stale snapshot with one job; one walk."""
    _serve_book(fake_server, REGION_1, 8)
    stale = market_snapshot_store(region_id=REGION_1, orders=_book(REGION_1, 30, seed=33))
    MarketSnapshot.objects.filter(pk=stale.pk).update(fetched_at=timezone.now() - timedelta(minutes=31))
    url = f"{web}/api/market/regions/{REGION_1}/scan/"
    barrier = threading.Barrier(6)

    def scan(_: int) -> requests.Response:
        """One scan, started with the others."""
        barrier.wait()
        return requests.get(url, timeout=10)

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(scan, range(6)))
    assert {a.status_code for a in answers} == {200}
    assert all(a.json()["snapshot"]["stale"] for a in answers)
    job_ids = {a.json()["snapshot"]["job"]["id"] for a in answers}
    assert len(job_ids) == 1
    with celery_worker(ESI_BASE_URL=fake_server.url):
        watched = _watch(requests.Session(), web, job_ids.pop(), probes=[])
    assert watched["job"]["state"] == "done"
    assert fake_server.count("GET", f"/markets/{REGION_1}/orders") == 8
    fresh = requests.get(url, timeout=10).json()
    assert fresh["snapshot"]["stale"] is False
    assert fresh["snapshot"]["job"] is None


def test_a_failing_walk_fails_its_job_and_no_request_waits(
    universe: None, fake_server: FakeHttpServer, web: str
) -> None:
    """Page 7 fails: the worker sleeps and the job fails naming the error; web requests stay fast meanwhile."""
    _serve_book(fake_server, REGION_1, 12, failing=7)
    session = requests.Session()
    base = web
    with celery_worker(ESI_BASE_URL=fake_server.url, ESI_ERROR_SLEEP_SECONDS=ERROR_SLEEP, ESI_LOCKDOWN_SECONDS=30):
        first, answered_at = _answered_get(session, f"{base}/api/market/regions/{REGION_1}/scan/")
        assert first.status_code == 202
        watched = _watch(session, base, first.json()["job"]["id"], probes=[f"/api/market/regions/{REGION_1}/scan/"])
    job = watched["job"]
    assert job["state"] == "failed"
    assert "500" in job["error"]
    assert "page=7" in job["error"]
    assert watched["slowest"][0] < FAST, watched["slowest"]
    assert redis_connection().exists(LOCKDOWN_KEY) == 1
    pages = fake_server.matching("GET", f"/markets/{REGION_1}/orders")
    assert len(pages) == 7
    # The 202 came before the worker's sleep after the failing page ended: the request did not wait for the walk.
    assert answered_at < pages[-1].received_at + ERROR_SLEEP
