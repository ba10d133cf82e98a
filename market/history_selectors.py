"""Reads of market history (issue 18): a type's daily series, the types a refresh still has to fetch, daily volumes.

``avg_daily_volume`` of a (region, type) is stored on :class:`~market.history_models.MarketHistoryType` by every
history store of the region (see ``market.history.DAILY_VOLUME_SQL``): the summed ``volume`` of the last
``MARKET_HISTORY_DAYS`` calendar days ending at the latest date ESI has for the region (any type), divided by
``MARKET_HISTORY_DAYS``. ESI omits days without trades, so they count as 0; a type that did not trade in the
window has 0; a type never fetched has no row (NULL once joined). Scans join it with
:func:`market.sql.daily_volume_join`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection
from django.utils import timezone

from market.history_models import MarketHistory, MarketHistoryType
from market.models import MarketTypeSummary
from universe.models import ItemType, Region
from universe.names import NameRef, universe_names_resolve

# Types with orders in a snapshot whose history is missing or past ESI's Expires: never fetched first, then the
# stalest; ties by type id (a refresh that stops and starts again goes on where it was).
_DUE_SQL = """
SELECT s.type_id
FROM market_markettypesummary s
LEFT JOIN market_markethistorytype t ON t.region_id = s.region_id AND t.type_id = s.type_id
WHERE s.snapshot_id = %(snapshot_id)s AND s.region_id = %(region_id)s AND (t.id IS NULL OR t.expires_at <= %(now)s)
ORDER BY t.expires_at NULLS FIRST, s.type_id
"""


@dataclass(frozen=True)
class HistoryDay:
    """One day of a type's history in a region."""

    date: date
    average: float
    highest: float
    lowest: float
    order_count: int
    volume: int


@dataclass(frozen=True)
class HistorySeries:
    """A type's stored history in a region, and its fetch state (``fetched_at`` None: never fetched)."""

    region_id: int
    type_id: int
    days: list[HistoryDay]
    fetched_at: datetime | None
    expires_at: datetime | None
    avg_daily_volume: float | None
    volume_window_end: date | None

    @property
    def status(self) -> str:
        """``fetched`` (days stored), ``empty`` (fetched, ESI has none) or ``not_fetched``."""
        if self.fetched_at is None:
            return "not_fetched"
        return "fetched" if self.days else "empty"


def market_history_types_due(*, region_id: int, snapshot_id: int) -> list[int]:
    """List the types a history refresh of a region still has to fetch.

    Args:
        region_id: The region (the snapshot's).
        snapshot_id: Its current snapshot: the types with orders in it are the ones worth fetching.

    Returns:
        Type ids, never fetched first, then by ``expires_at``; fresh ones are left out.
    """
    with connection.cursor() as cursor:
        cursor.execute(_DUE_SQL, {"snapshot_id": snapshot_id, "region_id": region_id, "now": timezone.now()})
        return [int(row[0]) for row in cursor.fetchall()]


def market_history_series(*, region_id: int, type_id: int) -> HistorySeries:
    """Read a type's stored history in a region, oldest day first.

    Args:
        region_id: The region.
        type_id: The type.

    Returns:
        The series (no days and ``status == "not_fetched"`` when the type was never fetched).
    """
    rows = MarketHistory.objects.filter(region_id=region_id, type_id=type_id).order_by("date")
    days = [
        HistoryDay(
            date=r.date,
            average=r.average,
            highest=r.highest,
            lowest=r.lowest,
            order_count=r.order_count,
            volume=r.volume,
        )
        for r in rows
    ]
    state = MarketHistoryType.objects.filter(region_id=region_id, type_id=type_id).first()
    return HistorySeries(
        region_id=region_id,
        type_id=type_id,
        days=days,
        fetched_at=state.fetched_at if state else None,
        expires_at=state.expires_at if state else None,
        avg_daily_volume=state.avg_daily_volume if state else None,
        volume_window_end=state.volume_window_end if state else None,
    )


def market_history_type_traded(*, region_id: int, type_id: int) -> bool:
    """Tell whether a type has orders in the region's current snapshot (only those are fetched).

    Args:
        region_id: The region.
        type_id: The type.

    Returns:
        True when the newest snapshot's summary lists the type.
    """
    # Storing a snapshot deletes the region's older ones (and their summaries): any summary row is current.
    return MarketTypeSummary.objects.filter(region_id=region_id, type_id=type_id).exists()


def market_daily_volumes_get(*, region_id: int, type_ids: list[int]) -> dict[int, float | None]:
    """Read the stored daily volumes of some types in a region.

    Args:
        region_id: The region.
        type_ids: The types.

    Returns:
        ``avg_daily_volume`` by type; types never fetched are left out.
    """
    rows = MarketHistoryType.objects.filter(region_id=region_id, type_id__in=type_ids)
    return dict(rows.values_list("type_id", "avg_daily_volume"))


def market_history_refs_resolve(*, region: str, type_ref: str) -> tuple[tuple[int, str], tuple[int, str]]:
    """Resolve a region and a type, each an id or an exact case-insensitive SDE name.

    Args:
        region: The region's id or name.
        type_ref: The type's id or name.

    Returns:
        ((region id, name), (type id, name)).

    Raises:
        NotFoundError: Naming every one of the two the SDE does not have, with the closest matches.
    """
    ids = universe_names_resolve(
        refs={"region": NameRef(kind="region", ref=region), "type": NameRef(kind="type", ref=type_ref)}
    )
    region_name = Region.objects.values_list("name", flat=True).get(id=ids["region"])
    type_name = ItemType.objects.values_list("name", flat=True).get(id=ids["type"])
    return (ids["region"], region_name), (ids["type"], type_name)
