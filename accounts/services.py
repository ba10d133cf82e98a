"""Writes of accounts: SSO tokens (encrypted), logout (token deletion, queued revocation), settings and routes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError
from social_django.models import Nonce

from accounts import sso
from accounts.crypto import TokenDecryptionError, token_decrypt, token_encrypt
from accounts.models import EveCharacter, EveToken, RouteMode, SavedRoute, UserSettings
from accounts.selectors import STRUCTURE_ID_MIN, saved_route_get, solar_systems_resolve, user_settings_effective
from esi.client import EsiClient, EsiResponse
from evesite.exceptions import ConflictError, InvalidInputError, NotFoundError
from universe.models import Station

logger = logging.getLogger(__name__)

# The Celery task that revokes a refresh token after logout (sent by name: tasks import this module).
REVOKE_REFRESH_TOKEN_TASK = "accounts.revoke_refresh_token"  # noqa: S105 (a task name, not a secret)


def eve_character_login_store(
    *,
    user: Any,
    character_id: int,
    name: str,
    owner_hash: str,
    scopes: Sequence[str],
    access_token: str,
    access_token_expires_at: datetime,
    refresh_token: str | None,
) -> EveCharacter:
    """Record the character a user logged in with and its tokens, encrypted.

    A character whose owner hash changed never reaches this point with its
    previous user: ``accounts.transfer`` detached it earlier in the pipeline.

    Args:
        user: The site user social-auth logged in.
        character_id: The character's id.
        name: The character's name.
        owner_hash: CCP's owner hash.
        scopes: Granted scopes.
        access_token: The validated access token.
        access_token_expires_at: Its expiry.
        refresh_token: The refresh token (None when CCP gave none).

    Returns:
        The character.
    """
    with transaction.atomic():
        character = EveCharacter.objects.select_for_update().filter(character_id=character_id).first()
        if character is None:
            EveCharacter.objects.filter(user=user).delete()
            character = EveCharacter(user=user, character_id=character_id)
        character.name = name
        character.owner_hash = owner_hash
        character.save()
        if refresh_token:
            EveToken.objects.update_or_create(
                character=character,
                defaults={
                    "scopes": list(scopes),
                    "access_token_encrypted": token_encrypt(plaintext=access_token),
                    "access_token_expires_at": access_token_expires_at,
                    "refresh_token_encrypted": token_encrypt(plaintext=refresh_token),
                },
            )
        else:
            EveToken.objects.filter(character=character).delete()
    logger.info("EVE character %d logged in (user %s)", character_id, user.pk)
    return character


def _fresh(token: EveToken) -> bool:
    """Tell whether a stored access token stays valid beyond the refresh margin.

    Args:
        token: The stored token.

    Returns:
        True when no refresh is needed yet.
    """
    margin = timedelta(seconds=settings.EVE_TOKEN_REFRESH_MARGIN_SECONDS)
    return token.access_token_expires_at - margin > timezone.now()


def _token_refresh(token: EveToken) -> str | None:
    """Refresh a locked token row in place.

    Args:
        token: The row, locked ``select_for_update``.

    Returns:
        The new access token, or None when SSO rejected the refresh token or the character changed owner
        (the row is then deleted).
    """
    try:
        refresh_token = token_decrypt(ciphertext=token.refresh_token_encrypted)
        answer = sso.token_refresh(refresh_token=refresh_token)
    except (sso.SsoGrantRejectedError, TokenDecryptionError) as error:
        logger.warning("EVE character %d: stored refresh token unusable (%s)", token.character.character_id, error)
        token.delete()
        return None
    claims = sso.access_token_validate(access_token=answer.access_token)
    if claims.character_id != token.character.character_id:
        raise sso.SsoError("EVE SSO refreshed a token for another character")
    if claims.owner_hash and token.character.owner_hash not in ("", claims.owner_hash):
        logger.warning("EVE character %d changed owner: its stored token is dropped", token.character.character_id)
        token.delete()  # the character is someone else's now: only their own login may bring it back
        return None
    token.access_token_encrypted = token_encrypt(plaintext=answer.access_token)
    token.access_token_expires_at = claims.expires_at
    if answer.refresh_token:
        token.refresh_token_encrypted = token_encrypt(plaintext=answer.refresh_token)
    token.scopes = claims.scopes
    token.save()
    logger.info("EVE character %d: access token refreshed", token.character.character_id)
    return answer.access_token


def character_access_token_get(*, user: Any) -> tuple[int, str]:
    """Return a user's character id and a valid access token, refreshing it when it is about to expire.

    The refresh runs under a row lock, so concurrent callers refresh once
    and every caller sees the newest refresh token.

    Args:
        user: A logged-in user.

    Returns:
        (character id, access token).

    Raises:
        SsoLoginRequiredError: When the user has no usable token (never logged in, logged out, revoked).
        SsoError: When SSO fails.
    """
    token = EveToken.objects.select_related("character").filter(character__user=user).first()
    if token is None:
        raise sso.SsoLoginRequiredError("Log in with EVE Online to use this feature.")
    if _fresh(token):
        try:
            return token.character.character_id, token_decrypt(ciphertext=token.access_token_encrypted)
        except TokenDecryptionError:
            logger.warning("EVE character %d: stored access token unreadable", token.character.character_id)
    with transaction.atomic():
        locked = EveToken.objects.select_for_update().select_related("character").filter(pk=token.pk).first()
        access_token: str | None = None
        if locked is not None and _fresh(locked):
            try:
                access_token = token_decrypt(ciphertext=locked.access_token_encrypted)
            except TokenDecryptionError:
                access_token = None
        if locked is not None and access_token is None:
            access_token = _token_refresh(locked)
    if access_token is None:
        raise sso.SsoLoginRequiredError("The EVE SSO login expired or was revoked: log in again.")
    return token.character.character_id, access_token


def character_esi_get(*, user: Any, path: str, params: dict[str, Any] | None = None) -> EsiResponse:
    """Call an authenticated ESI route for a user's character, with a fresh access token.

    Args:
        user: A logged-in user.
        path: ESI path; ``{character_id}`` is filled in (e.g. ``/characters/{character_id}/location``).
        params: Query parameters.

    Returns:
        The ESI answer.
    """
    character_id, access_token = character_access_token_get(user=user)
    return EsiClient().get(path.format(character_id=character_id), params=params, token=access_token)


@dataclass(frozen=True)
class RefreshTokenRevocation:
    """A refresh token to revoke at EVE SSO after logout, still encrypted (its row is already deleted)."""

    character_id: int
    refresh_token_encrypted: str = field(repr=False)

    def task_kwargs(self) -> dict[str, Any]:
        """Return the keyword arguments of ``accounts.revoke_refresh_token``.

        Returns:
            ``{"character_id": ..., "refresh_token_encrypted": ...}``.
        """
        return {"character_id": self.character_id, "refresh_token_encrypted": self.refresh_token_encrypted}


def character_tokens_delete(*, user: Any) -> list[RefreshTokenRevocation]:
    """Delete a user's stored SSO tokens (logout) and hand back what revoking them at SSO needs.

    Nothing here talks to EVE SSO. The rows are read under a row lock, so a
    refresh running at the same time finishes first and the newest refresh
    token is the one returned; a refresh starting afterwards finds no row.

    Args:
        user: The user logging out.

    Returns:
        One revocation per deleted token (empty when the user had none), the
        refresh token still Fernet-encrypted as it was stored.
    """
    with transaction.atomic():
        tokens = list(EveToken.objects.select_for_update().select_related("character").filter(character__user=user))
        EveToken.objects.filter(pk__in=[t.pk for t in tokens]).delete()
    for token in tokens:
        logger.info("EVE character %d: tokens deleted on logout", token.character.character_id)
    return [
        RefreshTokenRevocation(
            character_id=token.character.character_id, refresh_token_encrypted=token.refresh_token_encrypted
        )
        for token in tokens
    ]


def _refresh_token_revocation_send(revocation: RefreshTokenRevocation) -> None:
    """Put one revocation on the Celery broker; a broker failure is one warning line (logout already happened).

    Args:
        revocation: What to revoke.
    """
    try:
        current_app.send_task(
            REVOKE_REFRESH_TOKEN_TASK,
            kwargs=revocation.task_kwargs(),
            kwargsrepr=repr({"character_id": revocation.character_id, "refresh_token_encrypted": "<hidden>"}),
        )
    except (OperationalError, OSError) as error:
        logger.warning(
            "EVE character %d: could not queue the refresh token's revocation (%s)",
            revocation.character_id,
            type(error).__name__,
        )
    else:
        logger.info("EVE character %d: refresh token revocation queued", revocation.character_id)


def refresh_token_revocation_queue(*, revocation: RefreshTokenRevocation) -> None:
    """Queue ``accounts.revoke_refresh_token`` for a deleted token, once the current transaction commits.

    The message carries the refresh token encrypted with ``TOKEN_ENCRYPTION_KEY``
    (the ciphertext that was stored), so neither the broker nor Celery's logs
    ever hold a usable token.

    Args:
        revocation: What ``character_tokens_delete`` returned.
    """
    transaction.on_commit(partial(_refresh_token_revocation_send, revocation))


def refresh_token_revoke(*, refresh_token_encrypted: str, retries: int | None = None) -> None:
    """Revoke a refresh token at EVE SSO (the background half of logout; no database access).

    Revoking a token twice is harmless, so callers may retry.

    Args:
        refresh_token_encrypted: The refresh token, encrypted by ``accounts.crypto.token_encrypt``.
        retries: In-process attempts after the first on connection errors and 5xx (None: the setting).

    Raises:
        TokenDecryptionError: When ``TOKEN_ENCRYPTION_KEY`` changed since the token was stored.
        SsoUnavailableError: When SSO cannot be reached or answers 5xx (worth trying again).
        SsoError: When SSO refuses the revocation.
    """
    sso.token_revoke(refresh_token=token_decrypt(ciphertext=refresh_token_encrypted), retries=retries)


def _station_check(station_id: int | None) -> None:
    """Check that a home station exists (NPC stations must be in the SDE; structures are trusted).

    Args:
        station_id: The station or structure id, or None.

    Raises:
        InvalidInputError: When an NPC station id is unknown.
    """
    if station_id is None or station_id >= STRUCTURE_ID_MIN:
        return
    if not Station.objects.filter(pk=station_id).exists():
        raise NotFoundError(f"Unknown station {station_id}.", field="home_station_id")


def _mode_check(mode: str) -> str:
    """Check a route mode.

    Args:
        mode: The mode.

    Returns:
        The mode.

    Raises:
        InvalidInputError: When the mode is unknown.
    """
    if mode not in RouteMode.values:
        raise InvalidInputError(f"Unknown route mode {mode!r}; use one of {', '.join(RouteMode.values)}.")
    return mode


def _percent_check(name: str, value: float) -> float:
    """Check a percentage.

    Args:
        name: Field name for the error.
        value: The value.

    Returns:
        The value as a float.

    Raises:
        InvalidInputError: Outside 0-100.
    """
    if not 0.0 <= float(value) <= 100.0:
        raise InvalidInputError(f"{name} must be a percentage between 0 and 100.", field=name)
    return float(value)


def user_settings_update(
    *,
    user: Any,
    sales_tax: float | None = None,
    broker_fee: float | None = None,
    home_station_id: int | None = None,
    default_route_mode: str | None = None,
    avoid: Sequence[int | str] | None = None,
    clear_home_station: bool = False,
) -> UserSettings:
    """Create or update a user's settings; arguments left None keep their value.

    Args:
        user: A logged-in user.
        sales_tax: Sales tax, percent.
        broker_fee: Broker fee, percent.
        home_station_id: Home station (NPC station or structure id).
        default_route_mode: ``shortest``, ``secure`` or ``insecure``.
        avoid: Systems to avoid (ids or names), replacing the list.
        clear_home_station: Unset the home station.

    Returns:
        The saved settings.
    """
    current = user_settings_effective(user=user)
    if sales_tax is not None:
        current.sales_tax = _percent_check("sales_tax", sales_tax)
    if broker_fee is not None:
        current.broker_fee = _percent_check("broker_fee", broker_fee)
    if clear_home_station:
        current.home_station_id = None
    elif home_station_id is not None:
        _station_check(home_station_id)
        current.home_station_id = home_station_id
    if default_route_mode is not None:
        current.default_route_mode = _mode_check(default_route_mode)
    if avoid is not None:
        current.avoid = list(dict.fromkeys(s.id for s in solar_systems_resolve(refs=avoid)))
    current.save()
    return current


def _route_name(name: str) -> str:
    """Return a saved route's name, stripped; an empty one is an InvalidInputError."""
    name = name.strip()
    if not name:
        raise InvalidInputError("A saved route needs a name.", field="name")
    return name


