"""The Django cache stores JSON: a value planted in Redis never runs code, and what the app caches survives JSON."""

from __future__ import annotations

import contextlib
import os
import pickle
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.backends.cache import SessionStore
from django.core.cache import cache
from django.utils import timezone
from django_redis import get_redis_connection

from contracts.cache import contract_cache_get, contract_cache_many, contract_cache_set, contract_entry
from contracts.models import Contract, ContractType, ItemsStatus

#: Calls of :func:`_planted`; unpickling the payloads below would append to it.
PLANTED_CALLS: list[str] = []


def _planted(what: str) -> str:
    """Stand for an attacker's code: record that it ran."""
    PLANTED_CALLS.append(what)
    return "planted code ran"


class _Payload:
    """Pickles into a call of :func:`_planted` (what a forged cache value would hold)."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (_planted, ("unpickled",))


def test_the_cache_serializes_with_json() -> None:
    """django-redis is configured with its JSON serializer, not the pickle default."""
    caches_setting: Any = settings.CACHES
    assert caches_setting["default"]["OPTIONS"]["SERIALIZER"] == "django_redis.serializers.json.JSONSerializer"


@pytest.mark.parametrize("protocol", [0, pickle.HIGHEST_PROTOCOL])
def test_a_pickle_planted_in_redis_is_never_unpickled(protocol: int) -> None:
    """A pickle written straight to Redis under a cache key errors on read instead of running its code.

    With the pickle serializer ``cache.get`` would call ``_planted`` and return its string.
    """
    PLANTED_CALLS.clear()
    payload = pickle.dumps(_Payload(), protocol=protocol)
    get_redis_connection("default").set(cache.make_key("contracts:v1:contract:1"), payload)
    value: Any = None
    with contextlib.suppress(ValueError):  # not UTF-8 or not JSON: the read fails, nothing runs
        value = cache.get("contracts:v1:contract:1")
    assert PLANTED_CALLS == []
    assert value != "planted code ran"


def test_sessions_survive_json() -> None:
    """A cache session holding what login and the SSO flow put there loads back unchanged."""
    session = SessionStore()
    session["_auth_user_id"] = "42"
    session["_auth_user_backend"] = "accounts.backends.EveOnlineSsoV2"
    session["_auth_user_hash"] = "f" * 64
    session["eveonline_state"] = "s" * 32
    session["next"] = "/api/me/"
    session.set_expiry(timedelta(days=1))  # stored as an ISO string, not a datetime
    session.save()
    expected = dict(session.items())

    loaded = SessionStore(session.session_key)
    assert dict(loaded.items()) == expected
    assert 86000 < loaded.get_expiry_age() <= 86400


def test_contract_entries_survive_json() -> None:
    """A contract entry (dates as ISO strings, floats, enum values, items) reads back equal, one by one or many."""
    now = timezone.now()
    contract = Contract(
        contract_id=7,
        region_id=10000002,
        type=ContractType.ITEM_EXCHANGE,
        issuer_id=1,
        issuer_corporation_id=2,
        title="ships",
        date_issued=now,
        date_expired=now + timedelta(days=3),
        days_to_complete=None,
        price=1_500_000.5,
        buyout=None,
        reward=0.0,
        collateral=0.0,
        volume=12.5,
        items_status=ItemsStatus.FETCHED,
    )
    items = [{"record_id": 1, "type_id": 587, "quantity": 2, "is_included": True, "is_blueprint_copy": None}]
    entry = contract_entry(contract, items)
    assert contract_cache_set(contract_id=7, entry=entry, date_expired=contract.date_expired) > 0
    assert contract_cache_get(7) == entry
    assert contract_cache_many([7, 8]) == {7: entry}


def test_image_markers_and_jwks_survive_json() -> None:
    """The image cache's markers (an int, a message) and CCP's JWKS (a list of dicts) read back equal."""
    values: dict[str, Any] = {
        "img:missing:x": 1,
        "img:failing:x": "image server answered 503",
        "accounts:sso:jwks:x": [{"kid": "JWT-Signature-Key", "kty": "RSA", "e": "AQAB", "n": "abc", "alg": "RS256"}],
        "contracts:v1:lock:region:1": timezone.now().isoformat(),
    }
    for key, value in values.items():
        cache.set(key, value, timeout=60)
        assert cache.get(key) == value
        assert type(cache.get(key)) is type(value)


#: Every module that uses the Django cache, each audited for JSON-only values. A new one must be added here
#: after checking what it stores (no datetimes, tuples, sets, bytes, Decimals or objects: convert them first).
AUDITED_CACHE_USERS = {
    "accounts/sso_jwt.py",  # the JWKS: a list of dicts
    "accounts/user_sessions.py",  # make_key only: its index is a raw Redis set of session keys
    "contracts/cache.py",  # contract entries: dicts of str, int, float, bool, None (dates as ISO strings)
    "contracts/services.py",  # a region lock stamped with an ISO string
    "imagecache/services.py",  # markers: 1 and an error message
}
_CACHE_IMPORT = re.compile(r"^\s*from django\.core\.cache import|^\s*import django\.core\.cache|\bcaches\[", re.M)
_SKIPPED_DIRS = {"tests", "testing", "bench", "scripts", "staticfiles", "eve_data", "node_modules", "migrations"}


def test_every_module_using_the_cache_was_audited_for_json() -> None:
    """The modules importing Django's cache are exactly the audited ones (sessions are covered above)."""
    base = Path(settings.BASE_DIR)
    found = set()
    for folder, dirs, files in os.walk(base):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS]
        for name in files:
            path = Path(folder) / name
            if name.endswith(".py") and name != "conftest.py" and _CACHE_IMPORT.search(path.read_text("utf-8")):
                found.add(path.relative_to(base).as_posix())
    assert found == AUDITED_CACHE_USERS
