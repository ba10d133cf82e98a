"""A character that changed hands: CCP reports a new owner hash (the JWT's ``owner`` claim) for a known character.

The login then goes to a fresh site user, never to the seller's. Before
social-auth looks the character up, ``eve_character_transfer_detach`` takes
the character away from the previous user:

* its tokens are deleted (their revocation at EVE SSO is queued, as on logout),
  its ``EveCharacter`` row and its social-auth association are deleted, so the
  new owner's login finds no user and creates one;
* every session of the previous user is deleted (``accounts.user_sessions``);
* a previous user left with no way to log in (no usable password, no other
  social login: the usual EVE-only account) also loses its settings and saved
  routes, which belonged to that character in practice, and its unusable
  password is renewed, which changes Django's session hash and so ends any
  session the index missed at its next request;
* a previous user that can still log in (an admin who also has a password)
  keeps its settings, saved routes and staff flags: they are that person's.

Nothing of the previous user (settings, routes, staff or superuser flags)
ever reaches the new owner's user, which starts empty.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from social_django.models import UserSocialAuth

from accounts.models import EveCharacter, EveToken, SavedRoute, UserSettings
from accounts.tokens import RefreshTokenRevocation, refresh_token_revocation_queue
from accounts.user_sessions import user_sessions_delete

logger = logging.getLogger(__name__)

PROVIDER = "eveonline"


@dataclass(frozen=True)
class CharacterTransfer:
    """What detaching a transferred character did."""

    character_id: int
    previous_user_ids: tuple[int, ...]
    sessions_deleted: int


def _known_owner_hash(character: EveCharacter | None, socials: list[UserSocialAuth]) -> str:
    """Return the owner hash recorded at the character's last login."""
    if character is not None:
        return character.owner_hash
    return next((str(s.extra_data.get("owner_hash") or "") for s in socials if s.extra_data.get("owner_hash")), "")


def _previous_user_clear(user: Any) -> None:
    """Strip a previous owner's account of what came with the character, unless the account stays reachable."""
    if user.has_usable_password() or UserSocialAuth.objects.filter(user=user).exists():
        return
    UserSettings.objects.filter(user=user).delete()
    SavedRoute.objects.filter(user=user).delete()
    user.set_unusable_password()  # a new session hash: sessions missing from the index end too
    user.save(update_fields=["password"])


def eve_character_transfer_detach(*, character_id: int, owner_hash: str) -> CharacterTransfer | None:
    """Detach a character from its previous user when its owner hash changed.

    Args:
        character_id: The character logging in.
        owner_hash: The owner hash of the validated access token.

    Returns:
        What was done, or None when the owner is unchanged (or no hash is known to compare).
    """
    if not owner_hash:
        return None
    with transaction.atomic():
        character = EveCharacter.objects.select_for_update().filter(character_id=character_id).first()
        socials = list(UserSocialAuth.objects.select_for_update().filter(provider=PROVIDER, uid=str(character_id)))
        known = _known_owner_hash(character, socials)
        if not known or known == owner_hash:
            return None
        user_ids = {s.user_id for s in socials} | ({character.user_id} if character is not None else set())
        revocations: list[RefreshTokenRevocation] = []
        if character is not None:
            token = EveToken.objects.select_for_update().filter(character=character).first()
            if token is not None:
                revocations.append(RefreshTokenRevocation(character_id, token.refresh_token_encrypted))
            character.delete()  # and its token
        UserSocialAuth.objects.filter(pk__in=[s.pk for s in socials]).delete()
        for user in get_user_model().objects.select_for_update().filter(pk__in=user_ids).order_by("pk"):
            _previous_user_clear(user)
        for revocation in revocations:
            refresh_token_revocation_queue(revocation=revocation)
    sessions = sum(user_sessions_delete(user_id=user_id) for user_id in sorted(user_ids))
    logger.info(
        "EVE character %d changed owner: detached from user(s) %s, %d session(s) deleted",
        character_id,
        ", ".join(str(u) for u in sorted(user_ids)),
        sessions,
    )
    return CharacterTransfer(character_id, tuple(sorted(user_ids)), sessions)
