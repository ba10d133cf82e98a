"""avg_daily_volume as stored by the history stores equals a brute-force reference, whatever the order of batches.

Reference: the window is the ``MARKET_HISTORY_DAYS`` calendar days ending at the latest date stored for the
region (any type); a type's value is the sum of its volumes on those days divided by ``MARKET_HISTORY_DAYS``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from market.history import EsiHistoryDay, FetchedSeries, market_history_store
from market.history_models import MarketHistory, MarketHistoryType

pytestmark = pytest.mark.django_db

REGION = 19900077
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
BASE = NOW.date()
EXPIRES = NOW + timedelta(hours=1)
TYPES = [990000201, 990000202, 990000203, 990000204]

# A series: days back from BASE (0..60) -> volume; may be empty.
_series = st.dictionaries(st.integers(0, 60), st.integers(0, 10**12), max_size=12)
# One store: some of the types, each with a series.
_store = st.dictionaries(st.sampled_from(TYPES), _series, min_size=1, max_size=len(TYPES))


def _fetched(type_id: int, volumes: dict[int, int]) -> FetchedSeries:
    """A fetched series of one type."""
    days = [
        EsiHistoryDay(
            date=BASE - timedelta(days=back), average=1.0, highest=2.0, lowest=0.5, order_count=1, volume=volume
        )
        for back, volume in sorted(volumes.items(), reverse=True)
    ]
    return FetchedSeries(type_id=type_id, days=days, expires_at=EXPIRES, url=f"http://esi/{type_id}")


def _reference(latest: dict[int, dict[date, int]], window: int) -> dict[int, float]:
    """Brute force: each stored type's summed volume over the window ending at the region's latest date, / window."""
    all_dates = [d for days in latest.values() for d in days]
    end = max(all_dates) if all_dates else None
    result = {}
    for type_id, days in latest.items():
        total = 0
        for offset in range(window):
            if end is not None:
                total += days.get(end - timedelta(days=offset), 0)
        result[type_id] = total / window
    return result


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stores=st.lists(_store, min_size=1, max_size=4), window=st.sampled_from([1, 7, 30]))
def test_stored_daily_volume_matches_brute_force(stores: list[dict[int, dict[int, int]]], window: int) -> None:
    """Several stores (later ones replace a type's series, may move the window either way): every type matches."""
    MarketHistory.objects.filter(region_id=REGION).delete()
    MarketHistoryType.objects.filter(region_id=REGION).delete()
    old_window, old_keep = django_settings.MARKET_HISTORY_DAYS, django_settings.MARKET_HISTORY_KEEP_DAYS
    django_settings.MARKET_HISTORY_DAYS, django_settings.MARKET_HISTORY_KEEP_DAYS = window, 90
    try:
        latest: dict[int, dict[date, int]] = {}
        for store in stores:
            market_history_store(region_id=REGION, fetched=[_fetched(t, v) for t, v in store.items()], now=NOW)
            for type_id, volumes in store.items():
                latest[type_id] = {BASE - timedelta(days=back): volume for back, volume in volumes.items()}
        stored = dict(MarketHistoryType.objects.filter(region_id=REGION).values_list("type_id", "avg_daily_volume"))
        expected = _reference(latest, window)
        assert stored.keys() == expected.keys()
        for type_id, value in expected.items():
            assert stored[type_id] == pytest.approx(value, rel=1e-12), type_id
        ends = set(MarketHistoryType.objects.filter(region_id=REGION).values_list("volume_window_end", flat=True))
        all_dates = [d for days in latest.values() for d in days]
        assert ends == {max(all_dates) if all_dates else None}
    finally:
        django_settings.MARKET_HISTORY_DAYS, django_settings.MARKET_HISTORY_KEEP_DAYS = old_window, old_keep


def test_the_reference_can_fail() -> None:
    """The reference is not trivially equal to what a wrong definition (mean over traded days) gives."""
    latest = {1: {BASE: 30, BASE - timedelta(days=1): 30}}
    assert _reference(latest, 30) == {1: 2.0}
    assert _reference(latest, 30) != {1: 30.0}
