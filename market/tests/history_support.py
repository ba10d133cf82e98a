"""Test support of market history: a region snapshot with chosen types, and ESI's history route on a fake ESI."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from email.utils import formatdate
from typing import Any

from evesite.testing.fakeserver import FakeHttpServer, FakeResponse
from market.models import MarketSnapshot
from market.services import market_snapshot_store
from market.tests.conftest import LOCATIONS, REGION_1, STATION_A


def snapshot_with_types(
    type_ids: list[int], *, region_id: int = REGION_1, station_id: int = STATION_A
) -> MarketSnapshot:
    """Store a snapshot of a region with one sell order of each type.

    Args:
        type_ids: The types.
        region_id: The region.
        station_id: A station of it.

    Returns:
        The snapshot.
    """
    system_id = LOCATIONS[station_id][0]
    orders = [
        {
            "duration": 90,
            "is_buy_order": False,
            "issued": "2026-11-28T10:00:00Z",
            "location_id": station_id,
            "min_volume": 1,
            "order_id": region_id * 1000 + n,
            "price": 100.0 + n,
            "range": "region",
            "system_id": system_id,
            "type_id": type_id,
            "volume_remain": 10,
            "volume_total": 10,
        }
        for n, type_id in enumerate(type_ids, 1)
    ]
    return market_snapshot_store(region_id=region_id, orders=orders)


def today() -> date:
    """Today in UTC (ESI's dates)."""
    return datetime.now(UTC).date()


def esi_days(volumes: dict[int, int], *, end: date | None = None) -> list[dict[str, Any]]:
    """ESI history items: ``volumes`` maps days before ``end`` (0 = end) to the day's volume.

    Args:
        volumes: Days back -> volume.
        end: The latest day (today when None).

    Returns:
        Items, oldest first, as ESI sends them.
    """
    end = end or today()
    items = []
    for back, volume in sorted(volumes.items(), reverse=True):
        average = 100.0 + back
        items.append(
            {
                "date": (end - timedelta(days=back)).isoformat(),
                "average": average,
                "highest": average * 1.1,
                "lowest": average * 0.9,
                "order_count": 3 + back,
                "volume": volume,
            }
        )
    return items


def serve_history(
    server: FakeHttpServer,
    region_id: int,
    series: dict[int, list[dict[str, Any]] | int],
    *,
    expires_in: float = 3600,
    delay: float = 0.0,
) -> None:
    """Serve ``/markets/{region_id}/history?type_id=`` per type: a list is the answer, an int a failing status.

    Args:
        server: The fake ESI.
        region_id: The region.
        series: Type -> items (or an HTTP error status).
        expires_in: Seconds until the answers' Expires.
        delay: Seconds each answer takes (so a poller sees the job part-done).
    """

    def answer(request: Any) -> FakeResponse:
        """Answer one type."""
        type_id = int(request.query["type_id"][0])
        found = series.get(type_id, [])
        if isinstance(found, int):
            return FakeResponse(status=found, json={"error": "boom"}, delay=delay)
        expires = formatdate(time.time() + expires_in, usegmt=True)
        return FakeResponse(json=found, headers={"Expires": expires}, delay=delay)

    server.add("GET", f"/markets/{region_id}/history", answer, repeat_last=True)
