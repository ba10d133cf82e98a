"""Input and output serializers of routing's API (shapes only; no logic)."""

from __future__ import annotations

from rest_framework import serializers

from routing.graph import MODES
from routing.selectors import RISK_LEVELS


class RouteQuerySerializer(serializers.Serializer):
    """Query parameters of ``GET /api/routes/``."""

    origin = serializers.CharField(help_text="System id or name (case-insensitive, exact).")
    destination = serializers.CharField(help_text="System id or name (case-insensitive, exact).")
    mode = serializers.CharField(
        required=False, help_text=f"One of {', '.join(MODES)}; default: the user's setting, else shortest."
    )
    avoid = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Comma-separated system ids or names never entered; default: the user's avoid list.",
    )
    avoid_risk = serializers.BooleanField(required=False, default=True, help_text="Add the kill-risk penalties.")


class RouteSystemSerializer(serializers.Serializer):
    """One system of a route."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    security = serializers.FloatField()
    security_display = serializers.FloatField(help_text="As EVE shows it (0 < s < 0.05 shows 0.1).")
    region = serializers.CharField(allow_null=True)
    risk = serializers.ChoiceField(choices=RISK_LEVELS, allow_null=True)
    kills_last_hour = serializers.IntegerField()
    risk_reasons = serializers.ListField(child=serializers.CharField())


class RouteSerializer(serializers.Serializer):
    """A route; ``jumps == len(systems) - 1``."""

    origin = RouteSystemSerializer()
    destination = RouteSystemSerializer()
    mode = serializers.ChoiceField(choices=MODES)
    avoid_risk = serializers.BooleanField()
    avoid = serializers.ListField(child=serializers.IntegerField())
    jumps = serializers.IntegerField()
    systems = RouteSystemSerializer(many=True)
    total_weight = serializers.FloatField()


class RiskQuerySerializer(serializers.Serializer):
    """Query parameters of ``GET /api/risk/``."""

    level = serializers.ChoiceField(choices=RISK_LEVELS, required=False, help_text="Only systems of this level.")


class SystemRiskSerializer(serializers.Serializer):
    """A flagged system."""

    system_id = serializers.IntegerField()
    name = serializers.CharField()
    level = serializers.ChoiceField(choices=RISK_LEVELS)
    reasons = serializers.ListField(child=serializers.CharField())
    kills_last_hour = serializers.IntegerField()
    penalty = serializers.FloatField(help_text="Extra weight of every gate into the system.")
