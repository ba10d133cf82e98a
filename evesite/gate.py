"""Refuse anonymous clients that are over their rate before Django does any real work.

Once the anonymous throttle refuses an address, this process remembers until when (the refusal's
``Retry-After``). Until then the address's requests to throttled views answer 429 from the first
middleware, without sessions, DRF or Redis: the same answer DRF would give, at a fraction of the
cost, so a client that ignores ``Retry-After`` cannot keep the CPUs busy with refusals. Requests
with a session cookie (maybe logged in, counted per user) and views without the anonymous throttle
(health, images) always go through.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from rest_framework.throttling import BaseThrottle

from evesite.gate_refusals import gate_client_refused, gate_forget, refused_until
from evesite.throttling import AnonRateThrottle

__all__ = ["gate_client_refused", "gate_forget", "throttle_gate_middleware"]


def _anon_throttled(path: str) -> bool:
    """Say whether the view at ``path`` counts anonymous requests against the anonymous rate."""
    try:
        view = resolve(path).func
    except Resolver404:
        return False
    throttles = getattr(getattr(view, "cls", None), "throttle_classes", ())
    return any(issubclass(t, AnonRateThrottle) for t in throttles)


def throttle_gate_middleware(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[..., Any]:
    """Answer 429 at once to an anonymous address that is still inside its refusal."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if refused_until and settings.SESSION_COOKIE_NAME not in request.COOKIES:
            address = str(BaseThrottle().get_ident(request))  # type: ignore[arg-type]
            until = refused_until.get(address)
            if until is not None:
                left = until - time.monotonic()
                if left > 0 and _anon_throttled(request.path_info):
                    retry_after = max(1, math.ceil(left))
                    return JsonResponse(
                        {
                            "error": "throttled",
                            "detail": f"Too many requests; try again in {retry_after} s.",
                            "retry_after": retry_after,
                        },
                        status=429,
                        headers={"Retry-After": str(retry_after)},
                    )
        return get_response(request)

    return middleware
