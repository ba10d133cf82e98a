"""The project's pagination: DRF's limit/offset with a largest page (``API_MAX_PAGE_SIZE``)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.pagination import LimitOffsetPagination


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """Limit/offset pagination whose ``limit`` is capped at ``settings.API_MAX_PAGE_SIZE``.

    A larger ``limit`` is lowered to the cap (DRF's ``max_limit`` behaviour), so
    no request asks PostgreSQL for an unbounded (or past-64-bit) ``LIMIT``. An
    ``offset`` past the last row answers an empty page without running ``OFFSET``.
    """

    @property
    def max_limit(self) -> int:  # type: ignore[override]
        """The largest page, read at request time (tests may change the setting).

        Returns:
            ``settings.API_MAX_PAGE_SIZE``.
        """
        return int(settings.API_MAX_PAGE_SIZE)
