"""social-auth pipeline step that stores the EVE character and its encrypted tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accounts.services import eve_character_login_store


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