def _route_save(route: SavedRoute) -> SavedRoute:
    """Save a route; a name the user already gave another route is an InvalidInputError."""
    try:
        with transaction.atomic():
            route.save()
    except IntegrityError:
        raise ConflictError(f"You already have a saved route named {route.name!r}.", field="name") from None
    return route


def saved_route_create(
    *,
    user: Any,
    name: str,
    origin: int | str,
    destination: int | str,
    mode: str = RouteMode.SHORTEST,
    avoid: Sequence[int | str] = (),
) -> SavedRoute:
    """Save a route for a user.

    Args:
        user: A logged-in user.
        name: The route's name (unique per user).
        origin: Origin system id or name.
        destination: Destination system id or name.
        mode: Route mode.
        avoid: Systems to avoid, ids or names.

    Returns:
        The saved route.

    Raises:
        InvalidInputError: On an empty or taken name, unknown systems or mode.
    """
    name = _route_name(name)
    origin_system, destination_system = solar_systems_resolve(refs=[origin, destination])
    avoid_ids = list(dict.fromkeys(s.id for s in solar_systems_resolve(refs=list(avoid))))
    route = SavedRoute(
        user=user,
        name=name,
        origin_id=origin_system.id,
        destination_id=destination_system.id,
        mode=_mode_check(mode),
        avoid=avoid_ids,
    )
    return _route_save(route)


