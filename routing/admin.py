"""Admin pages of routing."""

from django.contrib import admin

from routing.models import JumpTable, KillFeedCursor


@admin.register(KillFeedCursor)
class KillFeedCursorAdmin(admin.ModelAdmin):
    """Where each kill feed consumer stopped (editable, to replay or skip part of a feed)."""

    list_display = ("name", "next_sequence", "updated_at")
    readonly_fields = ("updated_at",)


@admin.register(JumpTable)
class JumpTableAdmin(admin.ModelAdmin):
    """The jump tables of the route-aware scans (built by ``manage.py build_jump_table`` or the Celery task)."""

    list_display = ("label", "mode", "avoid_risk", "sources", "seconds", "graph_key", "risk_key", "built_at")
    readonly_fields = ("label", "mode", "avoid_risk", "sources", "seconds", "graph_key", "risk_key", "built_at")
    exclude = ("systems",)
