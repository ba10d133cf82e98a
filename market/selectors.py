"""Reads of market: trade scans (set-based SQL in PostgreSQL), snapshots and best prices.

The profit breakdown of one trade lives in :mod:`market.profit`.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_redis import get_redis_connection

from accounts.selectors import user_settings_get
from evesite.exceptions import InvalidInputError
from market import sql
from market.models import MarketSnapshot

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
        min_daily_volume: Least ``avg_daily_volume`` (rows without history are dropped).
        max_days_to_sell: Most ``days_to_sell`` (rows without history or trades are dropped).
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
    min_daily_volume: float | None = None
    max_days_to_sell: float | None = None
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
    avg_daily_volume: float | None
    days_to_sell: float | None

    def as_dict(self) -> dict[str, Any]:
        """Return the row as a dict.

        Returns:
            Field name -> value.
        """
        return asdict(self)


def market_sql_run(*, query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
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


def market_trade_rows(*, rows: list[tuple[Any, ...]]) -> list[TradeRow]:
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
    snapshots = MarketSnapshot.objects.filter(region_id=region_id, structure_id__isnull=True)
    return snapshots.order_by("-fetched_at", "-id").first()


def market_snapshots_current_list(*, region_id: int | None = None) -> list[MarketSnapshot]:
    """List the current snapshot of every region (or of one).

    Args:
        region_id: Only this region.

    Returns:
        The snapshots, by region.
    """
    snapshots = (
        MarketSnapshot.objects.filter(structure_id__isnull=True)
        .order_by("region_id", "-fetched_at", "-id")
        .distinct("region_id")
    )
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
    return market_trade_rows(rows=market_sql_run(query=text, params=params))


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
    return market_trade_rows(rows=market_sql_run(query=text, params=params))


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
    rows = market_sql_run(query=sql.BEST_PRICES_SQL.format(type_filter=type_filter), params=params)
    return {int(r[0]): BestPrices(highest_buy=r[1], lowest_sell=r[2]) for r in rows}


def snapshot_age(*, fetched_at: datetime) -> float:
    """Seconds since a snapshot was fetched.

    Args:
        fetched_at: Its fetch time.

    Returns:
        Age in seconds.
    """
    return (timezone.now() - fetched_at).total_seconds()
