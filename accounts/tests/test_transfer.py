"""A character sold to another account (new owner hash): a fresh user, the seller's sessions end, nothing carries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.cache import KEY_PREFIX
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from django_redis import get_redis_connection
from rest_framework.test import APIClient
from social_django.models import UserSocialAuth

from accounts import crypto, sso
from accounts.models import EveCharacter, EveToken, SavedRoute, UserSettings
from accounts.tests.conftest import CHARACTER_ID, FakeSso, login
from accounts.tokens import character_access_token_fresh
from accounts.user_sessions import user_sessions_delete
from universe.models import SolarSystem

pytestmark = pytest.mark.django_db


def _session_exists(client: Client) -> bool:
    """Tell whether the client's session is still in Redis (read straight from Redis)."""
    key = cache.make_key(KEY_PREFIX + client.cookies[django_settings.SESSION_COOKIE_NAME].value)
    return bool(get_redis_connection("default").exists(key))


def _logged_in(fake_sso: FakeSso, client: Client | None = None) -> tuple[Client, Any]:
    """Log a client in through the whole SSO flow; return it and the character's user."""
    client = client or Client()
    assert login(client, fake_sso).status_code == 302
    return client, EveCharacter.objects.get(character_id=CHARACTER_ID).user


def _me(client: Client) -> Any:
    """GET /api/me/."""
    return client.get("/api/me/")


def _personalize(client: Client) -> None:
    """Save settings and a route through the API, as the logged-in user."""
    api = APIClient()
    api.cookies = client.cookies
    assert api.patch("/api/me/settings/", {"sales_tax": 2.0}, format="json").status_code == 200
    payload = {"name": "Home run", "origin": "Jita", "destination": "Amarr"}
    assert api.post("/api/me/routes/", payload, format="json").status_code == 201


def test_a_sold_character_logs_in_as_a_fresh_user(
    fake_sso: FakeSso, systems: dict[str, SolarSystem], django_capture_on_commit_callbacks: Any
) -> None:
    """New owner hash: fresh user, the seller's two sessions deleted, the seller keeps nothing of the character."""
    seller_client, seller = _logged_in(fake_sso)
    second_device, _ = _logged_in(fake_sso)
    _personalize(seller_client)
    seller.is_staff = seller.is_superuser = True
    seller.save()
    seller_token = EveToken.objects.get(character__user=seller)
    seller_refresh = crypto.token_decrypt(ciphertext=seller_token.refresh_token_encrypted)
    assert _session_exists(seller_client)
    assert _session_exists(second_device)

    fake_sso.owner_hash = "owner-hash-of-the-buyer"
    buyer_client = Client()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert login(buyer_client, fake_sso).status_code == 302

    buyer = get_user_model().objects.get(pk=_me(buyer_client).json()["user_id"])
    assert buyer.pk != seller.pk
    assert not buyer.is_staff
    assert not buyer.is_superuser
    character = EveCharacter.objects.get(character_id=CHARACTER_ID)
    assert (character.user_id, character.owner_hash) == (buyer.pk, "owner-hash-of-the-buyer")
    assert list(UserSocialAuth.objects.filter(uid=str(CHARACTER_ID)).values_list("user_id", flat=True)) == [buyer.pk]
    assert not UserSettings.objects.filter(user=buyer).exists()
    assert not SavedRoute.objects.filter(user=buyer).exists()
    body = _me(buyer_client).json()
    assert body["character_id"] == CHARACTER_ID
    assert body["sso_token"] is True
    buyer_token = EveToken.objects.get(character=character)
    assert buyer_token.pk != seller_token.pk
    assert crypto.token_decrypt(ciphertext=buyer_token.refresh_token_encrypted) != seller_refresh

    # The seller: sessions gone from Redis, no character, token, association, settings or routes.
    assert not _session_exists(seller_client)
    assert not _session_exists(second_device)
    assert _me(seller_client).status_code == 403
    assert _me(second_device).status_code == 403
    assert not EveCharacter.objects.filter(user=seller).exists()
    assert not EveToken.objects.filter(pk=seller_token.pk).exists()
    assert not UserSocialAuth.objects.filter(user=seller).exists()
    assert not UserSettings.objects.filter(user=seller).exists()
    assert not SavedRoute.objects.filter(user=seller).exists()
    seller.refresh_from_db()
    assert not seller.has_usable_password()
    # The seller's refresh token is revoked at SSO once the login commits (as on logout).
    (revocation,) = [c.args[0] for c in callbacks if getattr(c, "args", None)]
    assert revocation.character_id == CHARACTER_ID
    assert crypto.token_decrypt(ciphertext=revocation.refresh_token_encrypted) == seller_refresh


