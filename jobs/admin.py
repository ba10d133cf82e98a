"""Admin pages of jobs."""

from __future__ import annotations

from django.contrib import admin

from evesite.admin import ReadOnlyAdmin
from jobs.models import Job


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    """Background jobs, newest first, filtered by kind and state."""

    list_display = ("kind", "params", "state", "progress", "created", "finished", "error_line")
    list_filter = ("kind", "state")
    ordering = ("-created",)
    list_per_page = 50

    @admin.display(description="progress")
    def progress(self, job: Job) -> str:
        """Show ``done / total unit``.

        Args:
            job: The row.

        Returns:
            The text.
        """
        return (
            f"{job.progress_done} / {job.progress_total if job.progress_total is not None else '?'} {job.progress_unit}"
        )

    @admin.display(description="error")
    def error_line(self, job: Job) -> str:
        """Show the start of the error.

        Args:
            job: The row.

        Returns:
            Up to 120 characters.
        """
        return job.error[:120]
