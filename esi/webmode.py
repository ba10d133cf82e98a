"""Web mode: while a web request is served, the ESI client answers at once and never sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# True while a web request is served: the client then never sleeps (see web_request_serving).
_in_web_request: ContextVar[bool] = ContextVar("esi_in_web_request", default=False)


@contextmanager
def web_request_serving() -> Iterator[None]:
    """Run the block in web mode: ESI errors and low budgets answer at once, never sleep.

    An error still locks every process out; a budget at its low-water mark refuses (HTTP 429).

    Yields:
        Nothing.
    """
    token = _in_web_request.set(True)
    try:
        yield
    finally:
        _in_web_request.reset(token)


def in_web_request() -> bool:
    """Tell whether a web request is being served on this thread.

    Returns:
        True in web mode.
    """
    return _in_web_request.get()
