"""Errors raised by the ESI client; the API's exception handler maps them to HTTP."""

from __future__ import annotations

import math

from evesite.exceptions import UpstreamError


class EsiError(UpstreamError):
    """Base of every ESI failure (HTTP 502 unless a subclass says otherwise).

    Attributes:
        status: ESI's HTTP status, or None when no answer arrived (timeout, connection error).
        url: The full URL that was requested, when there was one.
    """

    code = "esi_error"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        url: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Build the error.

        Args:
            message: Human-readable explanation.
            status: ESI's HTTP status, if any.
            url: The URL requested, if any.
            headers: HTTP headers for our own answer.
        """
        super().__init__(message, headers=headers, esi_status=status)
        self.status = status
        self.url = url


class EsiHttpError(EsiError):
    """ESI answered with a 4xx or 5xx (including 420 and 429)."""

    code = "esi_http_error"


class EsiTimeoutError(EsiError):
    """ESI did not answer in time, or the connection failed (handled like a 5xx)."""

    code = "esi_timeout"


class EsiPayloadError(EsiError):
    """ESI answered 2xx but the body is not valid JSON or does not fit the payload model."""

    code = "esi_bad_payload"


class EsiInconsistentPagesError(EsiError):
    """The pages of one result kept changing version (``Last-Modified``) during the walk."""

    code = "esi_inconsistent_pages"


class _RetryLaterError(EsiError):
    """An ESI refusal the caller should retry after ``retry_after`` seconds (HTTP 429)."""

    status_code = 429

    def __init__(self, message: str, *, retry_after: float) -> None:
        """Build the error with a ``Retry-After`` header rounded up to whole seconds.

        Args:
            message: Human-readable explanation.
            retry_after: Seconds until a retry may succeed.
        """
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(message, status=None, headers={"Retry-After": str(self.retry_after)})
        self.extra["retry_after"] = self.retry_after


class EsiLockdownError(_RetryLaterError):
    """The Redis key ``ESI_GLOBAL_LOCKDOWN`` exists: no request may leave the process."""

    code = "esi_lockdown"


class EsiRateLimitError(_RetryLaterError):
    """A budget (error limit or route-group rate limit) is too low and its refill is too far away to wait."""

    code = "esi_rate_limited"
