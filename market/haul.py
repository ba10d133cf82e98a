"""Reads of the route-aware hauling scans: routes, cargo and wallet limits, sorts (issue 17).

The SQL is :mod:`market.haul_sql`; the routes come from :mod:`routing.jumps`
(stored jump tables, or trees computed on the fly for ``avoid`` lists and
systems the tables lack). A routed scan runs in one ``REPEATABLE READ``
transaction (when not nested), so a jump table rebuilt meanwhile is seen whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from evesite.exceptions import InvalidInputError, NotFoundError, ServiceUnavailableError
from market import haul_sql
from market.selectors import TradeQuery, TradeRow
from routing.jumps import JumpState, JumpView, jump_view_prepare
from routing.jumps_pairs import jump_pair_route, jump_risk_recompute, route_summary_of
from routing.summary import RouteSummary
from routing.systems import system_resolve
from universe.models import Station

# Longest all-digit text read as a station id (every 18-digit number fits a bigint).
_ID_MAX_DIGITS = 18
# A temp table has no statistics, so the planner guesses some 600 pairs and hashes whole item and system tables
# for the few a small market has (~35 ms); below this many pairs ANALYZE (a few ms) gives it the count. Above it
# the guess leads to the same plans and ANALYZE costs more (~90 ms at 36,000 pairs).
PAIRS_ANALYZE_BELOW = 1000


@dataclass(frozen=True)
class HaulQuery:
    """The route, cargo and wallet part of a hauling scan (resolved: ids, not names).

    Attributes:
        routed: Join routes (rows get jumps, route, profit_per_jump; rows without a route are dropped).
        route_mode: ``shortest``, ``secure`` or ``insecure``.
        avoid: Systems never entered (except as B).
        avoid_risk: Add the risk penalties.
        origin_system: Where the trip starts (rows get ``jumps_to_start``).
        cargo_m3: Cargo hold; caps units.
        budget_isk: Wallet; caps units.
        max_jumps: Most jumps A -> B.
        max_jumps_to_start: Most jumps origin -> A (ignored without an origin).
        sort: ``profit_pct``, ``total_profit`` or ``profit_per_jump``.
        by_default: Routed without being asked (the gate graph has jump tables): a scan that cannot be routed
            now answers plain rows instead of an error (see :func:`market_haul_scan_or_plain`).
    """

    routed: bool = False
    route_mode: str = "secure"
    avoid: tuple[int, ...] = ()
    avoid_risk: bool = False
    origin_system: int | None = None
    cargo_m3: float | None = None
    budget_isk: float | None = None
    max_jumps: int | None = None
    max_jumps_to_start: int | None = None
    sort: str = "profit_pct"
    by_default: bool = False

    def __post_init__(self) -> None:
        """Check the combination.

        Raises:
            InvalidInputError: For a sort that needs routes, or a negative or non-finite hold or wallet.
        """
        if self.sort not in haul_sql.SORTS:
            raise InvalidInputError(f"Unknown sort {self.sort!r}: use one of {', '.join(haul_sql.SORTS)}.")
        if self.sort == "profit_per_jump" and not self.routed:
            raise InvalidInputError("sort=profit_per_jump needs routes.")
        for name in ("cargo_m3", "budget_isk"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise InvalidInputError(f"{name} must be a number >= 0.", field=name)


@dataclass(frozen=True)
class HaulRow(TradeRow):
    """A hauling row with its route (None when the scan is not routed)."""

    jumps: int | None = None
    jumps_to_start: int | None = None
    profit_per_jump: float | None = None
    route: RouteSummary | None = None


@dataclass(frozen=True)
class HaulScan:
    """A scan's rows and how its routes were found."""

    rows: list[HaulRow]
    view: JumpView | None


def _params(query: TradeQuery, haul: HaulQuery, region_id: int | None) -> dict[str, Any]:
    """The SQL parameters of a scan."""
    params = query.params()
    if region_id is not None:
        params["region_id"] = region_id
    for name in ("cargo_m3", "budget_isk", "max_jumps", "max_jumps_to_start"):
        value = getattr(haul, name)
        if value is not None:
            params[name] = value
    return params


def _rows(raw: list[tuple[Any, ...]], haul: HaulQuery) -> list[HaulRow]:
    """Build rows from SQL rows (:data:`market.sql.COLUMNS` then :data:`market.haul_sql.EXTRA_COLUMNS`)."""
    base = [f.name for f in fields(TradeRow)]
    width = len(base)
    rows = []
    for row in raw:
        values = dict(zip(base, row[:width], strict=True))
        extra = dict(zip(haul_sql.EXTRA_COLUMNS, row[width:], strict=True))
        route = None
        if haul.routed and extra["jumps"] is not None:
            route = route_summary_of(
                mode=haul.route_mode,
                jumps=extra["jumps"],
                min_security=extra["route_min_security"],
                high=extra["route_high_sec"],
                low=extra["route_low_sec"],
                null=extra["route_null_sec"],
                max_risk=int(extra["route_max_risk"]),
            )
        rows.append(
            HaulRow(
                **values,
                jumps=extra["jumps"],
                jumps_to_start=extra["jumps_to_start"],
                profit_per_jump=extra["profit_per_jump"],
                route=route,
            )
        )
    return rows


