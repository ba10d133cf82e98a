"""Admin pages of market: snapshots, orders and history, read-only (ESI owns them; refreshes replace them)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from evesite.admin import ReadOnlyAdmin
from market.models import (
    MarketHistory,
    MarketHistoryType,
    MarketOrder,
    MarketSnapshot,
    MarketStructure,
    StructureMarketDenial,
)
from universe.models import Region


class IdFilter(admin.SimpleListFilter):
    """A filter by an id typed in a box (a region has thousands of stations and types: no list of choices)."""

    template = "admin/market/id_filter.html"
    field = ""
    placeholder = "id"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        """Offer only the typed id, so the admin shows the box and the active value."""
        value = self.value()
        return [(value, f"= {value}")] if value else []

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Keep the rows with the typed id; a value that is not an id keeps none."""
        value = self.value()
        if not value:
            return queryset
        if not (value.isascii() and value.isdigit() and int(value) < 2**63):
            return queryset.none()
        return queryset.filter(**{self.field: int(value)})

    def has_output(self) -> bool:
        """Always show the box, also before an id is typed."""
        return True

    @property
    def kept_params(self) -> list[tuple[str, str]]:
        """The other filters of the page, carried by the box's form."""
        return [(k, v) for k, v in self.request_params.items() if k != self.parameter_name]

    def __init__(self, request: HttpRequest, params: dict[str, Any], model: Any, model_admin: Any) -> None:
        """Remember the page's query (the box's form keeps the other filters)."""
        self.request_params = {k: str(v) for k, v in request.GET.items() if k != "p"}
        super().__init__(request, params, model, model_admin)


class RegionFilter(IdFilter):
    """Orders of one region."""

    title = "region id"
    parameter_name = field = "region_id"
    placeholder = "10000002 (The Forge)"


class StationFilter(IdFilter):
    """Orders at one station (or structure)."""

    title = "station id"
    parameter_name = "station_id"
    field = "location_id"
    placeholder = "60003760 (Jita 4-4)"


class TypeFilter(IdFilter):
    """Orders of one type."""

    title = "type id"
    parameter_name = field = "type_id"
    placeholder = "34 (Tritanium)"


@admin.register(MarketSnapshot)
class MarketSnapshotAdmin(ReadOnlyAdmin):
    """One row per region (or player structure) snapshot (the newest per region or structure is the current one)."""

    list_display = ("region_id", "region_name", "structure_id", "fetched_at", "last_modified", "order_count")
    ordering = ("-fetched_at",)
    search_fields = ("=region_id", "=structure_id")

    @admin.display(description="region")
    def region_name(self, obj: MarketSnapshot) -> str:
        """The region's SDE name."""
        return Region.objects.filter(pk=obj.region_id).values_list("name", flat=True).first() or "?"


@admin.register(MarketOrder)
class MarketOrderAdmin(ReadOnlyAdmin):
    """The stored orders, filtered by region, station, type and side (millions of rows: no full counts)."""

    list_display = ("order_id", "type_id", "location_id", "region_id", "is_buy_order", "price", "volume_remain")
    list_filter = (RegionFilter, StationFilter, TypeFilter, "is_buy_order")
    ordering = ("type_id", "is_buy_order", "price")
    show_full_result_count = False
    list_per_page = 100


@admin.register(MarketHistory)
class MarketHistoryAdmin(ReadOnlyAdmin):
    """ESI's daily statistics per region, type and day."""

    list_display = ("region_id", "type_id", "date", "average", "highest", "lowest", "order_count", "volume")
    list_filter = (RegionFilter, TypeFilter)
    ordering = ("region_id", "type_id", "-date")
    show_full_result_count = False
    list_per_page = 100


@admin.register(MarketHistoryType)
class MarketHistoryTypeAdmin(ReadOnlyAdmin):
    """Per region and type: when its history was fetched, until when it is fresh, its daily volume."""

    list_display = ("region_id", "type_id", "fetched_at", "expires_at", "days", "avg_daily_volume")
    list_filter = (RegionFilter, TypeFilter)
    ordering = ("region_id", "type_id")
    show_full_result_count = False
    list_per_page = 100


@admin.register(MarketStructure)
class MarketStructureAdmin(ReadOnlyAdmin):
    """Where the scanned player structures are."""

    list_display = ("structure_id", "system_id", "region_id", "updated")
    search_fields = ("=structure_id",)
    ordering = ("structure_id",)


@admin.register(StructureMarketDenial)
class StructureMarketDenialAdmin(ReadOnlyAdmin):
    """ESI's 403s per (character, structure): scans answer 403 without ESI for a day after one."""

    list_display = ("character_id", "structure_id", "denied_at")
    ordering = ("-denied_at",)
