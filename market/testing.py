"""Test helpers of the market app."""

from __future__ import annotations

from typing import Any

from universe.models import Station


def esi_order(
    order_id: int, station: Station, type_id: int, *, buy: bool, price: float, volume: int = 100
) -> dict[str, Any]:
    """Make one ESI market order (the JSON ESI sends) at a real station.

    Args:
        order_id: Order id.
        station: The station.
        type_id: The type.
        buy: Buy order or sell order.
        price: Price.
        volume: volume_remain and volume_total.

    Returns:
        The order.
    """
    return {
        "duration": 90,
        "is_buy_order": buy,
        "issued": "2026-11-28T10:00:00Z",
        "location_id": station.id,
        "min_volume": 1,
        "order_id": order_id,
        "price": price,
        "range": "region",
        "system_id": station.system_id,
        "type_id": type_id,
        "volume_remain": volume,
        "volume_total": volume,
    }
