"""Routes on a tiny hand-made gate graph in the real Neo4j (under a scratch label)."""

from __future__ import annotations

import pytest
from django_redis import get_redis_connection

from evesite.exceptions import InvalidInputError, NotFoundError
from evesite.graph import graph_query
from routing.cache import WEIGHTS_OK_KEY
from routing.graph import WEIGHTS
from routing.services import route_find, route_weights_refresh
from universe.graph import GATE_TYPE, system_model

pytestmark = pytest.mark.usefixtures("tiny_graph")


def _names(route) -> list[str]:
    """Names of a route's systems."""
    return [s.name for s in route.systems]


def test_shortest_takes_fewest_jumps_and_names_are_case_insensitive() -> None:
    """Alpha -> Delta is two jumps through Xray; names match whatever the case, ids work too."""
    route = route_find(origin="alpha", destination="DELTA")
    assert _names(route) == ["Alpha", "Xray", "Delta"]
    assert route.jumps == 2 == len(route.systems) - 1
    assert route.total_weight == 2.0
    assert _names(route_find(origin=1, destination="4")) == ["Alpha", "Xray", "Delta"]


def test_secure_stays_in_high_sec_even_when_longer(tiny_graph: str) -> None:
    """Secure avoids Xray (0.4499 shows 0.4) and Charlie and takes the 4-jump high-sec road through Echo (0.45)."""
    route = route_find(origin="Alpha", destination="Delta", mode="secure")
    assert _names(route) == ["Alpha", "Echo", "Foxtrot", "Golf", "Delta"]
    assert route.total_weight == 4.0
    assert [s.security_display for s in route.systems] == [1.0, 0.5, 0.6, 0.5, 0.9]


def test_insecure_prefers_fewest_high_sec_jumps() -> None:
    """To Lima Four, insecure takes the 4-jump Lima chain (no high-sec) over 3 jumps through Delta."""
    assert _names(route_find(origin="Alpha", destination="Lima Four")) == ["Alpha", "Xray", "Delta", "Lima Four"]
    route = route_find(origin="Alpha", destination="Lima Four", mode="insecure")
    assert _names(route) == ["Alpha", "Lima One", "Lima Two", "Lima Three", "Lima Four"]
    assert route.total_weight == 4.0


def test_secure_counts_unwanted_jumps_first() -> None:
    """To low-sec Lima Four, secure takes one low-sec jump (5 jumps) rather than two (3 jumps)."""
    route = route_find(origin="Alpha", destination="Lima Four", mode="secure")
    assert _names(route) == ["Alpha", "Echo", "Foxtrot", "Golf", "Delta", "Lima Four"]
    assert route.total_weight == 5.0 + 1_000_000.0


def test_avoid_is_respected_and_nothing_is_written() -> None:
    """Avoided systems are never entered; the gates deleted for the query come back (rolled back)."""
    count = f"MATCH ()-[r:`{GATE_TYPE}`]->() RETURN count(r) AS n"
    before = graph_query(count)[0]["n"]
    assert _names(route_find(origin="Alpha", destination="Delta", avoid=["xray"])) == [
        "Alpha",
        "Bravo",
        "Charlie",
        "Delta",
    ]
    assert route_find(origin="Alpha", destination="Delta", avoid=[8, "Charlie"]).jumps == 4
    assert graph_query(count)[0]["n"] == before
    assert route_find(origin="Alpha", destination="Delta").jumps == 2


def test_avoiding_origin_or_destination_is_ignored() -> None:
    """The origin and destination are always allowed."""
    assert route_find(origin="Alpha", destination="Delta", avoid=["Alpha", "Delta"]).jumps == 2


def test_everything_avoided_means_no_route() -> None:
    """With every way out avoided the selector says there is no route, naming what was avoided."""
    with pytest.raises(NotFoundError, match="No route from Alpha to Delta avoiding"):
        route_find(origin="Alpha", destination="Delta", avoid=["Bravo", "Echo", "Xray", "Lima One"])


