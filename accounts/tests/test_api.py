"""GET /api/me/, /api/me/settings/ and /api/me/routes/: each user only ever sees their own data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.crypto import token_encrypt
from accounts.models import EveCharacter, EveToken, SavedRoute, UserSettings
from accounts.selectors import user_settings_get
from universe.models import SolarSystem, Station

pytestmark = pytest.mark.django_db


def test_anonymous_users_get_403_everywhere() -> None:
    """Every /api/me/ endpoint needs a login."""
    client = APIClient()
    for method, url in [
        ("get", "/api/me/"),
        ("get", "/api/me/settings/"),
        ("put", "/api/me/settings/"),
        ("get", "/api/me/routes/"),
        ("post", "/api/me/routes/"),
        ("delete", "/api/me/routes/"),
        ("get", "/api/me/routes/1/"),
        ("patch", "/api/me/routes/1/"),
        ("delete", "/api/me/routes/1/"),
        ("post", "/api/auth/logout/"),
    ]:
        assert getattr(client, method)(url).status_code == 403, (method, url)


def test_me_without_a_character(alice: tuple[APIClient, Any]) -> None:
    """A password-only user (the admin) has no character."""
    client, user = alice
    body = client.get("/api/me/").json()
    assert body["user_id"] == user.pk
    assert body["character_id"] is None
    assert body["portrait_url"] is None
    assert body["sso_token"] is False


def test_me_with_a_character(alice: tuple[APIClient, Any]) -> None:
    """Character id, name and the portrait through the image cache endpoint."""
    client, user = alice
    EveCharacter.objects.create(user=user, character_id=95465499, name="CCP Bartender")
    body = client.get("/api/me/").json()
    assert body["character_id"] == 95465499
    assert body["character_name"] == "CCP Bartender"
    assert body["portrait_url"] == "/api/images/character/95465499?size=128"
    assert set(body["portraits"]) == {"32", "64", "128", "256", "512"}
    assert body["sso_token"] is False


def test_settings_defaults_then_put_then_patch(alice: tuple[APIClient, Any], systems: dict[str, SolarSystem]) -> None:
    """Unsaved settings show the site defaults; PUT saves all fields; PATCH changes some."""
    client, user = alice
    assert user_settings_get(user=user) is None
    body = client.get("/api/me/settings/").json()
    assert body == {
        "sales_tax": django_settings.MARKET_DEFAULT_SALES_TAX,
        "broker_fee": django_settings.MARKET_DEFAULT_BROKER_FEE,
        "home_station_id": None,
        "default_route_mode": "shortest",
        "avoid": [],
        "saved": False,
    }
    Station.objects.get_or_create(
        id=60003760,
        defaults={
            "name": "Jita IV - Moon 4 - Caldari Navy Assembly Plant",
            "system": systems["Jita"],
            "region": systems["Jita"].region,
            "security": 0.946,
            "type_id": 1529,
            "x": 0,
            "y": 0,
            "z": 0,
        },
    )
    payload = {
        "sales_tax": 3.37,
        "broker_fee": 1.5,
        "home_station_id": 60003760,
        "default_route_mode": "secure",
        "avoid": ["perimeter", str(systems["Amarr"].id)],
    }
    response = client.put("/api/me/settings/", payload, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["saved"] is True
    assert body["avoid"] == [{"id": 30000144, "name": "Perimeter"}, {"id": 30002187, "name": "Amarr"}]
    saved = user_settings_get(user=user)
    assert saved is not None
    assert (saved.sales_tax, saved.broker_fee, saved.home_station_id) == (3.37, 1.5, 60003760)
    assert saved.default_route_mode == "secure"
    assert saved.avoid == [30000144, 30002187]

    response = client.patch("/api/me/settings/", {"broker_fee": 2.25, "home_station_id": None}, format="json")
    assert response.status_code == 200, response.content
    saved.refresh_from_db()
    assert (saved.sales_tax, saved.broker_fee, saved.home_station_id) == (3.37, 2.25, None)
    assert UserSettings.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"sales_tax": 101}, 400),
        ({"broker_fee": -1}, 400),
        ({"default_route_mode": "fastest"}, 400),
        ({"avoid": ["No Such System"]}, 404),
        ({"home_station_id": 60999999}, 404),
        ({"home_station_id": 1_035_466_617_946}, 200),  # a player structure: not in the SDE, accepted
    ],
)
def test_settings_validation(
    alice: tuple[APIClient, Any], systems: dict[str, SolarSystem], change: dict[str, Any], status: int
) -> None:
    """Bad percentages, modes, systems and unknown NPC stations are refused with 400."""
    client, user = alice
    response = client.patch("/api/me/settings/", change, format="json")
    assert response.status_code == status, response.content
    assert UserSettings.objects.filter(user=user).exists() is (status == 200)


def test_put_needs_every_field(alice: tuple[APIClient, Any]) -> None:
    """PUT replaces: a partial body is a 400."""
    client, _ = alice
    assert client.put("/api/me/settings/", {"sales_tax": 5}, format="json").status_code == 400


def test_settings_are_per_user(
    alice: tuple[APIClient, Any], bob: tuple[APIClient, Any], systems: dict[str, SolarSystem]
) -> None:
    """Bob's settings do not change Alice's."""
    alice_client, alice_user = alice
    bob_client, _ = bob
    alice_client.patch("/api/me/settings/", {"sales_tax": 1.0}, format="json")
    bob_client.patch("/api/me/settings/", {"sales_tax": 7.5}, format="json")
    assert alice_client.get("/api/me/settings/").json()["sales_tax"] == 1.0
    assert bob_client.get("/api/me/settings/").json()["sales_tax"] == 7.5
    assert user_settings_get(user=alice_user).sales_tax == 1.0  # type: ignore[union-attr]


def test_routes_create_list_get_delete(alice: tuple[APIClient, Any], systems: dict[str, SolarSystem]) -> None:
    """POST saves (names or ids), GET lists and fetches, DELETE removes."""
    client, _ = alice
    response = client.post(
        "/api/me/routes/",
        {"name": "Jita run", "origin": "jita", "destination": "30002187", "mode": "secure", "avoid": ["Perimeter"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    route = response.json()
    assert route["origin"] == {"id": 30000142, "name": "Jita"}
    assert route["destination"] == {"id": 30002187, "name": "Amarr"}
    assert route["mode"] == "secure"
    assert route["avoid"] == [{"id": 30000144, "name": "Perimeter"}]
    assert route["created"]
    second = client.post("/api/me/routes/", {"name": "Back", "origin": "Amarr", "destination": "Jita"}, format="json")
    assert second.status_code == 201
    assert second.json()["mode"] == "shortest"

    listing = client.get("/api/me/routes/").json()
    assert listing["count"] == 2
    assert [r["name"] for r in listing["results"]] == ["Back", "Jita run"]
    assert client.get(f"/api/me/routes/{route['id']}/").json()["name"] == "Jita run"

    assert client.delete(f"/api/me/routes/{route['id']}/").status_code == 204
    assert client.get(f"/api/me/routes/{route['id']}/").status_code == 404
    assert client.delete("/api/me/routes/").json() == {"deleted": 1}
    assert client.get("/api/me/routes/").json()["count"] == 0


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"name": "x", "origin": "Nowhere", "destination": "Jita"}, 404),
        ({"name": "x", "origin": "Jita", "destination": "Amarr", "mode": "warp"}, 400),
        ({"name": "x", "origin": "Jita", "destination": "Amarr", "avoid": ["99999999"]}, 404),
        ({"name": "  ", "origin": "Jita", "destination": "Amarr"}, 400),
        ({"origin": "Jita", "destination": "Amarr"}, 400),
    ],
)
def test_route_validation(
    alice: tuple[APIClient, Any], systems: dict[str, SolarSystem], payload: dict, status: int
) -> None:
    """Unknown systems are 404s (as in GET /api/routes/); bad modes and names 400s; nothing is saved."""
    client, _ = alice
    response = client.post("/api/me/routes/", payload, format="json")
    assert response.status_code == status, response.content
    assert SavedRoute.objects.count() == 0


def test_route_names_are_unique_per_user(
    alice: tuple[APIClient, Any], bob: tuple[APIClient, Any], systems: dict[str, SolarSystem]
) -> None:
    """Alice cannot save two routes with one name; Bob can use the same name."""
    payload = {"name": "Trade", "origin": "Jita", "destination": "Amarr"}
    assert alice[0].post("/api/me/routes/", payload, format="json").status_code == 201
    assert alice[0].post("/api/me/routes/", payload, format="json").status_code == 409
    assert bob[0].post("/api/me/routes/", payload, format="json").status_code == 201


def test_another_users_route_answers_404(
    alice: tuple[APIClient, Any], bob: tuple[APIClient, Any], systems: dict[str, SolarSystem]
) -> None:
    """Bob can neither list, read nor delete Alice's route: its id answers 404, and it survives."""
    alice_client, _ = alice
    bob_client, _ = bob
    route_id = alice_client.post(
        "/api/me/routes/", {"name": "Mine", "origin": "Jita", "destination": "Amarr"}, format="json"
    ).json()["id"]
    assert bob_client.get("/api/me/routes/").json()["count"] == 0
    assert bob_client.get(f"/api/me/routes/{route_id}/").status_code == 404
    assert bob_client.delete(f"/api/me/routes/{route_id}/").status_code == 404
    assert bob_client.delete("/api/me/routes/").json() == {"deleted": 0}
    assert alice_client.get(f"/api/me/routes/{route_id}/").status_code == 200
    assert SavedRoute.objects.filter(pk=route_id).exists()


