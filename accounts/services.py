"""Writes of accounts: user settings, saved routes, purge of abandoned SSO logins.

SSO tokens (login, refresh, logout revocation) are in :mod:`accounts.tokens`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from social_django.models import Nonce

from accounts.models import RouteMode, SavedRoute, UserSettings
from accounts.selectors import STRUCTURE_ID_MIN, saved_route_get, solar_systems_resolve, user_settings_effective
from evesite.exceptions import ConflictError, InvalidInputError, NotFoundError
from universe.models import Station

logger = logging.getLogger(__name__)

_PERCENT_MAX = 100.0


def _station_check(station_id: int | None) -> None:
    """Check that a home station exists (NPC stations must be in the SDE; structures are trusted)."""
    if station_id is None or station_id >= STRUCTURE_ID_MIN:
        return
    if not Station.objects.filter(pk=station_id).exists():
        raise NotFoundError(f"Unknown station {station_id}.", field="home_station_id")


def _mode_check(mode: str) -> str:
    """Return a route mode, or raise InvalidInputError when it is unknown."""
    if mode not in RouteMode.values:
        raise InvalidInputError(f"Unknown route mode {mode!r}; use one of {', '.join(RouteMode.values)}.")
    return mode


def _percent_check(name: str, value: float) -> float:
    """Return a percentage as a float, or raise InvalidInputError outside 0-100."""
    if not 0.0 <= float(value) <= _PERCENT_MAX:
        raise InvalidInputError(f"{name} must be a percentage between 0 and 100.", field=name)
    return float(value)


def user_settings_update(
    *,
    user: Any,
    sales_tax: float | None = None,
    broker_fee: float | None = None,
    home_station_id: int | None = None,
    default_route_mode: str | None = None,
    avoid: Sequence[int | str] | None = None,
    clear_home_station: bool = False,
) -> UserSettings:
    """Create or update a user's settings; arguments left None keep their value.

    Args:
        user: A logged-in user.
        sales_tax: Sales tax, percent.
        broker_fee: Broker fee, percent.
        home_station_id: Home station (NPC station or structure id).
        default_route_mode: ``shortest``, ``secure`` or ``insecure``.
        avoid: Systems to avoid (ids or names), replacing the list.
        clear_home_station: Unset the home station.

    Returns:
        The saved settings.
    """
    current = user_settings_effective(user=user)
    if sales_tax is not None:
        current.sales_tax = _percent_check("sales_tax", sales_tax)
    if broker_fee is not None:
        current.broker_fee = _percent_check("broker_fee", broker_fee)
    if clear_home_station:
        current.home_station_id = None
    elif home_station_id is not None:
        _station_check(home_station_id)
        current.home_station_id = home_station_id
    if default_route_mode is not None:
        current.default_route_mode = _mode_check(default_route_mode)
    if avoid is not None:
        current.avoid = list(dict.fromkeys(s.id for s in solar_systems_resolve(refs=avoid)))
    current.save()
    return current


def _route_name(name: str) -> str:
    """Return a saved route's name, stripped; an empty one is an InvalidInputError."""
    name = name.strip()
    if not name:
        raise InvalidInputError("A saved route needs a name.", field="name")
    return name


def _route_save(route: SavedRoute) -> SavedRoute:
    """Save a route; a name the user already gave another route is an InvalidInputError."""
    try:
        with transaction.atomic():
            route.save()
    except IntegrityError:
        raise ConflictError(f"You already have a saved route named {route.name!r}.", field="name") from None
    return route


def saved_route_create(
    *,
    user: Any,
    name: str,
    origin: int | str,
    destination: int | str,
    mode: str = RouteMode.SHORTEST,
    avoid: Sequence[int | str] = (),
) -> SavedRoute:
    """Save a route for a user.

    Args:
        user: A logged-in user.
        name: The route's name (unique per user).
        origin: Origin system id or name.
        destination: Destination system id or name.
        mode: Route mode.
        avoid: Systems to avoid, ids or names.

    Returns:
        The saved route.

    Raises:
        InvalidInputError: On an empty or taken name, unknown systems or mode.
    """
    name = _route_name(name)
    origin_system, destination_system = solar_systems_resolve(refs=[origin, destination])
    avoid_ids = list(dict.fromkeys(s.id for s in solar_systems_resolve(refs=list(avoid))))
    route = SavedRoute(
        user=user,
        name=name,
        origin_id=origin_system.id,
        destination_id=destination_system.id,
        mode=_mode_check(mode),
        avoid=avoid_ids,
    )
    return _route_save(route)


def saved_route_update(
    *,
    user: Any,
    route_id: int,
    name: str | None = None,
    origin: int | str | None = None,
    destination: int | str | None = None,
    mode: str | None = None,
    avoid: Sequence[int | str] | None = None,
) -> SavedRoute:
    """Change one of a user's saved routes; arguments left None keep their value.

    Args:
        user: A logged-in user.
        route_id: The route's id.
        name: New name (unique per user).
        origin: New origin system id or name.
        destination: New destination system id or name.
        mode: New route mode.
        avoid: Systems to avoid, ids or names, replacing the list.

    Returns:
        The saved route.

    Raises:
        NotFoundError: When the user has no such route (someone else's route included).
        InvalidInputError: On an empty or taken name, unknown systems or mode.
    """
    route = saved_route_get(user=user, route_id=route_id)
    if name is not None:
        route.name = _route_name(name)
    if origin is not None:
        route.origin_id = solar_systems_resolve(refs=[origin])[0].id
    if destination is not None:
        route.destination_id = solar_systems_resolve(refs=[destination])[0].id
    if mode is not None:
        route.mode = _mode_check(mode)
    if avoid is not None:
        route.avoid = list(dict.fromkeys(s.id for s in solar_systems_resolve(refs=list(avoid))))
    return _route_save(route)


def saved_route_delete(*, user: Any, route_id: int) -> None:
    """Delete one of a user's saved routes.

    Args:
        user: A logged-in user.
        route_id: The route's id.

    Raises:
        NotFoundError: When the user has no such route (someone else's route included).
    """
    saved_route_get(user=user, route_id=route_id).delete()


def saved_routes_delete_all(*, user: Any) -> int:
    """Delete every saved route of a user.

    Args:
        user: A logged-in user.

    Returns:
        How many routes were deleted.
    """
    deleted, _ = SavedRoute.objects.filter(user=user).delete()
    return deleted


def sso_nonces_purge(*, older_than_seconds: float) -> int:
    """Delete login ``state`` nonces of logins that were started but never completed.

    social-core records one nonce per login start and deletes it when the
    callback consumes it; abandoned logins would otherwise stay forever.

    Args:
        older_than_seconds: Age past which a nonce is useless (longer than the state lifetime).

    Returns:
        How many were deleted.
    """
    cutoff = int(timezone.now().timestamp() - older_than_seconds)
    deleted, _ = Nonce.objects.filter(server_url__startswith="social_core.oauth2.", timestamp__lt=cutoff).delete()
    if deleted:
        logger.info("Purged %d abandoned SSO login nonces", deleted)
    return deleted
