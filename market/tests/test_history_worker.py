"""Market history end to end: a web request queues the region's job, a real Celery worker fetches from a fake ESI.

The request answers at once (empty series and the queued job); the job's progress counts types while the worker
fetches them one at a time; then the same request answers the stored series and its daily volume.
"""

from __future__ import annotations

import time

import pytest
from rest_framework.test import APIClient

from evesite.testing.fakeserver import FakeHttpServer
from evesite.testing.worker import celery_worker
from market.history_models import MarketHistory, MarketHistoryType
from market.tests.conftest import REGION_1, TYPE_PACKAGED, synthetic_universe_load
from market.tests.history_support import esi_days, serve_history, snapshot_with_types

pytestmark = pytest.mark.django_db(transaction=True)

TYPES = [TYPE_PACKAGED, *range(990000301, 990000340)]  # 40 traded types; the last one has no history


def test_a_request_queues_the_job_and_the_worker_stores_every_type(fake_server: FakeHttpServer) -> None:
    """40 types fetched by the worker through the ESI client; progress in types; the series then served."""
    synthetic_universe_load()
    snapshot_with_types(TYPES)
    series: dict[int, list[dict[str, object]] | int] = {t: esi_days({0: 30, 1: 60, 2: 90}) for t in TYPES[:-1]}
    series[TYPES[-1]] = []
    serve_history(fake_server, REGION_1, series, delay=0.05)  # 2 s in all: the poller sees it part-done
    client = APIClient()
    started = time.monotonic()
    first = client.get("/api/market/history/", {"region": REGION_1, "type": TYPE_PACKAGED})
    assert first.status_code == 200
    assert time.monotonic() - started < 5  # never waits for ESI (no worker runs yet)
    job_id = first.json()["job"]["id"]
    assert fake_server.requests == []
    seen: list[tuple[int, int | None]] = []
    with celery_worker(ESI_BASE_URL=fake_server.url):
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            job = client.get(f"/api/jobs/{job_id}/").json()
            if job["state"] == "running":
                seen.append((job["progress"]["done"], job["progress"]["total"]))
            if job["state"] in ("done", "failed"):
                break
            time.sleep(0.05)
    assert job["state"] == "done", job
    assert job["progress"] == {"done": 40, "total": 40, "unit": "types"}
    assert any(0 < done < 40 for done, _ in seen), seen
    assert fake_server.count("GET", f"/markets/{REGION_1}/history") == 40
    assert MarketHistoryType.objects.filter(region_id=REGION_1).count() == 40
    assert MarketHistory.objects.filter(region_id=REGION_1).count() == 39 * 3
    final = client.get("/api/market/history/", {"region": REGION_1, "type": TYPE_PACKAGED}).json()
    assert final["status"] == "fetched"
    assert final["count"] == 3
    assert final["avg_daily_volume"] == pytest.approx(180 / 30)
    assert final["job"] is None
    empty = MarketHistoryType.objects.get(region_id=REGION_1, type_id=TYPES[-1])
    assert (empty.days, empty.avg_daily_volume) == (0, 0.0)  # fetched, empty (the type is not in the SDE)
