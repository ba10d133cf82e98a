"""The kill-risk model fed by a fake zKillboard R2Z2 feed and a fake ESI on loopback, on the tiny graph."""

from __future__ import annotations

import copy
import gzip
import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django_redis import get_redis_connection

from evesite.graph import graph_query
from evesite.testing.fakeserver import FakeHttpServer, FakeResponse
from routing.cache import KILLS_KEY, RISK_FRESH_KEY
from routing.models import KillFeedCursor
from routing.risk import risk_levels_compute, risk_list
from routing.services import kills_record, risk_graph_sync, route_find, system_kills_refresh, zkill_feed_poll
from routing.zkillboard import R2z2Client, R2z2Record, ZkillboardError
from universe.graph import system_model

pytestmark = pytest.mark.usefixtures("tiny_sde")

ALPHA, XRAY, BRAVO, CHARLIE, FOXTROT = 1, 8, 2, 3, 6
# ESI's /universe/system_kills answer: 13 ship+pod kills in CHARLIE (high), 3 in FOXTROT (elevated).
HOURLY_KILLS = [
    {"system_id": CHARLIE, "ship_kills": 12, "pod_kills": 1, "npc_kills": 40},
    {"system_id": FOXTROT, "ship_kills": 2, "pod_kills": 1, "npc_kills": 0},
    {"system_id": 12, "ship_kills": 0, "pod_kills": 0, "npc_kills": 99},
]


@pytest.fixture
def sample(shared_dir: Path) -> dict[str, Any]:
    """The real R2Z2 record from ``../shared/samples/killmails``."""
    return json.loads((shared_dir / "samples/killmails/r2z2_134265477.json").read_text())


