"""The router every app registers its viewsets on."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter


def api_router() -> DefaultRouter:
    """A DefaultRouter for one app under ``/api/``: path converters, no root view, no ``.json`` suffix URLs.

    The apps share ``/api/``, so none of them claims its root; ``?format=`` stays the only format switch.
    """
    router = DefaultRouter(use_regex_path=False)
    router.include_root_view = False
    router.include_format_suffixes = False
    return router
