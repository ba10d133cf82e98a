"""API views of esi (thin: the selector does the work)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from esi.selectors import esi_status_get

_CALL = inline_serializer(
    "EsiCall",
    fields={
        "at": serializers.FloatField(help_text="Epoch seconds."),
        "method": serializers.CharField(),
        "url": serializers.CharField(),
        "status": serializers.CharField(help_text="HTTP status, or 'timeout' / 'connection-error'."),
        "limit_remain": serializers.IntegerField(allow_null=True),
        "duration_ms": serializers.FloatField(),
        "error": serializers.BooleanField(),
    },
)


class EsiStatusOutputSerializer(serializers.Serializer):
    """What the status endpoint answers."""

    lockdown_active = serializers.BooleanField()
    lockdown_ttl_seconds = serializers.FloatField(allow_null=True)
    lockdown_reason = serializers.DictField(allow_null=True)
    error_limit_remain = serializers.IntegerField(allow_null=True)
    error_limit_reset_seconds = serializers.FloatField(allow_null=True)
    error_limit_seen_at = serializers.FloatField(allow_null=True)
    bucket = serializers.DictField(allow_null=True)
    rate_groups = serializers.ListField(child=serializers.DictField())
    counters = serializers.DictField(child=serializers.IntegerField())
    calls = serializers.ListField(child=_CALL)


class EsiStatusApi(APIView):
    """State of the ESI client (staff only)."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        responses={200: EsiStatusOutputSerializer},
        summary="ESI client status (staff only)",
        description=(
            "Global lockdown (ESI_GLOBAL_LOCKDOWN) and its TTL, the last X-ESI-Error-Limit-Remain/Reset, "
            "the route-group rate limits, the token bucket, counters and the last 50 ESI calls."
        ),
    )
    def get(self, request: Request) -> Response:
        """Report the lockdown and its TTL, the error-limit and rate-limit budgets, the bucket and the last 50 calls.

        Args:
            request: The HTTP request.

        Returns:
            The status.
        """
        return Response(EsiStatusOutputSerializer(esi_status_get().as_dict()).data)
