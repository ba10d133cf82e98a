"""API views of accounts: /api/me/, settings, saved routes and logout (thin; logic in services/selectors)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import logout
from django.middleware.csrf import get_token
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import SavedRoute, UserSettings
from accounts.serializers import (
    PORTRAIT_SIZES,
    LoginInfoSerializer,
    LogoutOutputSerializer,
    MeSerializer,
    RoutesDeletedSerializer,
    SavedRouteInputSerializer,
    SavedRouteOutputSerializer,
    SavedRoutePageSerializer,
    UserSettingsInputSerializer,
    UserSettingsOutputSerializer,
)
from accounts.sso_config import sso_configured_ensure
from evesite.pagination import BoundedLimitOffsetPagination


def _portrait_url(character_id: int, size: int) -> str:
    """Return the image-cache URL of a character portrait.

    Args:
        character_id: The character.
        size: Pixels.

    Returns:
        ``/api/images/character/{id}?size={size}``.
    """
    return f"/api/images/character/{character_id}?size={size}"


def _settings_data(user_settings: UserSettings) -> dict[str, Any]:
    """Shape settings for output, with system names.

    Args:
        user_settings: Saved or default settings.

    Returns:
        The output dictionary.
    """
    names = selectors.solar_system_names(system_ids=user_settings.avoid)
    return {
        "sales_tax": user_settings.sales_tax,
        "broker_fee": user_settings.broker_fee,
        "home_station_id": user_settings.home_station_id,
        "default_route_mode": user_settings.default_route_mode,
        "avoid": [{"id": s, "name": names.get(s)} for s in user_settings.avoid],
        "saved": user_settings.pk is not None,
    }


def _routes_data(routes: list[SavedRoute]) -> list[dict[str, Any]]:
    """Shape saved routes for output, with system names.

    Args:
        routes: The routes.

    Returns:
        The output dictionaries.
    """
    ids: set[int] = set()
    for route in routes:
        ids.update([route.origin_id, route.destination_id, *route.avoid])
    names = selectors.solar_system_names(system_ids=ids)
    return [
        {
            "id": r.pk,
            "name": r.name,
            "origin": {"id": r.origin_id, "name": names.get(r.origin_id)},
            "destination": {"id": r.destination_id, "name": names.get(r.destination_id)},
            "mode": r.mode,
            "avoid": [{"id": s, "name": names.get(s)} for s in r.avoid],
            "created": r.created,
        }
        for r in routes
    ]


class MeApi(APIView):
    """The logged-in user's EVE character."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer, summary="Current user and EVE character")
    def get(self, request: Request) -> Response:
        """Return the character id, name and portrait URLs (through the image cache).

        Args:
            request: The request.

        Returns:
            The user's identity.
        """
        character = selectors.eve_character_get(user=request.user)
        token = getattr(character, "token", None) if character else None
        data = {
            "user_id": request.user.pk,
            "character_id": character.character_id if character else None,
            "character_name": character.name if character else None,
            "portrait_url": _portrait_url(character.character_id, 128) if character else None,
            "portraits": {str(s): _portrait_url(character.character_id, s) for s in PORTRAIT_SIZES}
            if character
            else {},
            "scopes": list(token.scopes) if token else [],
            "sso_token": token is not None,
        }
        return Response(MeSerializer(data).data)


