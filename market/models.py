"""Database models of market: one current order-book snapshot per region.

Orders keep plain integer ids (type, station, system) rather than foreign keys
to ``universe``: ESI names structures and new types the SDE dump may lack.
"""

from __future__ import annotations

from django.db import models


class MarketSnapshot(models.Model):
    """All orders of one region (or of one player structure in it) as ESI served them at one time.

    The newest snapshot of a region (``structure_id`` null) is its current one; storing a new one
    deletes the older ones of that region. A structure's snapshot (``structure_id`` set) is kept the
    same way per structure, and its orders take part in the scans of its region.
    """

    region_id = models.IntegerField(db_index=True)
    structure_id = models.BigIntegerField(
        null=True, blank=True, help_text="The player structure whose market this is; null: the region's."
    )
    fetched_at = models.DateTimeField()
    last_modified = models.DateTimeField(null=True, blank=True, help_text="ESI's Last-Modified of the order pages.")
    order_count = models.IntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["region_id", "-fetched_at"], name="market_snap_region_latest"),
            models.Index(fields=["structure_id", "-fetched_at"], name="market_snap_structure_latest"),
        ]

    def __str__(self) -> str:
        """Return ``region @ fetched_at``."""
        return f"{self.region_id} @ {self.fetched_at:%Y-%m-%d %H:%M:%S}"


class MarketOrder(models.Model):
    """One ESI market order of a snapshot (rows are written with COPY, never one by one)."""

    snapshot = models.ForeignKey(MarketSnapshot, on_delete=models.CASCADE, related_name="orders", db_index=False)
    region_id = models.IntegerField()
    order_id = models.BigIntegerField()
    type_id = models.IntegerField()
    location_id = models.BigIntegerField()
    system_id = models.IntegerField()
    is_buy_order = models.BooleanField()
    price = models.FloatField()
    volume_remain = models.BigIntegerField()
    volume_total = models.BigIntegerField()
    min_volume = models.BigIntegerField()
    range = models.CharField(max_length=16)
    issued = models.DateTimeField()
    duration = models.IntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["snapshot"], name="market_order_snapshot"),
            models.Index(fields=["location_id", "type_id"], name="market_order_station_type"),
            models.Index(fields=["type_id", "is_buy_order", "price"], name="market_order_type_side_price"),
        ]

    def __str__(self) -> str:
        """Return ``order id (type at location)``."""
        return f"{self.order_id} ({self.type_id} at {self.location_id})"


class MarketTypeSummary(models.Model):
    """Per snapshot and type: the highest buy and lowest sell price in the region (built when storing).

    Hauling scans bound their candidates with it: an order that cannot beat the best
    opposite price of its type anywhere in scope is never part of a profitable pair.
    """

    snapshot = models.ForeignKey(MarketSnapshot, on_delete=models.CASCADE, related_name="summaries", db_index=False)
    region_id = models.IntegerField()
    type_id = models.IntegerField()
    max_bid = models.FloatField(null=True, blank=True)
    min_ask = models.FloatField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["snapshot"], name="market_summary_snapshot"),
            models.Index(fields=["region_id", "type_id"], name="market_summary_region_type"),
        ]

    def __str__(self) -> str:
        """Return ``type in region``."""
        return f"{self.type_id} in {self.region_id}"


# Market history (issue 18) lives in its own module; imported here so that Django registers its models.
from market.history_models import MarketHistory, MarketHistoryType  # noqa: E402
from market.structure_models import MarketStructure, StructureMarketDenial  # noqa: E402

__all__ = [
    "MarketHistory",
    "MarketHistoryType",
    "MarketOrder",
    "MarketSnapshot",
    "MarketStructure",
    "MarketTypeSummary",
    "StructureMarketDenial",
]
