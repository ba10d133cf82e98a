"""Request bounds (issue 14): page sizes, 64-bit ids, body sizes, statement and graph timeouts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import DataError, connection, connections, transaction
from django.test import Client
from django.urls import path as url_path
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from contracts.models import Contract, ItemsStatus
from evesite.exceptions import api_exception_handler
from evesite.middleware import web_statement_timeout_disable, web_statement_timeout_enable
from evesite.testing.defaults import settings_defaults
from evesite.testing.fakeserver import FakeHttpServer

HUGE = 2**70


def _schema_ref(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a ``$ref`` of the OpenAPI schema."""
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema["components"]["schemas"][name]
    if "allOf" in node:
        return _schema_ref(schema, node["allOf"][0])
    return node


def _plain_value(schema: dict[str, Any], prop: dict[str, Any]) -> Any:
    """A valid-looking value of a body property."""
    prop = _schema_ref(schema, prop)
    if "enum" in prop:
        return next(v for v in prop["enum"] if v is not None)
    kind = prop.get("type")
    if kind == "integer":
        return max(1, int(prop.get("minimum", 1)))
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    return "Jita"


def _huge_value(schema: dict[str, Any], prop: dict[str, Any]) -> Any | None:
    """A value of a body property holding an id past 64 bits, or None when it cannot hold one."""
    prop = _schema_ref(schema, prop)
    if "enum" in prop:
        return None
    kind = prop.get("type")
    if kind == "integer":
        return HUGE
    if kind == "string":
        return str(HUGE)
    if kind == "array":
        item = _huge_value(schema, prop.get("items", {}))
        return None if item is None else [item]
    return None


def _param_value(param: dict[str, Any]) -> str:
    """A valid-looking value of a path or query parameter."""
    schema = param.get("schema", {})
    if "enum" in schema:
        return str(next(v for v in schema["enum"] if v is not None))
    if schema.get("type") == "integer":
        return str(schema.get("default", 1))
    if param["name"] in {"origin", "destination"}:
        return "Jita"
    return "1"


def _fill(path: str, values: dict[str, str]) -> str:
    """Put parameter values into a schema path (``/api/contracts/{contract_id}/``)."""
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def _huge_requests(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, str], dict[str, Any] | None]]:
    """Every request of the schema with one id (path, query or body) set to 2**70.

    Args:
        schema: The OpenAPI document.

    Returns:
        (method, url, query, body) tuples.
    """
    out: list[tuple[str, str, dict[str, str], dict[str, Any] | None]] = []
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            params = [p for p in op.get("parameters", []) if p["in"] in {"path", "query"}]
            body_schema = None
            if "requestBody" in op:
                body_schema = _schema_ref(schema, op["requestBody"]["content"]["application/json"]["schema"])
            plain_body = (
                {k: _plain_value(schema, v) for k, v in body_schema.get("properties", {}).items()}
                if body_schema
                else None
            )
            targets: list[tuple[str, Any]] = [
                (p["name"], p)
                for p in params
                if "enum" not in p.get("schema", {}) and p.get("schema", {}).get("type") in {"integer", "string"}
            ]
            for name, param in targets:
                values = {p["name"]: _param_value(p) for p in params if p.get("required") or p is param}
                values[name] = str(HUGE)
                url = _fill(path, values)
                query = {k: v for k, v in values.items() if "{" + k + "}" not in path}
                out.append((method, url, query, plain_body))
            if body_schema:
                for name, prop in body_schema.get("properties", {}).items():
                    huge = _huge_value(schema, prop)
                    if huge is None or _schema_ref(schema, prop).get("readOnly"):
                        continue
                    values = {p["name"]: _param_value(p) for p in params if p.get("required")}
                    url = _fill(path, values)
                    out.append((method, url, {}, {**(plain_body or {}), name: huge}))
    return out


@pytest.mark.django_db
def test_ids_past_64_bits_never_answer_5xx(sde_universe: Any, esi_server: FakeHttpServer) -> None:
    """Every integer (and id-like text) parameter and body field of the schema, set to 2**70, answers below 500."""
    client = APIClient(raise_request_exception=False)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    client.force_login(get_user_model().objects.create_user("bounds", password="pw-not-used"))
    requests = _huge_requests(schema)
    assert len(requests) > 15
    failures = []
    for method, url, query, body in requests:
        with transaction.atomic():  # a failed statement must not poison the next request's queries
            if body is not None:
                qs = "&".join(f"{k}={v}" for k, v in query.items())
                response = getattr(client, method)(url + (f"?{qs}" if qs else ""), body, format="json")
            else:
                response = getattr(client, method)(url, query)
        if response.status_code >= 500:
            failures.append((method, url, query, body, response.status_code))
    assert failures == [], "\n".join(map(repr, failures))


