"""DRF serializers of market (query parameters, scan rows, profit breakdowns)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from jobs.schemas import JobOut

JobSerializer = JobOut.drf_serializer

# Largest id PostgreSQL's bigint holds: larger ones answer 400 instead of reaching a query.
BIGINT_MAX = 2**63 - 1


class ScanQuerySerializer(serializers.Serializer):
    """Rates (percent; defaults from the user's settings, else the site's) and optional filters of a scan."""

    sales_tax = serializers.FloatField(
        required=False, min_value=0, max_value=99.99, help_text="Sales tax in percent (8 = 8 %)."
    )
    broker_fee = serializers.FloatField(
        required=False, min_value=0, max_value=99.99, help_text="Broker fee in percent."
    )
    min_profit = serializers.FloatField(required=False, help_text="Least total_profit (ISK).")
    min_profit_pct = serializers.FloatField(required=False, help_text="Least profit_pct.")
    max_profit_pct = serializers.FloatField(required=False, help_text="Most profit_pct.")
    min_units = serializers.IntegerField(required=False, min_value=0, max_value=BIGINT_MAX, help_text="Least units.")
    max_volume_m3 = serializers.FloatField(
        required=False, min_value=0, help_text="Most volume_m3 (rows of types without a known volume are dropped)."
    )
    min_security = serializers.FloatField(
        required=False, min_value=-1, max_value=1, help_text="Least security of both stations' systems."
    )
    limit = serializers.IntegerField(required=False, min_value=1, help_text="Rows to return.")

    def validate_limit(self, value: int) -> int:
        """Cap the limit.

        Args:
            value: The requested limit.

        Returns:
            The limit.

        Raises:
            ValidationError: Above ``MARKET_SCAN_MAX_LIMIT``.
        """
        if value > settings.MARKET_SCAN_MAX_LIMIT:
            raise serializers.ValidationError(f"limit must be at most {settings.MARKET_SCAN_MAX_LIMIT}.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Check that the rates leave something to earn.

        Args:
            attrs: Validated fields.

        Returns:
            The fields.

        Raises:
            ValidationError: When sales_tax + broker_fee reach 100 %.
        """
        if attrs.get("sales_tax", 0) + attrs.get("broker_fee", 0) >= 100:
            raise serializers.ValidationError("sales_tax + broker_fee must stay below 100 %.")
        return attrs


class RegionScanQuerySerializer(ScanQuerySerializer):
    """Region scan parameters."""

    refresh = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Staff only: queue a refresh of the region even when the stored snapshot is fresh.",
    )


class TradeRowSerializer(serializers.Serializer):
    """One trade: buy at from_station (at ask, or place a buy order at bid when station trading), sell at to_station."""

    rank = serializers.IntegerField()
    type_id = serializers.IntegerField()
    type_name = serializers.CharField(allow_null=True)
    from_station_id = serializers.IntegerField()
    from_station_name = serializers.CharField(allow_null=True)
    from_system_id = serializers.IntegerField()
    from_system_name = serializers.CharField(allow_null=True)
    from_security = serializers.FloatField(allow_null=True)
    to_station_id = serializers.IntegerField()
    to_station_name = serializers.CharField(allow_null=True)
    to_system_id = serializers.IntegerField()
    to_system_name = serializers.CharField(allow_null=True)
    to_security = serializers.FloatField(allow_null=True)
    bid = serializers.FloatField(help_text="Highest buy price (at to_station when hauling).")
    ask = serializers.FloatField(help_text="Lowest sell price (at from_station when hauling).")
    bid_order_id = serializers.IntegerField()
    ask_order_id = serializers.IntegerField()
    units = serializers.IntegerField()
    profit_per_unit = serializers.FloatField()
    total_profit = serializers.FloatField()
    profit_pct = serializers.FloatField()
    volume_m3 = serializers.FloatField(allow_null=True, help_text="units x packaged volume (else volume).")
    depth_units = serializers.IntegerField(help_text="Units tradable walking both books while each unit profits.")
    depth_profit = serializers.FloatField(help_text="Profit of those units.")


