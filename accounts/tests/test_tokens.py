"""Token refresh, encryption at rest and log hygiene, against the fake SSO (logout: test_logout.py)."""

from __future__ import annotations

import base64
import logging
import time
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client
from django.utils import timezone
from social_django.models import Nonce

from accounts import crypto, sso, sso_jwt
from accounts.models import EveToken
from accounts.tasks import purge_sso_nonces, revoke_refresh_token
from accounts.tests.conftest import CHARACTER_ID, CLIENT_SECRET, ENCRYPTION_KEY, FakeSso, login, login_start
from accounts.tokens import character_access_token_fresh, character_esi_get
from evesite.testing.fakeserver import FakeResponse

pytestmark = pytest.mark.django_db


def _logged_in(fake_sso: FakeSso) -> tuple[Client, Any]:
    """Log a client in through the whole flow; return it and its user."""
    client = Client()
    assert login(client, fake_sso).status_code == 302
    return client, get_user_model().objects.get(eve_character__character_id=CHARACTER_ID)


def _expire(user: Any) -> None:
    """Make the stored access token look about to expire."""
    EveToken.objects.filter(character__user=user).update(access_token_expires_at=timezone.now() + timedelta(seconds=5))


def _raw_columns(user: Any) -> tuple[str, str]:
    """Read the encrypted columns straight from PostgreSQL."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.access_token_encrypted, t.refresh_token_encrypted FROM accounts_evetoken t "
            "JOIN accounts_evecharacter c ON c.id = t.character_id WHERE c.user_id = %s",
            [user.pk],
        )
        row = cursor.fetchone()
    assert row is not None
    return row[0], row[1]


def test_tokens_are_encrypted_at_rest(fake_sso: FakeSso) -> None:
    """The database columns hold Fernet ciphertexts, never the tokens themselves."""
    _, user = _logged_in(fake_sso)
    access_cipher, refresh_cipher = _raw_columns(user)
    for token in fake_sso.issued:
        assert token not in access_cipher
        assert token not in refresh_cipher
    assert crypto.token_decrypt(ciphertext=refresh_cipher) in fake_sso.valid_refresh_tokens
    assert crypto.token_decrypt(ciphertext=access_cipher) in fake_sso.issued


def test_valid_access_token_is_served_without_calling_sso(fake_sso: FakeSso) -> None:
    """A token far from expiry comes from the database; SSO is not asked."""
    _, user = _logged_in(fake_sso)
    calls = fake_sso.server.count("POST", "/v2/oauth/token")
    character_id, token = character_access_token_fresh(user=user)
    assert character_id == CHARACTER_ID
    assert sso_jwt.access_token_validate(access_token=token).character_id == CHARACTER_ID
    assert fake_sso.server.count("POST", "/v2/oauth/token") == calls


def test_refresh_before_expiry_stores_the_newest_refresh_token(fake_sso: FakeSso, settings: Any) -> None:
    """Near expiry the token is refreshed; CCP's new refresh token replaces the old one, encrypted."""
    _, user = _logged_in(fake_sso)
    (first_refresh,) = fake_sso.valid_refresh_tokens
    _expire(user)
    character_id, new_access = character_access_token_fresh(user=user)
    assert character_id == CHARACTER_ID
    refreshes = [r for r in fake_sso.server.matching("POST", "/v2/oauth/token") if b"refresh_token" in r.body]
    assert len(refreshes) == 1
    form = {k: v[0] for k, v in refreshes[0].form().items()}
    assert form == {"grant_type": "refresh_token", "refresh_token": first_refresh}
    basic = base64.b64encode(f"{settings.EVE_CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert refreshes[0].headers["Authorization"] == f"Basic {basic}"

    (newest,) = fake_sso.valid_refresh_tokens
    assert newest != first_refresh
    access_cipher, refresh_cipher = _raw_columns(user)
    assert newest not in refresh_cipher
    assert first_refresh not in refresh_cipher
    assert crypto.token_decrypt(ciphertext=refresh_cipher) == newest
    assert crypto.token_decrypt(ciphertext=access_cipher) == new_access
    token = EveToken.objects.get(character__user=user)
    assert token.access_token_expires_at > timezone.now() + timedelta(minutes=15)

    # Fresh again: no further refresh; a second expiry refreshes with the newest token.
    assert character_access_token_fresh(user=user)[1] == new_access
    _expire(user)
    character_access_token_fresh(user=user)
    last = fake_sso.server.matching("POST", "/v2/oauth/token")[-1]
    assert {k: v[0] for k, v in last.form().items()}["refresh_token"] == newest


def test_rejected_refresh_token_deletes_the_tokens_and_asks_for_login(fake_sso: FakeSso) -> None:
    """When SSO refuses the refresh token (revoked in-game), the row goes and callers get 'log in again'."""
    _, user = _logged_in(fake_sso)
    fake_sso.valid_refresh_tokens.clear()
    _expire(user)
    with pytest.raises(sso.SsoLoginRequiredError):
        character_access_token_fresh(user=user)
    assert not EveToken.objects.filter(character__user=user).exists()
    with pytest.raises(sso.SsoLoginRequiredError):
        character_access_token_fresh(user=user)


def test_refresh_retries_a_5xx_then_succeeds(fake_sso: FakeSso) -> None:
    """A transient SSO 503 is retried (with the configured delay) before the refresh succeeds."""
    _, user = _logged_in(fake_sso)
    real = fake_sso._token
    fake_sso.server.add("POST", "/v2/oauth/token", FakeResponse(status=503), real)
    _expire(user)
    character_access_token_fresh(user=user)
    assert fake_sso.server.count("POST", "/v2/oauth/token") == 3  # login, 503, retry


def test_refresh_gives_up_after_the_retries(fake_sso: FakeSso, settings: Any) -> None:
    """Persistent 5xx answers end in an SsoError (HTTP 502 for the API) and keep the stored tokens."""
    settings.EVE_SSO_RETRIES = 1
    _, user = _logged_in(fake_sso)
    fake_sso.server.add("POST", "/v2/oauth/token", FakeResponse(status=502))
    _expire(user)
    with pytest.raises(sso.SsoError) as raised:
        character_access_token_fresh(user=user)
    assert raised.value.status_code == 502
    assert fake_sso.server.count("POST", "/v2/oauth/token") == 3  # login + 2 attempts
    assert EveToken.objects.filter(character__user=user).exists()


def test_user_without_character_needs_login(db: None) -> None:
    """A password-only user has no token: the service says to log in with EVE."""
    user = get_user_model().objects.create_user("admin-only", password="x")
    with pytest.raises(sso.SsoLoginRequiredError):
        character_access_token_fresh(user=user)


def test_logout_requires_login(db: None) -> None:
    """Anonymous logout is refused."""
    assert Client().post("/api/auth/logout/").status_code == 403


def test_no_secret_or_token_in_logs(
    fake_sso: FakeSso,
    other_rsa_key: Any,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Over login, a rejected login, /api/me/, refresh, retry, logout and its revocation task: no secret logged."""
    settings.DEBUG = True  # also lets django.db.backends log SQL with its parameters
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")  # Django's own config stops at INFO
    client, user = _logged_in(fake_sso)
    client.get("/api/me/")
    fake_sso.next_sign = ("unknown-kid", other_rsa_key)
    assert login(Client(), fake_sso).status_code == 502
    fake_sso.next_sign = None
    fake_sso.server.add("POST", "/v2/oauth/token", FakeResponse(status=503), fake_sso._token)
    _expire(user)
    character_access_token_fresh(user=user)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post("/api/auth/logout/")
    (callback,) = callbacks
    fake_sso.server.add("POST", "/v2/oauth/revoke", FakeResponse(status=503), fake_sso._revoke)
    assert revoke_refresh_token.apply(kwargs=callback.args[0].task_kwargs()).get() is True

    assert caplog.records, "nothing was logged: the test would prove nothing"
    logged = caplog.text + "".join(repr(r.args) for r in caplog.records)
    assert "EVE SSO" in logged  # our own module did log
    assert "accounts_evetoken" in logged  # and the SQL with its parameters was logged too
    basic = base64.b64encode(f"{settings.EVE_CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    signatures = [token.split(".")[-1] for token in fake_sso.issued if token.count(".") == 2]
    secrets = [CLIENT_SECRET, ENCRYPTION_KEY, basic, *fake_sso.issued, *signatures]
    assert len(fake_sso.issued) >= 6
    for secret in secrets:
        assert secret not in logged


def test_encryption_needs_the_key(settings: Any) -> None:
    """Without TOKEN_ENCRYPTION_KEY tokens cannot be stored; a different key cannot read them."""
    settings.TOKEN_ENCRYPTION_KEY = None
    with pytest.raises(ImproperlyConfigured):
        crypto.token_encrypt(plaintext="abc")
    settings.TOKEN_ENCRYPTION_KEY = "key-one"
    cipher = crypto.token_encrypt(plaintext="a-refresh-token")
    assert "a-refresh-token" not in cipher
    assert crypto.token_decrypt(ciphertext=cipher) == "a-refresh-token"
    assert crypto.token_encrypt(plaintext="a-refresh-token") != cipher  # random IV
    settings.TOKEN_ENCRYPTION_KEY = "key-two"
    with pytest.raises(crypto.TokenDecryptionError):
        crypto.token_decrypt(ciphertext=cipher)


def test_abandoned_login_nonces_are_purged(fake_sso: FakeSso) -> None:
    """A login started and never completed leaves a nonce; the beat task removes it once old, not before."""
    login_start(Client())
    assert Nonce.objects.count() == 1
    assert purge_sso_nonces() == 0
    Nonce.objects.update(timestamp=int(time.time()) - 2 * 86400)
    assert purge_sso_nonces.apply().get() == 1
    assert Nonce.objects.count() == 0
    assert login(Client(), fake_sso).status_code == 302
    assert Nonce.objects.count() == 0  # a completed login consumes its nonce


def test_esi_call_with_an_expiring_token_refreshes_first(fake_sso: FakeSso, settings: Any) -> None:
    """An authenticated ESI call made near expiry refreshes the token and sends the new one to ESI."""
    settings.ESI_BASE_URL = fake_sso.server.url
    settings.ESI_BUCKET_CAPACITY = 1000.0
    settings.ESI_BUCKET_REFILL_PER_SECOND = 1000.0
    fake_sso.server.add(
        "GET",
        r"/characters/\d+/location/?",
        FakeResponse(json={"solar_system_id": 30000142, "station_id": 60003760}, headers={"Expires": "0"}),
        regex=True,
    )
    _, user = _logged_in(fake_sso)
    _expire(user)
    answer = character_esi_get(user=user, path="/characters/{character_id}/location")
    assert answer.data == {"solar_system_id": 30000142, "station_id": 60003760}
    (esi_request,) = fake_sso.server.matching("GET", f"/characters/{CHARACTER_ID}/location")
    newest_access = crypto.token_decrypt(ciphertext=EveToken.objects.get(character__user=user).access_token_encrypted)
    assert esi_request.headers["Authorization"] == f"Bearer {newest_access}"
    assert fake_sso.server.count("POST", "/v2/oauth/token") == 2  # login + refresh
