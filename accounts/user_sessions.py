"""A per-user index of sessions, kept in Redis next to the sessions, so all of a user's sessions can be deleted.

Sessions live in the cache backend, keyed by session key only: nothing maps a
user to them. Every login (``user_logged_in``) adds the new session key to a
Redis set per user, every logout removes it, and a login also drops members
whose session already expired. ``user_sessions_delete`` deletes each indexed
session through the session engine, so it ends at once wherever it is used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import caches
from django_redis import get_redis_connection


def _store() -> SessionBase:
    """Return an empty store of the configured session engine (its ``exists`` and ``delete`` take a key)."""
    store: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore()
    return store


def _index_key(user_id: int) -> str:
    """Return the Redis key of a user's session index (under the cache's key prefix)."""
    return caches[settings.SESSION_CACHE_ALIAS].make_key(f"accounts:user-sessions:{user_id}")


def _redis() -> Any:
    """Return the Redis client of the sessions' cache."""
    return get_redis_connection(settings.SESSION_CACHE_ALIAS)


def user_session_record(*, user_id: int, session_key: str) -> None:
    """Add a session to a user's index, dropping members whose session is gone.

    Args:
        user_id: The logged-in user.
        session_key: The session the login wrote.
    """
    redis, key, store = _redis(), _index_key(user_id), _store()
    dead = [member for member in redis.smembers(key) if not store.exists(member.decode())]
    if dead:
        redis.srem(key, *dead)
    redis.sadd(key, session_key)


def user_session_forget(*, user_id: int, session_key: str) -> None:
    """Remove a session from a user's index (logout).

    Args:
        user_id: The user logging out.
        session_key: The session being ended.
    """
    _redis().srem(_index_key(user_id), session_key)


def user_sessions_delete(*, user_id: int) -> int:
    """Delete every indexed session of a user, and the index.

    Args:
        user_id: The user.

    Returns:
        How many sessions still existed and were deleted.
    """
    key = _index_key(user_id)
    pipe = _redis().pipeline(transaction=True)
    pipe.smembers(key)
    pipe.delete(key)
    members, _ = pipe.execute()
    store, deleted = _store(), 0
    for member in members:
        session_key = member.decode()
        if store.exists(session_key):
            store.delete(session_key)
            deleted += 1
    return deleted


def on_user_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Index the session of a login (receiver of ``user_logged_in``).

    Args:
        sender: The user class.
        request: The request that logged in (may lack a session outside HTTP).
        user: The user.
        **kwargs: Signal arguments.
    """
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key and user is not None and user.pk is not None:
        user_session_record(user_id=user.pk, session_key=session_key)


def on_user_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Drop the ending session from the index (receiver of ``user_logged_out``).

    Args:
        sender: The user class.
        request: The request logging out.
        user: The user (None when the session had none).
        **kwargs: Signal arguments.
    """
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key and user is not None and user.pk is not None:
        user_session_forget(user_id=user.pk, session_key=session_key)
