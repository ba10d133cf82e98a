"""Pydantic schemas of accounts: the user, settings, saved routes, login and logout (requests and answers)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import pydantic
from rest_framework import serializers

from accounts.models import RouteMode
from evesite.schemas import Schema, count_field, id_field, percent_field

PORTRAIT_SIZES = (32, 64, 128, 256, 512)
REF_MAX_LENGTH = 100  # a solar system's id or name
AVOID_MAX_ITEMS = 500


def _mode_field(**kwargs: Any) -> serializers.ChoiceField:
    """A route mode's DRF field: RouteMode's choices with their labels (documented as ``RouteModeEnum``)."""
    return serializers.ChoiceField(choices=RouteMode.choices, **kwargs)


class _SystemRefsIn(Schema):
    """Base of inputs naming solar systems: an id may be a JSON number; a reference is at most 100 characters."""

    @pydantic.field_validator("origin", "destination", "avoid", mode="before", check_fields=False)
    @classmethod
    def _ids_as_text(cls, value: object) -> object:
        """Read a numeric id as its text (``30000142`` as ``"30000142"``), as the fields always took it."""
        if isinstance(value, list):
            return [cls._ids_as_text(item) for item in value]
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @pydantic.field_validator("avoid", check_fields=False)
    @classmethod
    def _avoid_short(cls, value: list[str] | None) -> list[str] | None:
        """Refuse a solar system reference longer than any id or name."""
        if value is not None and any(len(ref) > REF_MAX_LENGTH for ref in value):
            raise ValueError(f"Each system must be at most {REF_MAX_LENGTH} characters.")
        return value


class SystemRef(Schema):
    """A solar system by id and name."""

    id: int
    name: str | None


class MeOut(Schema):
    """The logged-in user and their EVE character."""

    user_id: int
    character_id: int | None
    character_name: str | None
    portrait_url: str | None = pydantic.Field(description="Through the image cache, 128 px.")
    portraits: dict[str, str] = pydantic.Field(description="Portrait URL by size.")
    scopes: list[str]
    sso_token: bool = pydantic.Field(description="Whether a usable SSO token is stored.")


class UserSettingsIn(_SystemRefsIn):
    """Settings sent with PUT (every field)."""

    sales_tax: float = percent_field(description="Percent.")
    broker_fee: float = percent_field(description="Percent.")
    home_station_id: int | None = id_field(description="NPC station or player structure id; null: none.")
    default_route_mode: Annotated[RouteMode, _mode_field()]
    avoid: list[str] = pydantic.Field(max_length=AVOID_MAX_ITEMS, description="Solar system ids or names.")


class UserSettingsPatch(_SystemRefsIn):
    """Settings sent with PATCH: those sent change (null keeps a value; ``home_station_id: null`` unsets it)."""

    sales_tax: float | None = percent_field(None, description="Percent.")
    broker_fee: float | None = percent_field(None, description="Percent.")
    home_station_id: int | None = id_field(None, description="NPC station or player structure id; null: none.")
    default_route_mode: Annotated[RouteMode | None, _mode_field(required=False, allow_null=True)] = None
    avoid: list[str] | None = pydantic.Field(
        None, max_length=AVOID_MAX_ITEMS, description="Solar system ids or names (replaces the list)."
    )


class UserSettingsOut(Schema):
    """A user's settings (site defaults when they saved none)."""

    sales_tax: float
    broker_fee: float
    home_station_id: int | None
    default_route_mode: str
    avoid: list[SystemRef]
    saved: bool = pydantic.Field(description="False while these are the site defaults.")


class SavedRouteIn(_SystemRefsIn):
    """A route to save."""

    name: str = pydantic.Field(min_length=1, max_length=100)
    origin: str = pydantic.Field(max_length=REF_MAX_LENGTH, description="Solar system id or name.")
    destination: str = pydantic.Field(max_length=REF_MAX_LENGTH, description="Solar system id or name.")
    mode: Annotated[RouteMode, _mode_field(default=RouteMode.SHORTEST)] = RouteMode.SHORTEST
    avoid: list[str] = pydantic.Field(default_factory=list, max_length=AVOID_MAX_ITEMS, description="Ids or names.")


class SavedRoutePatch(_SystemRefsIn):
    """Changes to a saved route: the fields sent change (null keeps a value)."""

    name: str | None = pydantic.Field(None, min_length=1, max_length=100)
    origin: str | None = pydantic.Field(None, max_length=REF_MAX_LENGTH, description="Solar system id or name.")
    destination: str | None = pydantic.Field(None, max_length=REF_MAX_LENGTH, description="Solar system id or name.")
    mode: Annotated[RouteMode | None, _mode_field(required=False)] = None
    avoid: list[str] | None = pydantic.Field(
        None, max_length=AVOID_MAX_ITEMS, description="Ids or names (replaces the list)."
    )


class SavedRoutePath(Schema):
    """A saved route's id in the path (64 bits: a larger one is a 400, never a query)."""

    route_id: int = id_field()


class SavedRouteOut(Schema):
    """A saved route."""

    id: int
    name: str
    origin: SystemRef
    destination: SystemRef
    mode: str
    avoid: list[SystemRef]
    created: datetime


class RoutesDeletedOut(Schema):
    """How many saved routes were deleted."""

    deleted: int = count_field()


class LoginInfoOut(Schema):
    """How to start the login."""

    login_url: str = pydantic.Field(description="POST here (form, with the CSRF token) to go to EVE SSO.")
    method: str
    csrf_token: str = pydantic.Field(description="Send as the csrfmiddlewaretoken field or X-CSRFToken header.")
    logged_in: bool


class LogoutOut(Schema):
    """The outcome of a logout."""

    logged_out: bool
    sso_revoked: bool = pydantic.Field(
        description=(
            "Whether the refresh token's revocation at EVE SSO was queued (it runs in the background, best "
            "effort, and is not confirmed here); false when there was no stored token to revoke."
        )
    )
