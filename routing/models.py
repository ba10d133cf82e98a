"""Database models of routing."""

from __future__ import annotations

from django.db import models


class KillFeedCursor(models.Model):
    """Where a kill feed consumer stopped (the next sequence number to read)."""

    name = models.CharField(max_length=50, unique=True)
    next_sequence = models.BigIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        """Return the feed and position."""
        return f"{self.name} at {self.next_sequence}"
