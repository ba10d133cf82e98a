"""API views of routing (thin: selectors do the work)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from evesite.admission import ExpensiveAdmissionMixin
from evesite.throttling import SvgExpensiveRateThrottle, throttles_with
from routing import selectors
from routing.serializers import (
    RiskQuerySerializer,
    RouteQuerySerializer,
    RouteSerializer,
    SystemRiskSerializer,
)
from routing.svg import route_svg_render


class SvgRenderer(BaseRenderer):
    """Renders an SVG document; error answers stay JSON (with a JSON content type)."""

    media_type = "image/svg+xml"
    format = "svg"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None
    ) -> bytes:
        """Return the SVG text, or JSON for anything else (errors).

        Args:
            data: The SVG string, or an error body.
            accepted_media_type: Negotiated media type.
            renderer_context: DRF's context (holds the response).

        Returns:
            The body.
        """
        if isinstance(data, str):
            return data.encode()
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return json.dumps(data).encode()


def _user_defaults(request: Request) -> tuple[str | None, list[int] | None]:
    """Return the logged-in user's default route mode and avoid list, if any.

    Args:
        request: The request.

    Returns:
        (mode, avoid) or (None, None).
    """
    try:
        from accounts.selectors import user_settings_get
    except ImportError:  # pragma: no cover - accounts is optional
        return None, None
    saved = user_settings_get(user=request.user)
    if saved is None:
        return None, None
    return str(saved.default_route_mode), [int(a) for a in saved.avoid or []]


def _system_data(system: selectors.RouteSystem) -> dict[str, Any]:
    """Shape one route system as :class:`RouteSystemSerializer` documents it.

    Args:
        system: The system.

    Returns:
        The output dictionary.
    """
    return {
        "id": system.id,
        "name": system.name,
        "security": system.security,
        "security_display": system.security_display,
        "region": system.region,
        "risk": system.risk,
        "kills_last_hour": system.kills_last_hour,
        "risk_reasons": system.risk_reasons,
    }


def _route_data(route: selectors.Route) -> dict[str, Any]:
    """Shape a route as :class:`RouteSerializer` documents it (plain dicts: DRF's serializers cost ~15 ms here).

    Args:
        route: The route.

    Returns:
        The output dictionary.
    """
    systems = [_system_data(s) for s in route.systems]
    return {
        "origin": systems[0],
        "destination": systems[-1],
        "mode": route.mode,
        "avoid_risk": route.avoid_risk,
        "avoid": list(route.avoid),
        "jumps": route.jumps,
        "systems": systems,
        "total_weight": route.total_weight,
    }


class RouteFindApi(ExpensiveAdmissionMixin, APIView):
    """``GET /api/routes/``: a route computed in Neo4j (``format=svg`` draws it on the region map)."""

    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, SvgRenderer]
    throttle_classes = throttles_with(SvgExpensiveRateThrottle)

    @extend_schema(
        operation_id="routes_find",
        parameters=[RouteQuerySerializer],
        responses={
            200: RouteSerializer,
            400: OpenApiResponse(description="Bad mode or parameters."),
            404: OpenApiResponse(description="Unknown system (named), or no route."),
        },
    )
    def get(self, request: Request) -> Response:
        """Find a route.

        Args:
            request: The request.

        Returns:
            The route (JSON), or its picture when ``format=svg``.
        """
        query = RouteQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        default_mode, default_avoid = _user_defaults(request)
        if "avoid" in params:
            avoid: list[int | str] = [a.strip() for a in params["avoid"].split(",") if a.strip()]
        else:
            avoid = list(default_avoid or [])
        route = selectors.route_find(
            origin=params["origin"],
            destination=params["destination"],
            mode=params.get("mode") or default_mode or "shortest",
            avoid=avoid,
            avoid_risk=params["avoid_risk"],
        )
        if request.accepted_renderer.format == "svg":
            return Response(route_svg_render(route=route))
        return Response(_route_data(route))


class RiskListApi(APIView):
    """``GET /api/risk/``: systems flagged by the kill-risk model, most dangerous first."""

    @extend_schema(
        operation_id="risk_list", parameters=[RiskQuerySerializer], responses={200: SystemRiskSerializer(many=True)}
    )
    def get(self, request: Request) -> Response:
        """List flagged systems.

        Args:
            request: The request.

        Returns:
            The systems with their levels and reasons.
        """
        query = RiskQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        risks = selectors.risk_list(level=query.validated_data.get("level"))
        data = [
            {
                "system_id": r.system_id,
                "name": selectors.system_name(system_id=r.system_id),
                "level": r.level,
                "reasons": r.reasons,
                "kills_last_hour": r.kills_last_hour,
                "penalty": r.penalty,
            }
            for r in risks
        ]
        return Response(SystemRiskSerializer(data, many=True).data)
