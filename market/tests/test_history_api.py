"""``GET /api/market/history/``: names or ids, 404 naming the unknown, the stored series as JSON or SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from jobs.models import Job
from market.history import _SERIES, FetchedSeries, market_history_store
from market.history_models import MarketHistoryType
from market.history_selectors import market_history_series
from market.history_svg import history_svg_render
from market.tests.conftest import REGION_1, REGION_2, TYPE_PACKAGED, TYPE_PLAIN, SyntheticUniverse
from market.tests.history_support import esi_days, snapshot_with_types

pytestmark = pytest.mark.django_db

URL = "/api/market/history/"
SVG = "{http://www.w3.org/2000/svg}"


def _store(type_id: int, volumes: dict[int, int]) -> None:
    """Store a fetched series of a type in REGION_1."""
    days = _SERIES.validate_python(esi_days(volumes))
    expires = timezone.now() + timedelta(hours=1)
    market_history_store(
        region_id=REGION_1, fetched=[FetchedSeries(type_id=type_id, days=days, expires_at=expires, url="x")]
    )


def test_names_and_ids_give_the_stored_series(synthetic_universe: SyntheticUniverse) -> None:
    """Exact names in any case, or ids: the same series, oldest day first, with the daily volume."""
    _store(TYPE_PACKAGED, {0: 60, 1: 30, 3: 90})
    by_name = APIClient().get(URL, {"region": "synth REGION 19900001", "type": "Synth Type 990000001"})
    by_id = APIClient().get(URL, {"region": str(REGION_1), "type": str(TYPE_PACKAGED)})
    assert by_name.status_code == 200, by_name.content
    assert by_name.json() == by_id.json()
    body = by_name.json()
    assert (body["region_id"], body["type_id"], body["status"], body["count"]) == (
        REGION_1,
        TYPE_PACKAGED,
        "fetched",
        3,
    )
    assert [d["volume"] for d in body["days"]] == [90, 30, 60]
    assert body["avg_daily_volume"] == pytest.approx(180 / 30)
    assert body["window_days"] == 30
    assert body["job"] is None


def test_unknown_region_and_type_are_404_naming_both(synthetic_universe: SyntheticUniverse) -> None:
    """Both unknown names are in the error; nothing is queued."""
    answer = APIClient().get(URL, {"region": "Nowhere", "type": "Unobtainium"})
    assert answer.status_code == 404
    assert "'Nowhere'" in answer.json()["detail"]
    assert "'Unobtainium'" in answer.json()["detail"]
    only_type = APIClient().get(URL, {"region": str(REGION_1), "type": "99999999999999"})
    assert only_type.status_code == 404
    assert "region" not in only_type.json()["detail"]
    assert not Job.objects.exists()


@pytest.mark.parametrize("query", [{"region": " ", "type": "34"}, {"type": "34"}])
def test_bad_parameters_are_400(query: dict[str, str]) -> None:
    """Blank, missing or overlong parameters: 400, JSON."""
    assert APIClient().get(URL, query).status_code == 400


def test_never_fetched_traded_type_answers_empty_and_queues_the_region_once(
    synthetic_universe: SyntheticUniverse,
) -> None:
    """A traded type never fetched: 200 with no days and the region's job; asking again gives the same job."""
    snapshot_with_types([TYPE_PACKAGED])
    first = APIClient().get(URL, {"region": REGION_1, "type": TYPE_PACKAGED})
    assert first.status_code == 200
    assert first.json()["status"] == "not_fetched"
    assert first.json()["days"] == []
    assert first.json()["avg_daily_volume"] is None
    job = first.json()["job"]
    assert job["kind"] == "market.history_region"
    assert job["state"] == "queued"
    again = APIClient().get(URL, {"region": REGION_1, "type": TYPE_PACKAGED})
    assert again.json()["job"]["id"] == job["id"]
    assert Job.objects.count() == 1


def test_untraded_type_or_region_without_snapshot_queues_nothing(synthetic_universe: SyntheticUniverse) -> None:
    """No orders of the type in the region: the empty series, no job (a refresh would not fetch it)."""
    snapshot_with_types([TYPE_PACKAGED])
    for region, type_id in ((REGION_1, TYPE_PLAIN), (REGION_2, TYPE_PACKAGED)):
        answer = APIClient().get(URL, {"region": region, "type": type_id})
        assert answer.status_code == 200
        assert answer.json()["status"] == "not_fetched"
        assert answer.json()["job"] is None
    assert not Job.objects.exists()


def test_fetched_but_empty_is_not_queued_again(synthetic_universe: SyntheticUniverse) -> None:
    """A type ESI had no history for: status empty, volume 0, no job."""
    snapshot_with_types([TYPE_PACKAGED])
    _store(TYPE_PACKAGED, {})
    body = APIClient().get(URL, {"region": REGION_1, "type": TYPE_PACKAGED}).json()
    assert (body["status"], body["count"], body["avg_daily_volume"], body["job"]) == ("empty", 0, 0.0, None)
    assert MarketHistoryType.objects.get(type_id=TYPE_PACKAGED).days == 0


def test_svg_draws_band_average_and_volume_per_day(synthetic_universe: SyntheticUniverse, tmp_path: Path) -> None:
    """format=svg: one band and one volume bar per day, an average line through every day; errors stay JSON."""
    _store(TYPE_PACKAGED, {back: 100 + 7 * back for back in range(0, 60, 2)})
    answer = APIClient().get(URL, {"region": "Synth Region 19900001", "type": str(TYPE_PACKAGED), "format": "svg"})
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(answer.content)  # noqa: S314 - our own output
    assert root.tag == f"{SVG}svg"
    assert root.findtext(f"{SVG}title") == "Synth Type 990000001 in Synth Region 19900001"
    groups = {g.get("class"): g for g in root.iter(f"{SVG}g")}
    assert len(groups["band"].findall(f"{SVG}rect")) == 30
    assert len(groups["volume"].findall(f"{SVG}rect")) == 30
    line = root.find(f"{SVG}polyline[@class='average']")
    assert line is not None
    assert len(line.get("points", "").split()) == 30
    # Volume bars grow with volume: the oldest day (largest volume here) has the tallest bar.
    heights = [float(r.get("height", "0")) for r in groups["volume"].findall(f"{SVG}rect")]
    assert heights[0] == max(heights)
    assert heights[-1] == min(heights)
    (tmp_path / "history.svg").write_bytes(answer.content)
    missing = APIClient().get(URL, {"region": "Nowhere", "type": "34", "format": "svg"})
    assert missing.status_code == 404
    assert missing["Content-Type"].startswith("application/json")


def test_svg_of_no_days_says_so(synthetic_universe: SyntheticUniverse) -> None:
    """An empty series is a valid picture with a caption."""
    root = ET.fromstring(history_svg_render(days=[], title="x"))  # noqa: S314 - our own output
    assert "No market history" in "".join(root.itertext())
    assert market_history_series(region_id=REGION_1, type_id=TYPE_PLAIN).days == []
