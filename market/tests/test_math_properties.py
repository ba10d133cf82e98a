"""Property-based tests: the SQL scans equal the brute-force reference on random order books."""

from __future__ import annotations

import math
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from market.history_models import MarketHistoryType
from market.profit import market_profit_breakdown
from market.selectors import (
    TradeQuery,
    TradeRow,
    market_hauling_scan,
    market_station_scan,
)
from market.services import market_snapshot_store
from market.tests.conftest import (
    LOCATIONS,
    REGION_1,
    REGION_2,
    SECURITY,
    STATION_A,
    STATION_C,
    STRUCTURE_X,
    TYPE_PACKAGED,
    TYPE_PLAIN,
    TYPE_UNKNOWN,
    VOLUMES,
    synthetic_universe_load,
)
from market.tests.reference import Universe, reference_hauling, reference_station

UNIVERSE = Universe(
    volumes=VOLUMES, security=SECURITY, regions={station: region for station, (_, region) in LOCATIONS.items()}
)
# Stored 30-day mean volumes per (region, type); absent keys were never fetched, 0 did not trade.
DAILY = st.dictionaries(
    keys=st.tuples(st.sampled_from([REGION_1, REGION_2]), st.sampled_from([TYPE_PACKAGED, TYPE_PLAIN, TYPE_UNKNOWN])),
    values=st.sampled_from([0.0, 0.5, 1.0, 3.0, 100.0, 5000.0]),
)
# A few prices repeat often (ties within and across stations); the rest are arbitrary.
_COMMON_PRICES = st.sampled_from([1.0, 2.0, 2.5, 3.0, 10.0, 10.01, 0.01])
PRICES = st.one_of(
    _COMMON_PRICES, _COMMON_PRICES, st.floats(min_value=0.01, max_value=1e7, allow_nan=False, allow_infinity=False)
)
VOLUME = st.one_of(st.integers(min_value=0, max_value=5), st.integers(min_value=0, max_value=10_000))


