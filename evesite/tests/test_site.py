"""OpenAPI schema, Swagger UI, admin and the settings every issue relies on."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from evesite.testing.defaults import settings_defaults
from evesite.views import SchemaApi


@pytest.mark.django_db
def test_openapi_schema_and_docs_are_served() -> None:
    """The schema lists the health endpoint; the docs page renders."""
    client = Client()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/health/" in schema.json()["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_schema_query_parameters_add_no_documents_and_no_header_text() -> None:
    """``?version=`` is ignored and an unknown ``?lang=`` serves the default language: the same bytes, nothing new kept.

    Before, each value generated and kept one more document, and a NUL of ``?version=`` reached the
    Content-Disposition header (gunicorn answered 500).
    """
    client = Client()
    first = client.get("/api/schema/", {"format": "json"})
    kept = len(SchemaApi._documents)
    for params in ({"version": "\x00"}, {"version": "2"}, {"lang": "zz"}, {"lang": "\x00"}, {"lang": "x" * 600}):
        response = client.get("/api/schema/", {"format": "json", **params})
        assert response.status_code == 200
        assert response["Content-Disposition"] == 'inline; filename="evesite API.json"'
        assert response.content == first.content
    assert len(SchemaApi._documents) == kept
    # A site language still gets its document (a regional variant names its base language).
    assert client.get("/api/schema/", {"format": "json", "lang": "de-at"}).status_code == 200
    assert len(SchemaApi._documents) <= kept + 1


def test_strings_in_answers_show_a_readable_example_and_parameters_none() -> None:
    """Swagger UI draws examples from patterns: the NUL pattern alone would show random characters."""
    schema = Client().get("/api/schema/", {"format": "json"}).json()
    name = schema["components"]["schemas"]["SearchHit"]["properties"]["name"]
    assert (name["pattern"], name["example"]) == ("^[^\\x00]*$", "string")
    search = schema["paths"]["/api/universe/search/"]["get"]["parameters"]
    q = next(p for p in search if p["name"] == "q")
    assert "example" not in q["schema"]  # "Try it out" would send it
    assert q["schema"]["pattern"] == "^[^\\x00]*\\S[^\\x00]*$"


@pytest.mark.django_db
def test_admin_asks_for_login() -> None:
    """The admin is mounted at /admin/."""
    response = Client().get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_sessions_and_cache_live_in_redis() -> None:
    """Sessions use the cache backend, and the cache is django-redis."""
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cache"
    assert settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache"


def test_settings_defaults_without_environment() -> None:
    """With only the documented variables unset, settings load with the documented defaults."""
    assert settings_defaults(
        "EVE_CLIENT_ID",
        "ESI_BASE_URL",
        "IMAGE_SERVER_URL",
        "EVE_SSO_URL",
        "FUZZWORK_DUMP_URL",
        "EVE_CALLBACK_URL",
        "EVE_CLIENT_SECRET",
        "ESI_PAGE_DELAY_SECONDS",
        "ESI_REGION_DELAY_SECONDS",
        "ESI_ERROR_SLEEP_SECONDS",
        "ESI_LOCKDOWN_SECONDS",
        "HEALTH_WORKER_PING_SECONDS",
    ) == [
        "5e0952c68665441aae27846cb735138e",
        "https://esi.evetech.net",
        "https://images.evetech.net",
        "https://login.eveonline.com",
        "https://www.fuzzwork.co.uk/dump/",
        "http://localhost:7777/auth/complete/eveonline/",
        None,
        2.0,
        5.0,
        30.0,
        60.0,
        2.0,
    ]


def test_production_requires_a_secret_key() -> None:
    """With DEBUG off and no DJANGO_SECRET_KEY, settings refuse to load."""
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "evesite.settings.production", "DJANGO_DEBUG": "false"}
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
    )
    assert out.returncode != 0
    assert "DJANGO_SECRET_KEY" in out.stderr


@pytest.mark.django_db
def test_every_operation_declares_its_error_answers() -> None:
    """Every operation declares 503 and its body schema; throttled ones 429; ones with path ids 404 (issue 15)."""
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert schema["components"]["schemas"]["Error"]["required"] == ["error", "detail"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "503" in responses, (method, path)
            # The error body's schema: Error, or a view's own (health's failing parts, the image errors).
            assert "$ref" in responses["503"]["content"]["application/json"]["schema"], (method, path)
            assert ("429" in responses) == (path != "/api/health/"), (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_load_nothing_from_another_site(page: str) -> None:
    """Swagger UI and Redoc come from this site's static files (drf-spectacular-sidecar), never from a CDN."""
    html = Client().get(page).content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assets = [source for source in sources if source.endswith((".js", ".css", ".png"))]
    assert assets, html
    for asset in assets:
        assert asset.startswith(settings.STATIC_URL), f"{page} loads {asset} from elsewhere"
        assert finders.find(asset.removeprefix(settings.STATIC_URL)), f"{asset} is not among the static files"
