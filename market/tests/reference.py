"""A brute-force, loop-over-everything reference of the issue's trade definitions (tests only).

It shares no code with market.sql: it walks every (type, A, B) combination
and every order literally, and walks the books unit chunk by unit chunk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Universe:
    """What the reference knows: type volumes, system securities, station regions and daily volumes."""

    volumes: dict[int, tuple[float | None, float | None]]  # type id -> (packaged_volume, volume)
    security: dict[int, float]  # system id -> security
    regions: dict[int, int] = field(default_factory=dict)  # station id -> region id
    daily_volume: dict[tuple[int, int], float] = field(default_factory=dict)  # (region, type) -> avg; absent: none

    def with_daily(self, *, rows: Mapping[tuple[int, int], float]) -> Universe:
        """The same universe with these stored daily volumes."""
        return Universe(volumes=self.volumes, security=self.security, regions=self.regions, daily_volume=dict(rows))


def daily_volume_add(r: dict[str, Any], universe: Universe) -> None:
    """Set a row's ``avg_daily_volume`` (selling region) and ``days_to_sell = units / avg`` (None without)."""
    avg = universe.daily_volume.get((universe.regions.get(r["to_station_id"], 0), r["type_id"]))
    r["avg_daily_volume"] = avg
    r["days_to_sell"] = r["units"] / avg if avg else None


def row_passes(r: dict[str, Any], f: Mapping[str, Any]) -> bool:
    """Whether a finished row passes the scan filters (None values: unused)."""
    checks = (
        ("min_profit", lambda v: r["total_profit"] >= v),
        ("min_profit_pct", lambda v: r["profit_pct"] >= v),
        ("max_profit_pct", lambda v: r["profit_pct"] <= v),
        ("min_units", lambda v: r["units"] >= v),
        ("max_volume_m3", lambda v: r["volume_m3"] is not None and r["volume_m3"] <= v),
        (
            "min_security",
            lambda v: (
                r["from_security"] is not None
                and r["to_security"] is not None
                and r["from_security"] >= v
                and r["to_security"] >= v
            ),
        ),
        ("min_daily_volume", lambda v: r["avg_daily_volume"] is not None and r["avg_daily_volume"] >= v),
        ("max_days_to_sell", lambda v: r["days_to_sell"] is not None and r["days_to_sell"] <= v),
    )
    return all(f.get(name) is None or bool(check(f[name])) for name, check in checks)


def _best_ask(orders: list[dict[str, Any]]) -> dict[str, Any]:
    """Lowest sell; among equal prices the most volume, then the lowest order id.

    Args:
        orders: Sell orders.

    Returns:
        The chosen order.
    """
    best = orders[0]
    for o in orders[1:]:
        if (o["price"], -o["volume_remain"], o["order_id"]) < (best["price"], -best["volume_remain"], best["order_id"]):
            best = o
    return best


def _best_bid(orders: list[dict[str, Any]]) -> dict[str, Any]:
    """Highest buy; among equal prices the most volume, then the lowest order id.

    Args:
        orders: Buy orders.

    Returns:
        The chosen order.
    """
    best = orders[0]
    for o in orders[1:]:
        if (-o["price"], -o["volume_remain"], o["order_id"]) < (
            -best["price"],
            -best["volume_remain"],
            best["order_id"],
        ):
            best = o
    return best


def _walk(sells: list[dict[str, Any]], buys: list[dict[str, Any]], unit_profit: Any) -> tuple[int, float]:
    """Walk the sell book up and the buy book down while each further unit profits.

    Args:
        sells: Sell orders at the ask station.
        buys: Buy orders at the bid station.
        unit_profit: (sell price, buy price) -> profit of one unit.

    Returns:
        (units, profit).
    """
    s_book = [
        [o["price"], o["volume_remain"]] for o in sorted(sells, key=lambda o: o["price"]) if o["volume_remain"] > 0
    ]
    b_book = [
        [o["price"], o["volume_remain"]] for o in sorted(buys, key=lambda o: -o["price"]) if o["volume_remain"] > 0
    ]
    i = j = 0
    units, profit = 0, 0.0
    while i < len(s_book) and j < len(b_book):
        per_unit = unit_profit(s_book[i][0], b_book[j][0])
        if not per_unit > 0:
            break
        q = min(s_book[i][1], b_book[j][1])
        units += q
        profit += q * per_unit
        s_book[i][1] -= q
        b_book[j][1] -= q
        if s_book[i][1] == 0:
            i += 1
        if b_book[j][1] == 0:
            j += 1
    return units, profit


