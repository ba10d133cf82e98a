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

Daily volume: ``avg_daily_volume`` is the stored 30-day mean of the type in the selling region (B's for
hauling, the station's for station trading; NULL when never fetched) and ``days_to_sell = units /
avg_daily_volume`` (NULL without history or trades); the filters ``min_daily_volume`` and
``max_days_to_sell`` drop rows where they are NULL.

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
    "min_daily_volume": "r.avg_daily_volume >= %(min_daily_volume)s::float8",
    "max_days_to_sell": "r.days_to_sell <= %(max_days_to_sell)s::float8",
}

# Every stored order belongs to its region's current snapshot: market_snapshot_store inserts the
# new snapshot and deletes the older ones in one transaction, so one statement never sees two.
# The scope of a query is therefore a plain condition on the orders (``o``).

# Hauling candidates without a pass over every order: the best prices per type in scope come
# from MarketTypeSummary (built when a snapshot is stored); an order can only be in a profitable
# pair when it beats the best opposite price of its type (exact pruning: an index range with a
# tiny slack, then the very test of the definition). Then the best order per (type, station, side).
HAULING_PAIRS = """
lim AS (
    SELECT s.type_id, MAX(s.max_bid) AS max_bid, MIN(s.min_ask) AS min_ask,
           MAX(s.max_bid) * %(keep)s::float8 AS ask_cap,
           MIN(s.min_ask) / %(keep)s::float8 * 0.999999 AS bid_floor
    FROM market_markettypesummary s
    WHERE {summary_scope}
    GROUP BY s.type_id
    HAVING MAX(s.max_bid) IS NOT NULL AND MIN(s.min_ask) IS NOT NULL
       AND MAX(s.max_bid) * %(keep)s::float8 > MIN(s.min_ask)
),
cand AS (
    SELECT c.*
    FROM lim CROSS JOIN LATERAL (
        SELECT o.type_id, o.location_id, o.system_id, o.region_id, o.is_buy_order, o.price, o.volume_remain,
               o.min_volume, o.order_id
        FROM market_marketorder o
        WHERE o.type_id = lim.type_id AND NOT o.is_buy_order AND o.price < lim.ask_cap AND {scope}
        UNION ALL
        SELECT o.type_id, o.location_id, o.system_id, o.region_id, o.is_buy_order, o.price, o.volume_remain,
               o.min_volume, o.order_id
        FROM market_marketorder o
        WHERE o.type_id = lim.type_id AND o.is_buy_order AND o.price > lim.bid_floor
          AND o.price * %(keep)s::float8 > lim.min_ask AND {scope}
        OFFSET 0
    ) c
),
best AS (
    SELECT DISTINCT ON (type_id, location_id, is_buy_order)
           type_id, location_id, system_id, region_id, is_buy_order, price, volume_remain, min_volume, order_id
    FROM cand
    ORDER BY type_id, location_id, is_buy_order,
             CASE WHEN is_buy_order THEN -price ELSE price END, volume_remain DESC, order_id ASC
),
pairs AS (
    SELECT a.type_id,
           a.location_id AS from_id, b.location_id AS to_id,
           a.system_id AS from_system_id, b.system_id AS to_system_id, b.region_id AS sell_region_id,
           a.location_id AS ask_location_id, b.location_id AS bid_location_id,
           b.price AS bid, a.price AS ask, b.order_id AS bid_order_id, a.order_id AS ask_order_id,
           LEAST(a.volume_remain, b.volume_remain) AS units,
           b.price * %(keep)s::float8 - a.price AS profit_per_unit,
           a.price AS pct_base
    FROM best a JOIN best b ON a.type_id = b.type_id AND a.location_id <> b.location_id
    WHERE NOT a.is_buy_order AND b.is_buy_order
      AND b.price * %(keep)s::float8 - a.price > 0
      AND LEAST(a.volume_remain, b.volume_remain) >= b.min_volume
)"""

