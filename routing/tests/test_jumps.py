"""Jump tables and on-the-fly trees against brute-force searches (issue 17).

On the real universe (``../shared/eve-sde`` in Neo4j and PostgreSQL): random
station systems, every route mode, with and without ``avoid``, against BFS and
the lexicographic Dijkstra of :mod:`routing.tests.reference` over the SDE's
jumps in PostgreSQL. On small random graphs with risk penalties: the weight of
the route taken is the least weight, and its jump count is the jump count of a
least-weight route (ties).
"""

from __future__ import annotations

import heapq
import random
from typing import Any

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evesite.graph import graph_driver, graph_query
from routing import graph
from routing.cache import JUMP_GRAPH_KEY, RISK_FRESH_KEY, WEIGHTS_OK_KEY, routing_redis
from routing.jumps import jump_state_current, jump_tables_stale
from routing.jumps_build import jump_tables_build
from routing.jumps_graph import UNREACHABLE, risk_read_query, trees_compute, weighted_graph_read
from routing.models import JumpSource, JumpTable, JumpTarget
from routing.services import graph_state_ensure, route_find, route_weights_refresh
from routing.tests.conftest import graph_create
from routing.tests.reference import bfs_jumps, lexicographic_cost
from universe.graph import SYSTEM_LABEL, graph_schema_install
from universe.models import SolarSystem, SolarSystemJump, Station
from universe.security import HIGH_SEC_MIN, security_is_high
from universe.signals import graph_replaced

JITA, AMARR = 30000142, 30002187


@pytest.fixture(scope="module")
def real(django_db_blocker: Any, sde_universe_module: Any) -> dict[str, Any]:
    """The real universe's adjacency, securities, station systems and weighted graph (read once)."""
    with django_db_blocker.unblock():
        route_weights_refresh()
        adjacency: dict[int, list[int]] = {}
        for a, b in SolarSystemJump.objects.values_list("from_system_id", "to_system_id"):
            adjacency.setdefault(a, []).append(b)
        security = dict(SolarSystem.objects.values_list("id", "security"))
        stations = sorted(set(Station.objects.values_list("system_id", flat=True)))
        g = weighted_graph_read()
    return {"adjacency": adjacency, "security": security, "stations": stations, "g": g}


def _reference(real: dict[str, Any], mode: str, a: int, b: int, avoid: set[int]) -> int | None:
    """The reference jump count of a mode (avoided systems only as the destination)."""
    if a == b:
        return 0
    blocked = avoid - {a, b}
    adjacency = {s: [t for t in ts if t not in blocked] for s, ts in real["adjacency"].items()}
    if mode == "shortest":
        return bfs_jumps(adjacency, a, b)
    high = real["security"]
    if mode == "secure":
        found = lexicographic_cost(adjacency, a, b, lambda s: not security_is_high(high[s]))
    else:
        found = lexicographic_cost(adjacency, a, b, lambda s: security_is_high(high[s]))
    return None if found is None else found[1]


@pytest.mark.no_cover
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), mode=st.sampled_from(graph.MODES), with_avoid=st.booleans())
@pytest.mark.django_db
def test_trees_on_the_real_universe_equal_the_references(
    real: dict[str, Any], data: st.DataObject, mode: str, with_avoid: bool
) -> None:
    """Random station systems: jumps equal BFS / lexicographic Dijkstra; the security counts add up."""
    stations = real["stations"]
    sources = data.draw(st.lists(st.sampled_from(stations), min_size=1, max_size=3, unique=True))
    targets = data.draw(st.lists(st.sampled_from(stations), min_size=1, max_size=6, unique=True))
    avoid: set[int] = set()
    if with_avoid:
        avoid = set(data.draw(st.lists(st.sampled_from(stations), min_size=1, max_size=8)))
    weight = graph.weight_property(mode=mode, avoid_risk=False)
    trees = trees_compute(g=real["g"], weight=weight, sources=sources, targets=targets, avoid=avoid)
    for i, a in enumerate(sources):
        for j, b in enumerate(targets):
            want = _reference(real, mode, a, b, avoid)
            got = int(trees.jumps[i, j])
            assert got == (UNREACHABLE if want is None else want), (mode, a, b, sorted(avoid))
            if got > 0:
                counts = int(trees.high[i, j]) + int(trees.low[i, j]) + int(trees.null[i, j])
                assert counts == got
                assert trees.min_security[i, j] <= real["security"][b]
                assert (trees.min_security[i, j] >= HIGH_SEC_MIN) == (int(trees.high[i, j]) == got)