def saved_route_update(
    *,
    user: Any,
    route_id: int,
    name: str | None = None,
    origin: int | str | None = None,
    destination: int | str | None = None,
    mode: str | None = None,
    avoid: Sequence[int | str] | None = None,
) -> SavedRoute:
    """Change one of a user's saved routes; arguments left None keep their value.

    Args:
        user: A logged-in user.
        route_id: The route's id.
        name: New name (unique per user).
        origin: New origin system id or name.
        destination: New destination system id or name.
        mode: New route mode.
        avoid: Systems to avoid, ids or names, replacing the list.

    Returns:
        The saved route.

    Raises:
        NotFoundError: When the user has no such route (someone else's route included).
        InvalidInputError: On an empty or taken name, unknown systems or mode.
    """
    route = saved_route_get(user=user, route_id=route_id)
    if name is not None:
        route.name = _route_name(name)
    if origin is not None:
        route.origin_id = solar_systems_resolve(refs=[origin])[0].id
    if destination is not None:
        route.destination_id = solar_systems_resolve(refs=[destination])[0].id
    if mode is not None:
        route.mode = _mode_check(mode)
    if avoid is not None:
        route.avoid = list(dict.fromkeys(s.id for s in solar_systems_resolve(refs=list(avoid))))
    return _route_save(route)


