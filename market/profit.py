"""Reads of market: the profit breakdown of one trade of one type between two stations (every number of it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from market import sql
from market.selectors import TradeQuery, market_sql_run, market_trade_rows
from universe.models import ItemType, SolarSystem, Station


@dataclass(frozen=True)
class OrderRef:
    """The order a breakdown uses on one side."""

    order_id: int
    price: float
    volume_remain: int
    min_volume: int
    system_id: int


@dataclass(frozen=True)
class StationRef:
    """A station with its system and security (names None when the SDE lacks them)."""

    station_id: int
    station_name: str | None
    system_id: int | None
    system_name: str | None
    security: float | None


@dataclass(frozen=True)
class ProfitBreakdown:
    """Every number of one trade of one type between two stations (whether it profits or not)."""

    kind: Literal["hauling", "station"]
    type_id: int
    type_name: str | None
    unit_volume_m3: float | None
    buy_station: StationRef
    sell_station: StationRef
    sales_tax: float
    broker_fee: float
    ask_order: OrderRef | None
    bid_order: OrderRef | None
    bid: float | None
    ask: float | None
    cost_per_unit: float | None
    revenue_per_unit: float | None
    sales_tax_per_unit: float | None
    broker_fee_per_unit: float | None
    profit_per_unit: float | None
    profit_pct: float | None
    units: int | None
    min_volume_ok: bool | None
    total_profit: float | None
    volume_m3: float | None
    depth_units: int
    depth_profit: float
    profitable: bool
    reason: str
    passes_filters: bool | None = None
    jumps: int | None = None
    jumps_to_start: int | None = None
    profit_per_jump: float | None = None
    route: Any = None  # routing.summary.RouteSummary when routed


_BEST_ORDERS_SQL = """
WITH cur AS (
    SELECT id FROM (
        SELECT id, ROW_NUMBER() OVER (PARTITION BY region_id, structure_id ORDER BY fetched_at DESC, id DESC) AS rn
        FROM market_marketsnapshot
    ) latest WHERE rn = 1
)
SELECT DISTINCT ON (is_buy_order) is_buy_order, order_id, price, volume_remain, min_volume, system_id
FROM market_marketorder
WHERE snapshot_id IN (SELECT id FROM cur) AND type_id = %(type_id)s
  AND ((NOT is_buy_order AND location_id = %(ask_location)s) OR (is_buy_order AND location_id = %(bid_location)s))
