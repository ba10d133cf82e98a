"""Issue 15: the OpenAPI document is valid OpenAPI 3, and a client generated from it calls the live server.

openapi-spec-validator checks the document against the OpenAPI 3 specification; openapi-python-client
generates a typed client from it (the same command a user of the API would run), which then asks the live
gunicorn for its health and for a route on the real SDE.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from openapi_spec_validator import validate

from evesite.testing.worker import gunicorn_server, worker_environment

JITA, AMARR = 30000142, 30002187


@pytest.fixture
def gunicorn_api(sde_universe: Path) -> Iterator[str]:
    """Gunicorn on the test database with the real SDE; one worker, as the client calls one at a time."""
    with gunicorn_server(workers=1) as base:
        yield base


def _document(base: str) -> dict[str, object]:
    answer = requests.get(f"{base}/api/schema/?format=json", timeout=30)
    assert answer.status_code == 200, answer.text
    document: dict[str, object] = answer.json()
    return document


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_document_is_valid_and_a_generated_client_calls_the_server(gunicorn_api: str, tmp_path: Path) -> None:
    document = _document(gunicorn_api)
    validate(document)  # raises on any violation of the OpenAPI 3 specification

    (tmp_path / "api.json").write_text(json.dumps(document))
    (tmp_path / "config.yaml").write_text("post_hooks: []\npackage_name_override: evesite_client\n")
    generate = subprocess.run(
        [
            str(Path(sys.executable).parent / "openapi-python-client"),
            "generate",
            "--path", "api.json",
            "--config", "config.yaml",
            "--meta", "none",
            "--output-path", "evesite_client",
        ],
        cwd=tmp_path,
        env=worker_environment(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    assert generate.returncode == 0, generate.stdout + generate.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        client_module = importlib.import_module("evesite_client.client")
        health_api = importlib.import_module("evesite_client.api.health.health_retrieve")
        routes_api = importlib.import_module("evesite_client.api.routes.routes_find")
        client = client_module.Client(base_url=gunicorn_api, raise_on_unexpected_status=True)

        health = health_api.sync_detailed(client=client)
        assert health.status_code == 200
        assert health.parsed.postgres == "ok"

        route = routes_api.sync(client=client, origin=str(JITA), destination="Amarr")
        assert route.origin.id == JITA
        assert route.destination.id == AMARR
        assert route.jumps == len(route.systems) - 1 > 0
        assert [system.id for system in route.systems][:: route.jumps] == [JITA, AMARR]
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.startswith("evesite_client")]:
            del sys.modules[name]
