"""Where contract valuation gets its Jita prices: the market snapshots, never a per-contract ESI call.

The lookup is ``CONTRACTS_PRICE_LOOKUP``: by default the market app's
``market.selectors.market_station_best_prices`` (the region's latest snapshot).
:func:`best_prices_from_orders` computes the same answer from ESI order
dicts (the valuation tests build price tables with it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple, Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class BestPricesLike(Protocol):
    """What valuation reads from a price entry (the market app's ``BestPrices`` fits)."""

    @property
    def highest_buy(self) -> float | None:
        """The highest buy order's price."""

    @property
    def lowest_sell(self) -> float | None:
        """The lowest sell order's price."""


class BestPrices(NamedTuple):
    """The best buy and sell prices of one type at one station."""

    highest_buy: float | None
    lowest_sell: float | None


PriceLookup = Callable[..., Mapping[int, BestPricesLike]]


def price_lookup_get() -> PriceLookup:
    """Return the configured price lookup (``CONTRACTS_PRICE_LOOKUP``).

    Returns:
        A callable with the signature of ``market.selectors.market_station_best_prices``.
    """
    lookup: PriceLookup = import_string(settings.CONTRACTS_PRICE_LOOKUP)
    return lookup


def jita_prices_get(
    *, type_ids: Iterable[int], price_lookup: PriceLookup | None = None
) -> Mapping[int, BestPricesLike]:
    """Read the best prices at the price station (``CONTRACTS_PRICE_STATION_ID`` in ``CONTRACTS_PRICE_REGION_ID``).

    Args:
        type_ids: The types wanted (no lookup at all when empty).
        price_lookup: The lookup (``CONTRACTS_PRICE_LOOKUP`` when None).

    Returns:
        Best prices by type id.
    """
    wanted = sorted({int(t) for t in type_ids})
    if not wanted:
        return {}
    lookup = price_lookup or price_lookup_get()
    return lookup(
        station_id=int(settings.CONTRACTS_PRICE_STATION_ID),
        region_id=int(settings.CONTRACTS_PRICE_REGION_ID),
        type_ids=wanted,
    )


def best_prices_from_orders(
    *, orders: Iterable[Mapping[str, Any]], station_id: int, type_ids: Iterable[int] | None = None
) -> dict[int, BestPrices]:
    """Compute the best buy and sell per type from ESI market orders at one station.

    Args:
        orders: Orders shaped like ``GET /markets/{region_id}/orders``.
        station_id: Only orders with this ``location_id`` count.
        type_ids: Only these types (all when None).

    Returns:
        Best prices by type id.
    """
    wanted = set(type_ids) if type_ids is not None else None
    buy: dict[int, float] = {}
    sell: dict[int, float] = {}
    for order in orders:
        type_id = int(order["type_id"])
        if int(order["location_id"]) != station_id or (wanted is not None and type_id not in wanted):
            continue
        price = float(order["price"])
        if order["is_buy_order"]:
            buy[type_id] = max(price, buy.get(type_id, price))
        else:
            sell[type_id] = min(price, sell.get(type_id, price))
    return {t: BestPrices(highest_buy=buy.get(t), lowest_sell=sell.get(t)) for t in buy.keys() | sell.keys()}
