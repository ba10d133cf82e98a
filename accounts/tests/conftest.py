"""Fixtures of the accounts tests: a fake EVE SSO v2 on loopback that signs RS256 JWTs."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.test import Client
from jwt.algorithms import RSAAlgorithm
from rest_framework.test import APIClient

from evesite.testing.fakeserver import FakeHttpServer, FakeResponse, RecordedRequest
from universe.models import Constellation, Region, SolarSystem

CLIENT_SECRET = "fake-client-secret-9f8e7d6c5b4a"
ENCRYPTION_KEY = "test-token-encryption-key-1a2b3c4d5e6f"
CHARACTER_ID = 2112625428
CHARACTER_NAME = "Test Pilot"
KID = "JWT-Signature-Key"


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    """The fake SSO's signing key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_rsa_key() -> rsa.RSAPrivateKey:
    """A key SSO never published (for forged signatures and rotated keys)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def s256(verifier: str) -> str:
    """Return the PKCE S256 challenge of a verifier."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


class FakeSso:
    """EVE SSO v2 stand-in: authorize codes, token and refresh grants, revocation and the JWKS."""

    def __init__(self, server: FakeHttpServer, key: rsa.RSAPrivateKey, client_id: str) -> None:
        """Script the routes on ``server``."""
        self.server = server
        self.client_id = client_id
        self.signing_keys: dict[str, rsa.RSAPrivateKey] = {KID: key}
        self.published: dict[str, rsa.RSAPrivateKey] = {KID: key}
        self.codes: dict[str, str] = {}
        self.valid_refresh_tokens: set[str] = set()
        self.issued: list[str] = []  # every token and code handed out
        self.next_claims: dict[str, Any] = {}
        self.next_sign: tuple[str, rsa.RSAPrivateKey] | None = None
        self.owner_hash = "owner-hash-1"
        server.add("GET", "/oauth/jwks", lambda r: FakeResponse(json=self.jwks()))
        server.add("POST", "/v2/oauth/token", self._token)
        server.add("POST", "/v2/oauth/revoke", self._revoke)

    def jwks(self) -> dict[str, Any]:
        """Return the published key set."""
        keys = []
        for kid, key in self.published.items():
            jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
            keys.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
        return {"keys": keys, "SkipUnresolvedJsonWebKeys": True}

    def access_token(self, **overrides: Any) -> str:
        """Sign an access token like CCP's (claims overridable; ``None`` drops a claim)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "scp": ["esi-location.read_location.v1", "esi-markets.structure_markets.v1"],
            "jti": secrets.token_hex(8),
            "kid": KID,
            "sub": f"CHARACTER:EVE:{CHARACTER_ID}",
            "azp": self.client_id,
            "tenant": "tranquility",
            "tier": "live",
            "region": "world",
            "aud": [self.client_id, "EVE Online"],
            "name": CHARACTER_NAME,
            "owner": self.owner_hash,
            "exp": now + 1199,
            "iat": now,
            "iss": "https://login.eveonline.com",
        }
        claims.update(self.next_claims)
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        kid, key = self.next_sign or (KID, self.signing_keys[KID])
        token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})
        self.issued.append(token)
        return token

    def authorize(self, code_challenge: str) -> str:
        """Play the user's consent: return a code bound to the PKCE challenge."""
        code = secrets.token_urlsafe(16)
        self.codes[code] = code_challenge
        self.issued.append(code)
        return code

    def _basic_ok(self, request: RecordedRequest) -> bool:
        """Check the client's Basic credentials."""
        expected = base64.b64encode(f"{self.client_id}:{CLIENT_SECRET}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    def _new_refresh_token(self) -> str:
        """Issue a refresh token."""
        token = secrets.token_urlsafe(24)
        self.valid_refresh_tokens.add(token)
        self.issued.append(token)
        return token

    def _token(self, request: RecordedRequest) -> FakeResponse:
        """The token endpoint: authorization_code (with PKCE) and refresh_token grants."""
        if not self._basic_ok(request):
            return FakeResponse(status=401, json={"error": "invalid_client"})
        form = {k: v[0] for k, v in request.form().items()}
        if form.get("grant_type") == "authorization_code":
            challenge = self.codes.pop(form.get("code", ""), None)
            if challenge is None or s256(form.get("code_verifier", "")) != challenge:
                return FakeResponse(status=400, json={"error": "invalid_grant"})
        elif form.get("grant_type") == "refresh_token":
            old = form.get("refresh_token", "")
            if old not in self.valid_refresh_tokens:
                return FakeResponse(status=400, json={"error": "invalid_grant"})
            self.valid_refresh_tokens.discard(old)
        else:
            return FakeResponse(status=400, json={"error": "unsupported_grant_type"})
        return FakeResponse(
            json={
                "access_token": self.access_token(),
                "expires_in": 1199,
                "token_type": "Bearer",
                "refresh_token": self._new_refresh_token(),
            }
        )

    def _revoke(self, request: RecordedRequest) -> FakeResponse:
        """The revocation endpoint."""
        if not self._basic_ok(request):
            return FakeResponse(status=401, json={"error": "invalid_client"})
        token = {k: v[0] for k, v in request.form().items()}.get("token", "")
        self.valid_refresh_tokens.discard(token)
        return FakeResponse(status=200)


@pytest.fixture
def fake_sso(fake_server: FakeHttpServer, rsa_key: rsa.RSAPrivateKey, settings: Any) -> FakeSso:
    """A fake SSO, with the settings pointing at it (secret, encryption key, short retry delay)."""
    settings.EVE_SSO_URL = fake_server.url
    settings.EVE_CLIENT_SECRET = CLIENT_SECRET
    settings.TOKEN_ENCRYPTION_KEY = ENCRYPTION_KEY
    settings.EVE_SSO_RETRY_DELAY_SECONDS = 0.01
    return FakeSso(fake_server, rsa_key, settings.EVE_CLIENT_ID)


def login_start(client: Client) -> dict[str, str]:
    """Begin the login; return the authorize redirect's query parameters."""
    response = client.post("/auth/login/eveonline/")
    assert response.status_code == 302, response.content
    query = {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}
    query["_location"] = response["Location"]
    return query


def login(client: Client, sso: FakeSso) -> Any:
    """Run the whole login flow; return the callback's response."""
    query = login_start(client)
    code = sso.authorize(query["code_challenge"])
    return client.get("/auth/complete/eveonline/", {"code": code, "state": query["state"]})


@pytest.fixture
def systems(db: None) -> dict[str, SolarSystem]:
    """A few real solar systems (kept when the SDE is already loaded)."""
    forge, _ = Region.objects.get_or_create(id=10000002, defaults={"name": "The Forge", "x": 0, "y": 0, "z": 0})
    domain, _ = Region.objects.get_or_create(id=10000043, defaults={"name": "Domain", "x": 0, "y": 0, "z": 0})
    kimotoro, _ = Constellation.objects.get_or_create(
        id=20000020, defaults={"name": "Kimotoro", "region": forge, "x": 0, "y": 0, "z": 0}
    )
    throne, _ = Constellation.objects.get_or_create(
        id=20000322, defaults={"name": "Throne Worlds", "region": domain, "x": 0, "y": 0, "z": 0}
    )
    rows = {
        "Jita": (30000142, kimotoro, 0.946),
        "Perimeter": (30000144, kimotoro, 0.957),
        "Amarr": (30002187, throne, 1.0),
    }
    out = {}
    for name, (system_id, constellation, security) in rows.items():
        out[name], _ = SolarSystem.objects.get_or_create(
            id=system_id,
            defaults={
                "name": name,
                "region": constellation.region,
                "constellation": constellation,
                "security": security,
                "x": 0,
                "y": 0,
                "z": 0,
            },
        )
    return out


def _client(username: str) -> tuple[APIClient, Any]:
    """Return an API client logged in as a new user."""
    user = get_user_model().objects.create_user(username, password="pw-not-used")
    client = APIClient()
    client.force_login(user)
    return client, user


@pytest.fixture
def alice(db: None) -> tuple[APIClient, Any]:
    """A logged-in user."""
    return _client("alice")


@pytest.fixture
def bob(db: None) -> tuple[APIClient, Any]:
    """Another logged-in user."""
    return _client("bob")
