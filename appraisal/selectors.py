"""Reads of appraisal: the market a paste is valued at, type names, the station's order books, stored appraisals."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from appraisal.models import LINE_FIELDS, Appraisal
from appraisal.valuation import Book
from appraisal.valuation_columns import BookColumns
from evesite.exceptions import NotFoundError
from evesite.pgbinary import array_read, binary_rows
from universe.models import Station

# The trade hubs a market may be named by (NPC stations of the SDE).
HUBS: dict[str, int] = {
    "jita": 60003760,  # Jita IV - Moon 4 - Caldari Navy Assembly Plant (The Forge)
    "amarr": 60008494,  # Amarr VIII (Oris) - Emperor Family Academy (Domain)
    "dodixie": 60011866,  # Dodixie IX - Moon 20 - Federation Navy Assembly Plant (Sinq Laison)
    "rens": 60004588,  # Rens VI - Moon 8 - Brutor Tribe Treasury (Heimatar)
    "hek": 60005686,  # Hek VIII - Moon 12 - Boundless Creation Factory (Metropolis)
}
MAX_ID_DIGITS = 19
INT64_MAX = 2**63 - 1

# One query for every name of a paste: one pass over the types, each name looked up in the hashed array.
# lower() in the "C" collation lowers ASCII letters only, like appraisal.parser.name_key, and costs a third
# of the locale's; a few SDE names end in a space, which a paste does not keep.
_TYPES_SQL = """
SELECT lower(btrim(t.name) COLLATE "C"), t.id, t.name, t.packaged_volume, t.volume, t.published,
       t.market_group_id IS NOT NULL
FROM universe_itemtype t
WHERE lower(btrim(t.name) COLLATE "C") = ANY({keys})
"""
# The names go as one text, a line break between two (a pasted line holds none): cheaper to send than a text[] of
# thousands. Names holding a line break (or one empty name) go as a text[].
_TYPES_JOINED_SQL = _TYPES_SQL.format(keys="string_to_array(%(keys)s, E'\\n')")
_TYPES_ARRAY_SQL = _TYPES_SQL.format(keys="%(keys)s::text[]")
# The orders of the types at one station in one snapshot, as one row of arrays in PostgreSQL's binary format
# (array_send), which numpy reads without a Python object per number. The key of an order's side of its type:
# type_id * 2 + is_buy_order.
_BOOKS_SQL = """
SELECT array_send(array_agg(type_id::int8 * 2 + is_buy_order::int)), array_send(array_agg(price)),
       array_send(array_agg(volume_remain)), array_send(array_agg(min_volume))
FROM market_marketorder
WHERE snapshot_id = %(snapshot_id)s AND location_id = %(station_id)s
  AND type_id = ANY(string_to_array(%(type_ids)s, ',')::int[])
