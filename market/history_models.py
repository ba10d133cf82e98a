"""Database models of market history (issue 18): ESI's daily statistics per region and type, and their fetch state.

Imported at the end of ``market/models.py`` so that Django registers them with the market app.
"""

from __future__ import annotations

from django.db import models


class MarketHistory(models.Model):
    """One day of ``GET /markets/{region_id}/history/?type_id=``: a type's trades in a region on one date.

    ESI leaves out the days without trades. Rows are written with COPY after the type's older rows are
    deleted (a fetched series replaces the stored one, in one transaction with its :class:`MarketHistoryType`).
    """

    region_id = models.IntegerField()
    type_id = models.IntegerField()
    date = models.DateField()
    average = models.FloatField()
    highest = models.FloatField()
    lowest = models.FloatField()
    order_count = models.BigIntegerField()
    volume = models.BigIntegerField()

    class Meta:
        verbose_name_plural = "market history"
        constraints = [
            models.UniqueConstraint(fields=["region_id", "type_id", "date"], name="market_history_region_type_date")
        ]

    def __str__(self) -> str:
        """Return ``type in region on date``."""
        return f"{self.type_id} in {self.region_id} on {self.date:%Y-%m-%d}"


class MarketHistoryType(models.Model):
    """Per (region, type): when its history was fetched, until when ESI said it is fresh, and its daily volume.

    A row exists once the type was fetched; ``days == 0`` is a type ESI has no history for ("fetched,
    empty", never an error). A refresh skips types whose ``expires_at`` is still ahead, so it resumes where
    a stopped one ended.

    ``avg_daily_volume`` is the mean daily volume over the last ``MARKET_HISTORY_DAYS`` calendar days ending
    at ``volume_window_end``, the latest date ESI has for the region (any type): the window's summed volume
    divided by the number of calendar days (days without trades count as 0, since ESI omits them).
    It is 0 for a type without trades in the window and kept current by every store of the region.
    """

    region_id = models.IntegerField()
    type_id = models.IntegerField()
    fetched_at = models.DateTimeField()
    expires_at = models.DateTimeField(help_text="ESI's Expires of the answer: fetch again after it.")
    days = models.IntegerField(default=0, help_text="Days stored (0: ESI has no history for the type).")
    first_date = models.DateField(null=True, blank=True)
    last_date = models.DateField(null=True, blank=True)
    avg_daily_volume = models.FloatField(null=True, blank=True)
    volume_window_end = models.DateField(
        null=True, blank=True, help_text="Last day of the window avg_daily_volume was computed over."
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region_id", "type_id"], name="market_history_type_unique")]
        indexes = [models.Index(fields=["region_id", "last_date"], name="market_history_type_last")]

    def __str__(self) -> str:
        """Return ``type in region (days)``."""
        return f"{self.type_id} in {self.region_id} ({self.days} days)"
