"""Domain errors and the one handler that maps them to HTTP answers."""

from __future__ import annotations

import logging
import math
from http import HTTPStatus
from typing import Any

import pydantic
from django.db import DataError, OperationalError
from rest_framework.exceptions import APIException, Throttled, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger("evesite")


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


class ConflictError(DomainError):
    """The request clashes with what is stored (a name already taken)."""

    status_code = 409
    code = "conflict"


class UpstreamError(DomainError):
    """An outside service answered badly or not at all."""

    status_code = 502
    code = "upstream_error"


class ServiceUnavailableError(DomainError):
    """One of our own datastores is down."""

    status_code = 503
    code = "service_unavailable"


class QueryTimeoutError(ServiceUnavailableError):
    """A query ran past its time limit (PostgreSQL statement_timeout or a Neo4j transaction timeout)."""

    code = "query_timeout"


class ThrottledError(DomainError):
    """The client asked too often; ``Retry-After`` says when it may ask again."""

    status_code = 429
    code = "throttled"


# PostgreSQL SQLSTATEs: query_canceled (statement_timeout) and numeric_value_out_of_range.
_QUERY_CANCELED = "57014"
_OUT_OF_RANGE = "22003"


def _sqlstate(exc: Exception) -> str | None:
    """Return the SQLSTATE of the psycopg error behind a Django database error."""
    return getattr(exc.__cause__, "sqlstate", None)


def _database_error(exc: Exception) -> DomainError | None:
    """Translate the database errors a request can cause into domain errors (no SQL or internals leak)."""
    if isinstance(exc, OperationalError):
        if _sqlstate(exc) == _QUERY_CANCELED:
            return QueryTimeoutError("The database took too long to answer; narrow the request or try again later.")
        return ServiceUnavailableError("The database is unavailable; try again later.")
    if isinstance(exc, DataError) and _sqlstate(exc) == _OUT_OF_RANGE:
        # A safety net: ids are checked at the edge (64 bits); one that slips through is still the client's error.
        return InvalidInputError("A number in the request is out of range.")
    return None


def _throttled(exc: Throttled) -> ThrottledError:
    """Give DRF's throttle refusal the project's error shape, with ``Retry-After`` in whole seconds."""
    retry_after = max(1, math.ceil(getattr(exc, "wait", None) or 1))
    return ThrottledError(
        f"Too many requests; try again in {retry_after} s.",
        headers={"Retry-After": str(retry_after)},
        retry_after=retry_after,
    )


def _field_errors(detail: Any, *, key: str = "non_field_errors") -> dict[str, list[str]]:
    """Flatten DRF's error detail (dicts, lists, nested ones) to field → messages."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for name, value in detail.items():
            for field, messages in _field_errors(
                value, key=str(name) if key == "non_field_errors" else f"{key}.{name}"
            ).items():
                out.setdefault(field, []).extend(messages)
        return out
    if isinstance(detail, list):
        out = {}
        for item in detail:
            for field, messages in _field_errors(item, key=key).items():
                out.setdefault(field, []).extend(messages)
        return out
    return {key: [str(detail)]}


def _pydantic_errors(exc: pydantic.ValidationError) -> dict[str, list[str]]:
    """Field → messages of a pydantic error (a model validator's errors go under ``non_field_errors``)."""
    out: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        field = ".".join(str(part) for part in error["loc"]) or "non_field_errors"
        message = str(error["msg"]).removeprefix("Value error, ")
        out.setdefault(field, []).append(message)
    return out


def _invalid(fields: dict[str, list[str]]) -> InvalidInputError:
    """One 400 for every validation failure: ``detail`` reads as a sentence, ``fields`` lists each field's."""
    detail = "; ".join(
        message if field == "non_field_errors" else f"{field}: {message}"
        for field, messages in fields.items()
        for message in messages
    )
    return InvalidInputError(detail or "Invalid input.", fields=fields)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn domain errors into JSON answers; leave the rest to DRF.

    Args:
        exc: The raised exception.
        context: DRF's handler context.

    Returns:
        The response, or None to let Django handle the exception.
    """
    translated = _database_error(exc)
    if translated is not None:
        logger.warning("%s answered as %s: %s", type(exc).__name__, translated.code, exc)
        exc = translated
    if isinstance(exc, Throttled):
        exc = _throttled(exc)
    elif isinstance(exc, ValidationError):
        exc = _invalid(_field_errors(exc.detail))
    elif isinstance(exc, pydantic.ValidationError):
        exc = _invalid(_pydantic_errors(exc))
    if isinstance(exc, DomainError):
        body = {"error": exc.code, "detail": exc.message, **exc.extra}
        return Response(body, status=exc.status_code, headers=exc.headers)
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, APIException):
        # DRF's own refusals (authentication, permission, 404, 405, 406, 415, parse errors) in the same shape.
        codes = exc.get_codes()
        response.data = {"error": codes if isinstance(codes, str) else exc.default_code, "detail": str(exc.detail)}
    elif response is not None:  # Django's Http404 and PermissionDenied, translated by DRF
        status = response.status_code
        response.data = {
            "error": "not_found" if status == HTTPStatus.NOT_FOUND else "permission_denied",
            "detail": response.data["detail"],
        }
    return response
