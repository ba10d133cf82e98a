"""What an ESI call returns, and the header parsing it needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from requests.structures import CaseInsensitiveDict


def http_date(value: str | None) -> datetime | None:
    """Parse an HTTP date header.

    Args:
        value: The header, e.g. ``Sat, 28 Nov 2026 23:05:00 GMT``.

    Returns:
        An aware datetime, or None when absent or unreadable.
    """
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def int_header(headers: CaseInsensitiveDict[str], name: str) -> int | None:
    """Read an integer header.

    Args:
        headers: Response headers.
        name: Header name.

    Returns:
        The integer, or None when absent or unreadable.
    """
    raw = headers.get(name)
    try:
        return int(float(raw)) if raw is not None else None
    except (ValueError, OverflowError):  # OverflowError: "inf" or "1e999"
        return None


@dataclass
class EsiResponse:
    """One ESI answer (fresh, revalidated by a 304, or from the cache).

    Attributes:
        data: The parsed JSON body.
        status: ESI's status (200 also for cache hits; 304 answers report the cached 200).
        headers: Response headers (case-insensitive).
        expires: When the copy goes stale.
        last_modified: ``Last-Modified``.
        etag: ``ETag``.
        from_cache: True when the body came from our cache (304, or not yet expired).
        url: The full URL.
        models: The validated pydantic model(s) when the route has one.
        received_at: Monotonic time the answer arrived (None for a cache hit with no request).
    """

    data: Any
    status: int
    headers: CaseInsensitiveDict[str]
    expires: datetime | None
    last_modified: datetime | None
    etag: str | None
    from_cache: bool
    url: str
    models: Any = None
    received_at: float | None = field(default=None, repr=False)

    @property
    def pages(self) -> int:
        """Number of pages (``X-Pages``, 1 when absent)."""
        return max(1, int_header(self.headers, "X-Pages") or 1)
