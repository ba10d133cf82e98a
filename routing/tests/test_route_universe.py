"""Routes on the real universe (``../shared/eve-sde`` ingested into the real Neo4j) against independent searches.

The reference searches run in Python over the jump table in PostgreSQL, so
they share nothing with the Cypher under test but the data.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from evesite.testing.fakeserver import FakeHttpServer, FakeResponse
from routing.cache import KILLS_KEY, SYSTEM_KILLS_KEY
from routing.risk import risk_list
from routing.services import risk_graph_sync, route_find, zkill_feed_poll
from routing.tests.reference import bfs_jumps, lexicographic_cost, path_is_walk
from universe.models import ItemType, SolarSystem, SolarSystemJump, Stargate
from universe.security import security_is_high

JITA, AMARR = 30000142, 30002187
PAIRS = 60


@dataclass
class Universe:
    """The reference view of the universe."""

    adjacency: dict[int, list[int]]
    security: dict[int, float]
    names: dict[int, str]
    known: list[int]  # known-space systems reachable from Jita


@pytest.fixture
def universe(sde_universe: object) -> Universe:
    """Adjacency and security from PostgreSQL, and the known-space systems reachable from Jita."""
    adjacency: dict[int, list[int]] = {}
    for a, b in SolarSystemJump.objects.values_list("from_system_id", "to_system_id"):
        adjacency.setdefault(a, []).append(b)
    rows = list(SolarSystem.objects.values_list("id", "security", "name"))
    security = {i: s for i, s, _ in rows}
    names = {i: n for i, _, n in rows}
    seen, stack = {JITA}, [JITA]
    while stack:
        for nxt in adjacency.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    known = sorted(s for s in seen if 30000000 <= s < 31000000)
    return Universe(adjacency, security, names, known)


def _pairs(universe: Universe, seed: int, pool: list[int] | None = None) -> list[tuple[int, int]]:
    """Draw reproducible random origin/destination pairs."""
    rng = random.Random(seed)
    systems = pool or universe.known
    return [(rng.choice(systems), rng.choice(systems)) for _ in range(PAIRS)]


def _outside(blocked: set[int]) -> Callable[[int], bool]:
    """Return a predicate true for systems not in ``blocked``."""
    return lambda system: system not in blocked


def test_the_fixture_sees_the_documented_universe(universe: Universe) -> None:
    """5,175 systems can be reached from Jita (shared/README.md); all of them are in known space."""
    assert len(universe.known) == 5175


def test_jita_to_amarr_is_11_jumps_shortest_and_45_secure(universe: Universe) -> None:
    """The known facts hold for the reference search and for the Neo4j routes."""
    assert bfs_jumps(universe.adjacency, JITA, AMARR) == 11
    assert bfs_jumps(universe.adjacency, JITA, AMARR, lambda s: security_is_high(universe.security[s])) == 45
    shortest = route_find(origin="Jita", destination="Amarr")
    secure = route_find(origin="jita", destination="AMARR", mode="secure")
    assert (shortest.jumps, secure.jumps) == (11, 45)
    assert all(s.security >= 0.45 for s in secure.systems)
    assert shortest.origin.name == "Jita"
    assert shortest.destination.name == "Amarr"
    assert shortest.origin.region == "The Forge"


def test_shortest_equals_breadth_first_search(universe: Universe) -> None:
    """For random known-space pairs the jump counts equal the BFS, and the path is a real walk."""
    for origin, destination in _pairs(universe, seed=7):
        route = route_find(origin=origin, destination=destination)
        assert route.jumps == bfs_jumps(universe.adjacency, origin, destination), (origin, destination)
        ids = [s.id for s in route.systems]
        assert ids[0] == origin
        assert ids[-1] == destination
        assert path_is_walk(universe.adjacency, ids)


def test_secure_stays_in_high_sec_whenever_possible(universe: Universe) -> None:
    """Between high-sec systems: when the high-sec-only BFS finds a path, secure is high-sec and as long.

    Otherwise secure matches the lexicographic reference (fewest low-sec entries, then fewest jumps).
    """
    high = [s for s in universe.known if security_is_high(universe.security[s])]
    only_high_found = 0
    for origin, destination in _pairs(universe, seed=11, pool=high):
        route = route_find(origin=origin, destination=destination, mode="secure")
        ids = [s.id for s in route.systems]
        assert path_is_walk(universe.adjacency, ids)
        high_only = bfs_jumps(universe.adjacency, origin, destination, lambda s: security_is_high(universe.security[s]))
        if high_only is not None:
            only_high_found += 1
            assert all(security_is_high(universe.security[s]) for s in ids), (origin, destination)
            assert route.jumps == high_only
        low = sum(1 for s in ids[1:] if not security_is_high(universe.security[s]))
        reference = lexicographic_cost(
            universe.adjacency, origin, destination, lambda s: not security_is_high(universe.security[s])
        )
        assert (low, route.jumps) == reference, (origin, destination)
    assert only_high_found > PAIRS // 2


def test_insecure_matches_the_lexicographic_reference(universe: Universe) -> None:
    """Insecure: fewest jumps into high-sec first, then fewest jumps."""
    for origin, destination in _pairs(universe, seed=13)[:30]:
        route = route_find(origin=origin, destination=destination, mode="insecure")
        ids = [s.id for s in route.systems]
        assert path_is_walk(universe.adjacency, ids)
        high = sum(1 for s in ids[1:] if security_is_high(universe.security[s]))
        reference = lexicographic_cost(
            universe.adjacency, origin, destination, lambda s: security_is_high(universe.security[s])
        )
        assert (high, route.jumps) == reference, (origin, destination)


def test_avoid_is_respected(universe: Universe) -> None:
    """Avoiding two systems of the shortest route: neither is entered and the length equals the BFS without them."""
    checked = 0
    for origin, destination in _pairs(universe, seed=17)[:30]:
        plain = route_find(origin=origin, destination=destination)
        middle = [s.id for s in plain.systems[1:-1]]
        if len(middle) < 2:
            continue
        avoid = {middle[len(middle) // 2], middle[0]}
        expected = bfs_jumps(universe.adjacency, origin, destination, _outside(avoid))
        if expected is None:
            with pytest.raises(Exception, match="No route"):
                route_find(origin=origin, destination=destination, avoid=list(avoid))
            continue
        route = route_find(origin=origin, destination=destination, avoid=[universe.names[a] for a in avoid])
        ids = [s.id for s in route.systems]
        assert not avoid & set(ids)
        assert route.jumps == expected
        assert path_is_walk(universe.adjacency, ids)
        checked += 1
    assert checked >= 10


def test_wormhole_space_has_no_route(universe: Universe) -> None:
    """A wormhole system (no gates) is known but unreachable."""
    wormhole = SolarSystem.objects.filter(id__gte=31000000, id__lt=32000000).values_list("name", flat=True).first()
    assert wormhole is not None
    with pytest.raises(Exception, match="No route from Jita to"):
        route_find(origin="Jita", destination=wormhole)


@pytest.fixture
def clean_risk(settings) -> Iterator[None]:
    """Clear the risk written to the real graph after the test (Redis is flushed before each test anyway)."""
    yield

    get_redis_connection("default").delete(KILLS_KEY, SYSTEM_KILLS_KEY)
    risk_graph_sync()


@pytest.mark.usefixtures("clean_risk")
def test_gate_camp_on_the_shortest_path_is_routed_around(
    universe: Universe, fake_server: FakeHttpServer, settings, shared_dir
) -> None:
    """A camp on the shortest Jita -> Amarr route, fed through a fake R2Z2 feed, is routed around.

    Five kills (one by a real Smart Bomb) at a real stargate of the route's sixth system make it critical
    with the gate named; the route then goes around it, as long as the BFS without that system.
    """
    settings.ZKILLBOARD_R2Z2_URL = fake_server.url
    settings.ZKILLBOARD_REQUEST_DELAY_SECONDS = 0.0
    plain = route_find(origin="Jita", destination="Amarr")
    camp = plain.systems[5]
    gate = Stargate.objects.filter(system_id=camp.id).order_by("id").first()
    assert gate is not None
    smartbomb = ItemType.objects.filter(group__name="Smart Bomb", published=True).order_by("id").first()
    assert smartbomb is not None
    sample = json.loads((shared_dir / "samples/killmails/r2z2_134265477.json").read_text())
    fake_server.add("GET", "/ephemeral/sequence.json", FakeResponse(json={"sequence": 1000}))
    for n in range(5):
        record = copy.deepcopy(sample)
        record["sequence_id"] = 1000 + n
        record["killmail_id"] = record["esi"]["killmail_id"] = 900000 + n
        record["esi"]["solar_system_id"] = camp.id
        when = datetime.now(tz=UTC) - timedelta(minutes=3 + n)
        record["esi"]["killmail_time"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        record["esi"]["victim"]["position"] = {"x": gate.x + 15_000.0 * n, "y": gate.y, "z": gate.z}
        record["esi"]["attackers"][0]["weapon_type_id"] = smartbomb.id if n == 0 else 3178
        fake_server.add("GET", f"/ephemeral/{1000 + n}.json", FakeResponse(json=record))

    assert zkill_feed_poll().records == 5

    [flagged] = risk_list(level="critical")
    assert flagged.system_id == camp.id
    assert flagged.reasons[:2] == [f"5 kills in 10 min at {gate.name}", f"smartbomb kill 3 min ago at {gate.name}"]
    around = route_find(origin="Jita", destination="Amarr")
    assert camp.id not in [s.id for s in around.systems]
    expected = bfs_jumps(universe.adjacency, JITA, AMARR, _outside({camp.id}))
    assert expected is not None
    assert expected <= plain.jumps + 20
    assert around.jumps == expected
    through = route_find(origin="Jita", destination="Amarr", avoid_risk=False)
    assert through.jumps == 11
    assert any(s.id == camp.id and s.risk == "critical" for s in through.systems)


def test_route_api_and_svg_on_the_real_universe(universe: Universe) -> None:
    """The API answers Jita -> Amarr secure with 45 jumps, and draws it on the real regions' 2D map."""
    body = APIClient().get("/api/routes/", {"origin": "Jita", "destination": "Amarr", "mode": "secure"}).json()
    assert body["jumps"] == 45 == len(body["systems"]) - 1
    assert body["origin"]["security_display"] == 0.9
    assert all(s["security_display"] >= 0.5 for s in body["systems"])
    response = APIClient().get("/api/routes/", {"origin": "Jita", "destination": "Amarr", "format": "svg"})
    assert response.status_code == 200
    root = ElementTree.fromstring(response.content)  # noqa: S314 - our own output
    ns = "{http://www.w3.org/2000/svg}"
    route_circles = [c for c in root.iter(f"{ns}circle") if "system" in (c.get("class") or "")]
    assert len(route_circles) == 12
    regions = {
        s["region"]
        for s in APIClient().get("/api/routes/", {"origin": "Jita", "destination": "Amarr"}).json()["systems"]
    }
    region_systems = SolarSystem.objects.filter(region__name__in=regions).count()
    assert len(list(root.iter(f"{ns}circle"))) == region_systems
