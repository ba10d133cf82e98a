"""The budget arithmetic against brute-force references (hypothesis), and the Redis-shared state."""

from __future__ import annotations

import math
import time

import pytest
from django_redis import get_redis_connection
from hypothesis import given, settings
from hypothesis import strategies as st

from esi import limits
from esi.errors import EsiLockdownError


class FakeClock:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        """Start at zero."""
        self.now = 0.0

    def time(self) -> float:
        """Return the current time."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


def _bucket_reference(capacity: int, rate: float, gaps: list[float], step: float) -> list[float]:
    """Brute-force token bucket: time advances in small steps; an acquire completes at the first step with a token.

    Args:
        capacity: Largest burst.
        rate: Tokens per second.
        gaps: Idle time before each acquire.
        step: Simulation step.

    Returns:
        Wait of each acquire.
    """
    tokens = float(capacity)
    waits = []
    for gap in gaps:
        tokens = min(capacity, tokens + gap * rate)
        waited = 0.0
        while tokens < 1.0 - 1e-9:
            tokens = min(capacity, tokens + step * rate)
            waited += step
        tokens -= 1.0
        waits.append(waited)
    return waits


@settings(max_examples=60, deadline=None)
@given(
    capacity=st.integers(min_value=1, max_value=5),
    rate=st.sampled_from([1.0, 2.0, 4.0, 10.0]),
    gaps=st.lists(st.sampled_from([0.0, 0.05, 0.1, 0.25, 0.5, 1.0]), min_size=1, max_size=25),
)
def test_token_bucket_matches_brute_force(capacity: int, rate: float, gaps: list[float]) -> None:
    """The bucket's waits equal a step-by-step simulation's, within one step."""
    clock = FakeClock()
    bucket = limits.TokenBucket(capacity=capacity, rate=rate, clock=clock.time, sleep=clock.sleep)
    step = 0.001
    expected = _bucket_reference(capacity, rate, gaps, step)
    for gap, want in zip(gaps, expected, strict=True):
        clock.sleep(gap)
        got = bucket.acquire()
        assert math.isclose(got, want, abs_tol=2 * step), (got, want)


@settings(max_examples=60, deadline=None)
@given(
    capacity=st.integers(min_value=1, max_value=8),
    rate=st.sampled_from([0.5, 1.0, 3.0]),
    gaps=st.lists(st.sampled_from([0.0, 0.0, 0.1, 0.3, 1.0]), min_size=1, max_size=40),
)
def test_token_bucket_never_exceeds_its_budget(capacity: int, rate: float, gaps: list[float]) -> None:
    """In any interval of length T, at most capacity + rate * T acquisitions complete."""
    clock = FakeClock()
    bucket = limits.TokenBucket(capacity=capacity, rate=rate, clock=clock.time, sleep=clock.sleep)
    stamps = []
    for gap in gaps:
        clock.sleep(gap)
        bucket.acquire()
        stamps.append(clock.now)
    for i, start in enumerate(stamps):
        for j in range(i, len(stamps)):
            assert j - i + 1 <= capacity + rate * (stamps[j] - start) + 1e-6


def test_token_bucket_cap_drains_tokens() -> None:
    """cap() leaves at most the affordable tokens, so the next acquires wait for the refill."""
    clock = FakeClock()
    bucket = limits.TokenBucket(capacity=10, rate=2, clock=clock.time, sleep=clock.sleep)
    bucket.cap(1)
    assert bucket.acquire() == 0.0
    assert math.isclose(bucket.acquire(), 0.5)


def _tokens_back_reference(
    ledger: list[tuple[float, int]], window: float, now: float, needed: int, fallback_at: float
) -> float:
    """Brute force: try every moment a token comes back, earliest first, and count what is back by then.

    Args:
        ledger: (spent at, tokens).
        window: Window length.
        now: Current time.
        needed: Tokens that must come back.
        fallback_at: Answer when the ledger cannot cover ``needed``.

    Returns:
        Seconds to wait.
    """
    candidates = sorted({spent + window for spent, _ in ledger if spent + window > now})
    for moment in candidates:
        back = sum(used for spent, used in ledger if now < spent + window <= moment)
        if back >= needed:
            return moment - now
    return max(0.0, fallback_at - now)


@settings(max_examples=150, deadline=None)
@given(
    ledger=st.lists(
        st.tuples(st.integers(min_value=0, max_value=100).map(float), st.integers(min_value=1, max_value=5)),
        max_size=20,
    ),
    window=st.sampled_from([10.0, 30.0, 60.0]),
    now=st.integers(min_value=0, max_value=150).map(float),
    needed=st.integers(min_value=1, max_value=30),
)
def test_tokens_back_in_matches_brute_force(
    ledger: list[tuple[float, int]], window: float, now: float, needed: int
) -> None:
    """The floating-window wait equals the brute-force answer."""
    fallback = now + window
    got = limits.tokens_back_in(ledger=ledger, window=window, now=now, needed=needed, fallback_at=fallback)
    assert math.isclose(got, _tokens_back_reference(ledger, window, now, needed, fallback), abs_tol=1e-9)


@pytest.mark.parametrize(
    ("header", "parsed"),
    [("150/15m", (150, 900)), ("600/1h", (600, 3600)), ("20/2s", (20, 2)), ("5/30", (5, 30)), ("x", None), ("", None)],
)
def test_rate_limit_parse(header: str, parsed: tuple[int, int] | None) -> None:
    """X-Ratelimit-Limit values such as 150/15m are read as (tokens, window seconds)."""
    assert limits.rate_limit_parse(header) == parsed


def test_route_key_generalises_ids() -> None:
    """Numeric segments become {id} so one route maps to one group."""
    assert limits.route_key("/markets/10000002/orders") == "/markets/{id}/orders"
    assert limits.route_key("/characters/90000001/location") == "/characters/{id}/location"
    assert limits.route_key("/markets/prices") == "/markets/prices"


def test_lockdown_set_never_shortens() -> None:
    """A shorter lockdown does not replace a longer one; a manual key without expiry is kept."""
    conn = get_redis_connection("default")
    assert limits.lockdown_set(seconds=30, reason="a")
    assert not limits.lockdown_set(seconds=5, reason="b")
    assert conn.pttl(limits.LOCKDOWN_KEY) > 25_000
    assert limits.lockdown_set(seconds=60, reason="c")
    reason = limits.lockdown_reason()
    assert reason is not None
    assert reason["reason"] == "c"
    conn.set(limits.LOCKDOWN_KEY, "manual")
    assert not limits.lockdown_set(seconds=60, reason="d")
    assert conn.pttl(limits.LOCKDOWN_KEY) == -1
    with pytest.raises(EsiLockdownError) as info:
        limits.lockdown_check()
    assert info.value.retry_after == 3600


def test_lockdown_check_passes_without_key() -> None:
    """Without the key the check passes and returns Redis's clock."""
    assert abs(limits.lockdown_check() - time.time()) < 5


def test_error_limit_keeps_the_lowest_remain_of_a_window() -> None:
    """Answers arriving out of order cannot raise Remain within one window; a new window replaces it."""
    assert limits.error_limit_record(remain=50, reset=30) == 50
    assert limits.error_limit_record(remain=70, reset=30) == 50
    state = limits.error_limit_get()
    assert state is not None
    assert state.remain == 50
    assert limits.error_limit_record(remain=100, reset=60) == 100
