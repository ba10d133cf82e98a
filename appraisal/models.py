"""Database models of appraisal: one row per stored appraisal, its lines as JSON."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

# The values of a stored line, in order (``appraisal.schemas.AppraisalLineOut`` names them the same).
LINE_FIELDS = (
    "line",
    "type_id",
    "name",
    "quantity",
    "unit_volume",
    "volume",
    "sell",
    "buy",
    "split",
    "sell_unfilled",
    "buy_unfilled",
    "flags",
)


class Appraisal(models.Model):
    """A valued paste: where and when it was valued, its totals, its lines and the lines nothing was made of.

    ``lines`` is a JSON array of arrays, one per line, in :data:`LINE_FIELDS` order (half the bytes of
    objects); ``unparsed`` an array of ``{line, text, reason}``. One row per appraisal keeps a 5,000-line
    paste one INSERT. Station, region and snapshot are plain ids (snapshots are pruned; the SDE is reloaded).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    market = models.CharField(max_length=32, help_text="As asked: a hub name or a station id.")
    station_id = models.BigIntegerField()
    station_name = models.CharField(max_length=200)
    region_id = models.IntegerField()
    snapshot_id = models.BigIntegerField(help_text="The market snapshot the prices came from.")
    prices_as_of = models.DateTimeField(help_text="When that snapshot was fetched from ESI.")
    sales_tax = models.FloatField(help_text="Percent taken from the buy value.")
    total_sell = models.FloatField()
    total_buy = models.FloatField()
    total_split = models.FloatField()
    total_volume = models.FloatField(help_text="m3 (packaged volume where the SDE has it).")
    lines = models.JSONField(default=list)
    unparsed = models.JSONField(default=list)

    def __str__(self) -> str:
        """Return ``id at market``."""
        return f"{self.pk} at {self.market}"