# Station trading at one station: best prices per type by aggregation, only the types whose best
# prices profit, then the tie-broken order at those prices.
_STATION_PAIRS = """
agg AS (
    SELECT o.type_id,
           MAX(CASE WHEN o.is_buy_order THEN o.price END) AS max_bid,
           MIN(CASE WHEN NOT o.is_buy_order THEN o.price END) AS min_ask
    FROM market_marketorder o
    WHERE {scope}
    GROUP BY o.type_id
    HAVING MIN(CASE WHEN NOT o.is_buy_order THEN o.price END) * %(net)s::float8
         - MAX(CASE WHEN o.is_buy_order THEN o.price END) * %(gross)s::float8 > 0
),
best AS (
    SELECT DISTINCT ON (o.type_id, o.is_buy_order)
           o.type_id, o.location_id, o.system_id, o.region_id, o.is_buy_order, o.price, o.volume_remain, o.order_id
    FROM market_marketorder o JOIN agg ON agg.type_id = o.type_id
    WHERE {scope}
      AND ((o.is_buy_order AND o.price = agg.max_bid) OR (NOT o.is_buy_order AND o.price = agg.min_ask))
    ORDER BY o.type_id, o.is_buy_order, o.volume_remain DESC, o.order_id ASC
),
sides AS (
    SELECT type_id,
           MAX(location_id) AS location_id,
           MAX(region_id) AS region_id,
           MAX(price) FILTER (WHERE is_buy_order) AS bid,
           MAX(price) FILTER (WHERE NOT is_buy_order) AS ask,
           MAX(system_id) FILTER (WHERE is_buy_order) AS bid_system_id,
           MAX(system_id) FILTER (WHERE NOT is_buy_order) AS ask_system_id,
           MAX(order_id) FILTER (WHERE is_buy_order) AS bid_order_id,
           MAX(order_id) FILTER (WHERE NOT is_buy_order) AS ask_order_id,
           MAX(volume_remain) FILTER (WHERE is_buy_order) AS bid_volume,
           MAX(volume_remain) FILTER (WHERE NOT is_buy_order) AS ask_volume
    FROM best
    GROUP BY type_id
),
pairs AS (
    SELECT x.type_id,
           x.location_id AS from_id, x.location_id AS to_id,
           x.bid_system_id AS from_system_id, x.ask_system_id AS to_system_id, x.region_id AS sell_region_id,
           x.location_id AS ask_location_id, x.location_id AS bid_location_id,
           x.bid, x.ask, x.bid_order_id, x.ask_order_id,
           LEAST(x.ask_volume, x.bid_volume) AS units,
           x.ask * %(net)s::float8 - x.bid * %(gross)s::float8 AS profit_per_unit,
           x.bid * %(gross)s::float8 AS pct_base
    FROM sides x
    WHERE x.ask * %(net)s::float8 - x.bid * %(gross)s::float8 > 0
)"""

# Per-unit profit of walking a sell order ``s`` against a buy order ``d``.
UNIT_PROFIT: dict[Kind, str] = {
    "hauling": "d.price * %(keep)s::float8 - s.price",
    "station": "s.price * %(net)s::float8 - d.price * %(gross)s::float8",
}

# Ranking and filters.
_RANKED = """
ranked AS (
    SELECT r.*, ROW_NUMBER() OVER (
               ORDER BY r.profit_pct DESC, r.total_profit DESC, r.type_id, r.from_id, r.to_id) AS rank
    FROM (
        SELECT p.*,
               100 * p.profit_per_unit / p.pct_base AS profit_pct,
               p.units * p.profit_per_unit AS total_profit,
               p.units * COALESCE(it.packaged_volume, it.volume) AS volume_m3,
               fs.security AS from_security, ts.security AS to_security{daily_volume_columns}
        FROM pairs p
        LEFT JOIN universe_itemtype it ON it.id = p.type_id
        LEFT JOIN universe_solarsystem fs ON fs.id = p.from_system_id
        LEFT JOIN universe_solarsystem ts ON ts.id = p.to_system_id
        {daily_volume_join}
    ) r
    {filter_where}
),"""

