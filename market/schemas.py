"""Pydantic schemas of market (query parameters, scan rows, snapshots, profit breakdowns)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import pydantic
from django.conf import settings

from evesite.schemas import RefField, Schema, count_field, percent_field, ref_check
from jobs.schemas import JobOut
from routing.schemas import RouteMode, RouteSummary


class TradeFilters(Schema):
    """Rates (percent; defaults from the user's settings, else the site's) and optional filters of a trade."""

    sales_tax: float | None = percent_field(None, description="Sales tax in percent (8 = 8 %).")
    broker_fee: float | None = percent_field(None, description="Broker fee in percent.")
    min_profit: float | None = pydantic.Field(None, description="Least total_profit (ISK).")
    min_profit_pct: float | None = pydantic.Field(None, description="Least profit_pct.")
    max_profit_pct: float | None = pydantic.Field(None, description="Most profit_pct.")
    min_units: int | None = count_field(None, description="Least units.")
    max_volume_m3: float | None = pydantic.Field(
        None, ge=0, description="Most volume_m3 (rows of types without a known volume are dropped)."
    )
    min_security: float | None = pydantic.Field(
        None, ge=-1, le=1, description="Least security of both stations' systems."
    )
    min_daily_volume: float | None = pydantic.Field(
        None, ge=0, allow_inf_nan=False, description="Least avg_daily_volume (rows without history are dropped)."
    )
    max_days_to_sell: float | None = pydantic.Field(
        None,
        ge=0,
        allow_inf_nan=False,
        description="Most days_to_sell (rows without history or without trades in the window are dropped).",
    )


_MAX_JUMPS = 32767  # the jump tables store smallints


class HaulParams(Schema):
    """Route, cargo and wallet parameters of the hauling scans and the profit breakdown (issue 17).

    Rows are routed once the gate graph has jump tables (or when any route parameter, ``sort=profit_per_jump``
    or a saved home station asks for it): they get ``jumps``, ``route`` and ``profit_per_jump``, and rows
    without a route are dropped. ``cargo_m3``/``budget_isk`` cap the units of every row.
    """

    route_mode: RouteMode | None = pydantic.Field(
        None, description="Route mode of jumps; default: the user's setting, else secure."
    )
    avoid: str | None = pydantic.Field(
        None,
        max_length=1000,
        description="Comma-separated system ids or names never entered; default: the user's avoid list.",
    )
    avoid_risk: bool | None = pydantic.Field(None, description="Add the kill-risk penalties (default false).")
    origin: str | None = pydantic.Field(
        None,
        min_length=1,
        max_length=200,
        pattern=r"\S",
        description="Where the trip starts: a system or station id or name, `current` (the logged-in character's "
        "station) or `home` (the saved home station); rows get jumps_to_start.",
    )
    cargo_m3: float | None = pydantic.Field(None, ge=0, allow_inf_nan=False, description="Cargo hold (m3).")
    budget_isk: float | None = pydantic.Field(None, ge=0, allow_inf_nan=False, description="Wallet (ISK).")
    max_jumps: int | None = pydantic.Field(None, ge=0, le=_MAX_JUMPS, description="Most jumps from A to B.")
    max_jumps_to_start: int | None = pydantic.Field(
        None, ge=0, le=_MAX_JUMPS, description="Most jumps from the origin to A (ignored without origin)."
    )
    sort: Literal["profit_pct", "total_profit", "profit_per_jump"] = pydantic.Field(
        "profit_pct", description="Order of the rows (descending; ties as the profit_pct order)."
    )


class ScanQuery(TradeFilters):
    """A scan's rates, filters and row count."""

    limit: int | None = pydantic.Field(None, ge=1, description="Rows to return.")

    @pydantic.field_validator("limit")
    @classmethod
    def _limit_capped(cls, value: int | None) -> int | None:
        """Refuse a limit above ``MARKET_SCAN_MAX_LIMIT``."""
        if value is not None and value > settings.MARKET_SCAN_MAX_LIMIT:
            raise ValueError(f"limit must be at most {settings.MARKET_SCAN_MAX_LIMIT}.")
        return value


class HaulScanQuery(ScanQuery, HaulParams):
    """Hauling scan parameters (region and global)."""


class RegionScanQuery(HaulScanQuery):
    """Region scan parameters."""

    refresh: bool = pydantic.Field(
        False, description="Staff only: queue a refresh of the region even when the stored snapshot is fresh."
    )


