"""The project's pagination: DRF's limit/offset, strict about its two numbers."""

from __future__ import annotations

from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

INT64_MAX = 2**63 - 1


def _number(request: Request, *, name: str, low: int, high: int) -> int | None:
    """Read ``name`` from the query string: ASCII digits from ``low`` to ``high``, else 400 (never clamped)."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(high)) and low <= int(raw) <= high):
        raise ValidationError({name: [f"Must be an integer from {low} to {high}."]})
    return int(raw)


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """Limit/offset pagination with ``limit`` from 1 to ``settings.API_MAX_PAGE_SIZE`` and ``offset`` in 64 bits.

    Anything else answers 400, as the OpenAPI document says: no request asks PostgreSQL for an unbounded
    ``LIMIT``, and an ``offset`` past the last row answers an empty page.
    """

    @property
    def max_limit(self) -> int:  # type: ignore[override]
        """The largest page, read at request time (tests may change the setting)."""
        return int(settings.API_MAX_PAGE_SIZE)

    def get_limit(self, request: Request) -> int | None:
        """The page size asked for, else the default."""
        limit = _number(request, name=self.limit_query_param, low=1, high=self.max_limit)
        return self.default_limit if limit is None else limit

    def get_offset(self, request: Request) -> int:
        """Where the page starts."""
        return _number(request, name=self.offset_query_param, low=0, high=INT64_MAX) or 0
