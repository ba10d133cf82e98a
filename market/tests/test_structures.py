"""Player-structure markets (issue 18): scans through a worker with the character's token, 403s remembered.

The fake ESI serves ``/markets/structures/{id}`` (paged) and the character's location on real sockets.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from esi import limits
from evesite.testing.fakeserver import FakeHttpServer, FakeResponse
from evesite.testing.worker import celery_worker
from jobs.models import Job
from market.models import MarketOrder, MarketSnapshot, MarketStructure, StructureMarketDenial
from market.selectors import TradeQuery, market_hauling_scan
from market.services import market_snapshot_store
from market.tasks import market_refresh_structure_task
from market.tests.conftest import (
    REGION_1,
    STATION_A,
    STRUCTURE_X,
    SYSTEM_HIGH,
    SYSTEM_LOW,
    TYPE_PLAIN,
    pilot_login,
    synthetic_universe_load,
)
from market.tests.test_haul_properties import _order

CHARACTER = 2112000007
TOKEN = "structure-access-token"
PATH = f"/markets/structures/{STRUCTURE_X}"
URL = f"/api/market/stations/{STRUCTURE_X}/scan/"


def _structure_order(i: int, *, buy: bool, price: float, volume: int = 50) -> dict[str, Any]:
    """An order as the structure route sends it: no system_id."""
    order = _order(i, SYSTEM_LOW, STRUCTURE_X, buy=buy, price=price, volume=volume)
    del order["system_id"]
    return order


def _serve(esi: FakeHttpServer, orders: list[dict[str, Any]], *, pages: int = 2) -> None:
    """Serve the structure's orders in pages; the Authorization header is checked."""

    def answer(request: Any) -> FakeResponse:
        """One page (401 without the character's token)."""
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return FakeResponse(status=401, json={"error": "token"})
        page = int(request.query.get("page", ["1"])[0])
        size = -(-len(orders) // pages)
        return FakeResponse(json=orders[(page - 1) * size : page * size], headers={"X-Pages": str(pages)})

    esi.add("GET", PATH, answer)


def _pilot(settings: Any) -> APIClient:
    """A logged-in client whose character has a token."""
    user = pilot_login(settings=settings, username="hauler", character_id=CHARACTER, access_token=TOKEN)
    client = APIClient()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_a_structure_scan_queues_a_job_and_scans_the_stored_orders(esi_server: FakeHttpServer, settings: Any) -> None:
    """Docked in the structure: 202 with a job; the job reads every page with the token; then 200 with its rows."""
    synthetic_universe_load()
    client = _pilot(settings)
    esi_server.add(
        "GET",
        f"/characters/{CHARACTER}/location",
        FakeResponse(json={"solar_system_id": SYSTEM_LOW, "structure_id": STRUCTURE_X}),
    )
    _serve(esi_server, [_structure_order(1, buy=True, price=9.0), _structure_order(2, buy=False, price=10.0)])
    first = client.get("/api/market/stations/current/scan/", {"sales_tax": 0, "broker_fee": 0})
    assert first.status_code == 202, first.content
    assert esi_server.count("GET", PATH) == 0  # the request never waits for the structure's pages
    job = first.json()["job"]
    assert Job.objects.get(pk=job["id"]).params["structure_id"] == STRUCTURE_X
    assert market_refresh_structure_task(job["id"]) is not None
    assert esi_server.count("GET", PATH) == 2
    assert Job.objects.get(pk=job["id"]).state == "done"
    answer = client.get(URL, {"sales_tax": 0, "broker_fee": 0})  # by id now that its system is known
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["scope"] == f"station:{STRUCTURE_X}"
    assert [(r["bid"], r["ask"], r["units"]) for r in body["results"]] == [(9.0, 10.0, 50)]
    assert MarketStructure.objects.get(pk=STRUCTURE_X).region_id == REGION_1
    # The structure's orders take part in the region's hauling scans: sell at the structure from Station A.
    market_snapshot_store(
        region_id=REGION_1, orders=[_order(3, SYSTEM_HIGH, STATION_A, buy=False, price=5.0, volume=100)]
    )
    rows = market_hauling_scan(query=TradeQuery(sales_tax=0, broker_fee=0), region_id=REGION_1)
    assert [(r.from_station_id, r.to_station_id, r.bid) for r in rows] == [(STATION_A, STRUCTURE_X, 9.0)]


@pytest.mark.django_db
def test_a_403_is_remembered_and_answered_without_esi(esi_server: FakeHttpServer, settings: Any) -> None:
    """No docking access: the job fails naming it, then scans answer 403 without calling ESI for a day."""
    synthetic_universe_load()
    client = _pilot(settings)
    MarketStructure.objects.create(structure_id=STRUCTURE_X, system_id=SYSTEM_LOW, region_id=REGION_1)
    esi_server.add("GET", PATH, FakeResponse(status=403, json={"error": "Market access denied"}))
    first = client.get(URL)
    assert first.status_code == 202, first.content
    assert market_refresh_structure_task(first.json()["job"]["id"]) is None
    job = Job.objects.get(pk=first.json()["job"]["id"])
    assert job.state == "failed"
    assert "403" in job.error
    assert StructureMarketDenial.objects.filter(character_id=CHARACTER, structure_id=STRUCTURE_X).exists()
    limits.redis_connection().delete(limits.LOCKDOWN_KEY)  # the 403's lockdown, as if its minute passed
    calls = esi_server.count()
    denied = client.get(URL)
    assert denied.status_code == 403
    assert denied.json()["error"] == "structure_access_denied"
    assert esi_server.count() == calls
    StructureMarketDenial.objects.update(denied_at=timezone.now() - timedelta(days=1, seconds=1))
    assert client.get(URL).status_code in (200, 202)  # a day later it may ask again


@pytest.mark.django_db
def test_structure_scans_need_a_login_and_a_known_place(settings: Any) -> None:
    """Anonymous: 401; a structure nobody saw: 404 saying how to make it known; region orders make it known."""
    synthetic_universe_load()
    assert APIClient().get(URL).status_code == 401
    client = _pilot(settings)
    unknown = client.get(URL)
    assert unknown.status_code == 404
    assert "docked" in unknown.json()["detail"]
    market_snapshot_store(
        region_id=REGION_1, orders=[_order(1, SYSTEM_LOW, STRUCTURE_X, buy=True, price=1.0, volume=100)]
    )
    known = client.get(URL)
    assert known.status_code == 202  # located from the region's orders; its own snapshot is queued
    assert MarketStructure.objects.get(pk=STRUCTURE_X).system_id == SYSTEM_LOW


@pytest.mark.django_db
def test_the_structure_snapshot_replaces_the_region_orders_there(settings: Any) -> None:
    """A structure's own orders replace the region's at it; a region store keeps them apart until they age out."""
    synthetic_universe_load()
    region_orders = [
        _order(1, SYSTEM_LOW, STRUCTURE_X, buy=True, price=1.0, volume=100),
        _order(2, SYSTEM_HIGH, STATION_A, buy=True, price=2.0, volume=100),
    ]
    market_snapshot_store(region_id=REGION_1, orders=region_orders)
    own = [
        _order(5, SYSTEM_LOW, STRUCTURE_X, buy=True, price=1.5, volume=100),
        _order(6, SYSTEM_LOW, STRUCTURE_X, buy=False, price=3.0, volume=100),
    ]
    market_snapshot_store(region_id=REGION_1, orders=own, structure_id=STRUCTURE_X)

    def at_structure() -> list[int]:
        """Order ids stored at the structure."""
        return sorted(MarketOrder.objects.filter(location_id=STRUCTURE_X).values_list("order_id", flat=True))

    assert at_structure() == [5_000_005, 5_000_006]
    market_snapshot_store(region_id=REGION_1, orders=region_orders)  # the region again: its copy is left out
    assert at_structure() == [5_000_005, 5_000_006]
    assert MarketSnapshot.objects.filter(region_id=REGION_1).count() == 2
    MarketSnapshot.objects.filter(structure_id=STRUCTURE_X).update(fetched_at=timezone.now() - timedelta(days=2))
    market_snapshot_store(region_id=REGION_1, orders=region_orders)
    assert at_structure() == [5_000_001]
    assert not MarketSnapshot.objects.filter(structure_id=STRUCTURE_X).exists()
    assert TYPE_PLAIN in MarketOrder.objects.values_list("type_id", flat=True)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_structure_job(fake_server: FakeHttpServer, settings: Any) -> None:
    """Through the broker: the scan's job is run by a Celery worker with the character's token."""
    synthetic_universe_load()
    client = _pilot(settings)
    MarketStructure.objects.create(structure_id=STRUCTURE_X, system_id=SYSTEM_LOW, region_id=REGION_1)
    _serve(fake_server, [_structure_order(i, buy=i % 2 == 0, price=10.0 - i % 2) for i in range(1, 41)], pages=4)
    with celery_worker(
        ESI_BASE_URL=fake_server.url, ESI_PAGE_DELAY_SECONDS=0.01, TOKEN_ENCRYPTION_KEY=settings.TOKEN_ENCRYPTION_KEY
    ):
        first = client.get(URL)
        assert first.status_code == 202, first.content
        job_id = first.json()["job"]["id"]
        deadline = time.monotonic() + 60
        while Job.objects.get(pk=job_id).state not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.1)
    job = Job.objects.get(pk=job_id)
    assert job.state == "done", job.error
    assert (job.progress_done, job.progress_total, job.progress_unit) == (4, 4, "pages")
    assert MarketSnapshot.objects.get(structure_id=STRUCTURE_X).order_count == 40
