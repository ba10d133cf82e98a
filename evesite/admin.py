"""Admin building blocks shared by the apps."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


class ReadOnlyAdmin(admin.ModelAdmin):
    """An admin page that shows rows but never adds, changes or deletes them.

    For data another part of the app owns (SDE rows from ``ingest_data``, the
    ESI client's state): edits by hand would be undone or break invariants.
    """

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Refuse adding rows by hand.

        Args:
            request: The admin request.

        Returns:
            False.
        """
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Refuse editing rows by hand.

        Args:
            request: The admin request.
            obj: The row, if any.

        Returns:
            False.
        """
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Refuse deleting rows by hand.

        Args:
            request: The admin request.
            obj: The row, if any.

        Returns:
            False.
        """
        return False
