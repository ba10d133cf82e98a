"""The scripted fake HTTP server used in place of outside services."""

from __future__ import annotations

import requests

from evesite.testing.fakeserver import FakeHttpServer, FakeResponse


def test_scripted_answers_in_turn_and_counting(fake_server: FakeHttpServer) -> None:
    """Answers are given in order, the last repeats, and every request is recorded."""
    fake_server.add("GET", "/a", FakeResponse(json=[1]), FakeResponse(status=500, body="boom"))
    assert requests.get(f"{fake_server.url}/a", timeout=5).json() == [1]
    assert requests.get(f"{fake_server.url}/a?x=1", timeout=5).status_code == 500
    assert requests.get(f"{fake_server.url}/a", timeout=5).status_code == 500
    assert fake_server.count("GET", "/a") == 3
    assert fake_server.matching("GET", "/a")[1].query == {"x": ["1"]}
    assert requests.get(f"{fake_server.url}/missing", timeout=5).status_code == 404


def test_regex_routes_and_callables(fake_server: FakeHttpServer) -> None:
    """A regex route can answer from the request itself."""
    fake_server.add("POST", r"/echo/\d+", lambda r: FakeResponse(json={"path": r.path, "body": r.json()}), regex=True)
    answer = requests.post(f"{fake_server.url}/echo/42", json={"k": "v"}, timeout=5).json()
    assert answer == {"path": "/echo/42", "body": {"k": "v"}}