@pytest.mark.django_db
def test_jita_amarr_and_the_neo4j_route_agree(real: dict[str, Any]) -> None:
    """11 jumps shortest, 45 secure (all high-sec), as apoc.algo.dijkstra's routes."""
    for mode, jumps in (("shortest", 11), ("secure", 45)):
        trees = trees_compute(g=real["g"], weight=f"w_{mode}", sources=[JITA], targets=[AMARR, JITA])
        assert int(trees.jumps[0, 0]) == jumps == route_find(origin=JITA, destination=AMARR, mode=mode).jumps
        assert int(trees.jumps[0, 1]) == 0
        assert trees.min_security[0, 1] == real["security"][JITA]
    secure = trees_compute(g=real["g"], weight="w_secure", sources=[JITA], targets=[AMARR])
    assert int(secure.high[0, 0]) == 45
    assert int(secure.low[0, 0]) == int(secure.null[0, 0]) == 0


@pytest.mark.django_db
def test_the_stored_secure_table_equals_the_references(real: dict[str, Any], sde_universe: Any) -> None:
    """The command builds the table of every station system; random rows equal the reference."""
    call_command("build_jump_table", "--mode", "secure", "--risk", "without", "--quiet")
    table = JumpTable.objects.get(label=graph.graph_label(), mode="secure", avoid_risk=False)
    assert list(table.systems) == real["stations"]
    assert table.graph_key == real["g"].graph_key
    index = dict(JumpTarget.objects.filter(table=table).values_list("system_id", "idx"))

    rng = random.Random(5)
    for source in rng.sample(real["stations"], 4):
        row = JumpSource.objects.get(table=table, system_id=source)
        for target in rng.sample(real["stations"], 8):
            want = _reference(real, "secure", source, target, set())
            assert row.jumps[index[target] - 1] == (UNREACHABLE if want is None else want)
    again = jump_tables_build(modes=("secure",), risks=(False,))
    assert [r.built for r in again] == [False]  # idempotent: nothing changed


def _least_weights(
    adjacency: dict[int, list[int]], weight: dict[int, float], origin: int, destination: int, blocked: set[int]
) -> dict[int, float]:
    """Least weight from the origin to every reachable system (Dijkstra; blocked systems only as destination)."""
    best: dict[int, float] = {origin: 0.0}
    heap = [(0.0, origin)]
    while heap:
        d, node = heapq.heappop(heap)
        if d > best.get(node, float("inf")):
            continue
        if node in blocked and node != origin:
            continue
        for nxt in adjacency.get(node, ()):
            if nxt in blocked and nxt != destination:
                continue
            nd = d + weight[nxt]
            if nd < best.get(nxt, float("inf")) - 1e-9:
                best[nxt] = nd
                heapq.heappush(heap, (nd, nxt))
    return best


def _weights_reference(
    adjacency: dict[int, list[int]], weight: dict[int, float], origin: int, destination: int, blocked: set[int]
) -> tuple[float, set[int]] | None:
    """Least weight and every jump count of a least-weight route (weights per entered system)."""
    best = _least_weights(adjacency, weight, origin, destination, blocked)
    if destination not in best:
        return None
    target = best[destination]
    hops: dict[int, set[int]] = {origin: {0}}
    for node in sorted(best, key=best.get):  # type: ignore[arg-type]
        if node in blocked and node != origin:
            continue
        for nxt in adjacency.get(node, ()):
            if node in hops and abs(best[node] + weight[nxt] - best.get(nxt, -1.0)) < 1e-9:
                if nxt in blocked and nxt != destination:
                    continue
                hops.setdefault(nxt, set()).update(h + 1 for h in hops[node])
    return target, hops.get(destination, set())


