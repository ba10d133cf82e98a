"""Admin pages of routing."""

from django.contrib import admin

from routing.models import KillFeedCursor


@admin.register(KillFeedCursor)
class KillFeedCursorAdmin(admin.ModelAdmin):
    """Where each kill feed consumer stopped (editable, to replay or skip part of a feed)."""

    list_display = ("name", "next_sequence", "updated_at")
    readonly_fields = ("updated_at",)
