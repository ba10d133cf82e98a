"""A WSGI app for the health-lane test: ``/slow/`` holds its thread for a second, anything else answers at once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

SLOW_SECONDS = 1.0


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answer ``ok``, after ``SLOW_SECONDS`` for ``/slow/``."""
    if environ["PATH_INFO"] == "/slow/":
        time.sleep(SLOW_SECONDS)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
