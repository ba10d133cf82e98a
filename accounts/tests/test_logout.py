"""Logout: tokens and session go at once; the refresh token's revocation at EVE SSO is a queued Celery task."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.cache import KEY_PREFIX
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django_redis import get_redis_connection

from accounts import crypto
from accounts.tasks import revoke_refresh_token
from accounts.tests.conftest import CHARACTER_ID, CLIENT_SECRET, FakeSso, login
from evesite.testing.fakeserver import FakeHttpServer, FakeResponse

pytestmark = pytest.mark.django_db

REVOKE = "/v2/oauth/revoke"
TASK = "accounts.revoke_refresh_token"


def _logged_in(fake_sso: FakeSso) -> tuple[Client, Any, str]:
    """Log a client in through the whole flow; return it, its user and its (only) refresh token."""
    client = Client()
    assert login(client, fake_sso).status_code == 302
    (refresh_token,) = fake_sso.valid_refresh_tokens
    return client, get_user_model().objects.get(eve_character__character_id=CHARACTER_ID), refresh_token


def _stored_tokens(user: Any) -> int:
    """Count the user's rows in accounts_evetoken, straight from PostgreSQL."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM accounts_evetoken t JOIN accounts_evecharacter c ON c.id = t.character_id "
            "WHERE c.user_id = %s",
            [user.pk],
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def _queued_kwargs(callbacks: list[Callable[[], Any]]) -> dict[str, Any]:
    """Return the task arguments of the one revocation the logout left to run on commit."""
    (callback,) = callbacks
    (revocation,) = callback.args  # type: ignore[attr-defined]
    kwargs: dict[str, Any] = revocation.task_kwargs()
    return kwargs


