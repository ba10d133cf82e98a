"""Static data export (SDE) tables the features need, keyed by CCP's ids.

Rows are loaded in bulk by ``manage.py ingest_data``; nothing else writes
them. Volatile data in other apps (orders, contracts, kills) stores plain
integer ids rather than foreign keys, because ESI may name ids a dump lacks.
"""

from __future__ import annotations

from django.db import models


class Region(models.Model):
    """A region (mapRegions)."""

    id = models.IntegerField(primary_key=True)
    name = models.CharField(max_length=100, db_index=True)
    x = models.FloatField()
    y = models.FloatField()
    z = models.FloatField()
    faction_id = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        """Return the region's name."""
        return self.name


class Constellation(models.Model):
    """A constellation (mapConstellations)."""

    id = models.IntegerField(primary_key=True)
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="constellations")
    name = models.CharField(max_length=100, db_index=True)
    x = models.FloatField()
    y = models.FloatField()
    z = models.FloatField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        """Return the constellation's name."""
        return self.name


class SolarSystem(models.Model):
    """A solar system (mapSolarSystems); positions are in metres."""

    id = models.IntegerField(primary_key=True)
    name = models.CharField(max_length=100, db_index=True)
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="systems")
    constellation = models.ForeignKey(Constellation, on_delete=models.CASCADE, related_name="systems")
    security = models.FloatField()
    security_class = models.CharField(max_length=4, blank=True, default="")
    x = models.FloatField()
    y = models.FloatField()
    z = models.FloatField()
    x_2d = models.FloatField(null=True, blank=True)
    y_2d = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        """Return the system's name."""
        return self.name


class SolarSystemJump(models.Model):
    """A directed gate jump between two systems (mapSolarSystemJumps)."""

    from_system = models.ForeignKey(SolarSystem, on_delete=models.CASCADE, related_name="jumps_out")
    to_system = models.ForeignKey(SolarSystem, on_delete=models.CASCADE, related_name="jumps_in")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["from_system", "to_system"], name="unique_jump")]

    def __str__(self) -> str:
        """Return ``from -> to`` ids."""
        return f"{self.from_system_id} -> {self.to_system_id}"


class Stargate(models.Model):
    """A stargate (mapDenormalize rows with groupID 10); positions in metres within its system."""

    id = models.IntegerField(primary_key=True)
    system = models.ForeignKey(SolarSystem, on_delete=models.CASCADE, related_name="stargates")
    type_id = models.IntegerField()
    name = models.CharField(max_length=100)
    x = models.FloatField()
    y = models.FloatField()
    z = models.FloatField()

    def __str__(self) -> str:
        """Return the gate's name, e.g. ``Stargate (Perimeter)``."""
        return self.name


class Station(models.Model):
    """An NPC station (staStations)."""

    id = models.BigIntegerField(primary_key=True)
    name = models.CharField(max_length=200, db_index=True)
    system = models.ForeignKey(SolarSystem, on_delete=models.CASCADE, related_name="stations")
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="stations")
    security = models.FloatField()
    type_id = models.IntegerField()
    corporation_id = models.IntegerField(null=True, blank=True)
    x = models.FloatField()
    y = models.FloatField()
    z = models.FloatField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        """Return the station's name."""
        return self.name


class ItemCategory(models.Model):
    """An item category (invCategories)."""

    id = models.IntegerField(primary_key=True)
    name = models.CharField(max_length=100)
    published = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "item categories"

    def __str__(self) -> str:
        """Return the category's name."""
        return self.name


class ItemGroup(models.Model):
    """An item group (invGroups)."""

    id = models.IntegerField(primary_key=True)
    category = models.ForeignKey(ItemCategory, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=100)
    published = models.BooleanField(default=False)

    def __str__(self) -> str:
        """Return the group's name."""
        return self.name


class MarketGroup(models.Model):
    """A market group (invMarketGroups), a tree through ``parent``."""

    id = models.IntegerField(primary_key=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    has_types = models.BooleanField(default=False)

    def __str__(self) -> str:
        """Return the market group's name."""
        return self.name


class ItemType(models.Model):
    """An item type (invTypes), with the packaged volume from invVolumes when the SDE has one."""

    id = models.IntegerField(primary_key=True)
    group = models.ForeignKey(ItemGroup, on_delete=models.CASCADE, related_name="types")
    name = models.CharField(max_length=200, db_index=True)
    description = models.TextField(blank=True, default="")
    mass = models.FloatField(null=True, blank=True)
    volume = models.FloatField(null=True, blank=True)
    packaged_volume = models.FloatField(null=True, blank=True)
    capacity = models.FloatField(null=True, blank=True)
    portion_size = models.IntegerField(null=True, blank=True)
    base_price = models.DecimalField(max_digits=24, decimal_places=4, null=True, blank=True)
    published = models.BooleanField(default=False)
    market_group = models.ForeignKey(
        MarketGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="types"
    )
    icon_id = models.IntegerField(null=True, blank=True)

    def __str__(self) -> str:
        """Return the type's name."""
        return self.name

    @property
    def shipping_volume(self) -> float:
        """Volume per unit for hauling: packaged where known, else the plain volume."""
        if self.packaged_volume is not None:
            return self.packaged_volume
        return self.volume or 0.0
