"""Fixtures of the image cache tests: real PNG bytes and a fake image server on loopback."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from evesite.testing.fakeserver import FakeHttpServer
from imagecache.models import ImageCache
from imagecache.services import image_etag
from imagecache.testing import make_png
from universe.models import ItemCategory, ItemGroup, ItemType

# The type ids the tests ask images of: only SDE types are fetched upstream.
SDE_TYPE_IDS = (34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 587, 44992)


@pytest.fixture(autouse=True)
def _sde_types(request: pytest.FixtureRequest) -> None:
    """Give every database test the SDE item types it asks images of (kept when a real SDE is loaded)."""
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("db")
    category, _ = ItemCategory.objects.get_or_create(id=4, defaults={"name": "Material"})
    group, _ = ItemGroup.objects.get_or_create(id=18, defaults={"name": "Mineral", "category": category})
    for type_id in SDE_TYPE_IDS:
        ItemType.objects.get_or_create(id=type_id, defaults={"name": f"Test type {type_id}", "group": group})


@pytest.fixture
def png() -> bytes:
    """A real 4x4 red PNG."""
    return make_png()


@pytest.fixture
def image_server(fake_server: FakeHttpServer, settings: SettingsWrapper) -> FakeHttpServer:
    """The fake image server, with IMAGE_SERVER_URL pointed at it and short delays."""
    settings.IMAGE_SERVER_URL = fake_server.url
    settings.IMAGE_SERVER_TIMEOUT_SECONDS = 5.0
    settings.IMAGE_LOCK_WAIT_SECONDS = 10.0
    settings.IMAGE_REFRESH_DELAY_SECONDS = 0.0
    settings.IMAGE_FAILURE_CACHE_SECONDS = 0.0
    return fake_server


def store_image(
    resource_type: str,
    resource_id: int,
    variant: str,
    png: bytes,
    *,
    size: int = 64,
    age: timedelta | None = None,
    unused_for: timedelta | None = None,
) -> ImageCache:
    """Store an image row directly, as downloaded ``age`` ago and last served ``unused_for`` ago.

    Args:
        resource_type: API name.
        resource_id: EVE id.
        variant: icon, portrait or logo.
        png: The bytes.
        size: Pixels.
        age: How long ago it was downloaded (default: now).
        unused_for: How long ago it was last served (default: ``age``).

    Returns:
        The row.
    """
    now = timezone.now()
    return ImageCache.objects.create(
        resource_type=resource_type,
        resource_id=resource_id,
        variant=variant,
        size=size,
        blob_data=png,
        blob_bytes=len(png),
        content_type="image/png",
        etag=image_etag(png),
        last_updated=now - (age or timedelta()),
        last_used_at=now - (unused_for or age or timedelta()),
    )
