"""Database models of routing."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models


class KillFeedCursor(models.Model):
    """Where a kill feed consumer stopped (the next sequence number to read)."""

    name = models.CharField(max_length=50, unique=True)
    next_sequence = models.BigIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        """Return the feed and position."""
        return f"{self.name} at {self.next_sequence}"


class JumpTable(models.Model):
    """One jump table: routes between every pair of station systems for one route mode and ``avoid_risk``.

    Built by :mod:`routing.jumps_build` for the graph and risk state named by
    ``graph_key`` and ``risk_key`` (fingerprints, see :mod:`routing.jumps_graph`);
    readers use it only while both still match. ``systems`` are the targets: the
    arrays of each :class:`JumpSource` are indexed like it (``JumpTarget.idx``, 1-based).
    """

    label = models.CharField(max_length=100)
    mode = models.CharField(max_length=10)
    avoid_risk = models.BooleanField()
    graph_key = models.CharField(max_length=40)
    risk_key = models.CharField(max_length=40)
    systems = ArrayField(models.BigIntegerField(), default=list)
    sources = models.IntegerField(default=0)
    seconds = models.FloatField(default=0.0)
    built_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["label", "mode", "avoid_risk"], name="unique_jump_table"),
        ]

    def __str__(self) -> str:
        """Return the mode and risk flag."""
        return f"{self.mode}{' +risk' if self.avoid_risk else ''} ({self.label}, {len(self.systems)} systems)"


class JumpTarget(models.Model):
    """Where a target system sits in the arrays of a jump table (1-based, as PostgreSQL arrays)."""

    table = models.ForeignKey(JumpTable, on_delete=models.CASCADE, related_name="targets")
    system_id = models.BigIntegerField()
    idx = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["table", "system_id"], name="unique_jump_target")]

    def __str__(self) -> str:
        """Return the system and its index."""
        return f"{self.system_id} at {self.idx}"


class JumpSource(models.Model):
    """Route summaries from one source system to every target of a table (arrays indexed by ``JumpTarget.idx``).

    ``jumps`` is -1 where no route exists; ``max_risk`` is 0 (none), 1 (elevated), 2 (high) or 3 (critical).
    """

    table = models.ForeignKey(JumpTable, on_delete=models.CASCADE, related_name="rows")
    system_id = models.BigIntegerField()
    jumps = ArrayField(models.SmallIntegerField())
    min_security = ArrayField(models.FloatField(null=True))
    high_sec = ArrayField(models.SmallIntegerField())
    low_sec = ArrayField(models.SmallIntegerField())
    null_sec = ArrayField(models.SmallIntegerField())
    max_risk = ArrayField(models.SmallIntegerField())

    class Meta:
        constraints = [models.UniqueConstraint(fields=["table", "system_id"], name="unique_jump_source")]

    def __str__(self) -> str:
        """Return the source system."""
        return f"routes from {self.system_id}"
