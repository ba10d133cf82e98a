"""Name search (``GET /api/universe/search/``) on the real SDE."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from universe.search import universe_search

pytestmark = pytest.mark.django_db

JITA = 30000142


def _names(dump: Path, table: str, column: str) -> list[str]:
    with (dump / table).open(encoding="utf-8", newline="") as handle:
        return [row[column] for row in csv.DictReader(handle)]


@pytest.fixture(scope="module")
def system_names(shared_dir: Path) -> list[str]:
    return _names(shared_dir / "eve-sde", "mapSolarSystems.csv", "solarSystemName")


def test_exact_name_comes_first_with_security_and_region(sde_universe: Path) -> None:
    body = Client().get("/api/universe/search/", {"q": "jita"}).json()
    assert body[0] == {
        "kind": "system",
        "id": JITA,
        "name": "Jita",
        "label": "0.9 · The Forge",
        "match": "exact",
        "similarity": 1.0,
    }
    # Jita's stations follow as prefix matches, labelled with their system.
    stations = [hit for hit in body if hit["kind"] == "station"]
    assert stations
    assert all(hit["match"] == "prefix" and hit["label"] == "Jita" for hit in stations)


def test_prefix_and_fuzzy_matches_of_types(sde_universe: Path) -> None:
    prefix = universe_search(q="Tritan", kinds=("type",), limit=5)
    assert (prefix[0].id, prefix[0].name, prefix[0].label, prefix[0].match) == (34, "Tritanium", "Mineral", "prefix")
    typo = universe_search(q="tritanum", kinds=("type",), limit=5)
    assert typo[0].name == "Tritanium"
    assert typo[0].match == "fuzzy"
    assert 0 < typo[0].similarity < 1


def test_kind_and_limit(sde_universe: Path) -> None:
    hits = universe_search(q="the forge", kinds=("region",), limit=3)
    assert [(h.kind, h.id, h.label, h.match) for h in hits][:1] == [("region", 10000002, "region", "exact")]
    assert len(universe_search(q="a", limit=7)) == 7


@pytest.mark.parametrize("query", ["%", "_", "\\"])
def test_like_wildcards_are_literal(sde_universe: Path, query: str) -> None:
    assert universe_search(q=query) == []


@given(data=st.data())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_exact_and_prefix_matches_agree_with_a_scan_of_the_dump(
    sde_universe: Path, system_names: list[str], data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(system_names))
    query = name[: data.draw(st.integers(min_value=1, max_value=len(name)))].lower()
    limit = data.draw(st.integers(min_value=1, max_value=50))
    hits = universe_search(q=query, kinds=("system",), limit=limit)
    exact = sorted(n for n in system_names if n.lower() == query)
    prefix = [n for n in system_names if n.lower().startswith(query) and n.lower() != query]
    ranks = [("exact", "prefix", "fuzzy").index(h.match) for h in hits]
    assert ranks == sorted(ranks)
    assert sorted(h.name for h in hits if h.match == "exact") == exact[:limit]
    assert sum(h.match == "prefix" for h in hits) == min(len(prefix), limit - len(exact[:limit]))
    assert all(h.name.lower().startswith(query) for h in hits if h.match == "prefix")
    # Fuzzy matches stand in only when no name starts with the query (here one always does).
    assert all(h.match != "fuzzy" for h in hits)


@pytest.mark.parametrize(
    "params",
    [{"q": " "}, {"q": ""}, {}, {"q": "jita", "kind": "planet"}, {"q": "jita", "limit": "0"}, {"q": "x" * 101}],
)
def test_bad_queries_are_400(sde_universe: Path, params: dict[str, str]) -> None:
    response = Client().get("/api/universe/search/", params)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_input"
