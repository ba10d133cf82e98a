"""Admin pages of contracts: cached contracts, their items and remembered fetch failures."""

from __future__ import annotations

from django.contrib import admin

from contracts.models import Contract, ContractFetchFailure, ContractItem


class ContractItemInline(admin.TabularInline):
    """A contract's item lines (read-only: they come from ESI)."""

    model = ContractItem
    extra = 0
    can_delete = False
    fields = ["record_id", "type_id", "quantity", "is_included", "is_blueprint_copy", "runs"]
    readonly_fields = ["record_id", "type_id", "quantity", "is_included", "is_blueprint_copy", "runs"]


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    """Cached public contracts."""

    list_display = [
        "contract_id",
        "type",
        "region_id",
        "title",
        "price",
        "items_value",
        "profit",
        "profit_pct",
        "items_status",
        "is_active",
        "date_expired",
    ]
    list_filter = ["type", "region_id", "items_status", "is_active"]
    search_fields = ["contract_id", "title", "issuer_id"]
    ordering = ["-date_issued"]
    inlines = [ContractItemInline]
    readonly_fields = [f.name for f in Contract._meta.fields]


@admin.register(ContractItem)
class ContractItemAdmin(admin.ModelAdmin):
    """Cached contract items."""

    list_display = ["record_id", "contract", "type_id", "quantity", "is_included", "is_blueprint_copy"]
    list_filter = ["is_included", "is_blueprint_copy"]
    search_fields = ["contract__contract_id", "type_id"]
    raw_id_fields = ["contract"]
    readonly_fields = [f.name for f in ContractItem._meta.fields]


@admin.register(ContractFetchFailure)
class ContractFetchFailureAdmin(admin.ModelAdmin):
    """Per-contract ESI calls remembered as failing (never repeated until the contract expires)."""

    list_display = ["contract_id", "kind", "reason", "status", "failed_at", "expires_at"]
    list_filter = ["kind", "reason", "status"]
    search_fields = ["contract_id"]
