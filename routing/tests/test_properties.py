"""Property-based tests against brute-force references: EVE's security rounding and routes on random graphs."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evesite.graph import graph_query
from routing.services import route_find, route_weights_refresh
from routing.tests.conftest import graph_create
from routing.tests.reference import bfs_jumps, lexicographic_cost, path_is_walk
from universe.security import security_display, security_is_high

securities = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False)


@given(securities)
def test_display_is_one_decimal_within_half_a_step(security: float) -> None:
    """The shown value is a multiple of 0.1 at most 0.05 away, except that positives never show 0.0."""
    shown = security_display(security)
    assert math.isclose(shown * 10, round(shown * 10), abs_tol=1e-9)
    if 0.0 < security < 0.05:
        assert shown == 0.1
    else:
        assert abs(shown - security) <= 0.05 + 1e-12


@given(securities)
def test_high_sec_is_exactly_what_shows_as_half_or_more(security: float) -> None:
    """Security >= 0.45 (the routing rule) iff the shown value is 0.5 or more."""
    assert security_is_high(security) == (security_display(security) >= 0.5)


@pytest.mark.parametrize(
    ("security", "shown"), [(0.945913, 0.9), (0.45, 0.5), (0.4499, 0.4), (0.04, 0.1), (0.0, 0.0), (-0.05, -0.1)]
)
def test_display_examples(security: float, shown: float) -> None:
    """Known values: Jita 0.945913 shows 0.9; 0.45 shows 0.5; 0.04 shows 0.1."""
    assert security_display(security) == shown


@st.composite
def small_graphs(draw: st.DrawFn) -> tuple[list[tuple[int, str, float]], list[tuple[int, int]], int, int, set[int]]:
    """A random gate graph of 2..10 systems with securities, plus origin, destination and an avoid set."""
    n = draw(st.integers(min_value=2, max_value=10))
    levels = st.sampled_from([1.0, 0.7, 0.5, 0.45, 0.4499, 0.3, 0.04, 0.0, -0.5])
    systems = [(i, f"S{i}", draw(levels)) for i in range(1, n + 1)]
    pairs = [(a, b) for a in range(1, n + 1) for b in range(a + 1, n + 1)]
    gates = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs))) if pairs else []
    origin = draw(st.integers(1, n))
    destination = draw(st.integers(1, n))
    avoid = set(draw(st.lists(st.integers(1, n), max_size=3)))
    return systems, gates, origin, destination, avoid


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=small_graphs())
def test_routes_on_random_graphs_match_the_references(case, graph_label: str, settings_fixture) -> None:
    """On random graphs every mode matches its brute-force reference, with and without avoided systems."""
    systems, gates, origin, destination, avoid = case
    settings_fixture.ROUTING_GRAPH_LABEL = graph_label
    graph_query(f"MATCH (n:`{graph_label}`) DETACH DELETE n")
    graph_create(graph_label, systems, gates)
    route_weights_refresh()  # what runs after an ingestion
    adjacency: dict[int, list[int]] = {}
    for a, b in gates:
        adjacency.setdefault(a, []).append(b)
        adjacency.setdefault(b, []).append(a)
    security = {i: s for i, _, s in systems}
    blocked = avoid - {origin, destination}

    def allowed(system: int) -> bool:
        """Not avoided."""
        return system not in blocked

    def restricted() -> dict[int, list[int]]:
        """The adjacency without gates into avoided systems."""
        return {a: [b for b in bs if allowed(b) or b == destination] for a, bs in adjacency.items()}

    expected = {
        "shortest": bfs_jumps(adjacency, origin, destination, allowed),
        "secure": lexicographic_cost(restricted(), origin, destination, lambda s: not security_is_high(security[s])),
        "insecure": lexicographic_cost(restricted(), origin, destination, lambda s: security_is_high(security[s])),
    }
    for mode, reference in expected.items():
        if reference is None:
            with pytest.raises(Exception, match="No route"):
                route_find(origin=origin, destination=destination, mode=mode, avoid=sorted(avoid))
            continue
        route = route_find(origin=origin, destination=destination, mode=mode, avoid=sorted(avoid))
        ids = [s.id for s in route.systems]
        assert ids[0] == origin
        assert ids[-1] == destination
        assert path_is_walk(adjacency, ids)
        assert not blocked & set(ids)
        if mode == "shortest":
            assert route.jumps == reference
        else:
            unwanted = sum(1 for s in ids[1:] if security_is_high(security[s]) == (mode == "insecure"))
            assert (unwanted, route.jumps) == reference
