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
    resource_type: str, resource_id: int, variant: str, png: bytes, *, size: int = 64, age: timedelta | None = None
) -> ImageCache:
    """Store an image row directly, as downloaded ``age`` ago.

    Args:
        resource_type: API name.
        resource_id: EVE id.
        variant: icon, portrait or logo.
        png: The bytes.
        size: Pixels.
        age: How long ago it was downloaded (default: now).

    Returns:
        The row.
    """
    return ImageCache.objects.create(
        resource_type=resource_type,
        resource_id=resource_id,
        variant=variant,
        size=size,
        blob_data=png,
        content_type="image/png",
        etag=image_etag(png),
        last_updated=timezone.now() - (age or timedelta()),
    )