ORDER BY is_buy_order, CASE WHEN is_buy_order THEN -price ELSE price END, volume_remain DESC, order_id
"""


def _station_ref(station_id: int, system_id: int | None) -> StationRef:
    """Describe a station from the SDE (falling back on the order's system)."""
    station = Station.objects.filter(id=station_id).values("name", "system_id").first()
    sys_id = station["system_id"] if station else system_id
    system = SolarSystem.objects.filter(id=sys_id).values("name", "security").first() if sys_id else None
    return StationRef(
        station_id=station_id,
        station_name=station["name"] if station else None,
        system_id=sys_id,
        system_name=system["name"] if system else None,
        security=system["security"] if system else None,
    )


def market_profit_breakdown(
    *,
    buy_station_id: int,
    sell_station_id: int,
    type_id: int,
    sales_tax: float,
    broker_fee: float,
    filters: Mapping[str, float | int] | None = None,
) -> ProfitBreakdown:
    """Explain one trade: buy ``type_id`` at ``buy_station_id`` and sell it at ``sell_station_id``.

    Different stations are hauling (buy from the lowest sell order at the buy
    station, sell into the highest buy order at the sell station); the same
    station is station trading. Prices come from every region's current snapshot.

    Args:
        buy_station_id: Where the item is bought.
        sell_station_id: Where it is sold.
        type_id: The item type.
        sales_tax: Percent.
        broker_fee: Percent.
        filters: Scan filters (names of :data:`market.sql.FILTERS`); ``passes_filters`` tells whether
            a scan with them would list this trade (None when none are given).

    Returns:
        The breakdown (``profitable`` False with a ``reason`` when there is no profitable trade).
    """
    query = TradeQuery(sales_tax=sales_tax, broker_fee=broker_fee, limit=1)
    params = query.params()
    kind: Literal["hauling", "station"] = "station" if buy_station_id == sell_station_id else "hauling"
    ask_location = sell_station_id if kind == "station" else buy_station_id
    bid_location = buy_station_id if kind == "station" else sell_station_id
    best = market_sql_run(
        query=_BEST_ORDERS_SQL,
        params={"type_id": type_id, "ask_location": ask_location, "bid_location": bid_location},
    )
    by_side = {
        bool(r[0]): OrderRef(order_id=r[1], price=r[2], volume_remain=r[3], min_volume=r[4], system_id=r[5])
        for r in best
    }
    ask_order, bid_order = by_side.get(False), by_side.get(True)
    item = ItemType.objects.filter(id=type_id).first()
    unit_volume = (
        item.shipping_volume
        if item is not None and (item.volume is not None or item.packaged_volume is not None)
        else None
    )
    buy_side, sell_side = (ask_order, bid_order) if kind == "hauling" else (bid_order, ask_order)
    buy_ref = _station_ref(buy_station_id, buy_side.system_id if buy_side else None)
    sell_ref = _station_ref(sell_station_id, sell_side.system_id if sell_side else None)
    empty: dict[str, Any] = {
        "cost_per_unit": None,
        "revenue_per_unit": None,
        "sales_tax_per_unit": None,
        "broker_fee_per_unit": None,
        "profit_per_unit": None,
        "profit_pct": None,
        "units": None,
        "min_volume_ok": None,
        "total_profit": None,
        "volume_m3": None,
    }
    common: dict[str, Any] = {
        "kind": kind,
        "type_id": type_id,
        "type_name": item.name if item else None,
        "unit_volume_m3": unit_volume,
        "buy_station": buy_ref,
        "sell_station": sell_ref,
        "sales_tax": sales_tax,
        "broker_fee": broker_fee,
        "ask_order": ask_order,
        "bid_order": bid_order,
        "bid": bid_order.price if bid_order else None,
        "ask": ask_order.price if ask_order else None,
    }
    if ask_order is None or bid_order is None:
        missing = "sell" if ask_order is None else "buy"
        where = ask_location if ask_order is None else bid_location
        return ProfitBreakdown(
            **common,
            **empty,
            depth_units=0,
            depth_profit=0.0,
            profitable=False,
            reason=f"no {missing} order of type {type_id} at station {where}",
        )
    bid, ask = bid_order.price, ask_order.price
    units = min(ask_order.volume_remain, bid_order.volume_remain)
    if kind == "hauling":
        cost, revenue = ask, bid
        tax_unit, fee_unit = bid * (sales_tax / 100), 0.0
        profit = bid * params["keep"] - ask
        pct = 100 * profit / ask
        min_ok = units >= bid_order.min_volume
    else:
        cost, revenue = bid * params["gross"], ask
        tax_unit, fee_unit = ask * (sales_tax / 100), ask * (broker_fee / 100) + bid * (broker_fee / 100)
        profit = ask * params["net"] - bid * params["gross"]
        pct = 100 * profit / (bid * params["gross"])
        min_ok = True
    depth_units, depth_profit = 0, 0.0
    profitable = profit > 0 and min_ok
    used = {k: v for k, v in (filters or {}).items() if v is not None}
    passes_filters: bool | None = (False if used else None) if not profitable else None
    if profitable:
        pair_params = {
            **params,
            "type_id": type_id,
            "from_id": buy_station_id,
            "to_id": sell_station_id,
            "station_id": buy_station_id,
        }
        text = sql.trade_sql(kind=kind, region_scoped=False, pair=True)
        rows = market_trade_rows(rows=market_sql_run(query=text, params=pair_params))
        if rows:
            depth_units, depth_profit = rows[0].depth_units, rows[0].depth_profit
        if used:
            text = sql.trade_sql(kind=kind, region_scoped=False, pair=True, filters=list(used))
            passes_filters = bool(market_sql_run(query=text, params={**pair_params, **used}))
    reason = (
        "profitable"
        if profitable
        else ("units below the buy order's min_volume" if profit > 0 else "no profit per unit")
    )
    return ProfitBreakdown(
        **common,
        cost_per_unit=cost,
        revenue_per_unit=revenue,
        sales_tax_per_unit=tax_unit,
        broker_fee_per_unit=fee_unit,
        profit_per_unit=profit,
        profit_pct=pct,
        units=units,
        min_volume_ok=min_ok,
        total_profit=units * profit,
        volume_m3=units * unit_volume if unit_volume is not None else None,
        depth_units=depth_units,
        depth_profit=depth_profit,
        profitable=profitable,
        reason=reason,
        passes_filters=passes_filters,
    )
