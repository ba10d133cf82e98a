"""The hauling scan with routes, cargo and wallet limits, and a choice of sort (PostgreSQL only).

The candidate pairs are the ones of :data:`market.sql.HAULING_PAIRS` (same
pruning, same best orders). Then, per pair and before the top-N cut:

- ``units = min(units, floor(cargo_m3 / unit_volume), floor(budget_isk / ask))`` when ``cargo_m3`` /
  ``budget_isk`` are given (a unit volume of 0 does not cap; with ``cargo_m3`` rows of types without a
  known volume are dropped); ``total_profit``, ``volume_m3`` and ``days_to_sell`` follow; rows left with
  0 units are dropped;
- routed scans join the pair's route (``jumps``, ``route_*``) from a stored jump table and/or the
  temporary tables of on-the-fly routes (:mod:`routing.jumps`), and the origin's jumps to A
  (``jumps_to_start``); rows without a route are dropped;
  ``profit_per_jump = total_profit / max(coalesce(jumps_to_start, 0) + jumps, 1)``;
- filters (:data:`market.sql.FILTERS`, daily volume ones included, ``max_jumps``, ``max_jumps_to_start``),
  then the sort: ``profit_pct`` (as the plain scan), ``total_profit`` or ``profit_per_jump`` descending, ties broken by
  the plain scan's order.

The depth walk and the answer's columns are the plain scan's (:data:`market.sql.DEPTH_AND_SELECT`), with
:data:`EXTRA_COLUMNS` after :data:`market.sql.COLUMNS`. Arrays and temporary tables make this
PostgreSQL-only: the DuckDB comparison of ``bench/bench_market.py`` runs the plain scan only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from market.sql import DAILY_FILTERS, DEPTH_AND_SELECT, FILTERS, HAULING_PAIRS, UNIT_PROFIT, daily_volume_parts

Sort = Literal["profit_pct", "total_profit", "profit_per_jump"]
SORTS: tuple[str, ...] = ("profit_pct", "total_profit", "profit_per_jump")
PAIRS_TABLE = "haul_pairs"
EXTRA_COLUMNS = (
    "jumps",
    "jumps_to_start",
    "profit_per_jump",
    "route_min_security",
    "route_high_sec",
    "route_low_sec",
    "route_null_sec",
    "route_max_risk",
)
_TIES = "r.profit_pct DESC, r.total_profit DESC, r.type_id, r.from_id, r.to_id"
ORDER_BY: dict[str, str] = {
    "profit_pct": _TIES,
    "total_profit": "r.total_profit DESC, " + _TIES,
    "profit_per_jump": "r.profit_per_jump DESC, " + _TIES,
}
_ROUTE_FIELDS = ("jumps", "min_security", "high_sec", "low_sec", "null_sec", "max_risk")


def _pairs_cte(*, region_scoped: bool) -> str:
    """The candidate pairs' CTEs (``lim``, ``cand``, ``best``, ``pairs``) over one region or all."""
    return HAULING_PAIRS.format(
        scope="o.region_id = %(region_id)s" if region_scoped else "TRUE",
        summary_scope="s.region_id = %(region_id)s" if region_scoped else "TRUE",
    )


def pairs_store_sql(*, region_scoped: bool) -> str:
    """SQL keeping a scan's candidate pairs in a temporary table (dropped at commit) for a routed scan.

    Args:
        region_scoped: Only the orders of ``region_id``.

    Returns:
        The statement.
    """
    pairs = _pairs_cte(region_scoped=region_scoped)
    return f"CREATE TEMP TABLE {PAIRS_TABLE} ON COMMIT DROP AS WITH{pairs} SELECT * FROM pairs"  # noqa: S608


PAIR_SYSTEMS_SQL = f"SELECT from_system_id, array_agg(DISTINCT to_system_id) FROM {PAIRS_TABLE} GROUP BY from_system_id"  # noqa: S608