@st.composite
def order_books(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Draw random orders over the synthetic stations and types.

    Args:
        draw: Hypothesis' draw.

    Returns:
        ESI-shaped orders with unique order ids.
    """
    count = draw(st.integers(min_value=0, max_value=70))
    orders = []
    for i in range(count):
        location = draw(st.sampled_from(sorted(LOCATIONS)))
        system_id, _region = LOCATIONS[location]
        volume_remain = draw(VOLUME)
        orders.append(
            {
                "order_id": 1_000_000 + i,
                "type_id": draw(st.sampled_from([TYPE_PACKAGED, TYPE_PLAIN, TYPE_UNKNOWN])),
                "location_id": location,
                "system_id": system_id,
                "is_buy_order": draw(st.booleans()),
                "price": draw(PRICES),
                "volume_remain": volume_remain,
                "volume_total": volume_remain + draw(st.integers(min_value=0, max_value=3)),
                "min_volume": draw(st.integers(min_value=0, max_value=6)),
                "range": "region",
                "issued": "2026-11-28T12:00:00Z",
                "duration": 90,
            }
        )
    return orders


FILTERS = st.fixed_dictionaries(
    {},
    optional={
        "min_profit": st.floats(min_value=0, max_value=1e6),
        "min_profit_pct": st.sampled_from([0.0, 1.0, 10.0, 50.0]),
        "max_profit_pct": st.sampled_from([5.0, 100.0, 1000.0]),
        "min_units": st.integers(min_value=0, max_value=10),
        "max_volume_m3": st.sampled_from([0.0, 1.0, 10_000.0, 1e9]),
        "min_security": st.sampled_from([0.0, 0.45, 0.5, 0.9, 1.0]),
        "min_daily_volume": st.sampled_from([0.0, 1.0, 50.0]),
        "max_days_to_sell": st.sampled_from([0.0, 1.0, 10.0, 1e6]),
    },
)
RATES = st.tuples(st.sampled_from([0.0, 2.25, 3.6, 8.0, 50.0]), st.sampled_from([0.0, 1.5, 3.0, 10.0]))


def _region_orders(orders: list[dict[str, Any]], region_id: int) -> list[dict[str, Any]]:
    """Keep the orders located in one region.

    Args:
        orders: All orders.
        region_id: The region.

    Returns:
        Its orders.
    """
    return [o for o in orders if LOCATIONS[o["location_id"]][1] == region_id]


def _store(orders: list[dict[str, Any]], daily: dict[tuple[int, int], float] | None = None) -> Universe:
    """Store both regions' orders as their current snapshots, and the daily volumes.

    Args:
        orders: All orders.
        daily: (region, type) -> avg_daily_volume to store.

    Returns:
        The reference's universe with those daily volumes.
    """
    for region_id in (REGION_1, REGION_2):
        market_snapshot_store(region_id=region_id, orders=_region_orders(orders, region_id))
    daily = daily or {}
    MarketHistoryType.objects.all().delete()
    now = timezone.now()
    MarketHistoryType.objects.bulk_create(
        MarketHistoryType(region_id=r, type_id=t, fetched_at=now, expires_at=now, days=30, avg_daily_volume=v)
        for (r, t), v in daily.items()
    )
    return UNIVERSE.with_daily(rows=daily)


def _same(actual: list[TradeRow], expected: list[dict[str, Any]]) -> None:
    """Assert same rows, same order, exact ids and integers, floats within 1e-9 relative.

    Args:
        actual: The scan's rows.
        expected: The reference's rows.
    """
    assert [(r.type_id, r.from_station_id, r.to_station_id) for r in actual] == [
        (e["type_id"], e["from_station_id"], e["to_station_id"]) for e in expected
    ]
    for rank, (row, ref) in enumerate(zip(actual, expected, strict=True), start=1):
        assert row.rank == rank
        for name in ("bid_order_id", "ask_order_id", "units", "depth_units", "from_system_id", "to_system_id"):
            assert getattr(row, name) == ref[name], name
        for name in ("bid", "ask", "profit_per_unit", "total_profit", "profit_pct", "depth_profit", "volume_m3"):
            got, want = getattr(row, name), ref[name]
            if want is None:
                assert got is None, name
            else:
                assert math.isclose(got, want, rel_tol=1e-9, abs_tol=0.0) or got == want, (name, got, want)
        assert row.from_security == ref["from_security"]
        assert row.to_security == ref["to_security"]
        assert row.avg_daily_volume == ref["avg_daily_volume"]
        got_days, want_days = row.days_to_sell, ref["days_to_sell"]
        assert (got_days is None and want_days is None) or math.isclose(got_days or 0, want_days, rel_tol=1e-9)


def _breakdown_matches(ref: dict[str, Any], tax: float, fee: float) -> None:
    """Assert that the profit breakdown of a reference row tells the same numbers.

    Args:
        ref: A reference row.
        tax: Sales tax percent.
        fee: Broker fee percent.
    """
    got = market_profit_breakdown(
        buy_station_id=ref["from_station_id"],
        sell_station_id=ref["to_station_id"],
        type_id=ref["type_id"],
        sales_tax=tax,
        broker_fee=fee,
    )
    assert got.profitable
    assert got.ask_order is not None
    assert got.bid_order is not None
    assert (got.ask_order.order_id, got.bid_order.order_id) == (ref["ask_order_id"], ref["bid_order_id"])
    assert (got.units, got.depth_units) == (ref["units"], ref["depth_units"])
    for name in ("profit_per_unit", "profit_pct", "total_profit", "depth_profit", "volume_m3"):
        want = ref[name]
        assert getattr(got, name) == (want if want is None else pytest.approx(want, rel=1e-9, abs=0.0)), name


PROPERTY_SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@pytest.mark.no_cover
@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(orders=order_books(), rates=RATES, filters=FILTERS, limit=st.integers(min_value=1, max_value=12), daily=DAILY)
def test_region_scan_equals_reference(
    orders: list[dict[str, Any]],
    rates: tuple[float, float],
    filters: dict[str, Any],
    limit: int,
    daily: dict[tuple[int, int], float],
) -> None:
    """Region hauling scan: same rows, order and values as the brute force over the region's orders."""
    synthetic_universe_load()
    universe = _store(orders, daily)
    tax, fee = rates
    rows = market_hauling_scan(
        query=TradeQuery(sales_tax=tax, broker_fee=fee, limit=limit, **filters), region_id=REGION_1
    )
    expected = reference_hauling(
        _region_orders(orders, REGION_1), sales_tax=tax, universe=universe, filters=filters, limit=limit
    )
    _same(rows, expected)
    for ref in expected[:2]:
        _breakdown_matches(ref, tax, fee)


@pytest.mark.no_cover
@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(orders=order_books(), rates=RATES, filters=FILTERS, limit=st.integers(min_value=1, max_value=12), daily=DAILY)
def test_global_scan_equals_reference(
    orders: list[dict[str, Any]],
    rates: tuple[float, float],
    filters: dict[str, Any],
    limit: int,
    daily: dict[tuple[int, int], float],
) -> None:
    """Global hauling scan over both regions' snapshots equals the brute force over every order."""
    synthetic_universe_load()
    universe = _store(orders, daily)
    tax, fee = rates
    rows = market_hauling_scan(query=TradeQuery(sales_tax=tax, broker_fee=fee, limit=limit, **filters))
    expected = reference_hauling(orders, sales_tax=tax, universe=universe, filters=filters, limit=limit)
    _same(rows, expected)


@pytest.mark.no_cover
@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(
    orders=order_books(),
    rates=RATES,
    filters=FILTERS,
    limit=st.integers(min_value=1, max_value=5),
    station=st.sampled_from([STATION_A, STATION_C, STRUCTURE_X]),
    daily=DAILY,
)
def test_station_scan_equals_reference(
    *,
    orders: list[dict[str, Any]],
    rates: tuple[float, float],
    filters: dict[str, Any],
    limit: int,
    station: int,
    daily: dict[tuple[int, int], float],
) -> None:
    """Station trading scan equals the brute force at that station."""
    synthetic_universe_load()
    universe = _store(orders, daily)
    tax, fee = rates
    rows = market_station_scan(
        query=TradeQuery(sales_tax=tax, broker_fee=fee, limit=limit, **filters), station_id=station, region_id=REGION_1
    )
    expected = reference_station(
        _region_orders(orders, REGION_1),
        station_id=station,
        sales_tax=tax,
        broker_fee=fee,
        universe=universe,
        filters=filters,
        limit=limit,
    )
    _same(rows, expected)
    for ref in expected[:2]:
        _breakdown_matches(ref, tax, fee)
