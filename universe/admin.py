"""Admin pages of universe: read-mostly views of the SDE tables (ingestion owns the rows)."""

from __future__ import annotations

from django.contrib import admin

from evesite.admin import ReadOnlyAdmin
from universe import models as m


class SdeAdmin(ReadOnlyAdmin):
    """Base for SDE tables: searchable and browsable, but rows come only from ``ingest_data``.

    Rows added, edited or deleted by hand would be undone by the next ingestion
    or leave the Neo4j graph out of step with PostgreSQL.
    """

    list_per_page = 100
    show_full_result_count = False


@admin.register(m.Region)
class RegionAdmin(SdeAdmin):
    """Regions."""

    list_display = ("id", "name", "faction_id")
    search_fields = ("name", "=id")


@admin.register(m.Constellation)
class ConstellationAdmin(SdeAdmin):
    """Constellations."""

    list_display = ("id", "name", "region")
    list_select_related = ("region",)
    search_fields = ("name", "=id")
    list_filter = ("region",)


@admin.register(m.SolarSystem)
class SolarSystemAdmin(SdeAdmin):
    """Solar systems."""

    list_display = ("id", "name", "security", "security_class", "constellation", "region")
    list_select_related = ("region", "constellation")
    search_fields = ("name", "=id")
    list_filter = ("region",)


@admin.register(m.SolarSystemJump)
class SolarSystemJumpAdmin(SdeAdmin):
    """Directed gate jumps."""

    list_display = ("__str__", "from_system", "to_system")
    list_select_related = ("from_system", "to_system")
    search_fields = ("from_system__name", "to_system__name", "=from_system__id", "=to_system__id")


@admin.register(m.Stargate)
class StargateAdmin(SdeAdmin):
    """Stargates with their positions."""

    list_display = ("id", "name", "system", "type_id")
    list_select_related = ("system",)
    search_fields = ("name", "system__name", "=id")


@admin.register(m.Station)
class StationAdmin(SdeAdmin):
    """NPC stations."""

    list_display = ("id", "name", "system", "region", "security")
    list_select_related = ("system", "region")
    search_fields = ("name", "=id")
    list_filter = ("region",)


@admin.register(m.ItemCategory)
class ItemCategoryAdmin(SdeAdmin):
    """Item categories."""

    list_display = ("id", "name", "published")
    search_fields = ("name", "=id")
    list_filter = ("published",)


@admin.register(m.ItemGroup)
class ItemGroupAdmin(SdeAdmin):
    """Item groups."""

    list_display = ("id", "name", "category", "published")
    list_select_related = ("category",)
    search_fields = ("name", "=id")
    list_filter = ("published", "category")


@admin.register(m.MarketGroup)
class MarketGroupAdmin(SdeAdmin):
    """Market groups (a tree)."""

    list_display = ("id", "name", "parent", "has_types")
    list_select_related = ("parent",)
    search_fields = ("name", "=id")
    list_filter = ("has_types",)


@admin.register(m.ItemType)
class ItemTypeAdmin(SdeAdmin):
    """Item types with volumes."""

    list_display = ("id", "name", "group", "volume", "packaged_volume", "published")
    list_select_related = ("group",)
    search_fields = ("name", "=id")
    list_filter = ("published",)
    raw_id_fields = ("group", "market_group")