@st.composite
def risky_graphs(draw: st.DrawFn) -> tuple[list[tuple[int, str, float]], list[tuple[int, int]], dict[int, str]]:
    """A random graph of 2..9 systems with securities and risk levels."""
    n = draw(st.integers(min_value=2, max_value=9))
    levels = st.sampled_from([1.0, 0.5, 0.45, 0.4499, 0.2, 0.0, -0.4])
    systems = [(i, f"R{i}", draw(levels)) for i in range(1, n + 1)]
    pairs = [(a, b) for a in range(1, n + 1) for b in range(a + 1, n + 1)]
    gates = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs)))
    risk = draw(st.dictionaries(st.integers(1, n), st.sampled_from(["critical", "high", "elevated"]), max_size=3))
    return systems, gates, risk


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=risky_graphs(), mode=st.sampled_from(graph.MODES), avoid=st.sets(st.integers(1, 9), max_size=2))
@pytest.mark.django_db
def test_risk_tables_take_a_least_weight_route(
    case: Any, mode: str, avoid: set[int], graph_label: str, settings_fixture: Any
) -> None:
    """With risk penalties the route taken has the least weight and the jumps of a least-weight route."""
    systems, gates, risk = case
    settings_fixture.ROUTING_GRAPH_LABEL = graph_label
    graph_query(f"MATCH (n:`{graph_label}`) DETACH DELETE n")
    graph_create(graph_label, systems, gates)
    route_weights_refresh()
    penalty = {"critical": 50.0, "high": 5.0, "elevated": 1.0}
    rows = [{"id": s, "level": lvl, "reasons": None, "kills": None, "penalty": penalty[lvl]} for s, lvl in risk.items()]
    if rows:
        graph_query(graph.risk_write_query(graph_label), graph.row_params(rows=rows))
    g = weighted_graph_read()
    ids = [i for i, _, _ in systems]
    trees = trees_compute(
        g=g, weight=graph.weight_property(mode=mode, avoid_risk=True), sources=ids, targets=ids, avoid=avoid
    )
    adjacency: dict[int, list[int]] = {}
    for a, b in gates:
        adjacency.setdefault(a, []).append(b)
        adjacency.setdefault(b, []).append(a)
    big = float(settings_fixture.ROUTING_SECURITY_PENALTY)
    sec = {i: s for i, _, s in systems}
    unwanted = {
        "shortest": lambda s: 0.0,
        "secure": lambda s: 0.0 if sec[s] >= HIGH_SEC_MIN else big,
        "insecure": lambda s: big if sec[s] >= HIGH_SEC_MIN else 0.0,
    }[mode]
    weight = {i: 1.0 + unwanted(i) + penalty.get(risk.get(i, ""), 0.0) for i in ids}
    for i, a in enumerate(ids):
        for j, b in enumerate(ids):
            found = _weights_reference(adjacency, weight, a, b, avoid - {a, b}) if a != b else (0.0, {0})
            got = int(trees.jumps[i, j])
            if found is None:
                assert got == UNREACHABLE
                continue
            assert got in found[1], (a, b, got, found)
            if got > 0:
                assert trees.max_risk[i, j] >= (
                    3 if risk.get(b) == "critical" else 2 if risk.get(b) == "high" else 1 if risk.get(b) else 0
                )


