"""``GET /api/me/routes/{route_id}/route/``: a saved route (accounts) computed now, as ``GET /api/routes/`` would."""

from __future__ import annotations

import pydantic
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.schemas import SavedRoutePath
from accounts.selectors import saved_route_get
from evesite.admission import ExpensiveAdmissionMixin
from evesite.schemas import Schema, schema_dump, schema_parse
from evesite.throttling import SvgExpensiveRateThrottle, throttles_with
from routing import services
from routing.schemas import Route
from routing.svg import route_svg_render
from routing.views import SvgRenderer


class SavedRouteQuery(Schema):
    """Query parameters of a saved route's computation."""

    avoid_risk: bool = pydantic.Field(True, description="Add the kill-risk penalties.")


class SavedRouteRouteViewSet(ExpensiveAdmissionMixin, viewsets.ViewSet):
    """A saved route's systems now: its origin, destination, mode and avoid list, with today's risk."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, SvgRenderer]
    throttle_classes = throttles_with(SvgExpensiveRateThrottle)

    @extend_schema(
        operation_id="me_routes_route",
        summary="Compute a saved route now",
        parameters=[SavedRouteQuery.drf_serializer],
        responses={
            200: Route.drf_serializer,
            404: OpenApiResponse(description="No such saved route of the user, or no route exists now."),
        },
    )
    def retrieve(self, request: Request, route_id: int) -> Response:
        """Compute one of the user's saved routes (its picture when ``format=svg``)."""
        query = schema_parse(schema=SavedRouteQuery, data=request.query_params)
        path = schema_parse(schema=SavedRoutePath, data={"route_id": route_id})
        saved = saved_route_get(user=request.user, route_id=path.route_id)
        route = services.route_find(
            origin=saved.origin_id,
            destination=saved.destination_id,
            mode=saved.mode,
            avoid=[int(a) for a in saved.avoid or []],
            avoid_risk=query.avoid_risk,
        )
        if request.accepted_renderer.format == "svg":
            return Response(route_svg_render(route=route))
        return Response(schema_dump(schema=Route, value=route))
