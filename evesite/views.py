"""Project-level API views."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from evesite.health import health_status


class HealthApi(APIView):
    """State of PostgreSQL, Redis, Neo4j and APOC."""

    authentication_classes: list[type] = []
    permission_classes: list[type] = []

    @extend_schema(
        responses={
            200: inline_serializer(
                "Health",
                fields={
                    "postgres": serializers.CharField(),
                    "redis": serializers.CharField(),
                    "neo4j": serializers.CharField(),
                    "apoc": serializers.CharField(),
                },
            ),
            503: inline_serializer(
                "HealthFailing",
                fields={"failing": serializers.ListField(child=serializers.CharField())},
            ),
        }
    )
    def get(self, request: Request) -> Response:
        """Answer 200 when every part is up, else 503 naming the failing parts.

        Args:
            request: The HTTP request.

        Returns:
            The JSON status.
        """
        status, failing = health_status()
        if failing:
            return Response({**status, "failing": failing}, status=503)
        return Response(status)
