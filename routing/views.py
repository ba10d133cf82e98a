"""API views of routing (thin: selectors do the work)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.selectors import user_route_defaults_get
from evesite.admission import ExpensiveAdmissionMixin
from evesite.schemas import schema_dump, schema_parse
from evesite.throttling import SvgExpensiveRateThrottle, throttles_with
from routing import risk, selectors, services
from routing.schemas import RiskQuery, Route, RouteQuery, SystemRisk
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


class RouteViewSet(ExpensiveAdmissionMixin, viewsets.ViewSet):
    """``GET /api/routes/``: a route computed in Neo4j (``format=svg`` draws it on the region map)."""

    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, SvgRenderer]
    throttle_classes = throttles_with(SvgExpensiveRateThrottle)

    @extend_schema(
        operation_id="routes_find",
        parameters=[RouteQuery.drf_serializer],
        responses={
            200: Route.drf_serializer,
            400: OpenApiResponse(description="Bad mode or parameters."),
            404: OpenApiResponse(description="Unknown system (named), or no route."),
        },
    )
    def retrieve(self, request: Request) -> Response:
        """Find a route (its picture when ``format=svg``)."""
        query = schema_parse(schema=RouteQuery, data=request.query_params)
        default_mode, default_avoid = user_route_defaults_get(user=request.user)
        if query.avoid is not None:
            avoid: list[int | str] = [a.strip() for a in query.avoid.split(",") if a.strip()]
        else:
            avoid = list(default_avoid)
        route = services.route_find(
            origin=query.origin,
            destination=query.destination,
            mode=query.mode or default_mode or "shortest",
            avoid=avoid,
            avoid_risk=query.avoid_risk,
        )
        if request.accepted_renderer.format == "svg":
            return Response(route_svg_render(route=route))
        return Response(schema_dump(schema=Route, value=route))


class RiskViewSet(viewsets.ViewSet):
    """``GET /api/risk/``: systems flagged by the kill-risk model, most dangerous first."""

    @extend_schema(
        operation_id="risk_list",
        parameters=[RiskQuery.drf_serializer],
        responses={200: SystemRisk.drf_serializer(many=True)},
    )
    def list(self, request: Request) -> Response:
        """List flagged systems with their levels and reasons."""
        query = schema_parse(schema=RiskQuery, data=request.query_params)
        rows = [
            schema_dump(
                schema=SystemRisk,
                value={
                    "system_id": r.system_id,
                    "name": selectors.system_name(system_id=r.system_id),
                    "level": r.level,
                    "reasons": r.reasons,
                    "kills_last_hour": r.kills_last_hour,
                    "penalty": r.penalty,
                },
            )
            for r in risk.risk_list(level=query.level)
        ]
        return Response(rows)
