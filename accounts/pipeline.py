"""social-auth pipeline steps: a transferred character goes to a fresh user; the character and its tokens are stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import login

from accounts.tokens import eve_character_login_store
from accounts.transfer import CharacterTransfer, eve_character_transfer_detach


def character_transfer_detach(
    backend: Any, uid: str | None = None, response: dict[str, Any] | None = None, **kwargs: Any
) -> dict[str, Any] | None:
    """Detach a character whose owner hash changed from its previous user, before social-auth looks it up.

    Runs before ``social_user``: with the association gone, social-auth creates a fresh user.

    Args:
        backend: The social-auth backend.
        uid: The character id.
        response: Token answer merged with the validated claims.
        **kwargs: Other pipeline arguments.

    Returns:
        ``user`` None (never the browser's current user) and the ``character_transfer``, or None when the
        owner is unchanged.
    """
    if backend.name != "eveonline" or uid is None or not response:
        return None
    transfer = eve_character_transfer_detach(character_id=int(uid), owner_hash=str(response.get("owner_hash") or ""))
    if transfer is None:
        return None
    return {"user": None, "character_transfer": transfer}


def character_tokens_store(
    backend: Any, user: Any = None, response: dict[str, Any] | None = None, **kwargs: Any
) -> None:
    """Store the character and its tokens after social-auth created or found the user.

    Args:
        backend: The social-auth backend.
        user: The logged-in user.
        response: Token answer merged with the validated claims.
        **kwargs: Other pipeline arguments.
    """
    if backend.name != "eveonline" or user is None or not response:
        return
    eve_character_login_store(
        user=user,
        character_id=int(response["character_id"]),
        name=str(response["name"]),
        owner_hash=str(response.get("owner_hash") or ""),
        scopes=list(response.get("scopes") or []),
        access_token=str(response["access_token"]),
        access_token_expires_at=datetime.fromisoformat(str(response["expires_at"])),
        refresh_token=response.get("refresh_token") or None,
    )


def character_transfer_login(
    backend: Any, user: Any = None, character_transfer: CharacterTransfer | None = None, **kwargs: Any
) -> None:
    """Log the new owner's fresh user in when the browser was already logged in as someone else.

    social-auth only logs in browsers that had no user (it links the character to the current user
    otherwise); a transfer must never leave the browser on another account.

    Args:
        backend: The social-auth backend.
        user: The fresh user.
        character_transfer: Set by ``character_transfer_detach`` when the owner changed.
        **kwargs: Other pipeline arguments.
    """
    request = backend.strategy.request
    if character_transfer is None or user is None or request is None:
        return
    current = getattr(request, "user", None)
    if current is not None and current.is_authenticated and current.pk != user.pk:
        login(request, user, backend=f"{type(backend).__module__}.{type(backend).__name__}")
