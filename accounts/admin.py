"""Admin pages of accounts; tokens are never shown (only their scopes and expiry)."""

from __future__ import annotations

from django.contrib import admin

from accounts.models import EveCharacter, EveToken, SavedRoute, UserSettings


class EveTokenInline(admin.StackedInline):
    """Token metadata of a character, read-only and without the encrypted values."""

    model = EveToken
    fields = ("scopes", "access_token_expires_at", "updated_at")
    readonly_fields = fields
    can_delete = True
    extra = 0
    max_num = 0


@admin.register(EveCharacter)
class EveCharacterAdmin(admin.ModelAdmin):
    """Characters that logged in."""

    list_display = ("character_id", "name", "user", "updated_at")
    search_fields = ("name", "character_id", "user__username")
    readonly_fields = ("character_id", "name", "owner_hash", "user", "updated_at")
    inlines = [EveTokenInline]


@admin.register(UserSettings)
class UserSettingsAdmin(admin.ModelAdmin):
    """Users' trading and routing defaults."""

    list_display = ("user", "sales_tax", "broker_fee", "home_station_id", "default_route_mode", "updated_at")
    search_fields = ("user__username",)


@admin.register(SavedRoute)
class SavedRouteAdmin(admin.ModelAdmin):
    """Users' saved routes."""

    list_display = ("name", "user", "origin_id", "destination_id", "mode", "created")
    list_filter = ("mode",)
    search_fields = ("name", "user__username")
