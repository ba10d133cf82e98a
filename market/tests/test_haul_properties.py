"""Property tests of the route-aware hauling scans (issue 17) against the brute-force reference.

The synthetic market universe's systems get a small gate graph (under a scratch
Neo4j label) with a few systems between them, so the three route modes give
different jump counts. Jumps of the reference come from plain-Python searches
(:mod:`routing.tests.reference`) over the same gates.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from market.haul import HaulQuery, market_haul_scan
from market.selectors import TradeQuery
from market.tests.conftest import (
    REGION_1,
    SECURITY,
    SYSTEM_HIGH,
    SYSTEM_LOW,
    SYSTEM_OTHER,
    TYPE_PLAIN,
    synthetic_universe_load,
)
from market.tests.reference_haul import HaulLimits, reference_haul
from market.tests.test_math_properties import DAILY, FILTERS, _region_orders, _store, order_books
from routing.jumps import jump_state_current
from routing.jumps_build import jump_tables_build
from routing.models import JumpTable
from routing.services import route_weights_refresh
from routing.tests.conftest import graph_create
from routing.tests.reference import bfs_jumps, lexicographic_cost
from universe.security import security_is_high

X1, X2, X3, X4, X5, ISLAND = 39910001, 39910002, 39910003, 39910004, 39910005, 39910009
HAUL_SYSTEMS = [
    (SYSTEM_HIGH, "Synth High", SECURITY[SYSTEM_HIGH]),
    (SYSTEM_LOW, "Synth Low", SECURITY[SYSTEM_LOW]),
    (SYSTEM_OTHER, "Synth Other", SECURITY[SYSTEM_OTHER]),
    (X1, "X One", 0.5),
    (X2, "X Two", -0.1),
    (X3, "X Three", 0.7),
    (X4, "X Four", 0.6),
    (X5, "X Five", 0.8),
    (ISLAND, "X Island", 0.9),
]
# HIGH-X1-X2-LOW: 3 jumps (null, then low-sec); HIGH-X3-X4-X5-LOW: 4 jumps, only LOW is not high-sec; OTHER-X5.
HAUL_GATES = [
    (SYSTEM_HIGH, X1), (X1, X2), (X2, SYSTEM_LOW),
    (SYSTEM_HIGH, X3), (X3, X4), (X4, X5), (X5, SYSTEM_LOW),
    (SYSTEM_OTHER, X5),
]  # fmt: skip
SECURITIES = {i: s for i, _, s in HAUL_SYSTEMS}
ADJACENCY: dict[int, list[int]] = {}
for _a, _b in HAUL_GATES:
    ADJACENCY.setdefault(_a, []).append(_b)
    ADJACENCY.setdefault(_b, []).append(_a)
ALL_SYSTEMS = [i for i, _, _ in HAUL_SYSTEMS]


def reference_jumps(mode: str, avoid: set[int]) -> Any:
    """Jumps between two systems in a mode, avoided systems never entered except as the destination."""

    def jumps(a: int, b: int) -> int | None:
        """The reference's jumps (None when not connected)."""
        if a == b:
            return 0
        blocked = avoid - {a, b}
        adjacency = {s: [t for t in ts if t not in blocked] for s, ts in ADJACENCY.items()}
        if mode == "shortest":
            return bfs_jumps(adjacency, a, b)
        unwanted = (lambda s: not security_is_high(SECURITIES[s])) if mode == "secure" else None
        if mode == "insecure":
            unwanted = lambda s: security_is_high(SECURITIES[s])  # noqa: E731
        found = lexicographic_cost(adjacency, a, b, unwanted)  # type: ignore[arg-type]
        return None if found is None else found[1]

    return jumps


@pytest.fixture
def haul_graph(graph_label: str, settings: Any, db: None) -> str:
    """The synthetic universe, its gate graph under a scratch label, and every jump table built for it."""
    settings.ROUTING_GRAPH_LABEL = graph_label
    synthetic_universe_load()
    graph_create(graph_label, HAUL_SYSTEMS, HAUL_GATES)
    route_weights_refresh()
    reports = jump_tables_build()
    assert len([r for r in reports if r.built]) == 6
    return graph_label