def _risk_refresh(rows: list[HaulRow], state: JumpState, view: JumpView) -> list[HaulRow]:
    """Recompute max_risk of rows answered from a plain table whose risk is older than the graph's."""
    found = jump_risk_recompute(state=state, view=view, pairs=[(r.from_system_id, r.to_system_id) for r in rows])
    fixed = []
    for row in rows:
        now = found.get((row.from_system_id, row.to_system_id))
        if row.route is not None and now is not None and now[0] == row.route.jumps:
            route = RouteSummary(**{**row.route.__dict__, "max_risk": now[1]})
            fixed.append(HaulRow(**{**row.__dict__, "route": route}))
        else:
            fixed.append(row)
    return fixed


def market_haul_scan(
    *, query: TradeQuery, haul: HaulQuery, region_id: int | None = None, state: JumpState | None = None
) -> HaulScan:
    """Rank hauling trades A -> B with limits, routes and a sort (filters and sort before the top-N cut).

    Args:
        query: Rates, filters and limit.
        haul: Routes, cargo, wallet, sort.
        region_id: Only this region's snapshot (None: every region's, the global scan).
        state: The graph and risk state (:func:`routing.jumps.jump_state_current`); needed when routed.

    Returns:
        The rows, best first, and how the routes were found.
    """
    params = _params(query, haul, region_id)
    region_scoped = region_id is not None
    flags = {
        "region_scoped": region_scoped,
        "filters": query.filter_names,
        "cargo": haul.cargo_m3 is not None,
        "budget": haul.budget_isk is not None,
        "sort": haul.sort,
    }
    view = None
    nested = connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if not nested:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.MARKET_SCAN_WORK_MEM])
        if not haul.routed:
            cursor.execute(haul_sql.haul_sql(**flags), params)  # type: ignore[arg-type]
            return HaulScan(rows=_rows(list(cursor.fetchall()), haul), view=None)
        if state is None:
            raise ValueError("A routed scan needs the graph state.")
        # ON COMMIT DROP does not fire inside an outer transaction (a nested call): drop them first.
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{haul_sql.PAIRS_TABLE}, pg_temp.haul_jsrc, pg_temp.haul_jtgt")
        cursor.execute(haul_sql.pairs_store_sql(region_scoped=region_scoped), params)
        if cursor.rowcount < PAIRS_ANALYZE_BELOW:
            cursor.execute(f"ANALYZE {haul_sql.PAIRS_TABLE}")
        cursor.execute(haul_sql.PAIR_SYSTEMS_SQL)
        targets_by_source = {int(a): [int(b) for b in bs] for a, bs in cursor.fetchall()}
        view = jump_view_prepare(
            cursor=cursor,
            state=state,
            mode=haul.route_mode,
            avoid_risk=haul.avoid_risk,
            avoid=haul.avoid,
            origin=haul.origin_system,
            targets_by_source=targets_by_source,
        )
        routes = haul_sql.RouteJoin(
            stored=view.table_id is not None,
            temp=view.temp,
            origin=view.origin_systems is not None,
            max_jumps=haul.max_jumps is not None,
            max_jumps_to_start=haul.max_jumps_to_start is not None,
        )
        text = haul_sql.haul_sql(**flags, routes=routes)  # type: ignore[arg-type]
        cursor.execute(text, {**params, **_view_params(view)})
        rows = _rows(list(cursor.fetchall()), haul)
    return _finish(rows, state, view)


def market_haul_scan_or_plain(
    *, query: TradeQuery, haul: HaulQuery, region_id: int | None = None, state: JumpState | None = None
) -> tuple[HaulScan, str | None]:
    """Run :func:`market_haul_scan`; a scan routed by default that cannot be routed now runs plain instead.

    That happens while a jump table is rebuilt and the scan needs more trees than ``ROUTING_JUMPS_MAX_TREES``,
    or when a saved avoid list needs that many.

    Args:
        query: Rates, filters and limit.
        haul: Routes, cargo, wallet, sort.
        region_id: Only this region's snapshot (None: the global scan).
        state: The graph and risk state when routed.

    Returns:
        The scan, and why its rows have no routes (None when they have them, or were not meant to).
    """
    try:
        return market_haul_scan(query=query, haul=haul, region_id=region_id, state=state), None
    except (ServiceUnavailableError, InvalidInputError) as exc:
        if not (haul.routed and haul.by_default):
            raise
        plain = replace(haul, routed=False, by_default=False)
        return market_haul_scan(query=query, haul=plain, region_id=region_id), f"Rows without routes: {exc.message}"


def _view_params(view: JumpView) -> dict[str, Any]:
    """The SQL parameters of a route view."""
    params: dict[str, Any] = {}
    if view.table_id is not None:
        params["jump_table"] = view.table_id
    if view.origin_systems is not None:
        params["origin_systems"] = view.origin_systems
        params["origin_jumps"] = view.origin_jumps
    return params


