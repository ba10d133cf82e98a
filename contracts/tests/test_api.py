"""The contracts API on real payloads, real SDE names, routes and a real market snapshot: zero ESI calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, get_args

import pytest
from django.test import Client
from django_redis import get_redis_connection

from contracts.models import Contract
from contracts.schemas import ContractItemLine, ContractOrdering
from contracts.selectors import ORDERINGS
from contracts.services import contracts_region_refresh
from contracts.tasks import contracts_revalue_task
from contracts.tests.conftest import JITA_STATION, THE_FORGE, order, serve_items, serve_region, shift_dates
from contracts.tests.test_refresh import FAULTS, _lockdown_clear
from evesite.testing.fakeserver import FakeHttpServer, FakeResponse
from market.services import market_snapshot_store
from routing.services import route_find
from universe.models import Station

pytestmark = pytest.mark.django_db

DERELIK = 10000001

# Jita orders of the snapshot (type 1334: buy 10 M / sell 20 M -> split 15 M; 47804 sell only 30 M).
JITA_ORDERS = [
    order(1334, 10_000_000.0, buy=True),
    order(1334, 9_000_000.0, buy=True),
    order(1334, 20_000_000.0, buy=False),
    order(1334, 25_000_000.0, buy=False),
    order(1334, 1_000.0, buy=False, location_id=60008494),  # elsewhere in The Forge: ignored
    order(47804, 30_000_000.0, buy=False),
]


def _list(client: Client, params: dict[str, Any]) -> Any:
    """GET the contract list with query parameters."""
    return client.get("/api/contracts/", {k: str(v) for k, v in params.items()})


@pytest.fixture
def market_snapshot(settings: Any) -> None:
    """Store The Forge's snapshot with the Jita orders through the market app, and value from it."""
    settings.CONTRACTS_PRICE_LOOKUP = "market.selectors.market_station_best_prices"
    market_snapshot_store(region_id=THE_FORGE, orders=JITA_ORDERS)


@pytest.fixture
def cached(
    sde_universe: Any, esi: FakeHttpServer, samples: dict[str, Any], market_snapshot: None
) -> dict[str, list[dict[str, Any]]]:
    """Refresh The Forge and Derelik from the fake ESI until every contract's items are in."""
    regions = {
        THE_FORGE: (samples["contracts-10000002-1"], samples["contracts-10000002-2"]),
        DERELIK: (samples["contracts-10000001-1"], samples["contracts-10000001-2"]),
    }
    served: dict[str, list[dict[str, Any]]] = {}
    for region_id, (page1, page2) in regions.items():
        shifted = shift_dates(page1 + page2, expire_in=timedelta(days=40))
        pages = [shifted[: len(page1)], shifted[len(page1) :]]
        serve_region(esi, region_id, pages)
        served[str(region_id)] = shifted
        for contract in shifted:
            cid = contract["contract_id"]
            if cid in FAULTS:
                serve_items(esi, cid, FAULTS[cid])
            elif f"items-{cid}" in samples:
                serve_items(esi, cid, FakeResponse(json=samples[f"items-{cid}"], headers={"X-Pages": "1"}))
            esi.add(
                "GET",
                f"/contracts/public/bids/{cid}",
                FakeResponse(json=samples.get(f"bids-{cid}", []), headers={"X-Pages": "1"}),
            )
    for region_id in regions:
        for _ in range(8):
            report = contracts_region_refresh(region_id=region_id)
            _lockdown_clear()
            if report.items_pending == 0:
                break
    return served


