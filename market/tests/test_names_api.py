"""Names wherever the market endpoints take ids (issue 18): exact names, 404 with the closest matches."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from market.history_models import MarketHistoryType
from market.services import market_snapshot_store
from market.tests.conftest import (
    REGION_1,
    STATION_A,
    STATION_B,
    SYSTEM_HIGH,
    TYPE_PLAIN,
    SyntheticUniverse,
)
from market.tests.test_haul_properties import _order
from universe.services import search_names_refresh

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(synthetic_universe: SyntheticUniverse) -> SyntheticUniverse:
    """Buy at Station A for 10, sell at Station B for 20 (the plain type, 100 units) and a 30-day volume of 40."""
    market_snapshot_store(
        region_id=REGION_1,
        orders=[
            _order(1, SYSTEM_HIGH, STATION_A, buy=False, price=10.0, volume=100),
            _order(2, SYSTEM_HIGH, STATION_A, buy=True, price=9.0, volume=100),
            _order(3, SYSTEM_HIGH, STATION_B, buy=True, price=20.0, volume=100),
        ],
    )
    now = timezone.now()
    MarketHistoryType.objects.create(
        region_id=REGION_1, type_id=TYPE_PLAIN, fetched_at=now, expires_at=now, days=30, avg_daily_volume=40.0
    )
    return synthetic_universe


def _rows(response: Any) -> list[tuple[int, int, int]]:
    """The (type, from, to) of a scan's rows."""
    assert response.status_code == 200, response.content
    return [(r["type_id"], r["from_station_id"], r["to_station_id"]) for r in response.json()["results"]]


def test_region_and_station_scans_take_names(book: SyntheticUniverse) -> None:
    """A region or station named exactly (any case) scans the same as its id."""
    client = APIClient()
    by_id = _rows(client.get(f"/api/market/regions/{REGION_1}/scan/", {"sales_tax": 0}))
    assert by_id == [(TYPE_PLAIN, STATION_A, STATION_B)]
    assert _rows(client.get(f"/api/market/regions/synth region {REGION_1}/scan/", {"sales_tax": 0})) == by_id
    station = _rows(client.get(f"/api/market/stations/{STATION_A}/scan/", {"sales_tax": 0, "broker_fee": 0}))
    assert station == [(TYPE_PLAIN, STATION_A, STATION_A)]
    named = client.get(f"/api/market/stations/SYNTH STATION {STATION_A}/scan/", {"sales_tax": 0, "broker_fee": 0})
    assert _rows(named) == station


def test_profit_takes_names(book: SyntheticUniverse) -> None:
    """Stations and the type of a profit breakdown may be names; the numbers are the ids'."""
    client = APIClient()
    ids = {"buy_station_id": STATION_A, "sell_station_id": STATION_B, "type_id": TYPE_PLAIN, "sales_tax": 0}
    names = {
        "buy_station_id": f"Synth Station {STATION_A}",
        "sell_station_id": f"synth station {STATION_B}",
        "type_id": f"Synth Type {TYPE_PLAIN}",
        "sales_tax": 0,
    }
    by_id = client.post("/api/market/profit/", ids, format="json").json()
    by_name = client.post("/api/market/profit/", names, format="json").json()
    assert by_id == by_name
    assert by_id["total_profit"] == pytest.approx(1000.0)


def test_unknown_names_are_404_with_the_closest_matches(book: SyntheticUniverse) -> None:
    """Each unknown name is listed with its field and the nearest SDE names; nothing else runs."""
    search_names_refresh()  # the synthetic names join the name search, as an ingestion's would
    client = APIClient()
    region = client.get("/api/market/regions/Synth Regoin 19900001/scan/")
    assert region.status_code == 404
    (problem,) = region.json()["unknown"]
    assert (problem["field"], problem["kind"], problem["problem"]) == ("region_id", "region", "unknown")
    assert problem["matches"][0]["id"] == REGION_1
    station = client.get("/api/market/stations/Synth Staton/scan/")
    assert station.status_code == 404
    assert {m["id"] for m in station.json()["unknown"][0]["matches"]} >= {STATION_A, STATION_B}
    payload = {"buy_station_id": "Nowhere", "sell_station_id": STATION_B, "type_id": "Synth Typ 990000002"}
    profit = client.post("/api/market/profit/", payload, format="json")
    assert profit.status_code == 404
    fields = {p["field"]: p for p in profit.json()["unknown"]}
    assert set(fields) == {"buy_station_id", "type_id"}
    assert fields["type_id"]["matches"][0]["id"] == TYPE_PLAIN
    for bad in ({**payload, "type_id": " "}, {**payload, "type_id": 2**63}, {**payload, "type_id": "x" * 201}):
        assert client.post("/api/market/profit/", bad, format="json").status_code == 400


def test_rows_tell_daily_volume_and_days_to_sell(book: SyntheticUniverse) -> None:
    """Scan rows carry the selling region's 30-day volume; the volume filters apply before the cut."""
    client = APIClient()
    row = client.get("/api/market/global/scan/", {"sales_tax": 0}).json()["results"][0]
    assert (row["avg_daily_volume"], row["days_to_sell"]) == (40.0, 2.5)  # 100 units / 40 a day
    assert _rows(client.get("/api/market/global/scan/", {"min_daily_volume": 40})) != []
    assert _rows(client.get("/api/market/global/scan/", {"min_daily_volume": 41})) == []
    assert _rows(client.get("/api/market/global/scan/", {"max_days_to_sell": 2.5})) != []
    assert _rows(client.get("/api/market/global/scan/", {"max_days_to_sell": 2.4})) == []
    capped = client.get("/api/market/global/scan/", {"budget_isk": 200, "max_days_to_sell": 0.5}).json()["results"]
    assert [(r["units"], r["days_to_sell"]) for r in capped] == [(20, 0.5)]  # 200 ISK buys 20: half a day
    assert client.get("/api/market/global/scan/", {"max_days_to_sell": -1}).status_code == 400
