"""Brute-force reference of issue 17's hauling definitions (tests only): caps, jumps, filters and sorts.

It starts from the plain reference's candidate rows (:func:`market.tests.reference.reference_hauling`
without filters or cut) and applies the definitions literally, in plain Python.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from market.tests.reference import Universe, daily_volume_add, reference_hauling, row_passes


@dataclass(frozen=True)
class HaulLimits:
    """The trip's origin, caps, jump limits and sort.

    Attributes:
        origin: Origin system.
        cargo_m3: Hold.
        budget_isk: Wallet.
        max_jumps: Most jumps A -> B.
        max_jumps_to_start: Most jumps origin -> A.
        sort: profit_pct, total_profit or profit_per_jump.
    """

    origin: int | None = None
    cargo_m3: float | None = None
    budget_isk: float | None = None
    max_jumps: int | None = None
    max_jumps_to_start: int | None = None
    sort: str = "profit_pct"


def _capped(r: dict[str, Any], universe: Universe, limits: HaulLimits) -> dict[str, Any] | None:
    """A candidate row with its units capped by the hold and the wallet (None when nothing is left)."""
    packaged, volume = universe.volumes.get(r["type_id"], (None, None))
    unit_volume = packaged if packaged is not None else volume
    units = r["units"]
    if limits.cargo_m3 is not None:
        if unit_volume is None:
            return None
        if unit_volume > 0:
            units = min(units, math.floor(limits.cargo_m3 / unit_volume))
    if limits.budget_isk is not None:
        units = min(units, math.floor(limits.budget_isk / r["ask"]))
    if (limits.cargo_m3 is not None or limits.budget_isk is not None) and units <= 0:
        return None
    capped = {**r, "units": units, "total_profit": units * r["profit_per_unit"]}
    capped["volume_m3"] = units * unit_volume if unit_volume is not None else None
    daily_volume_add(capped, universe)
    capped["jumps"] = capped["jumps_to_start"] = capped["profit_per_jump"] = None
    return capped


def _routed(r: dict[str, Any], jumps: Callable[[int, int], int | None], limits: HaulLimits) -> bool:
    """Add a row's jumps and profit per jump (in place); whether it is reachable within the jump limits."""
    r["jumps"] = jumps(r["from_system_id"], r["to_system_id"])
    if r["jumps"] is None:
        return False
    if limits.origin is not None:
        r["jumps_to_start"] = jumps(limits.origin, r["from_system_id"])
        if r["jumps_to_start"] is None:
            return False
    r["profit_per_jump"] = r["total_profit"] / max((r["jumps_to_start"] or 0) + r["jumps"], 1)
    if limits.max_jumps is not None and not r["jumps"] <= limits.max_jumps:
        return False
    return limits.max_jumps_to_start is None or r["jumps_to_start"] <= limits.max_jumps_to_start


def reference_haul(
    orders: list[dict[str, Any]],
    *,
    sales_tax: float,
    universe: Universe,
    filters: Mapping[str, Any],
    limit: int,
    jumps: Callable[[int, int], int | None] | None = None,
    limits: HaulLimits | None = None,
) -> list[dict[str, Any]]:
    """Hauling rows by the issue's definitions.

    Args:
        orders: Every order in scope.
        sales_tax: Percent.
        universe: Volumes and securities.
        filters: The plain filters.
        limit: Rows to keep.
        jumps: Jumps between two systems (None when not connected); None: the scan is not routed.
        limits: Origin, hold, wallet, jump limits and sort (None: none of them, sorted by profit_pct).

    Returns:
        The ranked rows (``jumps``, ``jumps_to_start`` and ``profit_per_jump`` added).
    """
    limits = limits or HaulLimits()
    rows = reference_hauling(orders, sales_tax=sales_tax, universe=universe, filters={}, limit=10**9)
    kept = []
    for row in rows:
        r = _capped(row, universe, limits)
        if r is None or (jumps is not None and not _routed(r, jumps, limits)):
            continue
        if not row_passes(r, filters):
            continue
        kept.append(r)
    first = {"profit_pct": None, "total_profit": "total_profit", "profit_per_jump": "profit_per_jump"}[limits.sort]

    def order(r: dict[str, Any]) -> tuple[Any, ...]:
        """The sort key, then today's ties."""
        ties = (-r["profit_pct"], -r["total_profit"], r["type_id"], r["from_station_id"], r["to_station_id"])
        return ((-r[first],) if first else ()) + ties

    kept.sort(key=order)
    return kept[:limit]
