"""Admin pages of jobs."""

from __future__ import annotations

from django.contrib import admin

from evesite.admin import ReadOnlyAdmin
from jobs.models import Job


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    """Background jobs, newest first, filtered by kind and state."""

    list_display = ("id", "kind", "params", "state", "progress_done", "progress_total", "progress_unit", "created")
    list_filter = ("kind", "state")
    ordering = ("-created",)
    list_per_page = 50
