"""Django's error views (400, 403, 404, 500) as JSON in the API's error shape, without internals.

DRF views answer their own errors (:func:`evesite.exceptions.api_exception_handler`); these cover
everything else: unknown URLs, a CSRF or host failure, and any exception nothing handled.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse


def _error(code: str, detail: str, status: int) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Answer Django's 400 (a bad Host header, a suspicious request)."""
    return _error("bad_request", "The request is malformed.", 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Answer Django's 403."""
    return _error("permission_denied", "You may not do this.", 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Answer Django's 404 (never echoes the path or the URL patterns)."""
    return _error("not_found", "Nothing is here.", 404)


def server_error(request: HttpRequest) -> JsonResponse:
    """Answer an unhandled exception: the log has the traceback, the client only this."""
    return _error("server_error", "The server failed to answer; the error is logged.", 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    """Answer a failed CSRF check (``CSRF_FAILURE_VIEW``)."""
    return _error("csrf_failed", "CSRF check failed: send the csrftoken cookie's value as X-CSRFToken.", 403)
