"""API views of esi (thin: the selector does the work)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response

from esi.schemas import EsiStatusOutput
from esi.selectors import esi_status_get
from evesite.schemas import schema_dump


class EsiStatusViewSet(viewsets.ViewSet):
    """State of the ESI client (staff only)."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="esi_status_retrieve",
        responses={200: EsiStatusOutput.drf_serializer},
        summary="ESI client status (staff only)",
        description=(
            "Global lockdown (ESI_GLOBAL_LOCKDOWN) and its TTL, the last X-ESI-Error-Limit-Remain/Reset, "
            "the route-group rate limits, the token bucket, counters and the last 50 ESI calls."
        ),
    )
    def retrieve(self, request: Request) -> Response:
        """Report the lockdown and its TTL, the error-limit and rate-limit budgets, the bucket and the last 50 calls."""
        return Response(schema_dump(schema=EsiStatusOutput, value=esi_status_get()))