def _record(
    sample: dict[str, Any],
    *,
    sequence: int,
    system: int,
    minutes_ago: float,
    position: tuple[float, float, float] = (3e9, 0.0, 0.0),
    weapon: int = 3178,
) -> dict[str, Any]:
    """Build an R2Z2 record from the real sample, moved in place and time."""
    record = copy.deepcopy(sample)
    killmail_id = 500000 + sequence
    record["killmail_id"] = record["esi"]["killmail_id"] = killmail_id
    record["sequence_id"] = sequence
    record["esi"]["solar_system_id"] = system
    when = datetime.fromtimestamp(time.time() - minutes_ago * 60, tz=UTC)
    record["esi"]["killmail_time"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    record["esi"]["victim"]["position"] = dict(zip("xyz", position, strict=True))
    record["esi"]["attackers"][0]["weapon_type_id"] = weapon
    return record


def _feed(server: FakeHttpServer, sample: dict[str, Any], *, kills: int, system: int, minutes_ago: float) -> None:
    """Script a feed starting at sequence 1 with ``kills`` kills in one system, all ``minutes_ago`` old."""
    server.add("GET", "/ephemeral/sequence.json", FakeResponse(json={"sequence": 1}))
    for n in range(1, kills + 1):
        record = _record(sample, sequence=n, system=system, minutes_ago=minutes_ago)
        server.add("GET", f"/ephemeral/{n}.json", FakeResponse(json=record))


def _names(route) -> list[str]:
    """Names of a route's systems."""
    return [s.name for s in route.systems]


def test_the_real_sample_fits_the_record_model(sample: dict[str, Any]) -> None:
    """The shared R2Z2 record parses: system, time, position and the attacker's weapon."""
    record = R2z2Record.model_validate(sample)
    assert record.sequence_id == 96599404
    assert record.esi.solar_system_id == 30000743
    assert record.esi.attackers[0].weapon_type_id == 3178
    assert record.esi.victim.position is not None


def test_gate_camp_makes_a_system_critical_and_routes_go_around(
    zkill_server: FakeHttpServer, sample: dict[str, Any], settings
) -> None:
    """Five kills in Xray within 10 minutes near its Delta gate: critical, reason names the gate, routes avoid it."""
    zkill_server.add("GET", "/ephemeral/sequence.json", FakeResponse(json={"sequence": 100}))
    for n in range(5):
        record = _record(sample, sequence=100 + n, system=XRAY, minutes_ago=2 + n, position=(20_000.0 * n, 0, 0))
        zkill_server.add("GET", f"/ephemeral/{100 + n}.json", FakeResponse(json=record))
    assert route_find(origin="Alpha", destination="Delta").jumps == 2  # before: through Xray

    report = zkill_feed_poll()

    assert (report.start_sequence, report.next_sequence, report.records, report.kills_recorded) == (100, 105, 5, 5)
    assert report.reached_end
    assert KillFeedCursor.objects.get(name="r2z2").next_sequence == 105
    first = zkill_server.matching("GET", "/ephemeral/100.json")[0]
    assert first.headers["User-Agent"] == settings.ZKILLBOARD_USER_AGENT
    assert "gzip" in first.headers["Accept-Encoding"]
    [flagged] = risk_list(level="critical")
    assert flagged.system_id == XRAY
    assert flagged.reasons[0] == "5 kills in 10 min at Stargate (Delta)"
    assert flagged.kills_last_hour == 5
    # Shortest now goes around Xray (3 jumps instead of 2); without risk it still goes through.
    assert _names(route_find(origin="Alpha", destination="Delta")) == ["Alpha", "Bravo", "Charlie", "Delta"]
    through = route_find(origin="Alpha", destination="Delta", avoid_risk=False)
    assert _names(through) == ["Alpha", "Xray", "Delta"]
    assert through.systems[1].risk == "critical"
    assert through.systems[1].kills_last_hour == 5
    assert through.systems[1].risk_reasons == [
        "5 kills in 10 min at Stargate (Delta)",
        "5 ship/pod kills in the last hour",
    ]


def test_four_kills_are_not_critical(zkill_server: FakeHttpServer, sample: dict[str, Any]) -> None:
    """N - 1 kills in the window only make the system elevated (hourly count), with its small penalty."""
    _feed(zkill_server, sample, kills=4, system=XRAY, minutes_ago=1)
    zkill_feed_poll()
    risk = risk_levels_compute()[XRAY]
    assert risk.level == "elevated"
    assert risk.reasons == ["4 ship/pod kills in the last hour"]
    # Xray's elevated penalty (1) makes its 2 jumps cost 3, like the 3-jump detour: nothing critical is priced in.
    assert route_find(origin="Alpha", destination="Delta").total_weight == 3.0


def test_smartbomb_kill_is_critical_with_the_gate_and_age(
    zkill_server: FakeHttpServer, sample: dict[str, Any], tiny_sde: dict[str, int]
) -> None:
    """One kill by a Smart Bomb weapon 4.5 minutes ago, 30 km from Bravo's Alpha gate: critical."""
    record = _record(
        sample, sequence=7, system=BRAVO, minutes_ago=4.5, position=(1e9 + 30_000.0, 0, 0), weapon=tiny_sde["smartbomb"]
    )
    zkill_server.add("GET", "/ephemeral/sequence.json", FakeResponse(json={"sequence": 7}))
    zkill_server.add("GET", "/ephemeral/7.json", FakeResponse(json=record))
    zkill_feed_poll()
    [flagged] = risk_list(level="critical")
    assert flagged.system_id == BRAVO
    assert flagged.reasons == ["smartbomb kill 4 min ago at Stargate (Alpha)"]


def test_kill_far_from_any_gate_names_no_gate(zkill_server: FakeHttpServer, sample: dict[str, Any], tiny_sde) -> None:
    """A smartbomb kill 200 km from the nearest gate is critical without a gate in its reason."""
    record = _record(
        sample, sequence=3, system=BRAVO, minutes_ago=1, position=(1e9 + 200_000.0, 0, 0), weapon=tiny_sde["smartbomb"]
    )
    zkill_server.add("GET", "/ephemeral/sequence.json", FakeResponse(json={"sequence": 3}))
    zkill_server.add("GET", "/ephemeral/3.json", FakeResponse(json=record))
    zkill_feed_poll()
    assert risk_levels_compute()[BRAVO].reasons == ["smartbomb kill 1 min ago"]


def test_the_consumer_resumes_where_it_stopped(zkill_server: FakeHttpServer, sample: dict[str, Any]) -> None:
    """A second run starts at the saved sequence (no record read twice) and stops at the end of the feed."""
    zkill_server.add("GET", "/ephemeral/sequence.json", FakeResponse(json={"sequence": 40}))
    zkill_server.add(
        "GET", "/ephemeral/40.json", FakeResponse(json=_record(sample, sequence=40, system=XRAY, minutes_ago=1))
    )
    assert zkill_feed_poll().next_sequence == 41
    assert zkill_feed_poll().records == 0  # 41 is not published yet (404)
    zkill_server.add(
        "GET", "/ephemeral/41.json", FakeResponse(json=_record(sample, sequence=41, system=XRAY, minutes_ago=1))
    )
    report = zkill_feed_poll()
    assert (report.start_sequence, report.next_sequence) == (41, 42)
    # sequence.json: once to start, then once per run to confirm that a 404 is the end of the feed.
    assert zkill_server.count("GET", "/ephemeral/sequence.json") == 4
    assert zkill_server.count("GET", "/ephemeral/40.json") == 1


def test_max_records_bounds_one_run(zkill_server: FakeHttpServer, sample: dict[str, Any]) -> None:
    """A run reads at most max_records records and leaves the rest for the next run."""
    zkill_server.add("GET", "/ephemeral/sequence.json", FakeResponse(json={"sequence": 1}))
    for n in range(1, 4):
        zkill_server.add(
            "GET", f"/ephemeral/{n}.json", FakeResponse(json=_record(sample, sequence=n, system=XRAY, minutes_ago=1))
        )
    report = zkill_feed_poll(max_records=2)
    assert (report.records, report.next_sequence, report.reached_end) == (2, 3, False)


def test_gzip_bodies_are_read(zkill_server: FakeHttpServer, sample: dict[str, Any]) -> None:
    """A gzip-encoded record (as zKillboard sends when asked) is decoded."""
    body = gzip.compress(json.dumps(_record(sample, sequence=9, system=XRAY, minutes_ago=1)).encode())
    zkill_server.add(
        "GET",
        "/ephemeral/9.json",
        FakeResponse(body=body, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}),
    )
    record = R2z2Client().record_get(9)
    assert record is not None
    assert record.esi.solar_system_id == XRAY