class ProfitInput(TradeFilters, HaulParams):
    """One item between two stations (the same station means station trading), with optional scan filters."""

    buy_station_id: Annotated[int | str, RefField(), pydantic.AfterValidator(ref_check)] = pydantic.Field(
        description="Where the item is bought: a station id or exact name (case-insensitive)."
    )
    sell_station_id: Annotated[int | str, RefField(), pydantic.AfterValidator(ref_check)] = pydantic.Field(
        description="Where the item is sold: a station id or exact name."
    )
    type_id: Annotated[int | str, RefField(), pydantic.AfterValidator(ref_check)] = pydantic.Field(
        description="The item: a type id or exact name."
    )


class TradeRow(Schema):
    """One trade: buy at from_station (at ask, or place a buy order at bid when station trading), sell at to_station."""

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
    bid: float = pydantic.Field(description="Highest buy price (at to_station when hauling).")
    ask: float = pydantic.Field(description="Lowest sell price (at from_station when hauling).")
    bid_order_id: int
    ask_order_id: int
    units: int
    profit_per_unit: float
    total_profit: float
    profit_pct: float
    volume_m3: float | None = pydantic.Field(description="units x packaged volume (else volume).")
    depth_units: int = pydantic.Field(description="Units tradable walking both books while each unit profits.")
    depth_profit: float = pydantic.Field(description="Profit of those units.")
    avg_daily_volume: float | None = pydantic.Field(
        description="Mean daily volume of the last 30 days in the selling region (null: history not fetched)."
    )
    days_to_sell: float | None = pydantic.Field(
        description="units / avg_daily_volume (null without history or without trades in the window)."
    )
    jumps: int | None = pydantic.Field(None, description="Jumps from A's system to B's (routed scans).")
    jumps_to_start: int | None = pydantic.Field(None, description="Jumps from the origin to A (with origin).")
    profit_per_jump: float | None = pydantic.Field(
        None, description="total_profit / max(jumps_to_start + jumps, 1) (routed scans)."
    )
    route: RouteSummary | None = pydantic.Field(None, description="The route from A to B (routed scans).")


class Snapshot(Schema):
    """A stored region snapshot the scan read."""

    region_id: int
    fetched_at: datetime
    last_modified: datetime | None
    order_count: int


class SnapshotState(Schema):
    """The snapshot a region-scoped scan read, how old it is, and the refresh job queued when it is stale."""

    as_of: datetime = pydantic.Field(description="When the orders were fetched from ESI.")
    age_seconds: float
    stale: bool = pydantic.Field(description="Older than MARKET_CACHE_SECONDS: a refresh job was queued.")
    job: JobOut | None


class ScanPending(Schema):
    """No snapshot yet: the refresh job to poll (``GET /api/jobs/{id}/``)."""

    job: JobOut


class ScanResponse(Schema):
    """A scan's answer."""

    kind: Literal["station", "hauling"]
    scope: str = pydantic.Field(description="station:<id>, region:<id> or global.")
    sales_tax: float
    broker_fee: float
    route_mode: RouteMode | None = pydantic.Field(
        None, description="Hauling: the route mode of the rows' jumps; null: the rows have no routes."
    )
    route_note: str | None = pydantic.Field(
        None, description="Why a scan routed by default has no routes now (a jump table being rebuilt)."
    )
    snapshots: list[Snapshot]
    # Absent (not null) from the global scan's answer.
    snapshot: SnapshotState | None = pydantic.Field(
        None,
        description="Station and region scans: the snapshot read and its refresh job.",
        exclude_if=lambda value: value is None,
    )
    count: int
    results: list[TradeRow]


class OrderRef(Schema):
    """The order used on one side."""

    order_id: int
    price: float
    volume_remain: int
    min_volume: int
    system_id: int


class StationRef(Schema):
    """A station with its system."""

    station_id: int
    station_name: str | None
    system_id: int | None
    system_name: str | None
    security: float | None


class ProfitBreakdown(Schema):
    """Every number of one trade."""

    kind: Literal["station", "hauling"]
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
    passes_filters: bool | None = pydantic.Field(
        description="Whether a scan with the given filters lists this trade (null without filters)."
    )
    jumps: int | None = pydantic.Field(None, description="Jumps between the stations' systems (routed).")
    jumps_to_start: int | None = pydantic.Field(None, description="Jumps from the origin to the buy station.")
    profit_per_jump: float | None = pydantic.Field(None, description="total_profit / max(jumps_to_start + jumps, 1).")
    route: RouteSummary | None = pydantic.Field(None, description="The route (routed).")
