"""Writes of market: storing region snapshots (PostgreSQL COPY + a Redis copy) and fetching them from ESI."""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_redis import get_redis_connection
from pydantic import TypeAdapter, ValidationError

from accounts.tokens import character_esi_get
from esi.client import EsiClient
from esi.models import MarketOrder as EsiMarketOrder
from evesite.exceptions import InvalidInputError
from market.models import MarketSnapshot
from market.selectors import SNAPSHOT_META_KEY, SNAPSHOT_ORDERS_KEY

logger = logging.getLogger("market")

_ORDERS = TypeAdapter(list[EsiMarketOrder])
# The per-type best prices of a stored snapshot (see MarketTypeSummary).
SUMMARY_SQL = """
INSERT INTO market_markettypesummary (snapshot_id, region_id, type_id, max_bid, min_ask)
SELECT %(snapshot_id)s, %(region_id)s, type_id,
       MAX(CASE WHEN is_buy_order THEN price END), MIN(CASE WHEN NOT is_buy_order THEN price END)
FROM market_marketorder
WHERE snapshot_id = %(snapshot_id)s
GROUP BY type_id
"""
ORDER_COPY_COLUMNS = (
    "snapshot_id",
    "region_id",
    "order_id",
    "type_id",
    "location_id",
    "system_id",
    "is_buy_order",
    "price",
    "volume_remain",
    "volume_total",
    "min_volume",
    "range",
    "issued",
    "duration",
)


def market_orders_parse(*, orders: list[dict[str, Any]]) -> list[EsiMarketOrder]:
    """Validate ESI market orders; duplicates of an ``order_id`` keep the last, non-positive prices are dropped.

    Args:
        orders: The ``/markets/{region_id}/orders`` items.

    Returns:
        The orders, in input order.

    Raises:
        InvalidInputError: When an item is not a market order.
    """
    try:
        parsed = _ORDERS.validate_python(orders)
    except ValidationError as exc:
        raise InvalidInputError(f"Not a list of ESI market orders: {exc.errors()[:3]}") from exc
    unique = {o.order_id: o for o in parsed if o.price > 0}
    dropped = len(parsed) - len(unique)
    if dropped:
        logger.warning("market: dropped %d duplicate or non-positive-price orders", dropped)
    return list(unique.values())


def _redis_copy_store(*, snapshot: MarketSnapshot, orders: list[dict[str, Any]]) -> None:
    """Keep a compressed copy of the orders and the snapshot's description in Redis for ``MARKET_CACHE_SECONDS``."""
    ttl = int(settings.MARKET_CACHE_SECONDS)
    meta = {
        "snapshot_id": snapshot.pk,
        "region_id": snapshot.region_id,
        "fetched_at": snapshot.fetched_at.isoformat(),
        "last_modified": snapshot.last_modified.isoformat() if snapshot.last_modified else None,
        "order_count": snapshot.order_count,
    }
    redis = get_redis_connection("default")
    pipe = redis.pipeline()
    pipe.set(
        SNAPSHOT_ORDERS_KEY.format(region_id=snapshot.region_id), zlib.compress(json.dumps(orders).encode(), 1), ex=ttl
    )
    pipe.set(SNAPSHOT_META_KEY.format(region_id=snapshot.region_id), json.dumps(meta), ex=ttl)
    pipe.execute()


def _structure_overlap(*, region_id: int, structure_id: int | None, cursor: Any) -> set[int]:
    """Keep a region's orders and its structures' snapshots apart (inside the store's transaction)."""
    if structure_id is not None:
        cursor.execute(
            "DELETE FROM market_marketorder WHERE location_id = %s AND snapshot_id IN "
            "(SELECT id FROM market_marketsnapshot WHERE region_id = %s AND structure_id IS NULL)",
            [structure_id, region_id],
        )
        return set()
    structures = MarketSnapshot.objects.filter(region_id=region_id, structure_id__isnull=False)
    cutoff = timezone.now() - timedelta(seconds=float(settings.MARKET_STRUCTURE_MAX_AGE_SECONDS))
    old = list(structures.filter(fetched_at__lt=cutoff).values_list("pk", flat=True))
    if old:
        cursor.execute("DELETE FROM market_marketorder WHERE snapshot_id = ANY(%s)", [old])
        cursor.execute("DELETE FROM market_markettypesummary WHERE snapshot_id = ANY(%s)", [old])
        MarketSnapshot.objects.filter(pk__in=old).delete()
    return {int(s) for s in structures.values_list("structure_id", flat=True) if s is not None}


