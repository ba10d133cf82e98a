"""Issue 14, hole 1: debug is off unless asked for, and errors answer JSON without internals."""

from __future__ import annotations

import pytest
from django.test import Client

from evesite.testing.defaults import settings_defaults

SECRETS_IN_SETTINGS = ("password", "evesite:evesite", "bolt://", "postgres://", "Traceback")


def test_debug_is_off_without_the_environment() -> None:
    """A process started with no DJANGO_DEBUG runs with DEBUG off."""
    assert settings_defaults("DEBUG") == [False]


def _assert_bare_error(response: object, status: int, code: str) -> None:
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/json"  # type: ignore[index]
    body = response.content.decode()  # type: ignore[attr-defined]
    assert response.json() == {"error": code, "detail": response.json()["detail"]}  # type: ignore[attr-defined]
    for secret in SECRETS_IN_SETTINGS:
        assert secret not in body


@pytest.mark.urls("evesite.testing.urls_boom")
@pytest.mark.parametrize("url", ["/boom/", "/api/boom/"])
def test_an_unhandled_exception_answers_json_without_internals(url: str) -> None:
    """Django and DRF views that raise answer the JSON 500, not a page with the settings or the traceback."""
    response = Client(raise_request_exception=False).get(url, HTTP_HOST="localhost")
    _assert_bare_error(response, 500, "server_error")


@pytest.mark.django_db
def test_unknown_urls_answer_json_404() -> None:
    """Outside the API's views too, a 404 is the API's error JSON (no URL patterns listed)."""
    response = Client().get("/no/such/page/")
    _assert_bare_error(response, 404, "not_found")


@pytest.mark.django_db
def test_a_superscript_digit_in_a_route_query_is_a_name_not_a_500() -> None:
    """``"²".isdigit()`` is true but ``int("²")`` fails: ids accept ASCII digits only (the review's 500)."""
    response = Client(raise_request_exception=False).get("/api/routes/", {"origin": "²", "destination": "Jita"})
    assert response.status_code in {400, 404}
    assert response.json()["error"] in {"not_found", "invalid_input"}


@pytest.mark.django_db
def test_a_failed_csrf_check_answers_json() -> None:
    """CSRF failures (the admin's login form without its token) use the JSON error view too."""
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": "a", "password": "b"})
    _assert_bare_error(response, 403, "csrf_failed")


def test_forwarded_headers_are_trusted_only_behind_a_declared_proxy() -> None:
    """Without API_NUM_PROXIES a client's X-Forwarded-Proto does not make a request "secure"."""
    assert settings_defaults("SECURE_PROXY_SSL_HEADER", "API_NUM_PROXIES") == [None, 0]