def test_transient_failures_are_retried_then_give_up(zkill_server: FakeHttpServer, sample: dict[str, Any]) -> None:
    """429 and 503 are retried (Retry-After honoured); after the retries a ZkillboardError is raised."""
    good = FakeResponse(json=_record(sample, sequence=5, system=XRAY, minutes_ago=1))
    zkill_server.add(
        "GET",
        "/ephemeral/5.json",
        FakeResponse(status=429, headers={"Retry-After": "0"}),
        FakeResponse(status=503),
        good,
    )
    assert R2z2Client().record_get(5) is not None
    assert zkill_server.count("GET", "/ephemeral/5.json") == 3
    zkill_server.add("GET", "/ephemeral/6.json", FakeResponse(status=502))
    with pytest.raises(ZkillboardError, match="kept failing"):
        R2z2Client().record_get(6)
    assert zkill_server.count("GET", "/ephemeral/6.json") == 3  # 1 + ZKILLBOARD_RETRIES
    zkill_server.add("GET", "/ephemeral/7.json", FakeResponse(status=403))
    with pytest.raises(ZkillboardError, match="HTTP 403"):
        R2z2Client().record_get(7)
    assert zkill_server.count("GET", "/ephemeral/7.json") == 1


def test_huge_retry_after_waits_at_most_the_cap(zkill_server: FakeHttpServer, sample: dict[str, Any], settings) -> None:
    """A 429 asking for days is waited ZKILLBOARD_MAX_RETRY_AFTER_SECONDS at most, then retried."""
    settings.ZKILLBOARD_MAX_RETRY_AFTER_SECONDS = 0.2
    good = FakeResponse(json=_record(sample, sequence=5, system=XRAY, minutes_ago=1))
    zkill_server.add("GET", "/ephemeral/5.json", FakeResponse(status=429, headers={"Retry-After": "999999"}), good)
    result: list[R2z2Record | None] = []
    worker = threading.Thread(target=lambda: result.append(R2z2Client().record_get(5)), daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive(), "the client still waits after 5 s: Retry-After was not capped"
    assert time.monotonic() - started < 2
    assert result[0] is not None
    first, second = zkill_server.matching("GET", "/ephemeral/5.json")
    assert 0.2 - 0.02 <= second.received_at - first.received_at < 1.5


def test_non_ascii_digit_retry_after_is_ignored(zkill_server: FakeHttpServer, sample: dict[str, Any]) -> None:
    """A Retry-After that str.isdigit() accepts but float() refuses ("²") is ignored, not a crash."""
    good = FakeResponse(json=_record(sample, sequence=5, system=XRAY, minutes_ago=1))
    zkill_server.add("GET", "/ephemeral/5.json", FakeResponse(status=429, headers={"Retry-After": "\u00b2"}), good)
    assert R2z2Client().record_get(5) is not None
    assert zkill_server.count("GET", "/ephemeral/5.json") == 2


def test_requests_are_spaced_from_the_end_of_the_previous_one(
    zkill_server: FakeHttpServer, sample: dict[str, Any], settings
) -> None:
    """The next request goes ZKILLBOARD_REQUEST_DELAY_SECONDS after the previous answer, however slow it was.

    So arrivals at zKillboard are spaced too: counting from the start of a request that took 0.2 s
    would send the next one only 0.3 s after the first arrived.
    """
    settings.ZKILLBOARD_REQUEST_DELAY_SECONDS = 0.3
    zkill_server.add("GET", "/ephemeral/1.json", FakeResponse(status=404, delay=0.2))
    client = R2z2Client()
    client.record_get(1)
    client.record_get(2)
    first, second = zkill_server.requests[-2:]
    assert second.received_at - first.received_at >= 0.2 + 0.3 - 0.02  # same clock; a little jitter


def test_esi_hourly_counts_make_high_and_elevated(zkill_server: FakeHttpServer, tiny_graph: str) -> None:
    """ESI's system_kills: 13 ship+pod kills -> high, 3 -> elevated; written to the graph with reasons."""
    zkill_server.add(
        "GET",
        "/universe/system_kills",
        FakeResponse(json=HOURLY_KILLS),
    )
    assert system_kills_refresh() == 3
    levels = {r.system_id: (r.level, r.reasons) for r in risk_list()}
    assert levels == {
        CHARLIE: ("high", ["13 ship/pod kills in the last hour"]),
        FOXTROT: ("elevated", ["3 ship/pod kills in the last hour"]),
    }
    model = system_model(tiny_graph)
    flagged = model.nodes.filter(risk_level__isnull=False).order_by("system_id")
    assert [(n.system_id, n.risk_level, n.risk_penalty) for n in flagged] == [
        (CHARLIE, "high", 5.0),
        (FOXTROT, "elevated", 1.0),
    ]
    gate = model.nodes.get(system_id=BRAVO).gates.relationship(model.nodes.get(system_id=CHARLIE))
    assert (gate.wr_shortest, gate.w_shortest) == (6.0, 1.0)


def test_flags_expire_when_the_kills_get_old(
    zkill_server: FakeHttpServer, sample: dict[str, Any], tiny_graph: str
) -> None:
    """Past the 10-minute window the camp is no longer critical; the graph and the routes follow."""
    _feed(zkill_server, sample, kills=5, system=XRAY, minutes_ago=5)
    zkill_feed_poll()
    assert risk_levels_compute()[XRAY].level == "critical"
    # The written risk is trusted only until the first kill leaves the window (about 5 minutes from now).
    ttl_ms = get_redis_connection("default").pttl(RISK_FRESH_KEY.format(label=tiny_graph))
    assert 0 < ttl_ms <= 5 * 60 * 1000 + 1000
    later = time.time() + 6 * 60
    assert risk_levels_compute(now=later)[XRAY].level == "elevated"
    risk_graph_sync(now=later)
    model = system_model(tiny_graph)
    assert model.nodes.get(system_id=XRAY).risk_level == "elevated"
    much_later = time.time() + 2 * 3600
    assert XRAY not in risk_levels_compute(now=much_later)
    risk_graph_sync(now=much_later)
    rows = graph_query(f"MATCH (n:`{tiny_graph}`) WHERE n.risk_level IS NOT NULL OR n.risk_penalty > 0 RETURN n")
    assert rows == []
    assert model.nodes.get(system_id=ALPHA).gates.relationship(model.nodes.get(system_id=XRAY)).wr_shortest == 1.0


def test_old_kills_are_not_kept(sample: dict[str, Any]) -> None:
    """Kills older than ROUTING_KILL_TTL_SECONDS are dropped; the Redis key carries a TTL; a kill is kept once."""
    old = R2z2Record.model_validate(_record(sample, sequence=1, system=XRAY, minutes_ago=61)).esi
    new = R2z2Record.model_validate(_record(sample, sequence=2, system=XRAY, minutes_ago=1)).esi
    assert kills_record(killmails=[old, new]) == 1
    assert kills_record(killmails=[new]) == 0
    redis = get_redis_connection("default")
    assert redis.zcard(KILLS_KEY) == 1
    assert 0 < redis.ttl(KILLS_KEY) <= 3600


def test_redis_loss_clears_stale_risk_from_the_graph(
    zkill_server: FakeHttpServer, sample: dict[str, Any], tiny_graph: str
) -> None:
    """When Redis loses the kills, the next route query rewrites the graph's risk (no stale penalties)."""
    _feed(zkill_server, sample, kills=5, system=XRAY, minutes_ago=1)
    zkill_feed_poll()
    assert route_find(origin="Alpha", destination="Delta").jumps == 3
    get_redis_connection("default").flushdb()
    assert _names(route_find(origin="Alpha", destination="Delta")) == ["Alpha", "Xray", "Delta"]
    assert route_find(origin="Alpha", destination="Delta").systems[1].risk is None


def test_no_risk_data_changes_nothing() -> None:
    """With no kills at all, every mode gives the same route with and without avoid_risk."""
    for mode in ("shortest", "secure", "insecure"):
        for destination in ("Delta", "Lima Four", "Golf"):
            with_risk = route_find(origin="Alpha", destination=destination, mode=mode)
            without = route_find(origin="Alpha", destination=destination, mode=mode, avoid_risk=False)
            assert _names(with_risk) == _names(without)
            assert with_risk.total_weight == without.total_weight


def test_missing_records_below_the_latest_are_skipped(zkill_server: FakeHttpServer, sample: dict[str, Any]) -> None:
    """A 404 below sequence.json's latest is a gap: skipped; a 404 at the latest is the end of the feed."""
    KillFeedCursor.objects.create(name="r2z2", next_sequence=10)
    zkill_server.add("GET", "/ephemeral/sequence.json", FakeResponse(json={"sequence": 12}))
    for n in (11, 12):
        zkill_server.add(
            "GET", f"/ephemeral/{n}.json", FakeResponse(json=_record(sample, sequence=n, system=XRAY, minutes_ago=1))
        )
    report = zkill_feed_poll()
    assert (report.records, report.next_sequence, report.reached_end) == (2, 13, True)
    assert zkill_server.count("GET", "/ephemeral/10.json") == 1
    assert zkill_server.count("GET", "/ephemeral/13.json") == 1


def test_a_cursor_far_behind_jumps_ahead(zkill_server: FakeHttpServer, sample: dict[str, Any]) -> None:
    """After a long outage the consumer does not crawl through expired records: it jumps near the latest."""
    KillFeedCursor.objects.create(name="r2z2", next_sequence=5)
    zkill_server.add("GET", "/ephemeral/sequence.json", FakeResponse(json={"sequence": 100_000}))
    zkill_server.add(
        "GET", "/ephemeral/99999.json", FakeResponse(json=_record(sample, sequence=99999, system=XRAY, minutes_ago=1))
    )
    zkill_server.add(
        "GET", "/ephemeral/100000.json", FakeResponse(json=_record(sample, sequence=100000, system=XRAY, minutes_ago=1))
    )
    report = zkill_feed_poll(max_records=2)
    assert report.records == 2
    assert KillFeedCursor.objects.get(name="r2z2").next_sequence == 100_001
    assert zkill_server.count() < 10
