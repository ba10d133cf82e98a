"""API viewsets of accounts: /api/me/, settings, saved routes, login and logout (thin; logic in services/selectors)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import logout
from django.middleware.csrf import get_token
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import selectors, services, tokens
from accounts.models import EveCharacter, SavedRoute, UserSettings
from accounts.schemas import (
    PORTRAIT_SIZES,
    LoginInfoOut,
    LogoutOut,
    MeOut,
    RoutesDeletedOut,
    SavedRouteIn,
    SavedRouteOut,
    SavedRoutePatch,
    SavedRoutePath,
    UserSettingsIn,
    UserSettingsOut,
    UserSettingsPatch,
)
from accounts.sso_config import sso_configured_ensure
from evesite.pagination import BoundedLimitOffsetPagination
from evesite.schemas import schema_dump, schema_parse


def _portrait_url(character_id: int, size: int) -> str:
    """Return the image-cache URL of a character portrait (``/api/images/character/{id}?size={size}``)."""
    return f"/api/images/character/{character_id}?size={size}"


def _me_data(user: Any, character: EveCharacter | None) -> dict[str, Any]:
    """Shape the user and their character (None for a password-only user) for output."""
    token = getattr(character, "token", None) if character else None
    return {
        "user_id": user.pk,
        "character_id": character.character_id if character else None,
        "character_name": character.name if character else None,
        "portrait_url": _portrait_url(character.character_id, 128) if character else None,
        "portraits": {str(s): _portrait_url(character.character_id, s) for s in PORTRAIT_SIZES} if character else {},
        "scopes": list(token.scopes) if token else [],
        "sso_token": token is not None,
    }


def _settings_data(user_settings: UserSettings) -> dict[str, Any]:
    """Shape saved or default settings for output, with system names."""
    names = selectors.solar_system_names(system_ids=user_settings.avoid)
    return schema_dump(
        schema=UserSettingsOut,
        value={
            "sales_tax": user_settings.sales_tax,
            "broker_fee": user_settings.broker_fee,
            "home_station_id": user_settings.home_station_id,
            "default_route_mode": user_settings.default_route_mode,
            "avoid": [{"id": s, "name": names.get(s)} for s in user_settings.avoid],
            "saved": user_settings.pk is not None,
        },
    )


def _routes_data(routes: list[SavedRoute]) -> list[dict[str, Any]]:
    """Shape saved routes for output, with system names."""
    ids: set[int] = set()
    for route in routes:
        ids.update([route.origin_id, route.destination_id, *route.avoid])
    names = selectors.solar_system_names(system_ids=ids)
    return [
        schema_dump(
            schema=SavedRouteOut,
            value={
                "id": r.pk,
                "name": r.name,
                "origin": {"id": r.origin_id, "name": names.get(r.origin_id)},
                "destination": {"id": r.destination_id, "name": names.get(r.destination_id)},
                "mode": r.mode,
                "avoid": [{"id": s, "name": names.get(s)} for s in r.avoid],
                "created": r.created,
            },
        )
        for r in routes
    ]


def _route_id(route_id: int) -> int:
    """Check a path's saved-route id (a positive 64-bit integer; anything else is a 400)."""
    return schema_parse(schema=SavedRoutePath, data={"route_id": route_id}).route_id


