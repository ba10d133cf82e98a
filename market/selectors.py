"""Reads of market: trade scans (set-based SQL in PostgreSQL), best prices and profit breakdowns."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_redis import get_redis_connection

from accounts.selectors import user_settings_get
from evesite.exceptions import InvalidInputError
from market import sql
from market.models import MarketSnapshot
from universe.models import ItemType, SolarSystem, Station

SNAPSHOT_META_KEY = "market:snapshot:{region_id}"
SNAPSHOT_ORDERS_KEY = "market:orders:{region_id}"

# Rates are percentages below this.
_PERCENT_MAX = 100


@dataclass(frozen=True)
class BestPrices:
    """Best prices of one type at one station."""

    highest_buy: float | None
    lowest_sell: float | None


@dataclass(frozen=True)
class TradeQuery:
    """Rates (percent) and optional filters of a scan.

    Attributes:
        sales_tax: Sales tax in percent (8 means 8 %).
        broker_fee: Broker fee in percent.
        min_profit: Least ``total_profit`` (ISK).
        min_profit_pct: Least ``profit_pct``.
        max_profit_pct: Most ``profit_pct``.
        min_units: Least ``units``.
        max_volume_m3: Most ``volume_m3`` (rows of types without a volume are dropped).
        min_security: Least security of both stations' systems (rows of unknown systems are dropped).
        limit: How many rows.
    """

    sales_tax: float
    broker_fee: float
    min_profit: float | None = None
    min_profit_pct: float | None = None
    max_profit_pct: float | None = None
    min_units: int | None = None
    max_volume_m3: float | None = None
    min_security: float | None = None
    limit: int = 50

    def __post_init__(self) -> None:
        """Check the rates and the limit.

        Raises:
            InvalidInputError: For rates outside [0, 100) or a limit below 1. Rates that together reach
                100 % are allowed: no station trade then profits (hauling pays the sales tax only).
        """
        for name in ("sales_tax", "broker_fee"):
            value = getattr(self, name)
            if not 0 <= value < _PERCENT_MAX:
                raise InvalidInputError(f"{name} must be a percentage in [0, 100), got {value}.")
        if self.limit < 1:
            raise InvalidInputError("limit must be at least 1.")

    @property
    def filter_names(self) -> list[str]:
        """Names of the filters that are set."""
        return [name for name in sql.FILTERS if getattr(self, name) is not None]

    def params(self) -> dict[str, Any]:
        """Build the SQL parameters (rates as fractions and their factors, computed once).

        Returns:
            Parameters for :func:`market.sql.trade_sql`.
        """
        tax = self.sales_tax / 100
        fee = self.broker_fee / 100
        params: dict[str, Any] = {"keep": 1 - tax, "net": 1 - tax - fee, "gross": 1 + fee, "limit": self.limit}
        for name in self.filter_names:
            params[name] = getattr(self, name)
        return params


@dataclass(frozen=True)
class TradeRow:
    """One ranked trade: buy at ``from_station`` at ``ask`` (hauling) and sell at ``to_station`` at ``bid``."""

    rank: int
    type_id: int
    type_name: str | None
    from_station_id: int
    from_station_name: str | None
    from_system_id: int
    from_system_name: str | None
    from_security: float | None
    to_station_id: int
    to_station_name: str | None
    to_system_id: int
    to_system_name: str | None
    to_security: float | None
    bid: float
    ask: float
    bid_order_id: int
    ask_order_id: int
    units: int
    profit_per_unit: float
    total_profit: float
    profit_pct: float
    volume_m3: float | None
    depth_units: int
    depth_profit: float

    def as_dict(self) -> dict[str, Any]:
        """Return the row as a dict.

        Returns:
            Field name -> value.
        """
        return asdict(self)


def _run(query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Run one SQL query on the default database (JIT off, ``MARKET_SCAN_WORK_MEM`` for its sorts).

    Args:
        query: SQL with ``%(name)s`` parameters.
        params: Parameters.

    Returns:
        All rows.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        # JIT compilation costs seconds on these plans and saves nothing; sorts and hashes stay in memory.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.MARKET_SCAN_WORK_MEM])
        cursor.execute(query, params)
        return list(cursor.fetchall())


def _trade_rows(rows: list[tuple[Any, ...]]) -> list[TradeRow]:
    """Build trade rows from SQL rows in :data:`market.sql.COLUMNS` order.

    Args:
        rows: SQL rows.

    Returns:
        The rows.
    """
    names = [f.name for f in fields(TradeRow)]
    if tuple(names) != sql.COLUMNS:  # pragma: no cover - a programming error
        raise RuntimeError("TradeRow and market.sql.COLUMNS disagree.")
    return [TradeRow(**dict(zip(names, row, strict=True))) for row in rows]


def market_trade_defaults(*, user: Any) -> tuple[float, float]:
    """Return the default sales tax and broker fee (percent): the user's settings, else the site's.

    Args:
        user: The requesting user (anonymous allowed).

    Returns:
        (sales_tax, broker_fee) in percent.
    """
    user_settings = user_settings_get(user=user)
    if user_settings is not None:
        return float(user_settings.sales_tax), float(user_settings.broker_fee)
    return float(settings.MARKET_DEFAULT_SALES_TAX), float(settings.MARKET_DEFAULT_BROKER_FEE)


def market_snapshot_current_get(*, region_id: int) -> MarketSnapshot | None:
    """Return a region's current (newest) snapshot.

    Args:
        region_id: The region.

    Returns:
        The snapshot, or None when the region has none.
    """
    return MarketSnapshot.objects.filter(region_id=region_id).order_by("-fetched_at", "-id").first()


def market_snapshots_current_list(*, region_id: int | None = None) -> list[MarketSnapshot]:
    """List the current snapshot of every region (or of one).

    Args:
        region_id: Only this region.

    Returns:
        The snapshots, by region.
    """
    snapshots = MarketSnapshot.objects.order_by("region_id", "-fetched_at", "-id").distinct("region_id")
    if region_id is not None:
        snapshots = snapshots.filter(region_id=region_id)
    return list(snapshots)


def market_snapshot_cached_meta_get(*, region_id: int) -> dict[str, Any] | None:
    """Return the Redis copy's description of a region's snapshot, while it is fresh (30 min TTL).

    Args:
        region_id: The region.

    Returns:
        ``{"snapshot_id", "fetched_at", "last_modified", "order_count"}``, or None once expired.
    """
    raw = get_redis_connection("default").get(SNAPSHOT_META_KEY.format(region_id=region_id))
    return json.loads(raw) if raw else None


def market_snapshot_cached_orders_get(*, region_id: int) -> list[dict[str, Any]] | None:
    """Return the Redis copy of a region's orders (the ESI array), while it is fresh.

    Args:
        region_id: The region.

    Returns:
        The orders, or None once expired.
    """
    raw = get_redis_connection("default").get(SNAPSHOT_ORDERS_KEY.format(region_id=region_id))
    return json.loads(zlib.decompress(raw)) if raw else None


def market_hauling_scan(*, query: TradeQuery, region_id: int | None = None) -> list[TradeRow]:
    """Rank hauling trades A -> B over stored snapshots (never calls ESI).

    Args:
        query: Rates, filters and limit.
        region_id: Only this region's current snapshot (A and B in it); None for every region's (global scan).

    Returns:
        The best rows, best first.
    """
    params = query.params()
    if region_id is not None:
        params["region_id"] = region_id
    text = sql.trade_sql(kind="hauling", region_scoped=region_id is not None, filters=query.filter_names)
    return _trade_rows(_run(text, params))


def market_station_scan(*, query: TradeQuery, station_id: int, region_id: int) -> list[TradeRow]:
    """Rank station trades (margin trading) at one station from its region's current snapshot.

    Args:
        query: Rates, filters and limit.
        station_id: The station.
        region_id: The station's region.

    Returns:
        The best rows, best first (``from_station`` and ``to_station`` are both the station).
    """
    params = {**query.params(), "region_id": region_id, "station_id": station_id}
    text = sql.trade_sql(kind="station", region_scoped=True, filters=query.filter_names)
    return _trade_rows(_run(text, params))


def market_station_best_prices(
    *, station_id: int, region_id: int, type_ids: Iterable[int] | None = None
) -> dict[int, BestPrices]:
    """Return the highest buy and lowest sell price per type at a station, from the region's current snapshot.

    Args:
        station_id: The station.
        region_id: Its region (whose current snapshot is read).
        type_ids: Only these types (all types with orders there when None).

    Returns:
        type id -> best prices; types without orders at the station are absent.
    """
    params: dict[str, Any] = {"station_id": station_id, "region_id": region_id}
    type_filter = ""
    if type_ids is not None:
        wanted = sorted({int(t) for t in type_ids})
        if not wanted:
            return {}
        type_filter = "AND type_id IN (" + ", ".join(f"%(t{i})s" for i in range(len(wanted))) + ")"
        params.update({f"t{i}": t for i, t in enumerate(wanted)})
    rows = _run(sql.BEST_PRICES_SQL.format(type_filter=type_filter), params)
    return {int(r[0]): BestPrices(highest_buy=r[1], lowest_sell=r[2]) for r in rows}


# --------------------------------------------------------------------------- profit breakdown
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
        SELECT id, ROW_NUMBER() OVER (PARTITION BY region_id ORDER BY fetched_at DESC, id DESC) AS rn
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
    """Describe a station from the SDE (falling back on the order's system).

    Args:
        station_id: The station.
        system_id: The system of an order there, if any.

    Returns:
        The description.
    """
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
    best = _run(_BEST_ORDERS_SQL, {"type_id": type_id, "ask_location": ask_location, "bid_location": bid_location})
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
        rows = _trade_rows(_run(sql.trade_sql(kind=kind, region_scoped=False, pair=True), pair_params))
        if rows:
            depth_units, depth_profit = rows[0].depth_units, rows[0].depth_profit
        if used:
            text = sql.trade_sql(kind=kind, region_scoped=False, pair=True, filters=list(used))
            passes_filters = bool(_run(text, {**pair_params, **used}))
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


def snapshot_age(*, fetched_at: datetime) -> float:
    """Seconds since a snapshot was fetched.

    Args:
        fetched_at: Its fetch time.

    Returns:
        Age in seconds.
    """
    return (timezone.now() - fetched_at).total_seconds()