def test_unreachable_system_has_no_route() -> None:
    """Island has no gates."""
    with pytest.raises(NotFoundError, match="No route from Alpha to Island"):
        route_find(origin="Alpha", destination="Island")


def test_unknown_system_is_named() -> None:
    """An unknown name raises NotFoundError naming it."""
    with pytest.raises(NotFoundError, match="Unknown solar system 'Nowhere'"):
        route_find(origin="Alpha", destination="Nowhere")


def test_bad_mode_is_invalid_input() -> None:
    """Only shortest, secure and insecure exist."""
    with pytest.raises(InvalidInputError, match="route mode"):
        route_find(origin="Alpha", destination="Delta", mode="fastest")


def test_route_to_itself_has_no_jumps() -> None:
    """A route from a system to itself has one system and zero jumps."""
    route = route_find(origin="Golf", destination="golf", mode="secure")
    assert route.jumps == 0
    assert _names(route) == ["Golf"]


def test_missing_weights_are_computed_by_the_selector(tiny_graph: str) -> None:
    """Fresh gates have no weights; the first route writes all six on every gate."""
    missing = f"MATCH (:`{tiny_graph}`)-[r:`{GATE_TYPE}`]->() WHERE r.wr_secure IS NULL RETURN count(r) AS n"
    assert graph_query(missing)[0]["n"] == 2 * 14
    route_find(origin="Alpha", destination="Delta")
    assert graph_query(missing)[0]["n"] == 0
    model = system_model(tiny_graph)
    gate = model.nodes.get(name="Bravo").gates.relationship(model.nodes.get(name="Charlie"))
    assert (gate.w_shortest, gate.w_secure, gate.w_insecure) == (1.0, 1_000_001.0, 1.0)


def test_new_gates_get_weights_when_the_check_runs_again(tiny_graph: str) -> None:
    """A gate added after the weights were written is found by the next periodic check."""
    assert route_weights_refresh() == 2 * 14
    model = system_model(tiny_graph)
    model.nodes.get(name="Alpha").gates.connect(model.nodes.get(name="Delta"), {"distance_ly": 1.0, "to_security": 0.9})
    get_redis_connection("default").delete(WEIGHTS_OK_KEY.format(label=tiny_graph))
    assert _names(route_find(origin="Alpha", destination="Delta")) == ["Alpha", "Delta"]


def test_systems_added_after_the_index_loaded_are_found_through_the_model(tiny_graph: str) -> None:
    """A system the in-process index lacks is looked up with SolarSystem.nodes, by name or id, and routed to."""
    assert route_find(origin="Alpha", destination="Delta").jumps == 2  # loads the index
    model = system_model(tiny_graph)
    static = {"security_class": "", "region_id": 1, "region_name": "Tiny", "constellation_id": 1}
    static |= {"constellation_name": "Tiny One", "x": 0.0, "y": 0.0, "z": 0.0}
    (kilo,) = model.nodes.bulk_create({"system_id": 30, "name": "Kilo Bay", "security": 0.8, **static})
    delta = model.nodes.get(name="Delta")
    weights = dict.fromkeys(WEIGHTS.values(), 1.0)  # written here: a weight refresh would reload the index
    delta.gates.connect(kilo, {"distance_ly": 1.0, "to_security": 0.8, **weights})
    kilo.gates.connect(delta, {"distance_ly": 1.0, "to_security": 0.9, **weights})
    route = route_find(origin="alpha", destination="kilo bay")
    assert _names(route) == ["Alpha", "Xray", "Delta", "Kilo Bay"]
    assert route.destination.region == "Tiny"
    assert route_find(origin="30", destination="30").destination.name == "Kilo Bay"
    for unknown in ("Kilo", "K.*", "99999999999999999999999"):
        with pytest.raises(NotFoundError, match="Unknown solar system"):
            route_find(origin="Alpha", destination=unknown)
