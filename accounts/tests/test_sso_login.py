"""The EVE SSO v2 login flow against a fake SSO on loopback, through Django's test client."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.cache import KEY_PREFIX
from django.core.cache import cache
from django.test import Client
from django_redis import get_redis_connection
from rest_framework.test import APIClient
from social_django.models import UserSocialAuth

from accounts.crypto import token_decrypt
from accounts.models import EveCharacter, EveToken, SavedRoute, UserSettings
from accounts.tests.conftest import CHARACTER_ID, CHARACTER_NAME, CLIENT_SECRET, KID, FakeSso, login, login_start, s256

pytestmark = pytest.mark.django_db


def _redis_session_key(client: Client) -> str:
    """Return the Redis key holding the client's session."""
    session_key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    return cache.make_key(KEY_PREFIX + session_key)


def test_login_flow_with_pkce_state_and_a_session_in_redis(fake_sso: FakeSso, settings: Any) -> None:
    """Authorize redirect carries PKCE S256 + state; the callback exchanges the code; the session lands in Redis."""
    client = Client()
    query = login_start(client)
    assert query["_location"].startswith(f"{fake_sso.server.url}/v2/oauth/authorize?")
    assert query["response_type"] == "code"
    assert query["client_id"] == settings.EVE_CLIENT_ID
    assert query["redirect_uri"] == settings.EVE_CALLBACK_URL
    assert query["scope"] == "esi-location.read_location.v1 esi-markets.structure_markets.v1"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32
    assert CLIENT_SECRET not in query["_location"]

    code = fake_sso.authorize(query["code_challenge"])
    response = client.get("/auth/complete/eveonline/", {"code": code, "state": query["state"]})
    assert response.status_code == 302, response.content
    assert response["Location"] == settings.SOCIAL_AUTH_LOGIN_REDIRECT_URL

    (exchange,) = fake_sso.server.matching("POST", "/v2/oauth/token")
    form = {k: v[0] for k, v in exchange.form().items()}
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == code
    assert form["redirect_uri"] == settings.EVE_CALLBACK_URL
    assert s256(form["code_verifier"]) == query["code_challenge"]
    assert "client_secret" not in form
    basic = base64.b64encode(f"{settings.EVE_CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert exchange.headers["Authorization"] == f"Basic {basic}"
    assert fake_sso.server.count("GET", "/oauth/jwks") == 1

    redis_key = _redis_session_key(client)
    assert get_redis_connection("default").exists(redis_key) == 1
    assert client.session["_auth_user_id"]

    me = client.get("/api/me/")
    assert me.status_code == 200, me.content
    body = me.json()
    assert body["character_id"] == CHARACTER_ID
    assert body["character_name"] == CHARACTER_NAME
    assert body["portrait_url"] == f"/api/images/character/{CHARACTER_ID}?size=128"
    assert body["portraits"]["512"] == f"/api/images/character/{CHARACTER_ID}?size=512"
    assert body["scopes"] == ["esi-location.read_location.v1", "esi-markets.structure_markets.v1"]
    assert body["sso_token"] is True

    character = EveCharacter.objects.get(character_id=CHARACTER_ID)
    token = EveToken.objects.get(character=character)
    assert token_decrypt(ciphertext=token.refresh_token_encrypted) in fake_sso.valid_refresh_tokens
    social = UserSocialAuth.objects.get(provider="eveonline", uid=str(CHARACTER_ID))
    assert social.user_id == character.user_id
    stored = repr(social.extra_data)
    assert not any(issued in stored for issued in fake_sso.issued), "a token leaked into extra_data"
    assert "access_token" not in social.extra_data
    assert "refresh_token" not in social.extra_data


def test_second_login_reuses_the_user_and_the_cached_jwks(fake_sso: FakeSso) -> None:
    """Logging in twice keeps one user and one token row, and the JWKS comes from Redis the second time."""
    assert login(Client(), fake_sso).status_code == 302
    assert login(Client(), fake_sso).status_code == 302
    assert EveCharacter.objects.count() == 1
    assert EveToken.objects.count() == 1
    assert UserSocialAuth.objects.count() == 1
    assert fake_sso.server.count("GET", "/oauth/jwks") == 1


def test_bad_state_is_rejected(fake_sso: FakeSso) -> None:
    """A callback whose state the session never issued fails before any token exchange."""
    client = Client()
    query = login_start(client)
    code = fake_sso.authorize(query["code_challenge"])
    response = client.get("/auth/complete/eveonline/", {"code": code, "state": "x" * 32})
    assert response.status_code == 403
    assert response.context["error_code"] == "session_context_missing"
    assert fake_sso.server.count("POST", "/v2/oauth/token") == 0
    assert client.get("/api/me/").status_code == 403
    assert EveCharacter.objects.count() == 0


def test_missing_state_is_rejected(fake_sso: FakeSso) -> None:
    """A callback without a state is refused too."""
    client = Client()
    query = login_start(client)
    code = fake_sso.authorize(query["code_challenge"])
    response = client.get("/auth/complete/eveonline/", {"code": code})
    assert response.status_code == 400
    assert fake_sso.server.count("POST", "/v2/oauth/token") == 0


def test_wrong_code_verifier_is_refused_by_sso(fake_sso: FakeSso) -> None:
    """The fake enforces PKCE: a code bound to another challenge fails the exchange, and no one logs in."""
    client = Client()
    query = login_start(client)
    code = fake_sso.authorize(s256("not-the-verifier-social-core-sent-0123456789"))
    response = client.get("/auth/complete/eveonline/", {"code": code, "state": query["state"]})
    assert response.status_code >= 400
    assert fake_sso.server.count("POST", "/v2/oauth/token") == 1
    assert client.get("/api/me/").status_code == 403


def _forged(fake_sso: FakeSso, other_rsa_key: Any) -> None:
    """Sign the next token with an unpublished key under the published key id."""
    fake_sso.next_sign = (KID, other_rsa_key)


@pytest.mark.parametrize(
    ("case", "claims", "status", "code", "claim"),
    [
        ("bad signature", {}, 502, "invalid_signature", None),
        ("wrong audience", {"aud": ["someone-else", "EVE Online"]}, 502, "invalid_claim", "aud"),
        ("audience without EVE Online", {"aud": "CLIENT"}, 502, "invalid_claim", "aud"),
        ("wrong issuer", {"iss": "https://login.evil.example"}, 502, "invalid_claim", "iss"),
        ("expired", {"exp": int(time.time()) - 600, "iat": int(time.time()) - 1800}, 403, "response_expired", "exp"),
        ("not a character", {"sub": "CORPORATION:EVE:98000001"}, 502, "invalid_claim", "sub"),
        ("no expiry", {"exp": None}, 502, "missing_claim", "exp"),
    ],
)
def test_invalid_access_tokens_are_rejected(
    *,
    fake_sso: FakeSso,
    other_rsa_key: Any,
    settings: Any,
    case: str,
    claims: dict[str, Any],
    status: int,
    code: str,
    claim: str | None,
) -> None:
    """Each broken JWT stops the login: error page with the reason, no user, no session, no token."""
    if case == "bad signature":
        _forged(fake_sso, other_rsa_key)
    fake_sso.next_claims = {k: (settings.EVE_CLIENT_ID if v == "CLIENT" else v) for k, v in claims.items()}
    client = Client()
    response = login(client, fake_sso)
    assert response.status_code == status, case
    assert response.context["error_code"] == code, case
    if claim:
        assert response.context["error_stage"] == "token_validation"
    assert fake_sso.server.count("POST", "/v2/oauth/token") == 1
    assert client.get("/api/me/").status_code == 403
    assert EveCharacter.objects.count() == 0
    assert EveToken.objects.count() == 0
    assert UserSocialAuth.objects.count() == 0


def test_unknown_key_id_refetches_the_jwks_once_and_accepts_a_rotated_key(
    fake_sso: FakeSso, other_rsa_key: Any
) -> None:
    """CCP rotated its key: the cached JWKS lacks the kid, one refetch finds it, the login succeeds."""
    assert login(Client(), fake_sso).status_code == 302
    assert fake_sso.server.count("GET", "/oauth/jwks") == 1
    fake_sso.published["rotated-key"] = other_rsa_key
    fake_sso.next_sign = ("rotated-key", other_rsa_key)
    client = Client()
    assert login(client, fake_sso).status_code == 302
    assert fake_sso.server.count("GET", "/oauth/jwks") == 2
    assert client.get("/api/me/").status_code == 200


def test_unknown_key_id_is_rejected_after_exactly_one_refetch(fake_sso: FakeSso, other_rsa_key: Any) -> None:
    """A kid that even a fresh JWKS lacks is refused, after a single refetch (no loop)."""
    assert login(Client(), fake_sso).status_code == 302
    fake_sso.next_sign = ("never-published", other_rsa_key)
    client = Client()
    response = login(client, fake_sso)
    assert response.status_code == 502
    assert response.context["error_code"] == "invalid_signature"
    assert fake_sso.server.count("GET", "/oauth/jwks") == 2
    assert client.get("/api/me/").status_code == 403


def test_login_info_and_csrf_protected_begin(fake_sso: FakeSso) -> None:
    """GET /api/auth/login/ hands out the CSRF token; the begin POST needs it and then redirects to SSO."""
    client = Client(enforce_csrf_checks=True)
    info = client.get("/api/auth/login/").json()
    assert info["login_url"] == "/auth/login/eveonline/"
    assert info["method"] == "POST"
    assert info["logged_in"] is False
    assert client.post(info["login_url"]).status_code == 403
    response = client.post(info["login_url"], {"csrfmiddlewaretoken": info["csrf_token"]})
    assert response.status_code == 302
    assert response["Location"].startswith(f"{fake_sso.server.url}/v2/oauth/authorize?")


def test_character_transfer_clears_the_previous_owners_data(fake_sso: FakeSso, systems: dict) -> None:
    """Same owner keeps settings and routes; a new owner hash lands on a fresh user without them (test_transfer.py)."""
    client = Client()
    assert login(client, fake_sso).status_code == 302
    api = APIClient()
    api.cookies = client.cookies
    assert api.patch("/api/me/settings/", {"sales_tax": 2.0}, format="json").status_code == 200
    payload = {"name": "Mine", "origin": "Jita", "destination": "Amarr"}
    assert api.post("/api/me/routes/", payload, format="json").status_code == 201
    assert login(Client(), fake_sso).status_code == 302
    user = EveCharacter.objects.get(character_id=CHARACTER_ID).user
    assert SavedRoute.objects.filter(user=user).count() == 1
    fake_sso.owner_hash = "owner-hash-2"
    assert login(Client(), fake_sso).status_code == 302
    character = EveCharacter.objects.get(character_id=CHARACTER_ID)
    assert character.owner_hash == "owner-hash-2"
    assert character.user_id != user.pk
    assert SavedRoute.objects.filter(user=character.user).count() == 0
    assert not UserSettings.objects.filter(user=character.user).exists()