# The depth walk of the top rows only (index lookups per row via LATERAL), and the answer's columns
# (``extra_select``: more columns of ``top``, after :data:`COLUMNS`; ``top_source``: ``top t`` or a relation
# joined with it).
DEPTH_AND_SELECT = """
top AS (SELECT * FROM ranked WHERE rank <= %(limit)s),
sell_book AS (
    SELECT t.rank, s.price, s.vol, s.cum
    FROM top t CROSS JOIN LATERAL (
        SELECT o.price, o.volume_remain AS vol,
               SUM(o.volume_remain) OVER (ORDER BY o.price ASC, o.order_id ASC
                                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum
        FROM market_marketorder o
        WHERE o.type_id = t.type_id AND o.location_id = t.ask_location_id AND NOT o.is_buy_order
          AND o.volume_remain > 0
    ) s
),
buy_book AS (
    SELECT t.rank, b.price, b.vol, b.cum
    FROM top t CROSS JOIN LATERAL (
        SELECT o.price, o.volume_remain AS vol,
               SUM(o.volume_remain) OVER (ORDER BY o.price DESC, o.order_id ASC
                                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum
        FROM market_marketorder o
        WHERE o.type_id = t.type_id AND o.location_id = t.bid_location_id AND o.is_buy_order
          AND o.volume_remain > 0
    ) b
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
       CAST(COALESCE(dp.depth_profit, 0) AS DOUBLE PRECISION) AS depth_profit,
       {daily_select}{extra_select}
FROM {top_source}
LEFT JOIN depth dp ON dp.rank = t.rank{daily_join}
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
    "avg_daily_volume",
    "days_to_sell",
)


def daily_volume_join(*, region_column: str, type_column: str, alias: str = "dv") -> str:
    """The SQL joining rows to their stored daily volume (see :mod:`market.history_selectors`).

    ``{alias}.avg_daily_volume`` is NULL when never fetched and 0 without trades in the window; one row per
    (region, type) through the unique index, so no aggregate runs in a scan.

    Args:
        region_column: The row's region column (the selling region for hauls).
        type_column: The row's type column.
        alias: The alias of the joined table.

    Returns:
        ``LEFT JOIN market_markethistorytype {alias} ON ...``.
    """
    return (
        f"LEFT JOIN market_markethistorytype {alias} "
        f"ON {alias}.region_id = {region_column} AND {alias}.type_id = {type_column}"
    )


# A row's daily volume in the selling region: ``days_to_sell = units / avg_daily_volume``, NULL without history
# or trades.
_DAILY_COLUMNS = (
    "CAST(dv.avg_daily_volume AS DOUBLE PRECISION) AS avg_daily_volume, "
    "CAST({units} AS DOUBLE PRECISION) / NULLIF(dv.avg_daily_volume, 0) AS days_to_sell"
)


def daily_volume_parts(*, early: bool) -> dict[str, str]:
    """Where a scan joins the daily volume: before the cut when a filter needs it, else for the top rows only.

    Args:
        early: A daily volume filter is used (the ranked rows need the columns).

    Returns:
        Format arguments of :data:`DEPTH_AND_SELECT` (``daily_select``, ``daily_join``) and of the plain scan's
        ranking (``daily_volume_columns``, ``daily_volume_join``).
    """
    if early:
        return {
            "daily_select": "t.avg_daily_volume, t.days_to_sell",
            "daily_join": "",
            "daily_volume_columns": ",\n               " + _DAILY_COLUMNS.format(units="p.units"),
            "daily_volume_join": daily_volume_join(region_column="p.sell_region_id", type_column="p.type_id"),
        }
    return {
        "daily_select": _DAILY_COLUMNS.format(units="t.units"),
        "daily_join": "\n" + daily_volume_join(region_column="t.sell_region_id", type_column="t.type_id"),
        "daily_volume_columns": "",
        "daily_volume_join": "",
    }


DAILY_FILTERS = ("min_daily_volume", "max_days_to_sell")


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
    ``type_id`` (and ``from_id``, ``to_id`` for hauling) when ``pair``; one per used filter.

    Args:
        kind: ``"hauling"`` (A -> B, A != B) or ``"station"`` (station trading at ``station_id``).
        region_scoped: Only the orders of ``region_id`` (else every stored region's: the global scan).
        filters: Names from :data:`FILTERS` to apply.
        pair: Restrict to one type (between ``from_id`` and ``to_id`` when hauling): the profit breakdown.

    Returns:
        SQL returning :data:`COLUMNS`, best row first.

    Raises:
        ValueError: For an unknown filter name.
    """
    names = list(filters)
    unknown = [n for n in names if n not in FILTERS]
    if unknown:
        raise ValueError(f"Unknown trade filters: {unknown}")
    scope = ["o.region_id = %(region_id)s"] if region_scoped else []
    summary_scope = ["s.region_id = %(region_id)s"] if region_scoped else []
    if kind == "station":
        scope.append("o.location_id = %(station_id)s")
    if pair:
        scope.append("o.type_id = %(type_id)s")
        summary_scope.append("s.type_id = %(type_id)s")
    pairs = (HAULING_PAIRS if kind == "hauling" else _STATION_PAIRS).format(
        scope=" AND ".join(scope) or "TRUE", summary_scope=" AND ".join(summary_scope) or "TRUE"
    )
    if pair and kind == "hauling":
        pairs = pairs.replace(
            "AND LEAST(a.volume_remain, b.volume_remain) >= b.min_volume",
            "AND LEAST(a.volume_remain, b.volume_remain) >= b.min_volume\n"
            "      AND a.location_id = %(from_id)s AND b.location_id = %(to_id)s",
        )
    filter_where = ("WHERE " + " AND ".join(FILTERS[n] for n in names)) if names else ""
    daily = daily_volume_parts(early=any(n in DAILY_FILTERS for n in names))
    ranked = _RANKED.format(
        filter_where=filter_where,
        daily_volume_columns=daily["daily_volume_columns"],
        daily_volume_join=daily["daily_volume_join"],
    )
    depth = DEPTH_AND_SELECT.format(
        unit_profit=UNIT_PROFIT[kind],
        extra_select="",
        top_source="top t",
        daily_select=daily["daily_select"],
        daily_join=daily["daily_join"],
    )
    return "WITH" + pairs + "," + ranked + depth


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
    SELECT id FROM market_marketsnapshot WHERE region_id = %(region_id)s AND structure_id IS NULL
    ORDER BY fetched_at DESC, id DESC LIMIT 1
)
SELECT type_id,
       MAX(CASE WHEN is_buy_order THEN price END) AS highest_buy,
       MIN(CASE WHEN NOT is_buy_order THEN price END) AS lowest_sell
FROM market_marketorder
WHERE snapshot_id IN (SELECT id FROM cur) AND location_id = %(station_id)s {type_filter}
GROUP BY type_id
"""