"""


@dataclass(frozen=True)
class MarketRef:
    """The station a paste is valued at."""

    name: str
    station_id: int
    station_name: str
    region_id: int


class TypeRef(NamedTuple):
    """A type a name matched: its id, SDE name and volume per unit (packaged where the SDE has it)."""

    type_id: int
    name: str
    unit_volume: float


def appraisal_market_resolve(*, market: str) -> MarketRef:
    """Find the station a market names: a hub (``jita``, ``amarr``, ``dodixie``, ``rens``, ``hek``) or a station id.

    Args:
        market: The name (any case) or an SDE NPC station id.

    Returns:
        The station and its region.

    Raises:
        NotFoundError: When it is neither a hub nor an SDE station id.
    """
    name = market.strip().lower()
    if name in HUBS:
        station_id = HUBS[name]
    elif name.isascii() and name.isdigit() and len(name) <= MAX_ID_DIGITS:
        station_id = int(name)
        name = str(station_id)
    else:
        hubs = ", ".join(HUBS)
        raise NotFoundError(f"Unknown market {market!r}: name one of {hubs}, or an SDE station id.", hubs=list(HUBS))
    in_range = 0 < station_id <= INT64_MAX
    station = Station.objects.filter(id=station_id).values("name", "region_id").first() if in_range else None
    if station is None:
        raise NotFoundError(f"Station {station_id} is not an SDE station.", station_id=station_id)
    return MarketRef(name=name, station_id=station_id, station_name=station["name"], region_id=station["region_id"])


def appraisal_types_get(*, keys: Iterable[str]) -> dict[str, TypeRef]:
    """Match names against the SDE's type names, exactly but in any case of ASCII letters (one query).

    Args:
        keys: Names as :func:`appraisal.parser.name_key` makes them.

    Returns:
        name -> type, for the names that matched.
    """
    wanted = set(keys)
    if not wanted:
        return {}
    joined = "\n".join(wanted)
    params: dict[str, Any] = {"keys": joined}
    sql = _TYPES_JOINED_SQL
    if joined.count("\n") != len(wanted) - 1 or not joined:  # string_to_array('') is empty, not {''}
        sql, params = _TYPES_ARRAY_SQL, {"keys": sorted(wanted)}
    best: dict[str, tuple[tuple[bool, bool, int], TypeRef]] = {}
    for key, type_id, name, packaged, volume, published, on_market in binary_rows(sql, params):
        # Among types sharing a name: published, then sold on the market, then the lowest id.
        rank = (not published, not on_market, type_id)
        if key not in best or rank < best[key][0]:
            unit_volume = packaged if packaged is not None else volume or 0.0
            best[key] = (rank, TypeRef(type_id=type_id, name=name, unit_volume=unit_volume))
    return {key: found for key, (_, found) in best.items()}


def appraisal_book_columns_get(*, snapshot_id: int, station_id: int, type_ids: Iterable[int]) -> BookColumns:
    """Read the orders of some types at a station from a stored market snapshot, as columns (one query).

    Args:
        snapshot_id: The region's current snapshot.
        station_id: The station.
        type_ids: The types.

    Returns:
        The orders, in no particular order.
    """
    wanted = sorted(set(type_ids))
    keys = prices = units = min_volumes = None  # no orders
    if wanted:
        params = {"snapshot_id": snapshot_id, "station_id": station_id, "type_ids": ",".join(map(str, wanted))}
        ((keys, prices, units, min_volumes),) = binary_rows(_BOOKS_SQL, params)
    sides = array_read(keys, "i8")
    return BookColumns(
        type_ids=sides >> 1,
        buy=(sides & 1).astype(np.bool_),
        prices=array_read(prices, "f8"),
        units=array_read(units, "i8"),
        min_volumes=array_read(min_volumes, "i8"),
    )


def appraisal_books_get(*, snapshot_id: int, station_id: int, type_ids: Iterable[int]) -> dict[int, Book]:
    """Read the sell and buy orders of some types at a station from a stored market snapshot (one query).

    Args:
        snapshot_id: The region's current snapshot.
        station_id: The station.
        type_ids: The types.

    Returns:
        type id -> book; types without orders there are absent.
    """
    columns = appraisal_book_columns_get(snapshot_id=snapshot_id, station_id=station_id, type_ids=type_ids)
    return columns.books()


def appraisal_get(*, appraisal_id: uuid.UUID) -> Appraisal:
    """Return a stored appraisal.

    Args:
        appraisal_id: Its id.

    Returns:
        The appraisal.

    Raises:
        NotFoundError: For an unknown id.
    """
    found = Appraisal.objects.filter(pk=appraisal_id).first()
    if found is None:
        raise NotFoundError(f"Appraisal {appraisal_id} does not exist.")
    return found


def appraisal_data(*, appraisal: Appraisal, lines: bool = True) -> dict[str, Any]:
    """Shape a stored appraisal for the API (``appraisal.schemas.AppraisalOut``).

    Args:
        appraisal: The appraisal.
        lines: Include the lines as objects (else ``lines`` is empty; ``totals.lines`` counts them still).

    Returns:
        ``id, created, market {...}, sales_tax, totals {...}, lines, unparsed``.
    """
    return {
        "id": appraisal.pk,
        "created": appraisal.created,
        "market": {
            "name": appraisal.market,
            "station_id": appraisal.station_id,
            "station_name": appraisal.station_name,
            "region_id": appraisal.region_id,
            "snapshot_id": appraisal.snapshot_id,
            "prices_as_of": appraisal.prices_as_of,
        },
        "sales_tax": appraisal.sales_tax,
        "totals": {
            "sell": appraisal.total_sell,
            "buy": appraisal.total_buy,
            "split": appraisal.total_split,
            "volume": appraisal.total_volume,
            "lines": len(appraisal.lines),
            "unparsed": len(appraisal.unparsed),
        },
        "lines": [dict(zip(LINE_FIELDS, line, strict=True)) for line in appraisal.lines] if lines else [],
        "unparsed": appraisal.unparsed,
    }
