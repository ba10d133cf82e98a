"""The route-aware scan parameters through the API (issue 17): answers, defaults, 400/401/404."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from accounts.models import UserSettings
from market.tests.conftest import (
    REGION_1,
    STATION_A,
    STATION_C,
    SYSTEM_HIGH,
    SYSTEM_LOW,
    SYSTEM_OTHER,
    TYPE_PLAIN,
    synthetic_universe_load,
)
from market.tests.test_haul_properties import (  # noqa: F401 - haul_graph is a fixture
    HAUL_GATES,
    HAUL_SYSTEMS,
    X2,
    X5,
    _order,
    _store,
    haul_graph,
)
from routing.models import JumpTable
from routing.tests.conftest import graph_create

pytestmark = pytest.mark.django_db
GLOBAL = "/api/market/global/scan/"
REGION = f"/api/market/regions/{REGION_1}/scan/"


@pytest.fixture
def book(haul_graph: str) -> str:  # noqa: F811 - the imported fixture
    """One profitable haul: buy at Synth High, sell at Synth Low (4 jumps secure, 3 shortest)."""
    _store(
        [
            _order(1, SYSTEM_HIGH, STATION_A, buy=False, price=10.0, volume=100),
            _order(2, SYSTEM_LOW, STATION_C, buy=True, price=20.0, volume=100),
        ]
    )
    return haul_graph


def test_routed_global_and_region_scans(book: str) -> None:
    """Rows get jumps, the route summary and profit per jump; default mode is secure; filters and sorts apply."""
    body = APIClient().get(GLOBAL, {"max_jumps": 10, "sales_tax": 0}).json()
    row = body["results"][0]
    assert (row["jumps"], row["jumps_to_start"]) == (4, None)
    assert row["route"] == {
        "mode": "secure",
        "jumps": 4,
        "min_security": 0.3,
        "high_sec_jumps": 3,
        "low_sec_jumps": 1,
        "null_sec_jumps": 0,
        "max_risk": None,
    }
    assert row["profit_per_jump"] == pytest.approx(1000.0 / 4)
    shortest = APIClient().get(REGION, {"route_mode": "shortest", "sales_tax": "0", "origin": "Synth Other"}).json()
    row = shortest["results"][0]
    assert (row["jumps"], row["jumps_to_start"], row["route"]["null_sec_jumps"]) == (3, 4, 1)
    assert row["profit_per_jump"] == pytest.approx(1000.0 / 7)
    assert APIClient().get(GLOBAL, {"max_jumps": 2}).json()["results"] == []
    assert APIClient().get(GLOBAL, {"avoid": f"{X2},{X5}"}).json()["results"] == []  # not connected: dropped
    capped = APIClient().get(GLOBAL, {"cargo_m3": 0.55, "budget_isk": 1e9, "sales_tax": 0}).json()["results"][0]
    assert (capped["units"], capped["jumps"], capped["route"]["mode"]) == (55, 4, "secure")  # 0.55 / 0.01 m3
    assert capped["total_profit"] == pytest.approx(550.0)
    assert APIClient().get(GLOBAL, {"budget_isk": 9.99}).json()["results"] == []


def test_bad_route_parameters(book: str) -> None:
    """Unknown systems or stations are 404 naming them; bad numbers 400; origin=current/home need a login."""
    client = APIClient()
    unknown = client.get(GLOBAL, {"origin": "Nowhere Prime"})
    assert unknown.status_code == 404
    assert "Nowhere Prime" in unknown.json()["detail"]
    avoid = client.get(GLOBAL, {"avoid": "Synth Low,Atlantis,Mu"})
    assert avoid.status_code == 404
    assert "Atlantis" in avoid.json()["detail"]
    assert "Mu" in avoid.json()["detail"]
    for params in (
        {"cargo_m3": -1},
        {"cargo_m3": "lots"},
        {"budget_isk": -0.5},
        {"budget_isk": "rich"},
        {"budget_isk": "nan"},
        {"max_jumps": -1},
        {"route_mode": "fast"},
        {"sort": "profit"},
    ):
        assert client.get(GLOBAL, params).status_code == 400, params
        assert client.get(REGION, params).status_code == 400, params
    assert client.get(GLOBAL, {"origin": "current"}).status_code == 401
    assert client.get(GLOBAL, {"origin": "home"}).status_code == 401
    bad = client.post(
        "/api/market/profit/",
        {"buy_station_id": STATION_A, "sell_station_id": STATION_C, "type_id": TYPE_PLAIN, "cargo_m3": -3},
        format="json",
    )
    assert bad.status_code == 400


def test_user_defaults_and_home(book: str) -> None:
    """A logged-in user's route mode, avoid list and home station (the origin) are the defaults."""
    user = get_user_model().objects.create_user(username="hauler")
    saved = UserSettings.objects.create(user=user, sales_tax=0, broker_fee=0, avoid=[], default_route_mode="shortest")
    client = APIClient()
    client.force_login(user)
    assert client.get(GLOBAL, {"origin": "home"}).status_code == 404  # no home station saved
    saved.home_station_id = STATION_C
    saved.avoid = [X2]
    saved.save()
    row = client.get(GLOBAL, {"origin": "home"}).json()["results"][0]
    # shortest, avoiding X2: HIGH-X3-X4-X5-LOW (4); from the home station in Synth Low back to HIGH: 4.
    assert (row["route"]["mode"], row["jumps"], row["jumps_to_start"]) == ("shortest", 4, 4)
    row = client.get(GLOBAL, {"origin": str(SYSTEM_OTHER), "avoid": ""}).json()["results"][0]
    assert (row["jumps"], row["jumps_to_start"]) == (3, 4)
    # Without origin the saved home station is the origin: every scan of this user is routed.
    for url in (GLOBAL, REGION):
        row = client.get(url).json()["results"][0]
        assert (row["route"]["mode"], row["jumps"], row["jumps_to_start"]) == ("shortest", 4, 4)
    assert client.get(GLOBAL, {"max_jumps_to_start": 3}).json()["results"] == []


