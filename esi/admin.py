"""Admin pages of esi: one read-only page showing the client's state."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from esi.models import EsiStatus
from esi.selectors import esi_status_get
from evesite.admin import ReadOnlyAdmin


@admin.register(EsiStatus)
class EsiStatusAdmin(ReadOnlyAdmin):
    """Lockdown and its TTL, last error-limit remain/reset, bucket state, rate-limit groups, last 50 calls."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Staff may look.

        Args:
            request: The HTTP request.
            obj: Unused.

        Returns:
            True for active staff.
        """
        return bool(request.user.is_active and request.user.is_staff)

    def has_module_permission(self, request: HttpRequest) -> bool:
        """Show the app to staff.

        Args:
            request: The HTTP request.

        Returns:
            True for active staff.
        """
        return self.has_view_permission(request)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        """Render the status page instead of a list of rows (there is no table).

        Args:
            request: The HTTP request.
            extra_context: Extra template context.

        Returns:
            The page.
        """
        context = {
            **self.admin_site.each_context(request),
            "title": "ESI client status",
            "opts": self.model._meta,
            "status": esi_status_get(),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/esi/status.html", context)
