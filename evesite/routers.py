"""The routers every app registers its viewsets on."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter, Route


def api_router() -> DefaultRouter:
    """A DefaultRouter for one app under ``/api/``: path converters, no root view, no ``.json`` suffix URLs.

    The apps share ``/api/``, so none of them claims its root; ``?format=`` stays the only format switch.
    """
    router = DefaultRouter(use_regex_path=False)
    router.include_root_view = False
    router.include_format_suffixes = False
    return router


def singleton_router() -> DefaultRouter:
    """A router for resources without an id (``me/``, ``routes/``, ``esi/status/``): one URL each, by basename.

    Their paths and names predate the viewsets, and DRF's default routes (``{basename}-list``) cannot spell
    them. A viewset answers GET with ``retrieve`` (one object) or, when it has none, with ``list`` (an array,
    as drf-spectacular then documents it); the other methods map to the usual actions it has.
    """
    router = api_router()
    url = "{prefix}{trailing_slash}"
    router.routes = [
        Route(
            url=url,
            mapping={"get": "retrieve", "put": "update", "patch": "partial_update", "post": "create"},
            name="{basename}",
            detail=False,
            initkwargs={"suffix": "Instance"},
        ),
        Route(url=url, mapping={"get": "list"}, name="{basename}", detail=False, initkwargs={"suffix": "List"}),
    ]
    return router
