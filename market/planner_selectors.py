"""Reads of the cargo planner: the two stations, their stored books, the defaults of a trip."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce

from accounts.selectors import user_route_defaults_get
from evesite.pgbinary import array_read, binary_rows
from market.models import MarketSnapshot
from market.planner import Books
from market.selectors import market_snapshot_current_get
from universe.models import ItemType, Station
from universe.names import NameRef, universe_names_resolve

# Mode of a trip's route when the user saved none (routes default to ``shortest``; hauling to ``secure``).
DEFAULT_ROUTE_MODE = "secure"


@dataclass(frozen=True)
class HaulStation:
    """A station of the SDE, with its system and region."""

    station_id: int
    station_name: str
    system_id: int
    system_name: str | None
    security: float | None
    region_id: int


def haul_stations_resolve(*, origin: int | str, destination: int | str) -> tuple[HaulStation, HaulStation]:
    """Resolve the two stations of a trip.

    Args:
        origin: Where the cargo is bought: a station id or name.
        destination: Where it is sold.

    Returns:
        Both stations.

    Raises:
        NotFoundError: Naming every one of the two that the SDE does not have, with the closest matches.
    """
    ids = universe_names_resolve(
        refs={"from": NameRef(kind="station", ref=origin), "to": NameRef(kind="station", ref=destination)}
    )
    rows = {
        int(row["id"]): row
        for row in Station.objects.filter(id__in=ids.values()).values(
            "id", "name", "system_id", "system__name", "system__security", "region_id"
        )
    }
    found = [
        HaulStation(
            station_id=int(row["id"]),
            station_name=str(row["name"]),
            system_id=int(row["system_id"]),
            system_name=row["system__name"],
            security=row["system__security"],
            region_id=int(row["region_id"]),
        )
        for row in (rows[ids["from"]], rows[ids["to"]])
    ]
    return found[0], found[1]


def haul_route_defaults(*, user: Any) -> tuple[str, list[int]]:
    """Return the route mode and avoid list of a trip when the request gives none: the user's, else ``secure``.

    Args:
        user: The requesting user (anonymous allowed).

    Returns:
        (mode, avoided system ids).
    """
    mode, avoid = user_route_defaults_get(user=user)
    return mode or DEFAULT_ROUTE_MODE, avoid


def haul_snapshots_get(*, region_ids: Iterable[int]) -> tuple[list[MarketSnapshot], list[int]]:
    """Return the current snapshots of some regions, and the regions that have none.

    Args:
        region_ids: The regions.

    Returns:
        (snapshots, regions without one).
    """
    snapshots, missing = [], []
    for region_id in dict.fromkeys(region_ids):
        snapshot = market_snapshot_current_get(region_id=region_id)
        if snapshot is None:
            missing.append(region_id)
        else:
            snapshots.append(snapshot)
    return snapshots, missing


# One side of one station's book, as binary arrays (one per column; a row per order would cost a Python object
# per value). Filtering and grouping happen in numpy (``market.planner_greedy.relaxed_segments``): a type is only
# planned when its best bid after tax beats its best ask.
_SIDE_SQL = """
SELECT array_send(array_agg(o.type_id::int8)), array_send(array_agg(o.order_id::int8)),
       array_send(array_agg(o.price::float8)), array_send(array_agg(o.volume_remain::int8)),
       array_send(array_agg(o.min_volume::int8))
FROM market_marketorder o
WHERE o.location_id = %(location)s AND o.is_buy_order = %(buy)s AND o.volume_remain > 0
  AND o.snapshot_id = ANY(%(snapshots)s)
"""
_SIDE_DTYPES = ("i8", "i8", "f8", "i8", "i8")
# How long the in-process copy of the SDE's item volumes is trusted (they change only when an SDE is ingested).
VOLUMES_TTL_SECONDS = 300.0
_volumes_lock = threading.Lock()
_volumes: dict[str, Any] = {}


def _volumes_read(type_ids: Iterable[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Shipping volumes (packaged where known) of the SDE types that have one (all, or some), by type id."""
    rows = ItemType.objects.filter(Q(packaged_volume__isnull=False) | Q(volume__isnull=False))
    if type_ids is not None:
        rows = rows.filter(id__in=list(type_ids))
    pairs = list(
        rows.annotate(shipping=Coalesce("packaged_volume", "volume")).order_by("id").values_list("id", "shipping")
    )
    return np.asarray([p[0] for p in pairs], dtype=np.int64), np.asarray([p[1] for p in pairs], dtype=np.float64)


def item_volumes(*, type_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the shipping volume (packaged where known) of the SDE types among ``type_ids`` that have one.

    Every type's volume is kept in the process for :data:`VOLUMES_TTL_SECONDS`; types missing from that copy
    are looked up (and added) each time, so a type ingested since is never left out.

    Args:
        type_ids: Type ids, ascending and unique.

    Returns:
        (the type ids that have a volume, their volumes).
    """
    with _volumes_lock:
        if time.monotonic() - _volumes.get("at", -math.inf) > VOLUMES_TTL_SECONDS:
            ids, volumes = _volumes_read()
            _volumes.update(ids=ids, volumes=volumes, at=time.monotonic())
        ids, volumes = _volumes["ids"], _volumes["volumes"]
        missing = np.setdiff1d(type_ids, ids)
        if len(missing):
            more_ids, more_volumes = _volumes_read(missing.tolist())
            if len(more_ids):
                ids = np.concatenate((ids, more_ids))
                order = np.argsort(ids, kind="stable")
                ids, volumes = ids[order], np.concatenate((volumes, more_volumes))[order]
                _volumes.update(ids=ids, volumes=volumes)
    known = np.intersect1d(type_ids, ids)
    return known, volumes[np.searchsorted(ids, known)]


def haul_books_read(*, from_id: int, to_id: int, snapshot_ids: list[int]) -> Books:
    """Read the books of a trip from the stored snapshots, as columns.

    The sell orders at the origin and the buy orders at the destination of every type traded on both sides
    whose volume the SDE knows.

    Args:
        from_id: The origin station.
        to_id: The destination station.
        snapshot_ids: The current snapshots of the two stations' regions.

    Returns:
        The books.
    """
    sides = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        for location, buy in ((from_id, False), (to_id, True)):
            params = {"location": location, "buy": buy, "snapshots": snapshot_ids}
            ((*row,),) = binary_rows(_SIDE_SQL, params)
            sides.append([array_read(data, dtype) for data, dtype in zip(row, _SIDE_DTYPES, strict=True)])
    (s_type, s_order, s_price, s_remain, _), (b_type, b_order, b_price, b_remain, b_min) = sides
    types, volumes = item_volumes(type_ids=np.intersect1d(s_type, b_type))
    keep_s, keep_b = np.isin(s_type, types), np.isin(b_type, types)
    return Books(
        type_ids=types,
        unit_volumes=volumes,
        sell_type=s_type[keep_s],
        sell_order=s_order[keep_s],
        sell_price=s_price[keep_s],
        sell_remain=s_remain[keep_s],
        buy_type=b_type[keep_b],
        buy_order=b_order[keep_b],
        buy_price=b_price[keep_b],
        buy_remain=b_remain[keep_b],
        buy_min=b_min[keep_b],
    )


def haul_type_names(*, type_ids: Iterable[int]) -> dict[int, str]:
    """Return the SDE names of some types.

    Args:
        type_ids: The types.

    Returns:
        type id -> name (types the SDE lacks are absent).
    """
    return dict(ItemType.objects.filter(id__in=set(type_ids)).values_list("id", "name"))