class MeViewSet(viewsets.ViewSet):
    """The logged-in user's EVE character (a singleton: ``/api/me/``)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="me_retrieve", responses=MeOut.drf_serializer, summary="Current user and EVE character")
    def retrieve(self, request: Request) -> Response:
        """Return the character id, name and portrait URLs (through the image cache).

        Args:
            request: The request.

        Returns:
            The user's identity.
        """
        character = selectors.eve_character_get(user=request.user)
        return Response(schema_dump(schema=MeOut, value=_me_data(request.user, character)))


class UserSettingsViewSet(viewsets.ViewSet):
    """The logged-in user's trading and routing defaults (a singleton: ``/api/me/settings/``)."""

    permission_classes = [IsAuthenticated]
    # Unknown systems or home station in a body (read by evesite.openapi).
    error_statuses = (404,)

    @extend_schema(
        operation_id="me_settings_retrieve",
        responses=UserSettingsOut.drf_serializer,
        summary="Get my settings",
    )
    def retrieve(self, request: Request) -> Response:
        """Return the settings, or the site defaults when none are saved.

        Args:
            request: The request.

        Returns:
            The settings.
        """
        return Response(_settings_data(selectors.user_settings_effective(user=request.user)))

    def _write(self, request: Request, *, body: UserSettingsIn | UserSettingsPatch) -> Response:
        """Save validated settings (a field left None keeps its value; a sent null home station unsets it)."""
        saved = services.user_settings_update(
            user=request.user,
            sales_tax=body.sales_tax,
            broker_fee=body.broker_fee,
            home_station_id=body.home_station_id,
            clear_home_station=body.home_station_id is None and "home_station_id" in request.data,
            default_route_mode=body.default_route_mode,
            avoid=body.avoid,
        )
        return Response(_settings_data(saved))

    @extend_schema(
        operation_id="me_settings_update",
        request=UserSettingsIn.drf_serializer,
        responses=UserSettingsOut.drf_serializer,
        summary="Replace",
    )
    def update(self, request: Request) -> Response:
        """Replace the settings (every field required).

        Args:
            request: The request.

        Returns:
            The saved settings.
        """
        return self._write(request, body=schema_parse(schema=UserSettingsIn, data=request.data))

    @extend_schema(
        operation_id="me_settings_partial_update",
        request=UserSettingsPatch.drf_serializer,
        responses=UserSettingsOut.drf_serializer,
        summary="Update",
    )
    def partial_update(self, request: Request) -> Response:
        """Update the settings sent.

        Args:
            request: The request.

        Returns:
            The saved settings.
        """
        return self._write(request, body=schema_parse(schema=UserSettingsPatch, data=request.data))


