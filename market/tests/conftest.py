"""Fixtures of the market tests: a small synthetic universe; the fake ESI comes from the ESI client's tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.tokens import eve_character_login_store
from universe.models import Constellation, ItemCategory, ItemGroup, ItemType, Region, SolarSystem, Station

# Ids far from CCP's ranges, so these rows never clash with an ingested SDE.
REGION_1, REGION_2 = 19900001, 19900002
SYSTEM_HIGH, SYSTEM_LOW, SYSTEM_OTHER = 39900001, 39900002, 39900003
STATION_A, STATION_B, STATION_C, STATION_D = 69900001, 69900002, 69900003, 69900004
STRUCTURE_X = 1_099_000_000_001  # a player structure: not in the SDE's stations
TYPE_PACKAGED, TYPE_PLAIN, TYPE_UNKNOWN = 990000001, 990000002, 990000003

# Where each location is: location -> (system, region).
LOCATIONS: dict[int, tuple[int, int]] = {
    STATION_A: (SYSTEM_HIGH, REGION_1),
    STATION_B: (SYSTEM_HIGH, REGION_1),
    STATION_C: (SYSTEM_LOW, REGION_1),
    STRUCTURE_X: (SYSTEM_LOW, REGION_1),
    STATION_D: (SYSTEM_OTHER, REGION_2),
}
SECURITY = {SYSTEM_HIGH: 0.9, SYSTEM_LOW: 0.3, SYSTEM_OTHER: 0.5}
VOLUMES: dict[int, tuple[float | None, float | None]] = {
    TYPE_PACKAGED: (2500.0, 15000.0),  # a ship: packaged volume wins
    TYPE_PLAIN: (None, 0.01),
}


@dataclass(frozen=True)
class SyntheticUniverse:
    """Ids of the synthetic rows."""

    regions: tuple[int, int] = (REGION_1, REGION_2)


def synthetic_universe_load() -> SyntheticUniverse:
    """Create (idempotently) two regions, three systems, four stations and two types.

    Returns:
        The ids.
    """
    for region_id in (REGION_1, REGION_2):
        Region.objects.get_or_create(
            id=region_id, defaults={"name": f"Synth Region {region_id}", "x": 0, "y": 0, "z": 0}
        )
        Constellation.objects.get_or_create(
            id=region_id + 10_000_000,
            defaults={"name": f"Synth Const {region_id}", "region_id": region_id, "x": 0, "y": 0, "z": 0},
        )
    for system_id, region_id in ((SYSTEM_HIGH, REGION_1), (SYSTEM_LOW, REGION_1), (SYSTEM_OTHER, REGION_2)):
        SolarSystem.objects.get_or_create(
            id=system_id,
            defaults={
                "name": f"Synth System {system_id}",
                "region_id": region_id,
                "constellation_id": region_id + 10_000_000,
                "security": SECURITY[system_id],
                "x": 0,
                "y": 0,
                "z": 0,
            },
        )
    for station_id in (STATION_A, STATION_B, STATION_C, STATION_D):
        system_id, region_id = LOCATIONS[station_id]
        Station.objects.get_or_create(
            id=station_id,
            defaults={
                "name": f"Synth Station {station_id}",
                "system_id": system_id,
                "region_id": region_id,
                "security": SECURITY[system_id],
                "type_id": 1529,
                "x": 0,
                "y": 0,
                "z": 0,
            },
        )
    ItemCategory.objects.get_or_create(id=99001, defaults={"name": "Synth Category"})
    ItemGroup.objects.get_or_create(id=99001, defaults={"name": "Synth Group", "category_id": 99001})
    for type_id, (packaged, volume) in VOLUMES.items():
        ItemType.objects.get_or_create(
            id=type_id,
            defaults={
                "name": f"Synth Type {type_id}",
                "group_id": 99001,
                "packaged_volume": packaged,
                "volume": volume,
            },
        )
    return SyntheticUniverse()


@pytest.fixture
def synthetic_universe(db: None) -> SyntheticUniverse:
    """The synthetic universe rows (created when missing).

    Args:
        db: pytest-django's database access.

    Returns:
        The ids.
    """
    return synthetic_universe_load()


def pilot_login(*, settings: Any, username: str, character_id: int, access_token: str) -> Any:
    """Create a user whose character is logged in with EVE SSO (tokens stored, location scope granted).

    Args:
        settings: pytest-django's settings fixture (a token encryption key is set).
        username: The user's name.
        character_id: The character.
        access_token: The access token ESI will see.

    Returns:
        The user.
    """
    settings.TOKEN_ENCRYPTION_KEY = "market-test-key-" + "x" * 32
    user = get_user_model().objects.create_user(username=username)
    eve_character_login_store(
        user=user,
        character_id=character_id,
        name=username.title(),
        owner_hash="hash",
        scopes=["esi-location.read_location.v1"],
        access_token=access_token,
        access_token_expires_at=timezone.now() + timedelta(hours=1),
        refresh_token="refresh-token",
    )
    return user