def market_snapshot_store(
    *,
    region_id: int,
    orders: list[dict[str, Any]],
    fetched_at: datetime | None = None,
    last_modified: datetime | None = None,
    structure_id: int | None = None,
) -> MarketSnapshot:
    """Store a region's (or a structure's) orders as its current snapshot and prune the older ones.

    Rows are written with PostgreSQL ``COPY``; concurrent stores of one region are serialised by an advisory
    lock. A region's copy goes to Redis for ``MARKET_CACHE_SECONDS``. A region's orders at a structure with a
    fresh snapshot of its own are left out (the structure's are complete), and a structure's store removes the
    region's orders there.

    Args:
        region_id: The region (the structure's, for a structure).
        orders: ESI market orders (the ``/markets/{region_id}/orders`` array; a structure's with ``system_id`` added).
        fetched_at: When they were fetched (now when None).
        last_modified: ESI's ``Last-Modified``.
        structure_id: The player structure whose market this is (None: the region's).

    Returns:
        The new snapshot.
    """
    parsed = market_orders_parse(orders=orders)
    fetched_at = fetched_at or timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [6, region_id])
            covered = _structure_overlap(region_id=region_id, structure_id=structure_id, cursor=cursor)
        if covered:
            parsed = [o for o in parsed if o.location_id not in covered]
        snapshot = MarketSnapshot.objects.create(
            region_id=region_id,
            structure_id=structure_id,
            fetched_at=fetched_at,
            last_modified=last_modified,
            order_count=len(parsed),
        )
        with connection.cursor() as cursor:
            raw = cursor.cursor
            columns = ", ".join(ORDER_COPY_COLUMNS)
            with raw.copy(f"COPY market_marketorder ({columns}) FROM STDIN") as copy:
                for o in parsed:
                    copy.write_row(
                        (
                            snapshot.pk,
                            region_id,
                            o.order_id,
                            o.type_id,
                            o.location_id,
                            o.system_id,
                            o.is_buy_order,
                            o.price,
                            o.volume_remain,
                            o.volume_total,
                            o.min_volume,
                            o.range,
                            o.issued,
                            o.duration,
                        )
                    )
            cursor.execute("SET LOCAL jit = off")  # compiling costs more than this aggregate
            cursor.execute(SUMMARY_SQL, {"snapshot_id": snapshot.pk, "region_id": region_id})
            owned = MarketSnapshot.objects.filter(region_id=region_id, structure_id=structure_id)
            older = list(owned.exclude(pk=snapshot.pk).values_list("pk", flat=True))
            if older:
                cursor.execute("DELETE FROM market_marketorder WHERE snapshot_id = ANY(%s)", [older])
                cursor.execute("DELETE FROM market_markettypesummary WHERE snapshot_id = ANY(%s)", [older])
                MarketSnapshot.objects.filter(pk__in=older).delete()
    # After the block (not on_commit): a copy naming a snapshot that was rolled back never matches the
    # current snapshot, so readers ignore it.
    if structure_id is None:
        _redis_copy_store(snapshot=snapshot, orders=[o.model_dump(mode="json") for o in parsed])
    owner = f"structure {structure_id}" if structure_id is not None else f"region {region_id}"
    logger.info("market: %s snapshot %d stored with %d orders", owner, snapshot.pk, len(parsed))
    return snapshot


@dataclass(frozen=True)
class FetchedOrders:
    """A region's orders as one ESI walk returned them."""

    region_id: int
    orders: list[dict[str, Any]]
    fetched_at: datetime
    last_modified: datetime | None


def market_region_orders_fetch(*, region_id: int, progress: Callable[[int, int], None] | None = None) -> FetchedOrders:
    """Fetch every order page of a region through the ESI client (page delays included).

    Call it from a worker, inside the ESI walk slot: a real region takes minutes. The
    region must be checked first (``universe.selectors.market_region_validate``).

    Args:
        region_id: The region.
        progress: Called with (pages done, pages) after each page.

    Returns:
        The orders, ready for :func:`market_snapshot_store`.
    """
    client = EsiClient()
    path = f"/markets/{region_id}/orders"
    fetched_at = timezone.now()
    orders = client.get_all_pages(path, params={"order_type": "all"}, progress=progress)
    # The walk just cached page 1: reading it again costs no request and tells its Last-Modified.
    first = client.get(path, params={"order_type": "all", "page": 1})
    return FetchedOrders(region_id=region_id, orders=orders, fetched_at=fetched_at, last_modified=first.last_modified)


@dataclass(frozen=True)
class CharacterDock:
    """Where a character is docked: an NPC station or a player structure, and its system."""

    location_id: int
    system_id: int
    structure: bool


def market_character_dock_get(*, user: Any) -> CharacterDock:
    """Return where the user's character is docked (one ESI call: the character's location).

    Args:
        user: A logged-in user.

    Returns:
        The station or structure and its system.

    Raises:
        InvalidInputError: When the character is in space.
    """
    answer = character_esi_get(user=user, path="/characters/{character_id}/location")
    data = answer.data if isinstance(answer.data, dict) else {}
    station_id, structure_id = data.get("station_id"), data.get("structure_id")
    docked = station_id or structure_id
    if not docked:
        raise InvalidInputError("Your character is not docked in a station or structure.")
    return CharacterDock(
        location_id=int(docked),
        system_id=int(data["solar_system_id"]),
        structure=not station_id,
    )