def test_the_same_owner_keeps_the_user_and_its_sessions(fake_sso: FakeSso, systems: dict[str, SolarSystem]) -> None:
    """Logging in again with an unchanged owner hash: same user, data and other sessions untouched."""
    first, user = _logged_in(fake_sso)
    _personalize(first)
    second, again = _logged_in(fake_sso)
    assert again.pk == user.pk
    assert _session_exists(first)
    assert _me(first).json()["user_id"] == user.pk
    assert _me(second).json()["user_id"] == user.pk
    assert SavedRoute.objects.filter(user=user).count() == 1
    assert UserSettings.objects.filter(user=user).exists()


def test_a_buyer_on_the_sellers_logged_in_browser_ends_on_a_fresh_user(fake_sso: FakeSso) -> None:
    """The browser still holds the seller's session: the login replaces it with the fresh user's."""
    client, seller = _logged_in(fake_sso)
    seller_session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    fake_sso.owner_hash = "owner-hash-of-the-buyer"
    assert login(client, fake_sso).status_code == 302
    body = _me(client).json()
    assert body["user_id"] != seller.pk
    assert body["character_id"] == CHARACTER_ID
    assert client.cookies[django_settings.SESSION_COOKIE_NAME].value != seller_session
    assert not get_redis_connection("default").exists(cache.make_key(KEY_PREFIX + seller_session))
    assert EveCharacter.objects.get(character_id=CHARACTER_ID).user_id == body["user_id"]


def test_a_seller_with_a_password_keeps_their_account(fake_sso: FakeSso, systems: dict[str, SolarSystem]) -> None:
    """An admin who also logs in with a password keeps settings, routes and flags; loses character and sessions."""
    client, seller = _logged_in(fake_sso)
    _personalize(client)
    seller.set_password("admin-password-1234")
    seller.is_staff = True
    seller.save()
    admin_client = Client()
    assert admin_client.login(username=seller.username, password="admin-password-1234")

    fake_sso.owner_hash = "owner-hash-of-the-buyer"
    _, buyer = _logged_in(fake_sso)
    assert buyer.pk != seller.pk
    assert not buyer.is_staff
    assert not _session_exists(client)
    assert not _session_exists(admin_client)
    seller.refresh_from_db()
    assert seller.is_staff
    assert seller.check_password("admin-password-1234")
    assert SavedRoute.objects.filter(user=seller).count() == 1
    assert UserSettings.objects.filter(user=seller).exists()
    assert not EveCharacter.objects.filter(user=seller).exists()
    assert not UserSocialAuth.objects.filter(user=seller).exists()
    assert not SavedRoute.objects.filter(user=buyer).exists()
    relogin = Client()
    assert relogin.login(username=seller.username, password="admin-password-1234")
    assert _me(relogin).json()["character_id"] is None


def test_a_session_missing_from_the_index_ends_at_its_next_request(fake_sso: FakeSso) -> None:
    """A session older than the index (or a race) still ends: the renewed session hash makes Django flush it."""
    client, seller = _logged_in(fake_sso)
    get_redis_connection("default").delete(cache.make_key(f"accounts:user-sessions:{seller.pk}"))
    fake_sso.owner_hash = "owner-hash-of-the-buyer"
    _logged_in(fake_sso)
    assert _session_exists(client)  # the index never knew it
    assert _me(client).status_code == 403
    assert not _session_exists(client)


def test_the_session_index_follows_logins_and_logouts(fake_sso: FakeSso) -> None:
    """Each login adds its session, logout removes it, expired sessions are dropped; deleting ends the rest."""
    redis = get_redis_connection("default")
    first, user = _logged_in(fake_sso)
    second, _ = _logged_in(fake_sso)
    third, _ = _logged_in(fake_sso)
    index = cache.make_key(f"accounts:user-sessions:{user.pk}")
    assert redis.scard(index) == 3
    assert second.post("/api/auth/logout/").status_code == 200
    assert redis.scard(index) == 2
    redis.delete(cache.make_key(KEY_PREFIX + third.cookies[django_settings.SESSION_COOKIE_NAME].value))  # expired
    _logged_in(fake_sso)
    assert redis.scard(index) == 2  # the expired one was dropped, the new one added
    assert user_sessions_delete(user_id=user.pk) == 2
    assert not redis.exists(index)
    assert _me(first).status_code == 403


def test_a_refresh_naming_a_new_owner_drops_the_token(fake_sso: FakeSso) -> None:
    """Should SSO refresh a token into another owner's, the stored token is dropped: the new owner must log in."""
    _, seller = _logged_in(fake_sso)
    fake_sso.owner_hash = "owner-hash-of-the-buyer"
    EveToken.objects.filter(character__user=seller).update(
        access_token_expires_at=timezone.now() + timedelta(seconds=5)
    )
    with pytest.raises(sso.SsoLoginRequiredError):
        character_access_token_fresh(user=seller)
    assert not EveToken.objects.filter(character__user=seller).exists()