def _finish(rows: list[HaulRow], state: JumpState, view: JumpView) -> HaulScan:
    """Refresh max_risk when the stored table's risk is old, and wrap up."""
    if not view.risk_fresh:
        rows = _risk_refresh(rows, state, view)
    return HaulScan(rows=rows, view=view)


def origin_system_resolve(*, ref: str | int) -> int:
    """Turn an origin (a system or station id or name) into its system id.

    Args:
        ref: An id or a name (case-insensitive, exact); stations are looked up first.

    Returns:
        The system id.

    Raises:
        NotFoundError: When no station or routed system has that id or name (the message names it).
    """
    text = str(ref).strip()
    station = None
    if text.isascii() and text.isdigit() and len(text) <= _ID_MAX_DIGITS:
        station = Station.objects.filter(id=int(text)).values_list("system_id", flat=True).first()
    elif text:
        station = Station.objects.filter(name__iexact=text).values_list("system_id", flat=True).first()
    if station is not None:
        return int(station)
    try:
        return system_resolve(ref=text)
    except NotFoundError:
        message = f"Unknown origin {text!r}: no station or solar system has that id or name."
        raise NotFoundError(message, origin=text) from None


def avoid_resolve(*, text: str) -> tuple[int, ...]:
    """Turn a comma-separated avoid list (system ids or names) into system ids.

    Args:
        text: The list.

    Returns:
        The ids, ascending.

    Raises:
        NotFoundError: Naming the unknown systems.
    """
    found, unknown = set(), []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            found.add(system_resolve(ref=part))
        except NotFoundError:
            unknown.append(part)
    if unknown:
        raise NotFoundError(f"Unknown solar system{'s' if len(unknown) > 1 else ''} in avoid: {', '.join(unknown)}.")
    return tuple(sorted(found))


def _capped(units: int, *, haul: HaulQuery, unit_volume: float | None, ask: float | None) -> int | None:
    """Cap units by the hold and the wallet as the scan does (None: a hold with an unknown unit volume)."""
    caps = [float(units)]
    if haul.cargo_m3 is not None:
        if unit_volume is None:
            return None
        if unit_volume > 0:
            caps.append(math.floor(haul.cargo_m3 / unit_volume))
    if haul.budget_isk is not None and ask:
        caps.append(math.floor(haul.budget_isk / ask))
    return int(min(caps))


def market_profit_haul(*, breakdown: Any, haul: HaulQuery, state: JumpState | None) -> Any:
    """Add the hold and wallet caps and the route to a profit breakdown (as a scan row would have them).

    Args:
        breakdown: :class:`market.profit.ProfitBreakdown`.
        haul: Routes, cargo, wallet.
        state: The graph and risk state when routed.

    Returns:
        The breakdown with capped ``units``/``total_profit``/``volume_m3``, ``jumps``, ``jumps_to_start``,
        ``route`` and ``profit_per_jump``; ``passes_filters`` also checks ``max_jumps``/``max_jumps_to_start``.
    """
    changes: dict[str, Any] = {}
    units, per_unit = breakdown.units, breakdown.profit_per_unit
    passes = breakdown.passes_filters
    if units is not None and per_unit is not None and (haul.cargo_m3 is not None or haul.budget_isk is not None):
        capped = _capped(units, haul=haul, unit_volume=breakdown.unit_volume_m3, ask=breakdown.ask)
        units = 0 if capped is None else capped
        changes["units"] = units
        changes["total_profit"] = units * per_unit
        uv = breakdown.unit_volume_m3
        changes["volume_m3"] = units * uv if uv is not None else None
        if units <= 0:
            changes["profitable"] = False
            changes["reason"] = "no unit fits the cargo hold or the budget"
            passes = False if passes is not None or haul.routed else passes
    source, target = breakdown.buy_station.system_id, breakdown.sell_station.system_id
    if haul.routed and state is not None and source is not None and target is not None:
        route, to_start = jump_pair_route(
            state=state,
            mode=haul.route_mode,
            avoid_risk=haul.avoid_risk,
            avoid=haul.avoid,
            source=int(source),
            target=int(target),
            origin=haul.origin_system,
        )
        changes["route"] = route
        changes["jumps"] = route.jumps if route is not None else None
        changes["jumps_to_start"] = to_start if haul.origin_system is not None and to_start != -1 else None
        total = changes.get("total_profit", breakdown.total_profit)
        if route is not None and total is not None:
            changes["profit_per_jump"] = total / max((changes["jumps_to_start"] or 0) + route.jumps, 1)
        ok = route is not None and (haul.origin_system is None or changes["jumps_to_start"] is not None)
        ok = ok and (haul.max_jumps is None or (route is not None and route.jumps <= haul.max_jumps))
        if haul.max_jumps_to_start is not None and haul.origin_system is not None:
            ok = ok and changes["jumps_to_start"] is not None and changes["jumps_to_start"] <= haul.max_jumps_to_start
        if haul.max_jumps is not None or haul.max_jumps_to_start is not None or passes is not None:
            passes = bool(ok and passes is not False and changes.get("units", units or 0) > 0)
    changes["passes_filters"] = passes
    return replace(breakdown, **changes)