class UserSettingsApi(APIView):
    """The logged-in user's trading and routing defaults."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=UserSettingsOutputSerializer, summary="Get my settings")
    def get(self, request: Request) -> Response:
        """Return the settings, or the site defaults when none are saved.

        Args:
            request: The request.

        Returns:
            The settings.
        """
        return Response(_settings_data(selectors.user_settings_effective(user=request.user)))

    def _write(self, request: Request, *, partial: bool) -> Response:
        """Validate and save settings.

        Args:
            request: The request.
            partial: Whether fields may be missing (PATCH).

        Returns:
            The saved settings.
        """
        serializer = UserSettingsInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        saved = services.user_settings_update(
            user=request.user,
            sales_tax=data.get("sales_tax"),
            broker_fee=data.get("broker_fee"),
            home_station_id=data.get("home_station_id"),
            clear_home_station="home_station_id" in data and data["home_station_id"] is None,
            default_route_mode=data.get("default_route_mode"),
            avoid=data.get("avoid"),
        )
        return Response(_settings_data(saved))

    @extend_schema(request=UserSettingsInputSerializer, responses=UserSettingsOutputSerializer, summary="Replace")
    def put(self, request: Request) -> Response:
        """Replace the settings (every field required).

        Args:
            request: The request.

        Returns:
            The saved settings.
        """
        return self._write(request, partial=False)

    @extend_schema(request=UserSettingsInputSerializer, responses=UserSettingsOutputSerializer, summary="Update")
    def patch(self, request: Request) -> Response:
        """Update some settings.

        Args:
            request: The request.

        Returns:
            The saved settings.
        """
        return self._write(request, partial=True)


class SavedRouteListApi(APIView):
    """The logged-in user's saved routes."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=SavedRoutePageSerializer,
        parameters=[
            OpenApiParameter("limit", int, description="Page size (default 50)."),
            OpenApiParameter("offset", int, description="Routes to skip."),
        ],
        summary="List my saved routes",
        operation_id="me_routes_list",
    )
    def get(self, request: Request) -> Response:
        """List the user's routes, newest first (limit/offset pagination).

        Args:
            request: The request.

        Returns:
            A page of routes.
        """
        paginator = BoundedLimitOffsetPagination()
        page = paginator.paginate_queryset(selectors.saved_route_list(user=request.user), request, view=self)
        return paginator.get_paginated_response(_routes_data(list(page or [])))

    @extend_schema(request=SavedRouteInputSerializer, responses={201: SavedRouteOutputSerializer}, summary="Save")
    def post(self, request: Request) -> Response:
        """Save a route.

        Args:
            request: The request.

        Returns:
            The saved route (201).
        """
        serializer = SavedRouteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        route = services.saved_route_create(user=request.user, **serializer.validated_data)
        return Response(_routes_data([route])[0], status=status.HTTP_201_CREATED)

    @extend_schema(
        responses=RoutesDeletedSerializer, summary="Delete all my saved routes", operation_id="me_routes_destroy_all"
    )
    def delete(self, request: Request) -> Response:
        """Delete every saved route of the user.

        Args:
            request: The request.

        Returns:
            How many were deleted.
        """
        return Response({"deleted": services.saved_routes_delete_all(user=request.user)})


class SavedRouteDetailApi(APIView):
    """One of the logged-in user's saved routes (another user's id answers 404)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=SavedRouteOutputSerializer, summary="Get a saved route")
    def get(self, request: Request, route_id: int) -> Response:
        """Return one route.

        Args:
            request: The request.
            route_id: The route's id.

        Returns:
            The route.
        """
        return Response(_routes_data([selectors.saved_route_get(user=request.user, route_id=route_id)])[0])

    @extend_schema(responses={204: None}, summary="Delete a saved route")
    def delete(self, request: Request, route_id: int) -> Response:
        """Delete one route.

        Args:
            request: The request.
            route_id: The route's id.

        Returns:
            204.
        """
        services.saved_route_delete(user=request.user, route_id=route_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LoginInfoApi(APIView):
    """How to start the EVE SSO login (social-auth begins it with a CSRF-protected POST)."""

    @extend_schema(
        responses={200: LoginInfoSerializer, 503: None},
        summary="How to log in with EVE Online",
        description=(
            "503 `sso_not_configured` (with `missing`, the unset variable names) when the server has no EVE "
            "application configured: no login is started. The CSRF cookie is set either way."
        ),
    )
    def get(self, request: Request) -> Response:
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
        return Response(
            {
                "login_url": reverse("social:begin", args=["eveonline"]),
                "method": "POST",
                "csrf_token": csrf_token,
                "logged_in": bool(request.user and request.user.is_authenticated),
            }
        )


class LogoutApi(APIView):
    """Log out: delete the stored tokens, end the session, then queue the refresh token's revocation at EVE SSO."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses=LogoutOutputSerializer,
        summary="Log out",
        description=(
            "Deletes the stored EVE SSO tokens and ends the session at once, then queues the refresh token's "
            "revocation at EVE SSO (`accounts.revoke_refresh_token`, best effort, in the background): the answer "
            "never waits on EVE SSO, and `sso_revoked` says the revocation was queued, not that SSO confirmed it."
        ),
    )
    def post(self, request: Request) -> Response:
        """Delete the tokens, log out, then queue the revocation (SSO is never called in the request).

        Args:
            request: The request.

        Returns:
            Whether a revocation at EVE SSO was queued.
        """
        revocations = services.character_tokens_delete(user=request.user)
        logout(request._request)
        for revocation in revocations:
            services.refresh_token_revocation_queue(revocation=revocation)
        return Response({"logged_out": True, "sso_revoked": bool(revocations)})
