"""The ESI walk slot: one page walk at a time across processes, the region delay between walks, a live waiter."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from esi import walks
from esi.errors import EsiRateLimitError
from esi.limits import redis_connection


def test_walks_take_turns_with_the_region_delay(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second walk starts only after the first ended plus ESI_REGION_DELAY_SECONDS, and says it waits."""
    settings.ESI_REGION_DELAY_SECONDS = 0.3
    monkeypatch.setattr(walks, "WAIT_REPORT_SECONDS", 0.05)
    spans: dict[str, tuple[float, float]] = {}
    waits: list[float] = []
    first_in = threading.Event()

    def walk(name: str, hold: float) -> None:
        """Hold the slot for a while."""
        with walks.esi_walk_slot(what=name, waiting=lambda: waits.append(time.monotonic())):
            start = time.monotonic()
            first_in.set()
            time.sleep(hold)
            spans[name] = (start, time.monotonic())

    first = threading.Thread(target=walk, args=("first", 0.5))
    first.start()
    first_in.wait(5)
    second = threading.Thread(target=walk, args=("second", 0.0))
    second.start()
    first.join()
    second.join()
    assert spans["second"][0] - spans["first"][1] >= 0.3 * 0.95
    assert len(waits) >= 3  # the waiting walk reported itself while the first held the slot
    assert redis_connection().exists(walks.WALK_LOCK_KEY) == 0


def test_a_walk_that_waits_too_long_is_refused(settings: Any) -> None:
    """With the slot held elsewhere longer than ESI_WALK_WAIT_SECONDS, the walk raises a retry-later error."""
    settings.ESI_WALK_WAIT_SECONDS = 0.3
    held = redis_connection().lock(walks.WALK_LOCK_KEY, timeout=5)
    assert held.acquire(blocking=False)
    try:
        started = time.monotonic()
        with pytest.raises(EsiRateLimitError), walks.esi_walk_slot(what="late"):
            pass
        assert 0.25 <= time.monotonic() - started < 2
    finally:
        held.release()