def _contract(contract_id: int) -> Contract:
    """Store one active item exchange in the cache."""
    now = timezone.now()
    return Contract.objects.create(
        contract_id=contract_id,
        region_id=10000002,
        type="item_exchange",
        issuer_id=1,
        issuer_corporation_id=1,
        date_issued=now,
        date_expired=now + timedelta(days=3),
        price=1_000_000,
        items_status=ItemsStatus.FETCHED,
        last_seen_at=now,
    )


def test_new_settings_defaults() -> None:
    """A fresh process with no environment gets the documented defaults."""
    assert settings_defaults(
        "API_MAX_PAGE_SIZE",
        "API_MAX_BODY_BYTES",
        "DB_WEB_STATEMENT_TIMEOUT_MS",
        "NEO4J_QUERY_TIMEOUT_SECONDS",
        "WEB_GIL_SWITCH_MS",
    ) == [500, 65536, 10000, 5.0, 1.0]
    assert (
        django_settings.REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"] == "evesite.pagination.BoundedLimitOffsetPagination"
    )
    # Only middleware that never reads a body runs before the body-size check.
    middleware = list(django_settings.MIDDLEWARE)
    before = middleware[: middleware.index("evesite.middleware.request_body_limit_middleware")]
    assert before == ["evesite.gate.throttle_gate_middleware", "django.middleware.security.SecurityMiddleware"]


@pytest.mark.django_db
def test_contract_list_refuses_limits_and_offsets_out_of_bounds(settings: SettingsWrapper) -> None:
    """Limit runs from 1 to API_MAX_PAGE_SIZE and offset within 64 bits, as documented; the rest is a 400."""
    settings.API_MAX_PAGE_SIZE = 2
    for contract_id in (101, 102, 103):
        _contract(contract_id)
    client = APIClient()
    for query in (
        {"limit": "405065729640102988087296"},
        {"limit": "3"},
        {"limit": "0"},
        {"limit": "abc"},
        {"limit": "\u0663"},  # ARABIC-INDIC DIGIT THREE: int() reads it, an id must not
        {"offset": str(2**63)},
        {"offset": "9" * 5000},  # past Python's int() digit limit
        {"offset": "-1"},
    ):
        response = client.get("/api/contracts/", query)
        assert response.status_code == 400, (query, response.content)
        assert response.json()["error"] == "invalid_input"
    response = client.get("/api/contracts/", {"limit": "2", "offset": str(2**63 - 1)})
    assert response.status_code == 200, response.content
    assert response.json()["results"] == []
    page = client.get("/api/contracts/", {"limit": "2", "offset": "1"}).json()
    assert page["count"] == 3
    assert len(page["results"]) == 2


@pytest.mark.django_db
def test_contract_detail_past_64_bits_is_a_400() -> None:
    """An id PostgreSQL's bigint cannot hold is the client's error."""
    response = APIClient().get(f"/api/contracts/{2**70}/")
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_input"