def _basic() -> str:
    """The Basic credentials the fake SSO expects."""
    return "Basic " + base64.b64encode(f"{django_settings.EVE_CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()


def _logout(client: Client, capture: Any) -> tuple[Any, float, list[Callable[[], Any]]]:
    """POST the logout without running its on-commit work; return the answer, its duration and that work."""
    with capture(execute=False) as callbacks:
        started = time.monotonic()
        response = client.post("/api/auth/logout/")
        elapsed = time.monotonic() - started
    assert response.status_code == 200, response.content
    return response, elapsed, callbacks


def test_logout_never_waits_on_a_slow_sso(fake_sso: FakeSso, django_capture_on_commit_callbacks: Any) -> None:
    """With SSO's revoke taking 3 s, logout answers at once, tokens and session are gone, SSO was not called."""
    client, user, refresh_token = _logged_in(fake_sso)
    fake_sso.server.add("POST", REVOKE, FakeResponse(delay=3.0))
    session_key = cache.make_key(KEY_PREFIX + client.cookies["sessionid"].value)
    assert get_redis_connection("default").exists(session_key) == 1
    assert _stored_tokens(user) == 1

    response, elapsed, callbacks = _logout(client, django_capture_on_commit_callbacks)

    assert elapsed < 1.0, f"logout took {elapsed:.2f} s"
    assert response.json() == {"logged_out": True, "sso_revoked": True}  # True: a revocation was queued
    assert fake_sso.server.count("POST", REVOKE) == 0  # nothing reached SSO during the request
    assert _stored_tokens(user) == 0
    assert get_redis_connection("default").exists(session_key) == 0
    assert client.get("/api/me/").status_code == 403
    # What the task gets: the character and the refresh token still encrypted, never in clear.
    kwargs = _queued_kwargs(callbacks)
    assert kwargs["character_id"] == CHARACTER_ID
    assert refresh_token not in json.dumps(kwargs)
    assert crypto.token_decrypt(ciphertext=kwargs["refresh_token_encrypted"]) == refresh_token


def test_queued_task_revokes_the_token_at_sso(fake_sso: FakeSso, django_capture_on_commit_callbacks: Any) -> None:
    """The message logout puts on the Redis broker holds no plain token; running it revokes at SSO."""
    client, _, refresh_token = _logged_in(fake_sso)
    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL, decode_responses=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/api/auth/logout/").status_code == 200
    ours = []
    messages: list[str] = broker.lrange("celery", 0, -1)  # type: ignore[assignment]
    for raw in messages:
        message = json.loads(raw)
        if message["headers"].get("task") != TASK:
            continue
        _, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        if crypto.token_decrypt(ciphertext=kwargs["refresh_token_encrypted"]) == refresh_token:
            ours.append((raw, message, kwargs))
            broker.lrem("celery", 1, raw)  # no worker should ever run it against a finished fake server
    (raw, message, kwargs), *others = ours
    assert not others
    assert refresh_token not in raw
    assert kwargs["refresh_token_encrypted"] not in message["headers"]["kwargsrepr"]
    assert fake_sso.server.count("POST", REVOKE) == 0

    result = revoke_refresh_token.apply(kwargs=kwargs)
    assert result.state == "SUCCESS"
    assert result.get() is True
    (revoke,) = fake_sso.server.matching("POST", REVOKE)
    assert {k: v[0] for k, v in revoke.form().items()} == {"token_type_hint": "refresh_token", "token": refresh_token}
    assert revoke.headers["Authorization"] == _basic()
    assert refresh_token not in fake_sso.valid_refresh_tokens
    # Idempotent: running it again (e.g. a redelivered message) just revokes again.
    assert revoke_refresh_token(**kwargs) is True


def test_failing_sso_is_one_warning_after_the_retries(
    fake_sso: FakeSso, settings: Any, django_capture_on_commit_callbacks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """SSO answering 500: logout already succeeded; the task retries, then logs one warning and does not raise."""
    settings.EVE_SSO_RETRIES = 2
    client, user, refresh_token = _logged_in(fake_sso)
    fake_sso.server.add("POST", REVOKE, FakeResponse(status=500))
    response, _, callbacks = _logout(client, django_capture_on_commit_callbacks)
    kwargs = _queued_kwargs(callbacks)
    assert response.json() == {"logged_out": True, "sso_revoked": True}
    assert _stored_tokens(user) == 0
    assert client.get("/api/me/").status_code == 403

    caplog.set_level(logging.INFO)
    caplog.clear()  # the 403 above is a warning of django.request
    result = revoke_refresh_token.apply(kwargs=kwargs)
    assert result.state == "SUCCESS"
    assert result.get() is False
    assert fake_sso.server.count("POST", REVOKE) == 3  # first try + 2 Celery retries
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        f"EVE character {CHARACTER_ID}: refresh token revocation failed (EVE SSO token revocation answered HTTP 500)"
    ]
    assert refresh_token not in caplog.text
    assert refresh_token in fake_sso.valid_refresh_tokens  # SSO never confirmed it


def test_unreachable_sso_and_refused_revocation(
    fake_sso: FakeSso, settings: Any, django_capture_on_commit_callbacks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A connection error is retried like a 5xx; a 4xx (bad client secret) is not retried. Each: one warning."""
    settings.EVE_SSO_RETRIES = 1
    client, _, _ = _logged_in(fake_sso)
    kwargs = _queued_kwargs(_logout(client, django_capture_on_commit_callbacks)[2])

    settings.EVE_CLIENT_SECRET = "wrong-secret"
    caplog.set_level(logging.INFO)
    caplog.clear()
    assert revoke_refresh_token.apply(kwargs=kwargs).get() is False
    assert fake_sso.server.count("POST", REVOKE) == 1  # 401 is final
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1

    caplog.clear()
    with FakeHttpServer() as closed:
        url = closed.url
    settings.EVE_SSO_URL = url  # nothing listens there any more
    settings.EVE_CLIENT_SECRET = CLIENT_SECRET
    result = revoke_refresh_token.apply(kwargs=kwargs)
    assert (result.state, result.get()) == ("SUCCESS", False)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "ConnectionError" in warnings[0]
    # Called directly (no Celery request to retry with), it still never raises.
    assert revoke_refresh_token(**kwargs) is False


def test_logout_without_a_stored_token_queues_nothing(
    fake_sso: FakeSso, django_capture_on_commit_callbacks: Any
) -> None:
    """A user whose token is already gone logs out fine; nothing is queued and ``sso_revoked`` is false."""
    client, user, _ = _logged_in(fake_sso)
    user.eve_character.token.delete()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/api/auth/logout/")
    assert response.json() == {"logged_out": True, "sso_revoked": False}
    assert callbacks == []
    assert client.get("/api/me/").status_code == 403