def test_list_filters_orders_and_values_against_the_snapshot(cached: Any, esi: FakeHttpServer) -> None:
    """Item exchanges of The Forge sorted by profit %, valued from the Jita snapshot, with no ESI call."""
    calls = esi.count()
    client = Client()
    answer = _list(client, {"region_id": THE_FORGE, "type": "item_exchange", "ordering": "-profit_pct"})
    assert answer.status_code == 200
    body = answer.json()
    rows = body["results"]
    assert body["count"] == 7
    assert {r["type"] for r in rows} == {"item_exchange"}
    pcts = [r["profit_pct"] for r in rows if r["profit_pct"] is not None]
    assert pcts == sorted(pcts, reverse=True)
    # 190124106: two 47804 at the one-sided 30 M for 50 M ISK: profit 10 M, 20 %.
    assert rows[0]["contract_id"] == 190124106
    assert rows[0]["profit"] == 10_000_000.0
    assert rows[0]["profit_pct"] == pytest.approx(20.0)
    assert rows[0]["one_sided_lines"] == 2
    best = rows[1]
    # 190123973: one 1334 at the split (10 M + 20 M) / 2 = 15 M for 12,799,999 ISK: 17.19 %.
    assert best["contract_id"] == 190123973
    assert best["items_value"] == 15_000_000.0
    assert best["profit"] == 2_200_001.0
    assert best["profit_pct"] == pytest.approx(100 * 2_200_001 / 12_799_999)
    assert best["start_location"]["name"] == "Jita IV - Moon 4 - Caldari Navy Assembly Plant"
    assert best["start_location"]["system_name"] == "Jita"
    assert best["start_location"]["security"] == pytest.approx(0.946, abs=1e-3)

    filtered = _list(client, {"region_id": THE_FORGE, "min_profit": 0}).json()
    assert [r["contract_id"] for r in filtered["results"]] == [190124106, 190123973]
    by_pct = _list(client, {"region_id": THE_FORGE, "min_profit_pct": 18}).json()
    assert [r["contract_id"] for r in by_pct["results"]] == [190124106]
    by_profit = _list(client, {"region_id": THE_FORGE, "ordering": "-profit"}).json()
    assert [r["contract_id"] for r in by_profit["results"]][:2] == [190124106, 190123973]
    paged = _list(client, {"region_id": THE_FORGE, "limit": 3, "offset": 3}).json()
    assert paged["count"] == 8
    assert len(paged["results"]) == 3
    named = _list(client, {"region_id": "the forge", "type": "item_exchange", "ordering": "-profit_pct"}).json()
    assert [r["contract_id"] for r in named["results"]] == [r["contract_id"] for r in rows]
    typo = _list(client, {"region_id": "The Froge"})
    assert typo.status_code == 404
    assert typo.json()["unknown"][0]["matches"][0]["name"] == "The Forge"
    assert _list(client, {"region_id": " "}).status_code == 400
    assert esi.count() == calls


def test_detail_breakdown_from_redis_then_postgres_without_esi(cached: Any, esi: FakeHttpServer) -> None:
    """The breakdown names types from the SDE, flags one-sided prices, and needs no ESI call even after a restart."""
    calls = esi.count()
    client = Client()
    answer = client.get("/api/contracts/190124106/")
    assert answer.status_code == 200, answer.content
    detail = answer.json()
    assert detail["items_source"] == "redis"
    lines = {line["record_id"]: line for line in detail["items"]}
    assert set(lines) == {2000, 4023694409}
    assert lines[2000]["type_id"] == 47804
    assert lines[2000]["jita_split"] == 30_000_000.0
    assert lines[2000]["flags"] == ["one_sided_price"]
    assert lines[2000]["type_name"]
    assert set(lines[2000]) == set(ContractItemLine.model_fields)  # item_id too, as before the schemas
    assert detail["totals"]["items_value"] == 60_000_000.0
    assert detail["totals"]["profit"] == 10_000_000.0

    bpc = client.get("/api/contracts/190123693/").json()
    assert bpc["items"][0]["flags"] == ["blueprint_copy"]
    assert bpc["items"][0]["line_value"] == 0.0

    get_redis_connection("default").flushdb()
    again = client.get("/api/contracts/190124106/").json()
    assert again["items_source"] == "postgres"
    assert again["totals"] == detail["totals"]
    assert client.get("/api/contracts/999999999/").status_code == 404
    assert _list(client, {"ordering": "-nonsense"}).status_code == 400
    assert esi.count() == calls