@pytest.mark.django_db
def test_out_of_range_numbers_reaching_postgresql_answer_400() -> None:
    """A huge home station id is refused at the edge; PostgreSQL's numeric_value_out_of_range would be a 400 too."""
    user = get_user_model().objects.create_user("range", password="pw-not-used")
    client = APIClient(raise_request_exception=False)
    client.force_login(user)
    body = {"sales_tax": 1.0, "broker_fee": 1.0, "home_station_id": HUGE, "default_route_mode": "shortest", "avoid": []}
    response = client.put("/api/me/settings/", body, format="json")
    assert response.status_code == 400, response.content
    assert "bigint" not in response.content.decode()
    # The safety net behind the edge checks, with a real out-of-range error from PostgreSQL.
    with pytest.raises(DataError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT 9223372036854775807::bigint + 1")
    answer = api_exception_handler(caught.value, {})
    assert answer is not None
    assert answer.status_code == 400
    assert answer.data["error"] == "invalid_input"
    assert "bigint" not in str(answer.data)


def test_bodies_over_the_cap_answer_413_before_they_are_read(settings: SettingsWrapper) -> None:
    """Content-Length over API_MAX_BODY_BYTES → 413 JSON; a chunked body without a length → 411."""
    settings.API_MAX_BODY_BYTES = 1000
    client = Client()
    response = client.post("/api/market/profit/", data=b"x" * 1001, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"error": "payload_too_large", "detail": "The request body must not exceed 1000 bytes."}
    # The cap is checked on the declared length: a client announcing 10 GB is refused without a read.
    response = client.generic(
        "POST", "/api/market/profit/", b"{}", content_type="application/json", CONTENT_LENGTH=str(10**10)
    )
    assert response.status_code == 413
    response = client.generic(
        "POST", "/api/market/profit/", b"", content_type="application/json", HTTP_TRANSFER_ENCODING="chunked"
    )
    assert response.status_code == 411
    assert response.json()["error"] == "length_required"


@pytest.mark.django_db
def test_bodies_under_the_cap_pass(settings: SettingsWrapper) -> None:
    """A body at the cap reaches the view (here a validation 400, not a 413)."""
    settings.API_MAX_BODY_BYTES = 1000
    response = Client().post("/api/market/profit/", data={}, content_type="application/json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_a_json_body_nested_too_deeply_is_a_400() -> None:
    """Nesting past Python's recursion limit fits in a small body: malformed JSON (400), not a RecursionError (500)."""
    client = Client(raise_request_exception=False)
    for body in ("[" * 50_000, '{"a":' * 10_000 + "1" + "}" * 10_000):
        response = client.post("/api/market/profit/", data=body, content_type="application/json")
        assert response.status_code == 400, response.content
        assert response.json() == {
            "error": "parse_error",
            "detail": "JSON parse error - the body is nested too deeply.",
        }


class _SleepApi(APIView):
    """A test view that keeps PostgreSQL busy."""

    def get(self, request: Request) -> Response:
        """Sleep in PostgreSQL for ``seconds``."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(%s)", [float(request.query_params["seconds"])])
        return Response({"slept": True})


urlpatterns = [url_path("sleep/", _SleepApi.as_view())]


def _get_on_new_connection(url: str, query: dict[str, str]) -> Any:
    """Run a GET on a thread of its own, so Django opens a new database connection for it."""
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(APIClient().get(url, query))
        finally:
            connections.close_all()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(30)
    assert out, "the request hung"
    return out[0]


@pytest.fixture
def web_statement_timeout(settings: SettingsWrapper) -> Iterator[None]:
    """Enable the web entry point's statement timeout (200 ms) for this test's new connections."""
    settings.DB_WEB_STATEMENT_TIMEOUT_MS = 200
    web_statement_timeout_enable()
    yield
    web_statement_timeout_disable()


@pytest.mark.django_db
@pytest.mark.urls("evesite.tests.test_bounds")
@pytest.mark.usefixtures("web_statement_timeout")
def test_a_statement_past_the_web_timeout_answers_json_503() -> None:
    """A slow statement in a web request is cancelled by PostgreSQL and answered 503 JSON (no SQL leaks)."""
    started = time.monotonic()
    response = _get_on_new_connection("/sleep/", {"seconds": "5"})
    assert time.monotonic() - started < 4
    assert response.status_code == 503, response.content
    assert response.json()["error"] == "query_timeout"
    assert "pg_sleep" not in response.content.decode()
    assert "statement" not in response.content.decode()
    # A quick one still works.
    assert _get_on_new_connection("/sleep/", {"seconds": "0.01"}).status_code == 200


@pytest.mark.django_db
def test_only_the_web_entry_point_sets_the_statement_timeout_and_switch_interval() -> None:
    """Importing evesite.wsgi (gunicorn) gives connections the timeout and threads a shorter switch interval.

    A plain Django process (Celery, commands) keeps no timeout and Python's 5 ms interval.
    """
    code = (
        "import sys, django\n"
        "if sys.argv[1] == 'wsgi':\n    import evesite.wsgi\n"
        "else:\n    django.setup()\n"
        "from django.conf import settings\n"
        "settings.DATABASES['default']['NAME'] = sys.argv[2]\n"
        "from django.db import connection\n"
        "with connection.cursor() as c:\n    c.execute('SHOW statement_timeout'); timeout = c.fetchone()[0]\n"
        "print(timeout, sys.getswitchinterval())\n"
    )
    env = {**os.environ, "DB_WEB_STATEMENT_TIMEOUT_MS": "1234", "WEB_GIL_SWITCH_MS": "2"}
    shown = {}
    for mode in ("wsgi", "plain"):
        out = subprocess.run(
            [sys.executable, "-c", code, mode, django_settings.DATABASES["default"]["NAME"]],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            cwd=django_settings.BASE_DIR,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        shown[mode] = out.stdout.strip().splitlines()[-1]
    assert shown == {"wsgi": "1234ms 0.002", "plain": "0 0.005"}
