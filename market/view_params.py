"""What the market views make of a request's parameters: the trade query with its defaults, and the route part."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from accounts.selectors import user_route_defaults_of, user_settings_get
from accounts.sso import SsoLoginRequiredError
from evesite.exceptions import NotFoundError
from market import selectors, services
from market.haul import HaulQuery, avoid_resolve, origin_system_resolve
from market.planner_selectors import DEFAULT_ROUTE_MODE
from market.schemas import HaulParams, ScanQuery, TradeFilters
from routing.graph import graph_label
from routing.jumps import JumpState, jump_state_current, jump_tables_stale
from routing.jumps_build import jump_tables_rebuild_queue
from routing.models import JumpTable
from routing.services import route_weights_ensure


def trade_filters(*, params: TradeFilters) -> dict[str, Any]:
    """The trade filters that are set."""
    return {name: getattr(params, name) for name in selectors.sql.FILTERS if getattr(params, name) is not None}


def trade_query_build(*, request: Request, params: ScanQuery, default_limit: int) -> selectors.TradeQuery:
    """Build the scan query: given rates, else the user's settings, else the site defaults.

    Args:
        request: The request (for the user).
        params: Validated query parameters.
        default_limit: Rows when no ``limit`` is given.

    Returns:
        The query.
    """
    sales_tax, broker_fee = selectors.market_trade_defaults(user=request.user)
    return selectors.TradeQuery(
        sales_tax=sales_tax if params.sales_tax is None else params.sales_tax,
        broker_fee=broker_fee if params.broker_fee is None else params.broker_fee,
        limit=default_limit if params.limit is None else params.limit,
        **trade_filters(params=params),
    )


_ROUTE_PARAMS = ("route_mode", "avoid", "avoid_risk", "origin", "max_jumps", "max_jumps_to_start")


def haul_query_build(*, request: Request, params: HaulParams) -> tuple[HaulQuery, JumpState | None]:
    """Resolve a scan's route, cargo and wallet parameters (defaults from the user's settings).

    Scans are routed once the gate graph has jump tables (``by_default``), or when a route parameter or a saved
    home station (the default ``origin``) asks for it; without tables and without asking, rows have no routes.

    Args:
        request: The request (for the user and ``origin=current``).
        params: Validated parameters.

    Returns:
        The query, and the graph state when routed (missing gate weights written first, as for a route; a
        rebuild of outdated jump tables is queued).

    Raises:
        SsoLoginRequiredError: For ``origin=current`` or ``home`` without a logged-in user (HTTP 401).
        NotFoundError: For ``origin=home`` without a saved home station, or an unknown origin or avoided system.
    """
    saved = user_settings_get(user=request.user)
    home = saved.home_station_id if saved is not None else None
    asked = any(getattr(params, name) is not None for name in _ROUTE_PARAMS) or params.sort == "profit_per_jump"
    by_default = not asked and home is None
    if by_default and not JumpTable.objects.filter(label=graph_label()).exists():
        return HaulQuery(cargo_m3=params.cargo_m3, budget_isk=params.budget_isk, sort=params.sort), None

    ref = params.origin.strip() if params.origin is not None else None
    if ref is not None and ref.lower() in ("current", "home") and not request.user.is_authenticated:
        raise SsoLoginRequiredError(f"Log in with EVE Online to use origin={ref.lower()}.")
    origin = None
    if ref is not None and ref.lower() == "current":
        origin = services.market_character_dock_get(user=request.user).system_id
    elif ref is None or ref.lower() == "home":
        if home is None and ref is not None:
            raise NotFoundError("origin=home: no home station is saved in your settings.", origin="home")
        origin = None if home is None else origin_system_resolve(ref=str(home))
    else:
        origin = origin_system_resolve(ref=ref)
    saved_mode, saved_avoid = user_route_defaults_of(saved=saved)
    avoid = avoid_resolve(text=params.avoid) if params.avoid is not None else tuple(sorted(set(saved_avoid)))
    query = HaulQuery(
        routed=True,
        route_mode=params.route_mode or saved_mode or DEFAULT_ROUTE_MODE,
        avoid=avoid,
        avoid_risk=bool(params.avoid_risk),
        origin_system=origin,
        cargo_m3=params.cargo_m3,
        budget_isk=params.budget_isk,
        max_jumps=params.max_jumps,
        max_jumps_to_start=params.max_jumps_to_start,
        sort=params.sort,
        by_default=by_default,
    )
    route_weights_ensure()  # gates without weights (a graph ingested since) would route every mode alike
    state = jump_state_current()
    if jump_tables_stale(state=state):
        jump_tables_rebuild_queue(label=state.label)
    return query, state