class SnapshotSerializer(serializers.Serializer):
    """A stored region snapshot the scan read."""

    region_id = serializers.IntegerField()
    fetched_at = serializers.DateTimeField()
    last_modified = serializers.DateTimeField(allow_null=True)
    order_count = serializers.IntegerField()


class SnapshotStateSerializer(serializers.Serializer):
    """The snapshot a region-scoped scan read, how old it is, and the refresh job queued when it is stale."""

    as_of = serializers.DateTimeField(help_text="When the orders were fetched from ESI.")
    age_seconds = serializers.FloatField()
    stale = serializers.BooleanField(help_text="Older than MARKET_CACHE_SECONDS: a refresh job was queued.")
    job = JobSerializer(allow_null=True)


class ScanPendingSerializer(serializers.Serializer):
    """No snapshot yet: the refresh job to poll (``GET /api/jobs/{id}/``)."""

    job = JobSerializer()


class ScanResponseSerializer(serializers.Serializer):
    """A scan's answer."""

    kind = serializers.ChoiceField(choices=["station", "hauling"])
    scope = serializers.CharField(help_text="station:<id>, region:<id> or global.")
    sales_tax = serializers.FloatField()
    broker_fee = serializers.FloatField()
    snapshots = SnapshotSerializer(many=True)
    snapshot = SnapshotStateSerializer(
        required=False, help_text="Station and region scans: the snapshot read and its refresh job."
    )
    count = serializers.IntegerField()
    results = TradeRowSerializer(many=True)


class ProfitInputSerializer(ScanQuerySerializer):
    """One item between two stations (the same station means station trading), with optional scan filters."""

    buy_station_id = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX, help_text="Where the item is bought.")
    sell_station_id = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX, help_text="Where the item is sold.")
    type_id = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX)
    limit = None  # type: ignore[assignment]


class OrderRefSerializer(serializers.Serializer):
    """The order used on one side."""

    order_id = serializers.IntegerField()
    price = serializers.FloatField()
    volume_remain = serializers.IntegerField()
    min_volume = serializers.IntegerField()
    system_id = serializers.IntegerField()


class StationRefSerializer(serializers.Serializer):
    """A station with its system."""

    station_id = serializers.IntegerField()
    station_name = serializers.CharField(allow_null=True)
    system_id = serializers.IntegerField(allow_null=True)
    system_name = serializers.CharField(allow_null=True)
    security = serializers.FloatField(allow_null=True)


class ProfitBreakdownSerializer(serializers.Serializer):
    """Every number of one trade."""

    kind = serializers.ChoiceField(choices=["station", "hauling"])
    type_id = serializers.IntegerField()
    type_name = serializers.CharField(allow_null=True)
    unit_volume_m3 = serializers.FloatField(allow_null=True)
    buy_station = StationRefSerializer()
    sell_station = StationRefSerializer()
    sales_tax = serializers.FloatField()
    broker_fee = serializers.FloatField()
    ask_order = OrderRefSerializer(allow_null=True)
    bid_order = OrderRefSerializer(allow_null=True)
    bid = serializers.FloatField(allow_null=True)
    ask = serializers.FloatField(allow_null=True)
    cost_per_unit = serializers.FloatField(allow_null=True)
    revenue_per_unit = serializers.FloatField(allow_null=True)
    sales_tax_per_unit = serializers.FloatField(allow_null=True)
    broker_fee_per_unit = serializers.FloatField(allow_null=True)
    profit_per_unit = serializers.FloatField(allow_null=True)
    profit_pct = serializers.FloatField(allow_null=True)
    units = serializers.IntegerField(allow_null=True)
    min_volume_ok = serializers.BooleanField(allow_null=True)
    total_profit = serializers.FloatField(allow_null=True)
    volume_m3 = serializers.FloatField(allow_null=True)
    depth_units = serializers.IntegerField()
    depth_profit = serializers.FloatField()
    profitable = serializers.BooleanField()
    reason = serializers.CharField()
    passes_filters = serializers.BooleanField(
        allow_null=True, help_text="Whether a scan with the given filters lists this trade (null without filters)."
    )