ROUTES = st.fixed_dictionaries(
    {
        "route_mode": st.sampled_from(["shortest", "secure", "insecure"]),
        "avoid": st.sets(st.sampled_from([X1, X2, X3, X4, X5, SYSTEM_LOW]), max_size=2),
        "avoid_risk": st.booleans(),
        "origin": st.one_of(st.none(), st.sampled_from(ALL_SYSTEMS)),
        "cargo_m3": st.one_of(st.none(), st.sampled_from([0.0, 0.5, 3000.0, 1e6])),
        "budget_isk": st.one_of(st.none(), st.sampled_from([0.0, 5.0, 1000.0, 1e9])),
        "max_jumps": st.one_of(st.none(), st.integers(min_value=0, max_value=5)),
        "max_jumps_to_start": st.one_of(st.none(), st.integers(min_value=0, max_value=4)),
        "sort": st.sampled_from(["profit_pct", "total_profit", "profit_per_jump"]),
    }
)
PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def _same(rows: list[Any], expected: list[dict[str, Any]], routed: bool) -> None:
    """Same rows in the same order, with the same capped numbers and jumps."""
    assert [(r.type_id, r.from_station_id, r.to_station_id) for r in rows] == [
        (e["type_id"], e["from_station_id"], e["to_station_id"]) for e in expected
    ]
    for row, ref in zip(rows, expected, strict=True):
        assert (row.units, row.jumps, row.jumps_to_start) == (ref["units"], ref["jumps"], ref["jumps_to_start"])
        assert row.avg_daily_volume == ref["avg_daily_volume"]
        for name in ("total_profit", "profit_per_jump", "volume_m3", "days_to_sell"):
            got, want = getattr(row, name), ref[name]
            assert (got is None and want is None) or math.isclose(got, want, rel_tol=1e-9), (name, got, want)
        if routed:
            route = row.route
            assert route is not None
            assert route.jumps == row.jumps
            assert route.high_sec_jumps + route.low_sec_jumps + route.null_sec_jumps == route.jumps
            if route.jumps == 0:
                assert route.min_security == SECURITIES[row.from_system_id]
        else:
            assert row.route is None


@pytest.mark.no_cover
@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(
    orders=order_books(),
    routes=ROUTES,
    filters=FILTERS,
    limit=st.integers(min_value=1, max_value=12),
    region=st.booleans(),
    daily=DAILY,
)
def test_routed_scans_equal_the_reference(
    haul_graph: str,
    *,
    orders: list[dict[str, Any]],
    routes: dict[str, Any],
    filters: dict,
    limit: int,
    region: bool,
    daily: dict[tuple[int, int], float],
) -> None:
    """Region and global scans with routes, origin, caps, jump limits, daily volumes and sorts equal the reference."""
    universe = _store(orders, daily)
    if routes["origin"] is None:
        routes["max_jumps_to_start"] = None
    haul = HaulQuery(
        routed=True,
        route_mode=routes["route_mode"],
        avoid=tuple(sorted(routes["avoid"])),
        avoid_risk=routes["avoid_risk"],
        origin_system=routes["origin"],
        cargo_m3=routes["cargo_m3"],
        budget_isk=routes["budget_isk"],
        max_jumps=routes["max_jumps"],
        max_jumps_to_start=routes["max_jumps_to_start"],
        sort=routes["sort"],
    )
    scan = market_haul_scan(
        query=TradeQuery(sales_tax=8.0, broker_fee=3.0, limit=limit, **filters),
        haul=haul,
        region_id=REGION_1 if region else None,
        state=jump_state_current(),
    )
    assert scan.view is not None
    assert (scan.view.table_id is None) == bool(routes["avoid"])  # avoid never reads a stored table
    expected = reference_haul(
        _region_orders(orders, REGION_1) if region else orders,
        sales_tax=8.0,
        universe=universe,
        filters=filters,
        limit=limit,
        jumps=reference_jumps(routes["route_mode"], set(routes["avoid"])),
        limits=HaulLimits(
            origin=routes["origin"],
            cargo_m3=routes["cargo_m3"],
            budget_isk=routes["budget_isk"],
            max_jumps=routes["max_jumps"],
            max_jumps_to_start=routes["max_jumps_to_start"],
            sort=routes["sort"],
        ),
    )
    _same(scan.rows, expected, routed=True)