def _route_parts(*, stored: bool, temp: bool, origin: bool) -> tuple[str, str, str]:
    """The CTEs, joins and columns of a routed scan's routes."""
    ctes, joins = "", []
    sides = []
    if temp:
        joins += [
            "LEFT JOIN haul_jsrc ts ON ts.system_id = p.from_system_id",
            "LEFT JOIN haul_jtgt tt ON tt.system_id = p.to_system_id",
        ]
        sides.append(("ts", "tt"))
    if stored:
        detoasted = ", ".join(f"s.{f} || '{{}}' AS {f}" for f in _ROUTE_FIELDS)
        ctes = f"""
jsrc AS MATERIALIZED (
    SELECT s.system_id, {detoasted}
    FROM routing_jumpsource s
    WHERE s.table_id = %(jump_table)s AND s.system_id IN (SELECT DISTINCT from_system_id FROM pairs)
),
jtgt AS (SELECT t.system_id, t.idx FROM routing_jumptarget t WHERE t.table_id = %(jump_table)s),"""  # noqa: S608
        joins += [
            "LEFT JOIN jsrc ss ON ss.system_id = p.from_system_id",
            "LEFT JOIN jtgt st ON st.system_id = p.to_system_id",
        ]
        sides.append(("ss", "st"))
    names = ("jumps", "route_min_security", "route_high_sec", "route_low_sec", "route_null_sec", "route_max_risk")
    columns = []
    for field, name in zip(_ROUTE_FIELDS, names, strict=True):
        values = [f"{src}.{field}[{tgt}.idx]" for src, tgt in sides] or ["CAST(NULL AS int)"]
        columns.append((f"COALESCE({', '.join(values)})" if len(values) > 1 else values[0]) + f" AS {name}")
    if origin:
        joins.append(
            "LEFT JOIN unnest(%(origin_systems)s::bigint[], %(origin_jumps)s::int[]) AS og(system_id, jumps) "
            "ON og.system_id = p.from_system_id"
        )
        columns.append("og.jumps AS jumps_to_start")
    else:
        columns.append("CAST(NULL AS int) AS jumps_to_start")
    return ctes, "\n        ".join(joins), ",\n               ".join(columns)


_PLAIN_ROUTE = (
    "CAST(NULL AS int) AS jumps, CAST(NULL AS float8) AS route_min_security, CAST(NULL AS int) AS route_high_sec, "
    "CAST(NULL AS int) AS route_low_sec, CAST(NULL AS int) AS route_null_sec, CAST(NULL AS int) AS route_max_risk, "
    "CAST(NULL AS int) AS jumps_to_start"
)

_RANKED = """
ranked AS (
    SELECT r.*, ROW_NUMBER() OVER (ORDER BY {order_by}) AS rank
    FROM (
        SELECT c.*, c.units * c.profit_per_unit AS total_profit, c.units * c.unit_volume AS volume_m3,
               {per_jump} AS profit_per_jump{days_column}
        FROM (
            SELECT p.type_id, p.from_id, p.to_id, p.from_system_id, p.to_system_id, p.sell_region_id,
                   p.ask_location_id, p.bid_location_id, p.bid, p.ask, p.bid_order_id, p.ask_order_id,
                   p.profit_per_unit, p.pct_base,
                   100 * p.profit_per_unit / p.pct_base AS profit_pct,
                   COALESCE(it.packaged_volume, it.volume) AS unit_volume,
                   {units} AS units,
                   fs.security AS from_security, ts_.security AS to_security,{daily_column}
                   {route_columns}
            FROM pairs p
            LEFT JOIN universe_itemtype it ON it.id = p.type_id
            LEFT JOIN universe_solarsystem fs ON fs.id = p.from_system_id
            LEFT JOIN universe_solarsystem ts_ ON ts_.id = p.to_system_id
            {daily_volume_join}
            {route_joins}
            OFFSET 0  -- a fence: the route arrays are read here, never carried into the sort
        ) c
    ) r
    {where}
),"""


@dataclass(frozen=True)
class RouteJoin:
    """Where a routed scan reads its routes from, and the jump limits it keeps.

    Attributes:
        stored: Routes from the stored jump table ``jump_table``.
        temp: Routes from the temporary tables ``haul_jsrc``/``haul_jtgt``.
        origin: Jumps from the origin (``origin_systems``/``origin_jumps``).
        max_jumps: Keep rows with ``jumps <= max_jumps``.
        max_jumps_to_start: Keep rows with ``jumps_to_start <= max_jumps_to_start``.
    """

    stored: bool = False
    temp: bool = False
    origin: bool = False
    max_jumps: bool = False
    max_jumps_to_start: bool = False


