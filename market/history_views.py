"""API view of market history (thin: names resolved and the series read in selectors; a job maybe queued)."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, OpenApiTypes, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from evesite.schemas import schema_dump, schema_parse
from jobs.selectors import job_data
from market.history import market_history_get
from market.history_schemas import HistoryQuery, HistorySeriesOut
from market.history_selectors import market_history_refs_resolve
from market.history_svg import history_svg_render
from routing.views import SvgRenderer


class MarketHistoryViewSet(viewsets.ViewSet):
    """``GET /api/market/history/``: a type's daily market history in a region (``format=svg`` draws it).

    Registered on the ``market`` prefix; its one action answers one object (not a list).
    """

    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, SvgRenderer]
    # Read by evesite.openapi: an unknown region or type (query parameters) is 404.
    error_statuses: tuple[int, ...] = (404,)

    @extend_schema(
        operation_id="market_history",
        parameters=[
            HistoryQuery.drf_serializer,
            # Real SDE names (id or name are both accepted): Swagger UI fills them in, the fuzzer tries them.
            OpenApiParameter(
                "region",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=True,
                pattern=r"\S",
                description="A region id or exact name (case-insensitive).",
                examples=[OpenApiExample("The Forge", value="The Forge"), OpenApiExample("Domain", value="10000043")],
            ),
            OpenApiParameter(
                "type",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=True,
                pattern=r"\S",
                description="A type id or exact name (case-insensitive).",
                examples=[OpenApiExample("Tritanium", value="tritanium"), OpenApiExample("Rifter", value="587")],
            ),
        ],
        responses={
            200: HistorySeriesOut.drf_serializer,
            404: OpenApiResponse(description="An unknown region or type (each named)."),
        },
    )
    @action(detail=False, methods=["get"], url_path="history", url_name="history")
    def history(self, request: Request) -> Response:
        """Return the stored series (an empty one, with the queued job, when the type was never fetched).

        Args:
            request: The request.

        Returns:
            The series as JSON, or its picture when ``format=svg``.
        """
        query = schema_parse(schema=HistoryQuery, data=request.query_params)
        (region_id, region_name), (type_id, type_name) = market_history_refs_resolve(
            region=query.region, type_ref=query.type
        )
        series, job = market_history_get(region_id=region_id, type_id=type_id)
        if request.accepted_renderer.format == "svg":
            return Response(history_svg_render(days=series.days, title=f"{type_name} in {region_name}"))
        body = {
            "region_id": region_id,
            "region_name": region_name,
            "type_id": type_id,
            "type_name": type_name,
            "status": series.status,
            "fetched_at": series.fetched_at,
            "expires_at": series.expires_at,
            "window_days": int(settings.MARKET_HISTORY_DAYS),
            "avg_daily_volume": series.avg_daily_volume,
            "volume_window_end": series.volume_window_end,
            "count": len(series.days),
            "days": series.days,
            "job": job_data(job=job) if job is not None else None,
        }
        return Response(schema_dump(schema=HistorySeriesOut, value=body))
