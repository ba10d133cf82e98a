"""Pydantic schemas of market history (``GET /api/market/history/``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import pydantic

from evesite.schemas import Schema
from jobs.schemas import JobOut


class HistoryQuery(Schema):
    """Query parameters of ``GET /api/market/history/``."""

    # No upper length: a long text is an unknown name (404); the URL's own limit is 414.
    region: str = pydantic.Field(
        min_length=1, pattern=r"\S", description="A region id or exact name (case-insensitive)."
    )
    type: str = pydantic.Field(min_length=1, pattern=r"\S", description="A type id or exact name (case-insensitive).")


class HistoryDayOut(Schema):
    """One day of ESI's market statistics of a type in a region (days without trades are absent)."""

    date: date
    average: float = pydantic.Field(description="Average price of the day's trades (ISK).")
    highest: float = pydantic.Field(description="Highest price traded.")
    lowest: float = pydantic.Field(description="Lowest price traded.")
    order_count: int = pydantic.Field(description="Orders that traded.")
    volume: int = pydantic.Field(description="Units traded.")


class HistorySeriesOut(Schema):
    """A type's stored daily history in a region, oldest day first, with its fetch state and daily volume.

    ``status``: ``fetched`` (days stored), ``empty`` (fetched: ESI has no history within the kept days), or
    ``not_fetched`` (the region's history job, in ``job``, is queued when the type has orders in the region's
    snapshot). Web requests never wait for ESI.
    """

    region_id: int
    region_name: str
    type_id: int
    type_name: str
    status: Literal["fetched", "empty", "not_fetched"]
    fetched_at: datetime | None
    expires_at: datetime | None = pydantic.Field(description="ESI's Expires: the next fetch is due after it.")
    window_days: int = pydantic.Field(description="MARKET_HISTORY_DAYS: the days avg_daily_volume covers.")
    avg_daily_volume: float | None = pydantic.Field(
        description="Units traded over the window_days calendar days ending at volume_window_end, / window_days "
        "(days without trades count 0); null when never fetched."
    )
    volume_window_end: date | None = pydantic.Field(
        description="The window's last day: the latest date ESI has for the region (any type)."
    )
    count: int = pydantic.Field(description="Days in the series.")
    days: list[HistoryDayOut]
    job: JobOut | None = pydantic.Field(description="The region's history job (queued, running, failed), if any.")