def haul_sql(
    *,
    region_scoped: bool,
    filters: Iterable[str] = (),
    routes: RouteJoin | None = None,
    cargo: bool = False,
    budget: bool = False,
    sort: str = "profit_pct",
) -> str:
    """Build the hauling scan with limits, routes and a sort.

    Parameters it expects: those of :func:`market.sql.trade_sql` (``keep``, ``limit``, ``region_id``, the
    filters'), and ``cargo_m3``, ``budget_isk``, ``max_jumps``, ``max_jumps_to_start``, ``jump_table``,
    ``origin_systems``/``origin_jumps`` as used. A routed scan reads its pairs from :data:`PAIRS_TABLE`
    (:func:`pairs_store_sql` first).

    Args:
        region_scoped: Only the orders of ``region_id``.
        filters: Names from :data:`market.sql.FILTERS`.
        routes: Join routes this way (None: the route columns are null).
        cargo: Cap units by ``cargo_m3``.
        budget: Cap units by ``budget_isk``.
        sort: One of :data:`SORTS`.

    Returns:
        SQL returning :data:`market.sql.COLUMNS` and :data:`EXTRA_COLUMNS`, best row first.

    Raises:
        ValueError: For an unknown filter or sort.
    """
    names = list(filters)
    if [n for n in names if n not in FILTERS] or sort not in ORDER_BY:
        raise ValueError(f"Unknown filters {names} or sort {sort!r}")
    caps = ["p.units::float8"]
    if cargo:
        caps.append(
            "CASE WHEN COALESCE(it.packaged_volume, it.volume) > 0 "
            "THEN floor(%(cargo_m3)s::float8 / COALESCE(it.packaged_volume, it.volume)) END"
        )
    if budget:
        caps.append("floor(%(budget_isk)s::float8 / p.ask)")
    units = f"CAST(LEAST({', '.join(caps)}) AS bigint)" if len(caps) > 1 else "p.units"
    where = [FILTERS[n] for n in names]
    if cargo or budget:
        where.append("r.units > 0")
    if cargo:
        where.append("r.unit_volume IS NOT NULL")
    if routes is not None:
        where.append("r.jumps >= 0")
        ctes, route_joins, route_columns = _route_parts(stored=routes.stored, temp=routes.temp, origin=routes.origin)
        per_jump = "c.units * c.profit_per_unit / GREATEST(COALESCE(c.jumps_to_start, 0) + c.jumps, 1)"
        if routes.origin:
            where.append("r.jumps_to_start >= 0")
        if routes.max_jumps:
            where.append("r.jumps <= %(max_jumps)s")
        if routes.max_jumps_to_start and routes.origin:
            where.append("r.jumps_to_start <= %(max_jumps_to_start)s")
        head = f"WITH pairs AS (SELECT * FROM {PAIRS_TABLE}),{ctes}"  # noqa: S608 - constants only
    else:
        ctes, route_joins, route_columns, per_jump = "", "", _PLAIN_ROUTE, "CAST(NULL AS float8)"
        head = "WITH" + _pairs_cte(region_scoped=region_scoped) + ","
    early = any(n in DAILY_FILTERS for n in names)
    daily = daily_volume_parts(early=early)
    ranked = _RANKED.format(
        order_by=ORDER_BY[sort],
        per_jump=per_jump,
        units=units,
        route_columns=route_columns,
        route_joins=route_joins,
        daily_volume_join=daily["daily_volume_join"],
        daily_column="\n                   CAST(dv.avg_daily_volume AS float8) AS avg_daily_volume," if early else "",
        days_column=",\n               CAST(c.units AS float8) / NULLIF(c.avg_daily_volume, 0) AS days_to_sell"
        if early
        else "",
        where=("WHERE " + " AND ".join(where)) if where else "",
    )
    extra = "".join(f", t.{c}" for c in EXTRA_COLUMNS)
    return (
        head
        + ranked
        + DEPTH_AND_SELECT.format(
            unit_profit=UNIT_PROFIT["hauling"],
            extra_select=extra,
            top_source="top t",
            daily_select=daily["daily_select"],
            daily_join=daily["daily_join"],
        )
    )