@pytest.mark.no_cover
@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(
    orders=order_books(),
    cargo=st.one_of(st.none(), st.sampled_from([0.0, 0.5, 3000.0])),
    budget=st.one_of(st.none(), st.sampled_from([0.0, 5.0, 1000.0])),
    sort=st.sampled_from(["profit_pct", "total_profit"]),
    limit=st.integers(min_value=1, max_value=12),
    daily=DAILY,
    days=st.sampled_from([None, 0.5, 2.0, 1e6]),
)
def test_unrouted_caps_and_sorts_equal_the_reference(
    *,
    orders: list[dict[str, Any]],
    cargo: float | None,
    budget: float | None,
    sort: str,
    limit: int,
    daily: dict[tuple[int, int], float],
    days: float | None,
) -> None:
    """Without route parameters: the caps, days to sell of the capped units and the sort; no route on rows."""
    synthetic_universe_load()
    universe = _store(orders, daily)
    haul = HaulQuery(cargo_m3=cargo, budget_isk=budget, sort=sort)
    filters = {"max_days_to_sell": days} if days is not None else {}
    query = TradeQuery(sales_tax=3.6, broker_fee=0.0, limit=limit, max_days_to_sell=days)
    scan = market_haul_scan(query=query, haul=haul)
    expected = reference_haul(
        orders,
        sales_tax=3.6,
        universe=universe,
        filters=filters,
        limit=limit,
        limits=HaulLimits(cargo_m3=cargo, budget_isk=budget, sort=sort),
    )
    _same(scan.rows, expected, routed=False)


@pytest.mark.django_db
def test_missing_or_outdated_tables_fall_back_to_trees(haul_graph: str) -> None:
    """Without a matching table the scan computes the few trees it needs, with the same answer."""
    orders = [
        _order(1, SYSTEM_HIGH, 69900001, buy=False, price=10.0, volume=100),
        _order(2, SYSTEM_LOW, 69900003, buy=True, price=20.0, volume=100),
    ]
    _store(orders)
    query = TradeQuery(sales_tax=0.0, broker_fee=0.0, limit=5)
    haul = HaulQuery(routed=True, route_mode="secure", origin_system=SYSTEM_OTHER)
    stored = market_haul_scan(query=query, haul=haul, state=jump_state_current())
    assert stored.view is not None
    assert stored.view.table_id is not None
    assert not stored.view.temp
    assert [(r.jumps, r.jumps_to_start) for r in stored.rows] == [(4, 4)]
    JumpTable.objects.update(graph_key="old")
    fallback = market_haul_scan(query=query, haul=haul, state=jump_state_current())
    assert fallback.view is not None
    assert fallback.view.table_id is None
    assert fallback.view.temp
    assert fallback.rows == stored.rows


def _order(i: int, system: int, station: int, *, buy: bool, price: float, volume: int) -> dict[str, Any]:
    """One ESI order of the plain type."""
    return {
        "order_id": 5_000_000 + i,
        "type_id": TYPE_PLAIN,
        "location_id": station,
        "system_id": system,
        "is_buy_order": buy,
        "price": price,
        "volume_remain": volume,
        "volume_total": volume,
        "min_volume": 1,
        "range": "region",
        "issued": "2026-11-28T12:00:00Z",
        "duration": 90,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sort", "first"), [("profit_per_jump", 69900002), ("total_profit", 69900003), ("profit_pct", 69900003)]
)
def test_each_sort_orders_before_the_cut(haul_graph: str, sort: str, first: int) -> None:
    """A→B in one system (0 jumps, profit 100) against A→C (4 jumps, profit 200): each sort picks its best."""
    _store(
        [
            _order(1, SYSTEM_HIGH, 69900001, buy=False, price=10.0, volume=100),  # sell at A
            _order(2, SYSTEM_HIGH, 69900002, buy=True, price=11.0, volume=100),  # buy at B: 100 ISK, 10 %
            _order(3, SYSTEM_LOW, 69900003, buy=True, price=12.0, volume=100),  # buy at C: 200 ISK, 20 %, 4 jumps
        ]
    )
    haul = HaulQuery(routed=True, route_mode="secure", sort=sort)
    rows = market_haul_scan(
        query=TradeQuery(sales_tax=0.0, broker_fee=0.0, limit=1), haul=haul, state=jump_state_current()
    ).rows
    assert [r.to_station_id for r in rows] == [first]
    assert rows[0].profit_per_jump == pytest.approx(100.0 if first == 69900002 else 50.0)
