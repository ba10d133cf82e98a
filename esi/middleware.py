"""Marks web requests, so the ESI client never sleeps while one waits (sleeping is for workers)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from esi.webmode import web_request_serving


def esi_web_request_middleware(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """Serve each request with the ESI client in web mode (no error sleep, no budget waits).

    Args:
        get_response: The next handler.

    Returns:
        The middleware.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        """Serve one request in web mode."""
        with web_request_serving():
            return get_response(request)

    return middleware
