"""Reads of accounts: characters, settings (with site defaults) and saved routes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.db.models.functions import Lower

from accounts.models import EveCharacter, RouteMode, SavedRoute, UserSettings
from evesite.exceptions import NotFoundError
from universe.models import SolarSystem

# Player structures have ids from 10**12 up; NPC stations are SDE rows.
STRUCTURE_ID_MIN = 1_000_000_000_000


def _is_user(user: Any) -> bool:
    """Tell whether ``user`` is a logged-in user."""
    return bool(user is not None and getattr(user, "is_authenticated", False))


def eve_character_get(*, user: Any) -> EveCharacter | None:
    """Return the EVE character a user logged in with.

    Args:
        user: The user (anonymous allowed).

    Returns:
        The character, or None.
    """
    if not _is_user(user):
        return None
    return EveCharacter.objects.select_related("token").filter(user=user).first()


def user_settings_get(*, user: Any) -> UserSettings | None:
    """Return a user's saved settings (market and routing use them as defaults).

    Args:
        user: The user (anonymous allowed).

    Returns:
        The settings, or None for anonymous users and users who saved none.
    """
    if not _is_user(user):
        return None
    return UserSettings.objects.filter(user=user).first()


def user_route_defaults_get(*, user: Any) -> tuple[str | None, list[int]]:
    """Return the route mode and avoid list a user saved, for requests that give none.

    Args:
        user: The user (anonymous allowed).

    Returns:
        (mode, avoided system ids): (None, []) for anonymous users and users who saved no settings.
    """
    return user_route_defaults_of(saved=user_settings_get(user=user))


def user_route_defaults_of(*, saved: UserSettings | None) -> tuple[str | None, list[int]]:
    """Return the route mode and avoid list of settings already read ((None, []) without settings).

    Args:
        saved: A user's settings, or None.

    Returns:
        (mode, avoided system ids).
    """
    if saved is None:
        return None, []
    return str(saved.default_route_mode) or None, [int(a) for a in saved.avoid or []]


def user_settings_effective(*, user: Any) -> UserSettings:
    """Return a user's settings, or an unsaved instance holding the site defaults.

    Args:
        user: A logged-in user.

    Returns:
        The settings.
    """
    return user_settings_get(user=user) or UserSettings(
        user=user,
        sales_tax=settings.MARKET_DEFAULT_SALES_TAX,
        broker_fee=settings.MARKET_DEFAULT_BROKER_FEE,
        home_station_id=None,
        default_route_mode=RouteMode.SHORTEST,
        avoid=[],
    )


def saved_route_list(*, user: Any) -> QuerySet[SavedRoute]:
    """List a user's saved routes, newest first.

    Args:
        user: A logged-in user.

    Returns:
        Only that user's routes.
    """
    return SavedRoute.objects.filter(user=user)


def saved_route_get(*, user: Any, route_id: int) -> SavedRoute:
    """Return one of a user's saved routes.

    Args:
        user: A logged-in user.
        route_id: The route's id.

    Returns:
        The route.

    Raises:
        NotFoundError: When the route does not exist or belongs to someone else.
    """
    route = SavedRoute.objects.filter(user=user, pk=route_id).first()
    if route is None:
        raise NotFoundError(f"Saved route {route_id} not found.")
    return route


def _is_id(text: str) -> bool:
    """Say whether ``text`` is an id: ASCII digits only (``"²".isdigit()`` is true), within 64 bits."""
    return text.isascii() and text.isdigit() and int(text) <= 2**63 - 1


def solar_systems_resolve(*, refs: Sequence[int | str]) -> list[SolarSystem]:
    """Resolve solar systems named by id or by exact, case-insensitive name.

    Args:
        refs: Ids (ints or digit strings) or names.

    Returns:
        The systems, in the order asked.

    Raises:
        InvalidInputError: Naming every reference that matches no system.
    """
    ids = {int(str(r).strip()) for r in refs if _is_id(str(r).strip())}
    names = {str(r).strip().lower() for r in refs if not _is_id(str(r).strip())}
    by_id = {s.id: s for s in SolarSystem.objects.filter(id__in=ids)}
    by_name = {s.lname: s for s in SolarSystem.objects.annotate(lname=Lower("name")).filter(lname__in=names)}
    found: list[SolarSystem] = []
    unknown: list[str] = []
    for ref in refs:
        text = str(ref).strip()
        system = by_id.get(int(text)) if _is_id(text) else by_name.get(text.lower())
        if system is None:
            unknown.append(text)
        else:
            found.append(system)
    if unknown:
        raise NotFoundError(f"Unknown solar system(s): {', '.join(unknown)}.", unknown=unknown)
    return found


def solar_system_names(*, system_ids: Iterable[int]) -> dict[int, str]:
    """Map solar system ids to names.

    Args:
        system_ids: The ids.

    Returns:
        Names of the ids the SDE knows.
    """
    return dict(SolarSystem.objects.filter(id__in=set(system_ids)).values_list("id", "name"))
