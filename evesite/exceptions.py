"""Domain errors and the one handler that maps them to HTTP answers."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler


class DomainError(Exception):
    """Base of every error a service or selector raises on purpose.

    Subclasses set ``status_code`` and ``code``; ``headers`` are added to the
    HTTP answer (for example ``Retry-After``).
    """

    status_code = 400
    code = "error"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        """Build the error.

        Args:
            message: Human-readable explanation.
            headers: HTTP headers for the answer.
            **extra: More JSON fields for the answer body.
        """
        super().__init__(message)
        self.message = message
        self.headers = headers or {}
        self.extra = extra


class NotFoundError(DomainError):
    """Something the request names does not exist."""

    status_code = 404
    code = "not_found"


class InvalidInputError(DomainError):
    """The request's input is wrong."""

    status_code = 400
    code = "invalid_input"


class UpstreamError(DomainError):
    """An outside service answered badly or not at all."""

    status_code = 502
    code = "upstream_error"


class ServiceUnavailableError(DomainError):
    """One of our own datastores is down."""

    status_code = 503
    code = "service_unavailable"


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn domain errors into JSON answers; leave the rest to DRF.

    Args:
        exc: The raised exception.
        context: DRF's handler context.

    Returns:
        The response, or None to let Django handle the exception.
    """
    if isinstance(exc, DomainError):
        body = {"error": exc.code, "detail": exc.message, **exc.extra}
        return Response(body, status=exc.status_code, headers=exc.headers)
    return exception_handler(exc, context)
