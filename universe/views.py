"""API views of universe (thin: selectors do the work)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from evesite.schemas import schema_dump, schema_parse
from universe.schemas import SearchHit, SearchQuery
from universe.search import KINDS, universe_search


class UniverseSearchViewSet(viewsets.ViewSet):
    """``GET /api/universe/search/``: SDE names (types, systems, stations, regions) by exact, prefix or fuzzy match."""

    @extend_schema(
        operation_id="universe_search",
        parameters=[SearchQuery.drf_serializer],
        responses={
            200: SearchHit.drf_serializer(many=True),
            400: OpenApiResponse(description="A blank or too long query, an unknown kind or a bad limit."),
        },
    )
    def list(self, request: Request) -> Response:
        """Search names, best matches first."""
        query = schema_parse(schema=SearchQuery, data=request.query_params)
        kinds = (query.kind,) if query.kind else KINDS
        hits = universe_search(q=query.q, kinds=kinds, limit=query.limit)
        return Response([schema_dump(schema=SearchHit, value=hit) for hit in hits])