def test_couriers_listed_with_route_jumps_and_isk_per_jump(cached: Any, esi: FakeHttpServer) -> None:
    """The Derelik courier to Jita carries reward, collateral, the routing engine's jumps and ISK per jump."""
    calls = esi.count()
    rows = _list(Client(), {"region_id": DERELIK, "type": "courier"}).json()["results"]
    assert [r["contract_id"] for r in rows] == [190762629]
    courier = rows[0]
    start = Station.objects.get(id=60012547)
    expected = route_find(origin=start.system_id, destination=30000142, avoid_risk=False).jumps
    assert courier["route_jumps"] == expected
    assert courier["reward"] == 9_000_000.0
    assert courier["collateral"] == 990_000_000.0
    assert courier["isk_per_jump"] == pytest.approx(9_000_000.0 / max(expected, 1))
    assert courier["end_location"]["location_id"] == JITA_STATION
    assert esi.count() == calls


def test_auction_priced_at_its_current_bid(cached: Any) -> None:
    """Auction 190442405 (starting price 1 M) carries its real bid of 1 M as the effective price."""
    contract = Contract.objects.get(contract_id=190442405)
    assert contract.current_bid == 1_000_000.0
    row = next(
        r
        for r in _list(Client(), {"region_id": DERELIK, "type": "auction"}).json()["results"]
        if r["contract_id"] == 190442405
    )
    assert row["effective_price"] == 1_000_000.0
    assert row["no_price_lines"] == 29  # corpses have no Jita orders in this snapshot


def test_revalue_task_follows_a_new_jita_snapshot(cached: Any) -> None:
    """A new snapshot (1334 now buy 12 M / sell 14 M -> 13 M) changes the stored profit once the task runs."""
    assert Contract.objects.get(contract_id=190123973).profit == 2_200_001.0
    market_snapshot_store(region_id=THE_FORGE, orders=[order(1334, 12e6, buy=True), order(1334, 14e6, buy=False)])
    assert (
        contracts_revalue_task.apply().get()
        == Contract.objects.filter(is_active=True, type__in=["item_exchange", "auction"]).count()
    )
    assert Contract.objects.get(contract_id=190123973).profit == 13_000_000.0 - 12_799_999.0


def test_ordering_choices_follow_the_selector() -> None:
    """The documented orderings are the selector's, each ascending or descending."""
    assert get_args(ContractOrdering) == (*ORDERINGS, *(f"-{o}" for o in ORDERINGS))


def test_contracts_keep_their_documented_operations() -> None:
    """Clients generated from the document keep their ids, parameters, pages and error answers (issue 15)."""
    schema = Client().get("/api/schema/", {"format": "json"}).json()
    listing = schema["paths"]["/api/contracts/"]["get"]
    assert listing["operationId"] == "contracts_retrieve"
    params = {p["name"]: p for p in listing["parameters"]}
    assert set(params) == {"region_id", "type", "min_profit", "min_profit_pct", "ordering", "limit", "offset"}
    assert params["limit"]["schema"]["maximum"] == 500
    assert params["ordering"]["schema"]["default"] == "-profit_pct"
    page = listing["responses"]["200"]["content"]["application/json"]["schema"]
    assert page == {"$ref": "#/components/schemas/PaginatedContractList"}
    assert set(schema["components"]["schemas"]["PaginatedContractList"]["properties"]) == {
        "count",
        "next",
        "previous",
        "results",
    }
    assert set(listing["responses"]) == {"200", "400", "404", "414", "429", "503"}  # 404: region_id names none
    assert {s.get("type") for s in params["region_id"]["schema"]["oneOf"]} == {"integer", "string"}
    detail = schema["paths"]["/api/contracts/{contract_id}/"]["get"]
    assert detail["operationId"] == "contracts_retrieve_2"
    assert [(p["name"], p["in"], p["schema"]["type"]) for p in detail["parameters"]] == [
        ("contract_id", "path", "integer")
    ]
    assert set(detail["responses"]) == {"200", "400", "404", "429", "503"}