@pytest.mark.django_db
def test_state_notices_risk_and_graph_changes(graph_label: str, settings_fixture: Any) -> None:
    """A risk change outdates the tables (risk key); a rebuild matches again; the graph key follows ingestion."""
    settings_fixture.ROUTING_GRAPH_LABEL = graph_label
    graph_create(graph_label, [(1, "A", 1.0), (2, "B", 0.2)], [(1, 2)])
    route_weights_refresh()
    assert jump_tables_stale(state=jump_state_current())
    jump_tables_build()
    assert not jump_tables_stale(state=jump_state_current())
    rows = [{"id": 2, "level": "high", "reasons": None, "kills": None, "penalty": 5.0}]
    graph_query(graph.risk_write_query(graph_label), graph.row_params(rows=rows))
    state = jump_state_current()
    assert jump_tables_stale(state=state)
    reports = jump_tables_build()
    assert {(r.mode, r.avoid_risk) for r in reports if r.built} == {(m, True) for m in graph.MODES}
    assert not any(r.built and not r.avoid_risk for r in reports)  # plain tables keep their routes
    assert not jump_tables_stale(state=jump_state_current())  # their max_risk is refreshed later
    settings_fixture.ROUTING_JUMPS_RISK_SUMMARY_SECONDS = -1.0
    assert jump_tables_stale(state=jump_state_current())


@pytest.mark.django_db
def test_a_weights_write_forgets_the_graph_key_read_before(graph_label: str, settings_fixture: Any) -> None:
    """The key covers the weights: once they are written, the state is the weighted graph's, read once.

    A remembered key of the graph without weights made every scan of every process read the whole graph
    again, for ``ROUTING_JUMPS_STATE_SECONDS``.
    """
    settings_fixture.ROUTING_GRAPH_LABEL = graph_label
    graph_create(graph_label, [(1, "A", 1.0), (2, "B", 0.2), (3, "C", 0.9)], [(1, 2), (2, 3)])
    before = jump_state_current()  # the graph without weights, remembered
    route_weights_refresh()
    after = jump_state_current()
    assert after.graph_key != before.graph_key
    assert after.graph_key == weighted_graph_read(label=graph_label).graph_key


@pytest.mark.django_db
def test_a_replaced_graph_gets_its_weights_and_risk_checked_again(graph_label: str, settings_fixture: Any) -> None:
    """After the ingestion's signal, the next check writes the weights even if the last check was just now."""
    settings_fixture.ROUTING_GRAPH_LABEL = graph_label
    graph_create(graph_label, [(1, "A", 1.0), (2, "B", 0.2)], [(1, 2)])
    graph_state_ensure()
    graph_query(
        f"MATCH (:`{graph_label}`)-[g]->() REMOVE g.{graph.weight_property(mode=graph.MODES[-1], avoid_risk=True)}"
    )
    graph_state_ensure()  # trusted: checked a moment ago
    assert graph_query(graph.weights_missing_query(graph_label))[0]["missing"]
    graph_replaced.send(sender=None, label=graph_label)
    keys = [key.format(label=graph_label) for key in (JUMP_GRAPH_KEY, WEIGHTS_OK_KEY, RISK_FRESH_KEY)]
    assert routing_redis().exists(*keys) == 0
    graph_state_ensure()
    assert not graph_query(graph.weights_missing_query(graph_label))[0]["missing"]


def _operators(plan: dict[str, Any]) -> list[str]:
    """The operator names of a query plan, depth first."""
    return [plan["operatorType"].split("@")[0], *(op for child in plan.get("children", []) for op in _operators(child))]


@pytest.mark.django_db
def test_the_risk_read_of_every_scan_uses_the_indexes(sde_universe: Any) -> None:
    """The flagged systems are found through the risk indexes, not by reading all 8,437 systems per scan."""
    graph_schema_install()
    graph_query("CALL db.awaitIndexes(60)")
    with graph_driver().session() as session:
        plan = session.run("EXPLAIN " + risk_read_query(SYSTEM_LABEL)).consume().plan
    assert plan is not None
    operators = _operators(plan)
    assert {"NodeIndexScan", "NodeIndexSeekByRange"} <= set(operators), operators
    assert not {"NodeByLabelScan", "AllNodesScan"} & set(operators), operators