def test_selector_for_other_apps(alice: tuple[APIClient, Any]) -> None:
    """user_settings_get: None for anonymous users and users without settings, the row otherwise."""
    _, user = alice
    assert user_settings_get(user=AnonymousUser()) is None
    assert user_settings_get(user=None) is None
    assert user_settings_get(user=user) is None
    UserSettings.objects.create(user=user, sales_tax=4.0, broker_fee=2.0)
    row = user_settings_get(user=user)
    assert row is not None
    assert row.sales_tax == 4.0
    assert row.avoid == []


def test_admin_pages_never_show_tokens(settings: Any) -> None:
    """The admin lists characters, settings and routes, and never renders an encrypted or plain token."""
    settings.TOKEN_ENCRYPTION_KEY = "admin-test-key"

    admin_user = get_user_model().objects.create_superuser("root", "root@example.org", "pw")
    character = EveCharacter.objects.create(user=admin_user, character_id=90000001, name="Admin Pilot")
    token = EveToken.objects.create(
        character=character,
        scopes=["esi-location.read_location.v1"],
        access_token_encrypted=token_encrypt(plaintext="plain-access-token-xyz"),
        access_token_expires_at=timezone.now(),
        refresh_token_encrypted=token_encrypt(plaintext="plain-refresh-token-xyz"),
    )
    client = APIClient()
    client.force_login(admin_user)
    for url in [
        "/admin/accounts/evecharacter/",
        f"/admin/accounts/evecharacter/{character.pk}/change/",
        "/admin/accounts/usersettings/",
        "/admin/accounts/savedroute/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        for secret in ("plain-access-token-xyz", "plain-refresh-token-xyz"):
            assert secret not in html
        assert token.refresh_token_encrypted not in html
        assert token.access_token_encrypted not in html
    assert (
        "esi-location.read_location.v1"
        in client.get(f"/admin/accounts/evecharacter/{character.pk}/change/").content.decode()
    )
    assert client.get("/admin/accounts/evetoken/").status_code == 404


def test_sso_settings_defaults_are_pinned() -> None:
    """With the environment unset, settings.py gives the documented defaults (tests shrink some)."""
    names = [
        "EVE_SSO_URL",
        "EVE_CALLBACK_URL",
        "EVE_SSO_SCOPES",
        "EVE_SSO_ISSUERS",
        "EVE_SSO_TIMEOUT_SECONDS",
        "EVE_SSO_RETRIES",
        "EVE_SSO_RETRY_DELAY_SECONDS",
        "EVE_SSO_JWKS_CACHE_SECONDS",
        "EVE_SSO_JWT_LEEWAY_SECONDS",
        "EVE_TOKEN_REFRESH_MARGIN_SECONDS",
        "EVE_LOGIN_REDIRECT_URL",
        "EVE_CLIENT_ID",
    ]
    env = {k: v for k, v in os.environ.items() if k not in names}
    env["DJANGO_SETTINGS_MODULE"] = "evesite.settings.production"
    code = (
        "import evesite.settings.production as s; print(repr((s.EVE_SSO_URL, s.EVE_CALLBACK_URL, s.EVE_SSO_SCOPES, "
        "s.EVE_SSO_ISSUERS, s.EVE_SSO_TIMEOUT_SECONDS, s.EVE_SSO_RETRIES, s.EVE_SSO_RETRY_DELAY_SECONDS, "
        "s.EVE_SSO_JWKS_CACHE_SECONDS, s.EVE_SSO_JWT_LEEWAY_SECONDS, s.EVE_TOKEN_REFRESH_MARGIN_SECONDS, "
        "s.SOCIAL_AUTH_LOGIN_REDIRECT_URL, s.EVE_CLIENT_ID, s.AUTHENTICATION_BACKENDS[0])))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=Path(django_settings.BASE_DIR),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    assert out == repr(
        (
            "https://login.eveonline.com",
            "http://localhost:7777/auth/complete/eveonline/",
            ["esi-location.read_location.v1", "esi-markets.structure_markets.v1"],
            ["login.eveonline.com", "https://login.eveonline.com"],
            10.0,
            2,
            1.0,
            3600.0,
            5.0,
            60.0,
            "/api/me/",
            "5e0952c68665441aae27846cb735138e",
            "accounts.backends.EveOnlineSsoV2",
        )
    )


def test_writes_need_the_csrf_token(systems: dict[str, SolarSystem], settings: Any) -> None:
    """With CSRF checks on (as in a browser), a write without the token is refused; with it, accepted."""
    settings.EVE_CLIENT_SECRET = "csrf-test-secret"  # SSO configured: the login info answers 200
    settings.TOKEN_ENCRYPTION_KEY = "csrf-test-key"
    user = get_user_model().objects.create_user("carol", password="pw-not-used")
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.patch("/api/me/settings/", {"sales_tax": 2.0}, format="json").status_code == 403
    token = client.get("/api/auth/login/").json()["csrf_token"]
    response = client.patch("/api/me/settings/", {"sales_tax": 2.0}, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200, response.content
