"""The set-based trade queries, written once for PostgreSQL and (in the benchmark) DuckDB.

Every query reads the tables ``market_marketsnapshot``, ``market_marketorder``,
``universe_itemtype``, ``universe_solarsystem`` and ``universe_station`` by
unqualified name, so the benchmark can run them against another schema
(``search_path``) or another engine. Parameters use the ``%(name)s`` style;
:func:`duckdb_sql` turns them into DuckDB's ``$name``.

Definitions (rates are fractions here: ``tax`` = sales tax, ``fee`` = broker fee):

- hauling A -> B: ``ask`` = lowest sell at A, ``bid`` = highest buy at B,
  ``profit_per_unit = bid*(1 - tax) - ask``, ``profit_pct = 100*profit_per_unit/ask``,
  ``units = min(volume_remain of both orders)``, dropped when ``units < min_volume`` of the bid order;
- station trading at S: ``bid`` = highest buy at S, ``ask`` = lowest sell at S,
  ``profit_per_unit = ask*(1 - tax - fee) - bid*(1 + fee)``,
  ``profit_pct = 100*profit_per_unit/(bid*(1 + fee))``, ``units = min(volume_remain of both orders)``.

Among several orders at the best price the one with the most ``volume_remain``
(then the lowest ``order_id``) is "that order". Rows need ``profit_per_unit > 0``
and are ranked by ``profit_pct`` desc, ``total_profit`` desc, then ``type_id``,
A, B ascending. ``depth_units``/``depth_profit`` walk the sell book at the
ask station upwards and the buy book at the bid station downwards, unit by unit,
while each further unit still makes a profit (``min_volume`` of deeper orders is
not considered).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

Kind = Literal["hauling", "station"]

# Filters: query parameter -> SQL condition on the ranked rows (``r``).
FILTERS: dict[str, str] = {
    "min_profit": "r.total_profit >= %(min_profit)s::float8",
    "min_profit_pct": "r.profit_pct >= %(min_profit_pct)s::float8",
    "max_profit_pct": "r.profit_pct <= %(max_profit_pct)s::float8",
    "min_units": "r.units >= %(min_units)s",
    "max_volume_m3": "r.volume_m3 <= %(max_volume_m3)s::float8",
    "min_security": "r.from_security >= %(min_security)s::float8 AND r.to_security >= %(min_security)s::float8",
}

# The current snapshot of each region in scope.
_CURRENT = """
cur AS (
    SELECT id FROM (
        SELECT id, ROW_NUMBER() OVER (PARTITION BY region_id ORDER BY fetched_at DESC, id DESC) AS rn
        FROM market_marketsnapshot {where}
    ) latest WHERE rn = 1
)"""

# Hauling candidates: per (type, station) best ask and best bid, pruned exactly by the
# type's best prices anywhere in scope (an ask no bid anywhere can beat is never in a row).
_HAULING_PAIRS = """
lim AS (
    SELECT type_id,
           MAX(CASE WHEN is_buy_order THEN price END) AS max_bid,
           MIN(CASE WHEN NOT is_buy_order THEN price END) AS min_ask
    FROM market_marketorder
    WHERE snapshot_id IN (SELECT id FROM cur)
    GROUP BY type_id
    HAVING MAX(CASE WHEN is_buy_order THEN price END) IS NOT NULL
       AND MIN(CASE WHEN NOT is_buy_order THEN price END) IS NOT NULL
),
asks AS (
    SELECT DISTINCT ON (o.type_id, o.location_id)
           o.type_id, o.location_id, o.system_id, o.price, o.volume_remain, o.order_id
    FROM market_marketorder o JOIN lim ON lim.type_id = o.type_id
    WHERE o.snapshot_id IN (SELECT id FROM cur) AND NOT o.is_buy_order
      AND lim.max_bid * %(keep)s::float8 - o.price > 0
    ORDER BY o.type_id, o.location_id, o.price ASC, o.volume_remain DESC, o.order_id ASC
),
bids AS (
    SELECT DISTINCT ON (o.type_id, o.location_id)
           o.type_id, o.location_id, o.system_id, o.price, o.volume_remain, o.min_volume, o.order_id
    FROM market_marketorder o JOIN lim ON lim.type_id = o.type_id
    WHERE o.snapshot_id IN (SELECT id FROM cur) AND o.is_buy_order
      AND o.price * %(keep)s::float8 - lim.min_ask > 0
    ORDER BY o.type_id, o.location_id, o.price DESC, o.volume_remain DESC, o.order_id ASC
),
pairs AS (
    SELECT a.type_id,
           a.location_id AS from_id, b.location_id AS to_id,
           a.system_id AS from_system_id, b.system_id AS to_system_id,
           a.location_id AS ask_location_id, b.location_id AS bid_location_id,
           b.price AS bid, a.price AS ask, b.order_id AS bid_order_id, a.order_id AS ask_order_id,
           LEAST(a.volume_remain, b.volume_remain) AS units,
           b.price * %(keep)s::float8 - a.price AS profit_per_unit,
           a.price AS pct_base
    FROM asks a JOIN bids b ON a.type_id = b.type_id AND a.location_id <> b.location_id
    WHERE b.price * %(keep)s::float8 - a.price > 0
      AND LEAST(a.volume_remain, b.volume_remain) >= b.min_volume
    {pair_where}
)"""

# Station trading candidates at one station.
_STATION_PAIRS = """
asks AS (
    SELECT DISTINCT ON (type_id) type_id, location_id, system_id, price, volume_remain, order_id
    FROM market_marketorder
    WHERE snapshot_id IN (SELECT id FROM cur) AND location_id = %(station_id)s AND NOT is_buy_order
    ORDER BY type_id, price ASC, volume_remain DESC, order_id ASC
),
bids AS (
    SELECT DISTINCT ON (type_id) type_id, location_id, system_id, price, volume_remain, order_id
    FROM market_marketorder
    WHERE snapshot_id IN (SELECT id FROM cur) AND location_id = %(station_id)s AND is_buy_order
    ORDER BY type_id, price DESC, volume_remain DESC, order_id ASC
),
pairs AS (
    SELECT a.type_id,
           b.location_id AS from_id, a.location_id AS to_id,
           b.system_id AS from_system_id, a.system_id AS to_system_id,
           a.location_id AS ask_location_id, b.location_id AS bid_location_id,
           b.price AS bid, a.price AS ask, b.order_id AS bid_order_id, a.order_id AS ask_order_id,
           LEAST(a.volume_remain, b.volume_remain) AS units,
           a.price * %(net)s::float8 - b.price * %(gross)s::float8 AS profit_per_unit,
           b.price * %(gross)s::float8 AS pct_base
    FROM asks a JOIN bids b ON a.type_id = b.type_id
    WHERE a.price * %(net)s::float8 - b.price * %(gross)s::float8 > 0
    {pair_where}
)"""

# Per-unit profit of walking a sell order ``s`` against a buy order ``d``.
_UNIT_PROFIT: dict[Kind, str] = {
    "hauling": "d.price * %(keep)s::float8 - s.price",
    "station": "s.price * %(net)s::float8 - d.price * %(gross)s::float8",
}

_RANK_AND_DEPTH = """
ranked AS (
    SELECT r.*, ROW_NUMBER() OVER (
               ORDER BY r.profit_pct DESC, r.total_profit DESC, r.type_id, r.from_id, r.to_id) AS rank
    FROM (
        SELECT p.*,
               100 * p.profit_per_unit / p.pct_base AS profit_pct,
               p.units * p.profit_per_unit AS total_profit,
               p.units * COALESCE(it.packaged_volume, it.volume) AS volume_m3,
               fs.security AS from_security, ts.security AS to_security
        FROM pairs p
        LEFT JOIN universe_itemtype it ON it.id = p.type_id
        LEFT JOIN universe_solarsystem fs ON fs.id = p.from_system_id
        LEFT JOIN universe_solarsystem ts ON ts.id = p.to_system_id
    ) r
    {filter_where}
),
top AS (SELECT * FROM ranked WHERE rank <= %(limit)s),
sell_book AS (
    SELECT t.rank, o.price, o.volume_remain AS vol,
           SUM(o.volume_remain) OVER (PARTITION BY t.rank ORDER BY o.price ASC, o.order_id ASC
                                      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum
    FROM top t JOIN market_marketorder o
      ON o.type_id = t.type_id AND o.location_id = t.ask_location_id AND NOT o.is_buy_order
    WHERE o.snapshot_id IN (SELECT id FROM cur) AND o.volume_remain > 0
),
buy_book AS (
    SELECT t.rank, o.price, o.volume_remain AS vol,
           SUM(o.volume_remain) OVER (PARTITION BY t.rank ORDER BY o.price DESC, o.order_id ASC
                                      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum
    FROM top t JOIN market_marketorder o
      ON o.type_id = t.type_id AND o.location_id = t.bid_location_id AND o.is_buy_order
    WHERE o.snapshot_id IN (SELECT id FROM cur) AND o.volume_remain > 0
),
depth AS (
    SELECT rank, SUM(overlap) AS depth_units, SUM(overlap * unit_profit) AS depth_profit
    FROM (
        SELECT s.rank,
               LEAST(s.cum, d.cum) - GREATEST(s.cum - s.vol, d.cum - d.vol) AS overlap,
               {unit_profit} AS unit_profit
        FROM sell_book s JOIN buy_book d ON s.rank = d.rank
        WHERE LEAST(s.cum, d.cum) > GREATEST(s.cum - s.vol, d.cum - d.vol)
          AND {unit_profit} > 0
    ) walk
    GROUP BY rank
)
SELECT t.rank, t.type_id, it.name AS type_name,
       t.from_id AS from_station_id, fst.name AS from_station_name,
       t.from_system_id, fsy.name AS from_system_name, t.from_security,
       t.to_id AS to_station_id, tst.name AS to_station_name,
       t.to_system_id, tsy.name AS to_system_name, t.to_security,
       t.bid, t.ask, t.bid_order_id, t.ask_order_id, t.units,
       t.profit_per_unit, t.total_profit, t.profit_pct, t.volume_m3,
       CAST(COALESCE(dp.depth_units, 0) AS BIGINT) AS depth_units,
       CAST(COALESCE(dp.depth_profit, 0) AS DOUBLE PRECISION) AS depth_profit
FROM top t
LEFT JOIN depth dp ON dp.rank = t.rank
LEFT JOIN universe_itemtype it ON it.id = t.type_id
LEFT JOIN universe_station fst ON fst.id = t.from_id
LEFT JOIN universe_station tst ON tst.id = t.to_id
LEFT JOIN universe_solarsystem fsy ON fsy.id = t.from_system_id
LEFT JOIN universe_solarsystem tsy ON tsy.id = t.to_system_id
ORDER BY t.rank
"""

COLUMNS = (
    "rank",
    "type_id",
    "type_name",
    "from_station_id",
    "from_station_name",
    "from_system_id",
    "from_system_name",
    "from_security",
    "to_station_id",
    "to_station_name",
    "to_system_id",
    "to_system_name",
    "to_security",
    "bid",
    "ask",
    "bid_order_id",
    "ask_order_id",
    "units",
    "profit_per_unit",
    "total_profit",
    "profit_pct",
    "volume_m3",
    "depth_units",
    "depth_profit",
)


def trade_sql(
    *,
    kind: Kind,
    region_scoped: bool,
    filters: Iterable[str] = (),
    pair: bool = False,
) -> str:
    """Build a ranked trade query.

    Parameters the query expects: ``keep = 1 - tax``, ``net = 1 - tax - fee``, ``gross = 1 + fee``
    (computed once in Python, so every engine multiplies by the same doubles), ``limit``;
    ``region_id`` when ``region_scoped``; ``station_id`` for ``kind="station"``;
    ``from_id``, ``to_id``, ``type_id`` when ``pair``; one per used filter.

    Args:
        kind: ``"hauling"`` (A -> B, A != B) or ``"station"`` (station trading at ``station_id``).
        region_scoped: Only the current snapshot of ``region_id`` (else every region's current one).
        filters: Names from :data:`FILTERS` to apply.
        pair: Restrict to one type between ``from_id`` and ``to_id`` (the profit breakdown).

    Returns:
        SQL returning :data:`COLUMNS`, best row first.

    Raises:
        ValueError: For an unknown filter name.
    """
    names = list(filters)
    unknown = [n for n in names if n not in FILTERS]
    if unknown:
        raise ValueError(f"Unknown trade filters: {unknown}")
    current = _CURRENT.format(where="WHERE region_id = %(region_id)s" if region_scoped else "")
    if pair and kind == "hauling":
        pair_where = "AND a.type_id = %(type_id)s AND a.location_id = %(from_id)s AND b.location_id = %(to_id)s"
    elif pair:
        pair_where = "AND a.type_id = %(type_id)s"
    else:
        pair_where = ""
    pairs = (_HAULING_PAIRS if kind == "hauling" else _STATION_PAIRS).format(pair_where=pair_where)
    if pair and kind == "hauling":
        # One type between two stations: no need to scan the whole scope for the pruning bounds.
        pairs = pairs.replace(
            "WHERE snapshot_id IN (SELECT id FROM cur)\n    GROUP BY type_id",
            "WHERE snapshot_id IN (SELECT id FROM cur) AND type_id = %(type_id)s\n    GROUP BY type_id",
        )
    filter_where = ("WHERE " + " AND ".join(FILTERS[n] for n in names)) if names else ""
    rank = _RANK_AND_DEPTH.format(filter_where=filter_where, unit_profit=_UNIT_PROFIT[kind])
    return "WITH" + current + "," + pairs + "," + rank


def duckdb_sql(sql: str) -> str:
    """Turn a query of this module into DuckDB's parameter style.

    Args:
        sql: A query with ``%(name)s`` parameters.

    Returns:
        The same query with ``$name`` parameters.
    """
    return re.sub(r"%\((\w+)\)s", r"$\1", sql)


BEST_PRICES_SQL = """
WITH cur AS (
    SELECT id FROM market_marketsnapshot WHERE region_id = %(region_id)s ORDER BY fetched_at DESC, id DESC LIMIT 1
)
SELECT type_id,
       MAX(CASE WHEN is_buy_order THEN price END) AS highest_buy,
       MIN(CASE WHEN NOT is_buy_order THEN price END) AS lowest_sell
FROM market_marketorder
WHERE snapshot_id IN (SELECT id FROM cur) AND location_id = %(station_id)s {type_filter}
GROUP BY type_id
"""
