"""Neo4j transaction timeouts of the route queries a web request runs (issue 14)."""

from __future__ import annotations

import time

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from evesite.exceptions import QueryTimeoutError
from evesite.graph import graph_query, graph_rolled_back_query

# Neo4j looks for transactions past their timeout every 2 s (db.transaction.monitor.check.interval): a 0.5 s
# timeout ends the 5 s sleep within about 2.5 s, and a query the server never cut would take the full 5 s.
SLOW = "CALL apoc.util.sleep(5000) RETURN 1 AS x"
CUT_WITHIN = 4.5


def test_a_slow_query_is_ended_at_its_timeout() -> None:
    """An auto-commit query past its timeout raises QueryTimeoutError (a 503), well before it would end."""
    started = time.monotonic()
    with pytest.raises(QueryTimeoutError):
        graph_query(SLOW, timeout=0.5)
    assert time.monotonic() - started < CUT_WITHIN
    assert graph_query("RETURN 1 AS x", timeout=0.5) == [{"x": 1}]


def test_a_slow_rolled_back_transaction_is_ended_at_its_timeout() -> None:
    """The avoid-transaction helper refuses rows read past the timeout (the server cuts the sleep short)."""
    started = time.monotonic()
    with pytest.raises(QueryTimeoutError):
        graph_rolled_back_query([("RETURN 1", {})], SLOW, {}, timeout=0.5)
    assert time.monotonic() - started < CUT_WITHIN
    assert graph_rolled_back_query([("RETURN 1", {})], "RETURN $v AS v", {"v": 2}, timeout=0.5) == [{"v": 2}]


@pytest.mark.usefixtures("tiny_sde")
def test_route_queries_past_the_timeout_answer_json_503(settings: SettingsWrapper) -> None:
    """GET /api/routes/ whose graph query runs past NEO4J_QUERY_TIMEOUT_SECONDS answers 503 JSON, not a 500."""
    client = APIClient()
    params = {"origin": "Alpha", "destination": "Delta", "avoid": "xray"}
    assert client.get("/api/routes/", params).status_code == 200  # warms the name index and graph state
    settings.NEO4J_QUERY_TIMEOUT_SECONDS = 1e-6
    response = client.get("/api/routes/", params)
    assert response.status_code == 503, response.content
    assert response.json()["error"] == "query_timeout"
