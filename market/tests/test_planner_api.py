"""``POST /api/market/haul-plan/`` on the real SDE and gate graph (../shared/eve-sde), with stored snapshots."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from market.planner import BuyOrder, Item, SellOrder
from market.planner_selectors import haul_books_read, haul_snapshots_get
from market.services import market_snapshot_store
from market.testing import esi_order
from market.tests.planner_reference import exact_optimum
from universe.models import ItemType, SolarSystemJump, Station

pytestmark = pytest.mark.usefixtures("sde_universe")

JITA_4_4, AMARR_8 = 60003760, 60008494
RIFTER, TRITANIUM, PYERITE = 587, 34, 35
URL = "/api/market/haul-plan/"


def _order(
    order_id: int, station: Station, type_id: int, *, buy: bool, price: float, volume: int, min_volume: int = 1
) -> dict[str, Any]:
    """An ESI order with a min_volume."""
    return {**esi_order(order_id, station, type_id, buy=buy, price=price, volume=volume), "min_volume": min_volume}


def _books() -> tuple[Station, Station]:
    """Jita sells Rifters, Tritanium and Pyerite; Amarr buys them dearer (one Rifter order wants 3 at least)."""
    jita, amarr = Station.objects.get(id=JITA_4_4), Station.objects.get(id=AMARR_8)
    market_snapshot_store(
        region_id=jita.region_id,
        orders=[
            _order(1, jita, RIFTER, buy=False, price=400_000.0, volume=4),
            _order(2, jita, RIFTER, buy=False, price=420_000.0, volume=10),
            _order(3, jita, TRITANIUM, buy=False, price=4.0, volume=1_000_000),
            _order(4, jita, PYERITE, buy=False, price=10.0, volume=100),
            _order(5, jita, TRITANIUM, buy=True, price=3.0, volume=10),  # a buy order at the origin: not used
        ],
    )
    market_snapshot_store(
        region_id=amarr.region_id,
        orders=[
            _order(11, amarr, RIFTER, buy=True, price=600_000.0, volume=5, min_volume=3),
            _order(12, amarr, RIFTER, buy=True, price=450_000.0, volume=2),
            _order(13, amarr, TRITANIUM, buy=True, price=5.0, volume=200_000),
            _order(14, amarr, PYERITE, buy=True, price=9.0, volume=100),  # loses money
            _order(15, amarr, RIFTER, buy=False, price=1.0, volume=100),  # a sell order at the destination: not used
        ],
    )
    return jita, amarr


def test_plan_from_jita_to_amarr_is_optimal_feasible_and_routed() -> None:
    """The plan matches the exact optimum of the stored books, spells out every order, and carries the route."""
    jita, amarr = _books()
    body = {
        "from": JITA_4_4,
        "to": "amarr viii - emperor family academy",
        "cargo_m3": 20_000,
        "budget_isk": 3_000_000,
        "sales_tax": 8,
    }
    answer = APIClient().post(URL, body, format="json")
    assert answer.status_code == 200, answer.content
    plan = answer.json()
    volumes = {t: ItemType.objects.get(id=t).shipping_volume for t in (RIFTER, TRITANIUM, PYERITE)}
    items = [
        Item(RIFTER, volumes[RIFTER], (SellOrder(1, 400_000.0, 4), SellOrder(2, 420_000.0, 10)),
             (BuyOrder(11, 600_000.0, 5, 3), BuyOrder(12, 450_000.0, 2, 1))),
        Item(TRITANIUM, volumes[TRITANIUM], (SellOrder(3, 4.0, 1_000_000),), (BuyOrder(13, 5.0, 200_000, 1),)),
        Item(PYERITE, volumes[PYERITE], (SellOrder(4, 10.0, 100),), (BuyOrder(14, 9.0, 100, 1),)),
    ]  # fmt: skip
    best = exact_optimum(items=items, cargo_m3=20_000, budget_isk=3_000_000, sales_tax=8)
    assert plan["total_profit"] == pytest.approx(best)
    assert plan["method"] == "exact"
    assert plan["reason"] == "planned"
    assert plan["from_station"]["station_name"] == jita.name
    assert plan["to_station"]["station_id"] == amarr.id
    assert {i["type_id"] for i in plan["items"]} <= {RIFTER, TRITANIUM}
    rifter = next(i for i in plan["items"] if i["type_id"] == RIFTER)
    assert rifter["type_name"] == "Rifter"
    assert rifter["unit_volume_m3"] == pytest.approx(2500.0)
    for fill in rifter["sold_to"]:
        if fill["order_id"] == 11:
            assert 3 <= fill["units"] <= 5
    assert plan["total_volume_m3"] <= 20_000 + 1e-6
    assert plan["total_cost"] <= 3_000_000 + 1e-6
    assert plan["total_taxes"] == pytest.approx(0.08 * plan["total_revenue"])
    assert plan["total_profit"] == pytest.approx(plan["total_revenue"] - plan["total_taxes"] - plan["total_cost"])
    assert plan["isk_per_m3"] == pytest.approx(plan["total_profit"] / plan["total_volume_m3"])
    route = plan["route"]
    assert route["mode"] == "secure"  # no user settings: hauling's default
    assert plan["jumps"] == route["jumps"] > 0
    assert route["high_sec_jumps"] + route["low_sec_jumps"] + route["null_sec_jumps"] == route["jumps"]
    assert plan["profit_per_jump"] == pytest.approx(plan["total_profit"] / plan["jumps"])
    routes = APIClient().get("/api/routes/", {"origin": "Jita", "destination": "Amarr", "mode": "secure"}).json()
    assert plan["jumps"] == routes["jumps"]
    assert plan["upper_bound"] >= plan["total_profit"] - 1e-6
    assert [s["region_id"] for s in plan["snapshots"]] == sorted(
        {jita.region_id, amarr.region_id}, key=[jita.region_id, amarr.region_id].index
    )


def test_the_books_read_are_the_stored_ones() -> None:
    """The selector reads the origin's sell orders and the destination's buy orders of the types on both sides."""
    jita, amarr = _books()

    snapshots, missing = haul_snapshots_get(region_ids=[jita.region_id, amarr.region_id])
    assert missing == []
    books = haul_books_read(from_id=jita.id, to_id=amarr.id, snapshot_ids=[s.pk for s in snapshots])
    assert books.type_ids.tolist() == [TRITANIUM, PYERITE, RIFTER]
    assert books.unit_volumes.tolist() == [
        ItemType.objects.get(id=t).shipping_volume for t in (TRITANIUM, PYERITE, RIFTER)
    ]
    sells = sorted(
        zip(
            books.sell_type.tolist(),
            books.sell_order.tolist(),
            books.sell_price.tolist(),
            books.sell_remain.tolist(),
            strict=True,
        )
    )
    buys = sorted(
        zip(
            books.buy_type.tolist(),
            books.buy_order.tolist(),
            books.buy_price.tolist(),
            books.buy_remain.tolist(),
            books.buy_min.tolist(),
            strict=True,
        )
    )
    assert sells == [
        (TRITANIUM, 3, 4.0, 1_000_000),
        (PYERITE, 4, 10.0, 100),
        (RIFTER, 1, 400_000.0, 4),
        (RIFTER, 2, 420_000.0, 10),
    ]
    assert buys == [
        (TRITANIUM, 13, 5.0, 200_000, 1),
        (PYERITE, 14, 9.0, 100, 1),
        (RIFTER, 11, 600_000.0, 5, 3),
        (RIFTER, 12, 450_000.0, 2, 1),
    ]


def test_nothing_to_carry_is_an_empty_plan_with_its_reason() -> None:
    _books()
    client = APIClient()
    broke = client.post(URL, {"from": JITA_4_4, "to": AMARR_8, "cargo_m3": 1000, "budget_isk": 0}, format="json")
    assert broke.status_code == 200
    assert broke.json()["items"] == []
    assert broke.json()["total_profit"] == 0
    assert broke.json()["reason"] == "nothing profitable fits the hold and the wallet"
    assert broke.json()["isk_per_m3"] is None
    backwards = client.post(URL, {"from": AMARR_8, "to": JITA_4_4, "cargo_m3": 1000, "budget_isk": 1e9}, format="json")
    assert backwards.status_code == 200
    assert backwards.json()["items"] == []
    assert "no item" in backwards.json()["reason"]


def test_no_snapshot_is_an_empty_plan_naming_the_region() -> None:
    answer = APIClient().post(
        URL, {"from": JITA_4_4, "to": AMARR_8, "cargo_m3": 1000, "budget_isk": 1e9}, format="json"
    )
    assert answer.status_code == 200
    assert answer.json()["items"] == []
    assert "no market snapshot of region" in answer.json()["reason"]


def test_unknown_stations_are_404_naming_them() -> None:
    client = APIClient()
    answer = client.post(URL, {"from": "Nowhere Station", "to": 123, "cargo_m3": 1, "budget_isk": 1}, format="json")
    assert answer.status_code == 404
    assert "Nowhere Station" in answer.json()["detail"]
    assert "123" in answer.json()["detail"]
    one = client.post(URL, {"from": JITA_4_4, "to": "Amarr Nope", "cargo_m3": 1, "budget_isk": 1}, format="json")
    assert one.status_code == 404
    assert "Amarr Nope" in one.json()["detail"]
    assert str(JITA_4_4) not in one.json()["detail"]
    avoid = client.post(
        URL, {"from": JITA_4_4, "to": AMARR_8, "cargo_m3": 1, "budget_isk": 1, "avoid": ["Jotunheim"]}, format="json"
    )
    assert avoid.status_code == 404
    assert "Jotunheim" in avoid.json()["detail"]


def test_no_route_is_404() -> None:
    """Every gate out of Jita avoided: there is no road."""
    jita = Station.objects.get(id=JITA_4_4)
    around = list(SolarSystemJump.objects.filter(from_system_id=jita.system_id).values_list("to_system_id", flat=True))
    answer = APIClient().post(
        URL, {"from": JITA_4_4, "to": AMARR_8, "cargo_m3": 1, "budget_isk": 1, "avoid": around}, format="json"
    )
    assert answer.status_code == 404
    assert "No route" in answer.json()["detail"]


@pytest.mark.parametrize(
    "change",
    [
        {"cargo_m3": -1},
        {"budget_isk": -0.01},
        {"cargo_m3": "lots"},
        {"budget_isk": "1000"},
        {"budget_isk": True},
        {"cargo_m3": None},
        {"from": ""},
        {"from": "Jita\x00"},
        {"to": 0},
        {"max_items": 0},
        {"sales_tax": 100},
        {"route_mode": "fastest"},
        {"avoid": "Perimeter"},
        {"avoid": [0]},
        {"avoid": [" "]},
        {"from": 2**63},
    ],
)
def test_bad_input_is_400(change: dict[str, Any]) -> None:
    body = {"from": JITA_4_4, "to": AMARR_8, "cargo_m3": 1000, "budget_isk": 1e9, **change}
    answer = APIClient().post(URL, body, format="json")
    assert answer.status_code == 400, answer.content
    missing = APIClient().post(URL, {"from": JITA_4_4, "to": AMARR_8, "cargo_m3": 1}, format="json")
    assert missing.status_code == 400