def saved_route_delete(*, user: Any, route_id: int) -> None:
    """Delete one of a user's saved routes.

    Args:
        user: A logged-in user.
        route_id: The route's id.

    Raises:
        NotFoundError: When the user has no such route (someone else's route included).
    """
    saved_route_get(user=user, route_id=route_id).delete()


def saved_routes_delete_all(*, user: Any) -> int:
    """Delete every saved route of a user.

    Args:
        user: A logged-in user.

    Returns:
        How many routes were deleted.
    """
    deleted, _ = SavedRoute.objects.filter(user=user).delete()
    return deleted


def sso_nonces_purge(*, older_than_seconds: float) -> int:
    """Delete login ``state`` nonces of logins that were started but never completed.

    social-core records one nonce per login start and deletes it when the
    callback consumes it; abandoned logins would otherwise stay forever.

    Args:
        older_than_seconds: Age past which a nonce is useless (longer than the state lifetime).

    Returns:
        How many were deleted.
    """
    cutoff = int(timezone.now().timestamp() - older_than_seconds)
    deleted, _ = Nonce.objects.filter(server_url__startswith="social_core.oauth2.", timestamp__lt=cutoff).delete()
    if deleted:
        logger.info("Purged %d abandoned SSO login nonces", deleted)
    return deleted
