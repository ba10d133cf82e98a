"""Models of player-structure (citadel) markets (issue 18): where a structure is, and who may not read it.

A structure's orders are stored as a :class:`~market.models.MarketSnapshot` whose ``structure_id`` is set
(owner: the structure, visible to every user); see :mod:`market.structures`.
"""

from __future__ import annotations

from django.db import models


class MarketStructure(models.Model):
    """Where a player structure is, as ESI told: the docked character's location, or its orders in a region."""

    structure_id = models.BigIntegerField(primary_key=True)
    system_id = models.IntegerField()
    region_id = models.IntegerField()
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        """Return ``structure in system``."""
        return f"{self.structure_id} in {self.system_id}"


class StructureMarketDenial(models.Model):
    """ESI answered 403 to a character's read of a structure's market: not asked again for a while."""

    character_id = models.BigIntegerField()
    structure_id = models.BigIntegerField()
    denied_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["character_id", "structure_id"], name="market_structure_denial_unique")
        ]

    def __str__(self) -> str:
        """Return ``character denied structure``."""
        return f"{self.character_id} denied {self.structure_id}"