class SavedRouteViewSet(viewsets.ViewSet):
    """The logged-in user's saved routes (another user's route answers 404, as an unknown id does)."""

    permission_classes = [IsAuthenticated]
    # Unknown systems in a body (404) and a name already taken (409), read by evesite.openapi.
    error_statuses = (404, 409)
    pagination_class = BoundedLimitOffsetPagination
    lookup_field = "route_id"
    lookup_value_converter = "int"  # ASCII digits; the 64-bit bound is checked by SavedRoutePath

    @extend_schema(
        operation_id="me_routes_list",
        responses=SavedRouteOut.drf_serializer,
        summary="List my saved routes",
    )
    def list(self, request: Request) -> Response:
        """List the user's routes, newest first (limit/offset pagination).

        Args:
            request: The request.

        Returns:
            A page of routes.
        """
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.saved_route_list(user=request.user), request, view=self)
        return paginator.get_paginated_response(_routes_data(list(page or [])))

    @extend_schema(
        operation_id="me_routes_create",
        request=SavedRouteIn.drf_serializer,
        examples=[
            OpenApiExample(
                "Jita to Amarr in high-sec, around Niarja",
                value={
                    "name": "Jita-Amarr",
                    "origin": "Jita",
                    "destination": "Amarr",
                    "mode": "secure",
                    "avoid": ["Niarja"],
                },
                request_only=True,
            )
        ],
        responses={201: SavedRouteOut.drf_serializer},
        summary="Save",
    )
    def create(self, request: Request) -> Response:
        """Save a route.

        Args:
            request: The request.

        Returns:
            The saved route (201).
        """
        body = schema_parse(schema=SavedRouteIn, data=request.data)
        route = services.saved_route_create(user=request.user, **body.model_dump())
        return Response(_routes_data([route])[0], status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="me_routes_destroy_all",
        responses={200: RoutesDeletedOut.drf_serializer},
        summary="Delete all my saved routes",
    )
    def destroy_all(self, request: Request) -> Response:
        """Delete every saved route of the user.

        Args:
            request: The request.

        Returns:
            How many were deleted.
        """
        deleted = services.saved_routes_delete_all(user=request.user)
        return Response(schema_dump(schema=RoutesDeletedOut, value={"deleted": deleted}))

    @extend_schema(
        operation_id="me_routes_retrieve",
        responses=SavedRouteOut.drf_serializer,
        summary="Get a saved route",
    )
    def retrieve(self, request: Request, route_id: int) -> Response:
        """Return one route.

        Args:
            request: The request.
            route_id: The route's id.

        Returns:
            The route.
        """
        route = selectors.saved_route_get(user=request.user, route_id=_route_id(route_id))
        return Response(_routes_data([route])[0])

    @extend_schema(
        operation_id="me_routes_partial_update",
        request=SavedRoutePatch.drf_serializer,
        responses=SavedRouteOut.drf_serializer,
        summary="Change a saved route",
    )
    def partial_update(self, request: Request, route_id: int) -> Response:
        """Change the fields sent of one route.

        Args:
            request: The request.
            route_id: The route's id.

        Returns:
            The saved route.
        """
        route_id = _route_id(route_id)
        body = schema_parse(schema=SavedRoutePatch, data=request.data)
        route = services.saved_route_update(user=request.user, route_id=route_id, **body.model_dump())
        return Response(_routes_data([route])[0])

    @extend_schema(
        operation_id="me_routes_destroy",
        responses={204: OpenApiResponse(description="Deleted.")},
        summary="Delete a saved route",
    )
    def destroy(self, request: Request, route_id: int) -> Response:
        """Delete one route.

        Args:
            request: The request.
            route_id: The route's id.

        Returns:
            204.
        """
        services.saved_route_delete(user=request.user, route_id=_route_id(route_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class LoginInfoViewSet(viewsets.ViewSet):
    """How to start the EVE SSO login (social-auth begins it with a CSRF-protected POST)."""

    @extend_schema(
        operation_id="auth_login_retrieve",
        responses={200: LoginInfoOut.drf_serializer, 503: None},
        summary="How to log in with EVE Online",
        description=(
            "503 `sso_not_configured` (with `missing`, the unset variable names) when the server has no EVE "
            "application configured: no login is started. The CSRF cookie is set either way."
        ),
    )
    def retrieve(self, request: Request) -> Response:
        """Return the login URL, its method and a CSRF token (also set as the CSRF cookie).

        Args:
            request: The request.

        Returns:
            The login instructions.

        Raises:
            SsoNotConfiguredError: 503 naming the missing variables, while SSO is not configured.
        """
        csrf_token = get_token(request._request)  # the CSRF cookie is set even on the 503 (API writes need it)
        sso_configured_ensure()
        data = {
            "login_url": reverse("social:begin", args=["eveonline"]),
            "method": "POST",
            "csrf_token": csrf_token,
            "logged_in": bool(request.user and request.user.is_authenticated),
        }
        return Response(schema_dump(schema=LoginInfoOut, value=data))


class LogoutViewSet(viewsets.ViewSet):
    """Log out: delete the stored tokens, end the session, then queue the refresh token's revocation at EVE SSO."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_logout_create",
        request=None,
        responses={200: LogoutOut.drf_serializer},
        summary="Log out",
        description=(
            "Deletes the stored EVE SSO tokens and ends the session at once, then queues the refresh token's "
            "revocation at EVE SSO (`accounts.revoke_refresh_token`, best effort, in the background): the answer "
            "never waits on EVE SSO, and `sso_revoked` says the revocation was queued, not that SSO confirmed it."
        ),
    )
    def create(self, request: Request) -> Response:
        """Delete the tokens, log out, then queue the revocation (SSO is never called in the request).

        Args:
            request: The request.

        Returns:
            Whether a revocation at EVE SSO was queued.
        """
        revocations = tokens.character_tokens_delete(user=request.user)
        logout(request._request)
        for revocation in revocations:
            tokens.refresh_token_revocation_queue(revocation=revocation)
        return Response(schema_dump(schema=LogoutOut, value={"logged_out": True, "sso_revoked": bool(revocations)}))