def test_profit_breakdown_with_route_and_caps(book: str) -> None:
    """POST /api/market/profit/ tells the same jumps, route, capped units and profit per jump as the scan."""
    payload: dict[str, Any] = {
        "buy_station_id": STATION_A,
        "sell_station_id": STATION_C,
        "type_id": TYPE_PLAIN,
        "sales_tax": 0,
        "route_mode": "shortest",
        "origin": "Synth Other",
        "cargo_m3": 0.5,
        "max_jumps": 3,
    }
    body = APIClient().post("/api/market/profit/", payload, format="json").json()
    assert (body["units"], body["jumps"], body["jumps_to_start"]) == (50, 3, 4)
    assert body["route"]["jumps"] == 3
    assert body["profit_per_jump"] == pytest.approx(500.0 / 7)
    assert body["passes_filters"] is True
    body = APIClient().post("/api/market/profit/", {**payload, "max_jumps": 2}, format="json").json()
    assert body["passes_filters"] is False
    plain = APIClient().post("/api/market/profit/", {k: payload[k] for k in list(payload)[:4]}, format="json").json()
    assert (plain["jumps"], plain["route"]["mode"], plain["units"]) == (4, "secure", 100)  # routed by default


def test_avoid_beyond_the_tree_cap_is_400(book: str, settings: Any) -> None:
    """An avoid list needs trees per request: past ROUTING_JUMPS_MAX_TREES the answer is a clear 400."""
    settings.ROUTING_JUMPS_MAX_TREES = 0
    response = APIClient().get(GLOBAL, {"avoid": str(X2)})
    assert response.status_code == 400
    assert "at most 0" in response.json()["detail"]


def test_scans_are_routed_by_default_once_the_graph_has_jump_tables(book: str) -> None:
    """No route parameter: secure routes from the stored table; without tables: plain rows and no route mode."""
    body = APIClient().get(GLOBAL, {"sales_tax": 0}).json()
    assert body["route_mode"] == "secure"
    assert body["route_note"] is None
    assert [(r["jumps"], r["route"]["mode"]) for r in body["results"]] == [(4, "secure")]
    region = APIClient().get(REGION, {"sales_tax": 0}).json()
    assert (region["route_mode"], region["results"][0]["jumps"]) == ("secure", 4)
    JumpTable.objects.all().delete()
    plain = APIClient().get(GLOBAL, {"sales_tax": 0}).json()
    assert (plain["route_mode"], plain["results"][0]["jumps"], plain["results"][0]["route"]) == (None, None, None)


def test_a_default_route_that_cannot_be_computed_now_answers_plain_rows_with_a_note(book: str, settings: Any) -> None:
    """While the table is outdated and the scan needs more trees than allowed: plain rows and why, not a 503."""
    JumpTable.objects.update(graph_key="outdated")
    settings.ROUTING_JUMPS_MAX_TREES = 0
    body = APIClient().get(GLOBAL, {"sales_tax": 0}).json()
    assert body["route_mode"] is None
    assert "rebuilt" in body["route_note"]
    assert [(r["jumps"], r["total_profit"]) for r in body["results"]] == [(None, pytest.approx(1000.0))]
    asked = APIClient().get(GLOBAL, {"route_mode": "secure"})  # asked for routes: the error stands
    assert asked.status_code == 503


def test_a_scan_on_a_graph_without_weights_writes_them_before_routing(
    graph_label: str, settings: Any, db: None
) -> None:
    """A graph ingested since the last check has no weights: the scan writes them first, so secure stays secure.

    Routed over gates without weights, every mode took the fewest jumps (3 instead of the secure route's 4).
    """
    settings.ROUTING_GRAPH_LABEL = graph_label
    synthetic_universe_load()
    graph_create(graph_label, HAUL_SYSTEMS, HAUL_GATES)
    _store(
        [
            _order(1, SYSTEM_HIGH, STATION_A, buy=False, price=10.0, volume=100),
            _order(2, SYSTEM_LOW, STATION_C, buy=True, price=20.0, volume=100),
        ]
    )
    for mode, jumps in (("shortest", 3), ("secure", 4)):
        body = APIClient().get(GLOBAL, {"route_mode": mode, "sales_tax": "0"}).json()
        assert [(r["jumps"], r["route"]["mode"]) for r in body["results"]] == [(jumps, mode)], body
