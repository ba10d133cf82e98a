"""Fixtures of the appraisal tests: a fixed Jita order book on the real SDE (real type names and volumes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from market.services import market_snapshot_store
from market.testing import esi_order
from universe.models import Station

JITA, THE_FORGE = 60003760, 10000002
TRITANIUM, PYERITE, MEXALLON, RIFTER, RIFTER_BLUEPRINT = 34, 35, 36, 587, 691
DAMAGE_CONTROL_I, AFTERBURNER_1MN_I, AUTOCANNON_200MM_I, EMP_S, HOBGOBLIN_I = 2046, 439, 486, 185, 2454

# The fixed book at Jita IV-4: type -> (sell orders, buy orders), each (price, units[, min_volume]).
BOOK: dict[int, tuple[list[tuple[float, ...]], list[tuple[float, ...]]]] = {
    TRITANIUM: ([(4.0, 1000), (4.5, 2000), (5.0, 10000)], [(3.5, 3000), (3.0, 5000), (2.0, 100000)]),
    PYERITE: ([(12.0, 500), (10.0, 500)], [(8.0, 600)]),
    MEXALLON: ([(60.0, 1000)], [(50.0, 5000, 1000), (40.0, 500)]),
    RIFTER: ([(550_000.0, 3), (500_000.0, 2)], [(350_000.0, 10), (400_000.0, 1)]),
    RIFTER_BLUEPRINT: ([(1_000_000.0, 5)], [(900_000.0, 1)]),
    DAMAGE_CONTROL_I: ([(10_000.0, 50)], [(8_000.0, 50)]),
    AFTERBURNER_1MN_I: ([(20_000.0, 10)], []),
    AUTOCANNON_200MM_I: ([(5_000.0, 100)], [(4_000.0, 100)]),
    EMP_S: ([(20.0, 100_000)], [(15.0, 100_000)]),
    HOBGOBLIN_I: ([(3_000.0, 100)], [(2_500.0, 100)]),
}


def book_orders(station: Station, book: dict[int, tuple[list[tuple[float, ...]], list[tuple[float, ...]]]]) -> list:
    """ESI orders of a book at one station (order ids from 1)."""
    orders: list[dict[str, Any]] = []
    for type_id, (sells, buys) in book.items():
        for buy, side in ((False, sells), (True, buys)):
            for entry in side:
                order = esi_order(len(orders) + 1, station, type_id, buy=buy, price=entry[0], volume=int(entry[1]))
                if len(entry) > 2:
                    order["min_volume"] = int(entry[2])
                orders.append(order)
    return orders


@pytest.fixture
def jita_book(sde_universe: Path) -> Station:
    """The Forge's snapshot: the fixed book at Jita IV-4, and far better prices at another Forge station (ignored).

    Args:
        sde_universe: The real SDE.

    Returns:
        Jita IV-4.
    """
    jita = Station.objects.get(id=JITA)
    other = Station.objects.filter(region_id=THE_FORGE).exclude(id=JITA).order_by("id").first()
    assert other is not None
    decoys = book_orders(other, {t: ([(0.01, 10**9)], [(10**9, 10**9)]) for t in BOOK})
    orders = book_orders(jita, BOOK)
    for n, order in enumerate(decoys, start=len(orders) + 1):
        order["order_id"] = n
    market_snapshot_store(region_id=THE_FORGE, orders=orders + decoys)
    return jita
