"""Request bounds of web processes: the body-size cap and PostgreSQL's per-statement timeout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse, JsonResponse

# Methods whose requests may carry a body (a chunked one without Content-Length is refused on these).
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_STATEMENT_TIMEOUT_UID = "evesite.web_statement_timeout"
# Paths that take larger bodies than API_MAX_BODY_BYTES (exact path -> bytes), registered by their apps at start-up.
_PATH_BODY_LIMITS: dict[str, int] = {}


def body_limit_register(*, path: str, max_bytes: int) -> None:
    """Let one path take bodies up to ``max_bytes`` (it never gets less than ``API_MAX_BODY_BYTES``).

    Args:
        path: The exact request path (``/api/appraisal/``).
        max_bytes: Its cap.
    """
    _PATH_BODY_LIMITS[path] = max_bytes


def _error(status: int, code: str, detail: str) -> JsonResponse:
    """Build the JSON error answer of the exception handler's shape."""
    return JsonResponse({"error": code, "detail": detail}, status=status)


def request_body_limit_middleware(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[..., Any]:
    """Refuse bodies larger than ``settings.API_MAX_BODY_BYTES`` before anything reads them.

    DRF's parsers read the body without Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``
    check, so the cap is applied here, on the declared ``Content-Length``: over
    the cap → 413. A body sent chunked (no ``Content-Length``) on a method that
    carries one → 411, since its size is unknown until read.

    Args:
        get_response: The next handler.

    Returns:
        The middleware.
    """

    def middleware(request: HttpRequest) -> HttpResponse | JsonResponse:
        """Check the declared size, then pass the request on."""
        limit = max(int(settings.API_MAX_BODY_BYTES), _PATH_BODY_LIMITS.get(request.path_info, 0))
        raw = request.META.get("CONTENT_LENGTH") or ""
        if raw:
            try:
                length = int(raw)
            except ValueError:
                return _error(400, "invalid_input", "Content-Length is not a number.")
            if length > limit:
                return _error(413, "payload_too_large", f"The request body must not exceed {limit} bytes.")
        elif request.method in _BODY_METHODS and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return _error(411, "length_required", "Send a Content-Length (chunked request bodies are not accepted).")
        return get_response(request)

    return middleware


def _statement_timeout_set(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """Give a new PostgreSQL connection the web statement timeout (``connection_created`` receiver)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('statement_timeout', %s, false)", [str(int(settings.DB_WEB_STATEMENT_TIMEOUT_MS))]
        )


def web_statement_timeout_enable() -> None:
    """Make every PostgreSQL connection this process opens from now on cancel statements after the web timeout.

    Called by the web entry point (:mod:`evesite.wsgi`) only: Celery workers and
    management commands (ingestion, COPY) keep no timeout. A cancelled statement
    raises ``django.db.OperationalError`` (QueryCanceled), which the API answers
    with a JSON 503 (:func:`evesite.exceptions.api_exception_handler`).
    """
    connection_created.connect(_statement_timeout_set, dispatch_uid=_STATEMENT_TIMEOUT_UID, weak=False)


def web_statement_timeout_disable() -> None:
    """Stop setting the timeout on new connections (tests)."""
    connection_created.disconnect(dispatch_uid=_STATEMENT_TIMEOUT_UID)