def _finish(
    rows: list[dict[str, Any]], universe: Universe, filters: Mapping[str, float | int | None], limit: int
) -> list[dict[str, Any]]:
    """Add volumes and securities, filter, rank and cut.

    Args:
        rows: Candidate rows with type/from/to/units/profit_per_unit/profit_pct/systems.
        universe: Volumes and securities.
        filters: Filter name -> value (None = unused).
        limit: Rows to keep.

    Returns:
        The ranked rows.
    """
    kept = []
    for r in rows:
        r["total_profit"] = r["units"] * r["profit_per_unit"]
        packaged, volume = universe.volumes.get(r["type_id"], (None, None))
        unit_volume = packaged if packaged is not None else volume
        r["volume_m3"] = r["units"] * unit_volume if unit_volume is not None else None
        r["from_security"] = universe.security.get(r["from_system_id"])
        r["to_security"] = universe.security.get(r["to_system_id"])
        daily_volume_add(r, universe)
        if row_passes(r, filters):
            kept.append(r)
    kept.sort(
        key=lambda r: (-r["profit_pct"], -r["total_profit"], r["type_id"], r["from_station_id"], r["to_station_id"])
    )
    return kept[:limit]


def reference_hauling(
    orders: list[dict[str, Any]],
    *,
    sales_tax: float,
    universe: Universe,
    filters: Mapping[str, float | int | None],
    limit: int,
) -> list[dict[str, Any]]:
    """Hauling A -> B over all the given orders, by the issue's definitions.

    Args:
        orders: Every order in scope.
        sales_tax: Percent.
        universe: Volumes and securities.
        filters: Filter name -> value.
        limit: Rows to keep.

    Returns:
        The ranked rows with depth.
    """
    keep = 1 - sales_tax / 100
    rows = []
    type_ids = sorted({o["type_id"] for o in orders})
    stations = sorted({o["location_id"] for o in orders})
    for type_id in type_ids:
        for a in stations:
            sells = [o for o in orders if o["type_id"] == type_id and o["location_id"] == a and not o["is_buy_order"]]
            if not sells:
                continue
            ask_order = _best_ask(sells)
            for b in stations:
                if b == a:
                    continue
                buys = [o for o in orders if o["type_id"] == type_id and o["location_id"] == b and o["is_buy_order"]]
                if not buys:
                    continue
                bid_order = _best_bid(buys)
                ask, bid = ask_order["price"], bid_order["price"]
                profit = bid * keep - ask
                if not profit > 0:
                    continue
                units = min(ask_order["volume_remain"], bid_order["volume_remain"])
                if units < bid_order["min_volume"]:
                    continue
                depth_units, depth_profit = _walk(sells, buys, lambda s, d: d * keep - s)
                rows.append(
                    {
                        "type_id": type_id,
                        "from_station_id": a,
                        "to_station_id": b,
                        "from_system_id": ask_order["system_id"],
                        "to_system_id": bid_order["system_id"],
                        "bid": bid,
                        "ask": ask,
                        "bid_order_id": bid_order["order_id"],
                        "ask_order_id": ask_order["order_id"],
                        "units": units,
                        "profit_per_unit": profit,
                        "profit_pct": 100 * profit / ask,
                        "depth_units": depth_units,
                        "depth_profit": depth_profit,
                    }
                )
    return _finish(rows, universe, filters, limit)


def reference_station(
    orders: list[dict[str, Any]],
    *,
    station_id: int,
    sales_tax: float,
    broker_fee: float,
    universe: Universe,
    filters: Mapping[str, float | int | None],
    limit: int,
) -> list[dict[str, Any]]:
    """Station trading at one station, by the issue's definitions.

    Args:
        orders: The region's orders.
        station_id: The station.
        sales_tax: Percent.
        broker_fee: Percent.
        universe: Volumes and securities.
        filters: Filter name -> value.
        limit: Rows to keep.

    Returns:
        The ranked rows with depth.
    """
    net = 1 - sales_tax / 100 - broker_fee / 100
    gross = 1 + broker_fee / 100
    rows = []
    here = [o for o in orders if o["location_id"] == station_id]
    for type_id in sorted({o["type_id"] for o in here}):
        sells = [o for o in here if o["type_id"] == type_id and not o["is_buy_order"]]
        buys = [o for o in here if o["type_id"] == type_id and o["is_buy_order"]]
        if not sells or not buys:
            continue
        ask_order, bid_order = _best_ask(sells), _best_bid(buys)
        ask, bid = ask_order["price"], bid_order["price"]
        profit = ask * net - bid * gross
        if not profit > 0:
            continue
        depth_units, depth_profit = _walk(sells, buys, lambda s, d: s * net - d * gross)
        rows.append(
            {
                "type_id": type_id,
                "from_station_id": station_id,
                "to_station_id": station_id,
                "from_system_id": bid_order["system_id"],
                "to_system_id": ask_order["system_id"],
                "bid": bid,
                "ask": ask,
                "bid_order_id": bid_order["order_id"],
                "ask_order_id": ask_order["order_id"],
                "units": min(ask_order["volume_remain"], bid_order["volume_remain"]),
                "profit_per_unit": profit,
                "profit_pct": 100 * profit / (bid * gross),
                "depth_units": depth_units,
                "depth_profit": depth_profit,
            }
        )
    return _finish(rows, universe, filters, limit)
