"""Refresh of stale images: the service, the management command, the Celery task and its beat entry."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_redis import get_redis_connection

from evesite.testing.defaults import settings_defaults
from evesite.testing.fakeserver import FakeHttpServer, FakeResponse
from imagecache.models import ImageCache
from imagecache.selectors import image_stale_list
from imagecache.services import LOCK_PREFIX, image_etag
from imagecache.tasks import refresh_stale_images
from imagecache.testing import make_png
from imagecache.tests.conftest import store_image

pytestmark = pytest.mark.django_db

OLD_PNG = make_png(rgb=(1, 2, 3))
NEW_PNG = make_png(rgb=(9, 9, 9))


@pytest.fixture
def rows() -> dict[str, ImageCache]:
    """Stale and fresh rows of every variant (icons may be 30 days old, portraits 1, logos 7)."""
    return {
        "stale_icon": store_image("type", 34, "icon", OLD_PNG, age=timedelta(days=31)),
        "fresh_icon": store_image("type", 35, "icon", OLD_PNG, age=timedelta(days=20)),
        "stale_portrait": store_image("character", 90000001, "portrait", OLD_PNG, age=timedelta(hours=25)),
        "fresh_logo": store_image("corporation", 98000001, "logo", OLD_PNG, age=timedelta(days=3)),
        "stale_logo": store_image("alliance", 99000001, "logo", OLD_PNG, age=timedelta(days=8)),
    }


def test_stale_list_uses_each_variants_max_age(rows: dict[str, ImageCache]) -> None:
    """Only rows older than their variant's maximum age are stale, oldest first."""
    names = [(k.resource_type, k.resource_id) for k in image_stale_list()]
    assert names == [("type", 34), ("alliance", 99000001), ("character", 90000001)]
    assert len(image_stale_list(limit=1)) == 1


def test_command_refreshes_stale_rows_and_leaves_fresh_ones(
    rows: dict[str, ImageCache], image_server: FakeHttpServer
) -> None:
    """New bytes replace stale rows; an upstream 404 deletes the row; a 5xx keeps it; fresh rows are not asked."""
    image_server.add("GET", "/types/34/icon", FakeResponse(body=NEW_PNG, headers={"Content-Type": "image/png"}))
    image_server.add("GET", "/characters/90000001/portrait", FakeResponse(status=404))
    image_server.add("GET", "/alliances/99000001/logo", FakeResponse(status=500))
    out = io.StringIO()
    call_command("refresh_images", stdout=out)
    text = out.getvalue()
    assert "3 stale image(s) of 5 cached." in text
    assert "Checked 3: 1 refreshed, 0 unchanged, 1 removed (gone upstream), 1 failed, 0 busy." in text

    icon = ImageCache.objects.get(pk=rows["stale_icon"].pk)
    assert bytes(icon.blob_data) == NEW_PNG
    assert icon.etag == image_etag(NEW_PNG)
    assert icon.last_updated > timezone.now() - timedelta(minutes=1)
    assert not ImageCache.objects.filter(pk=rows["stale_portrait"].pk).exists()
    logo = ImageCache.objects.get(pk=rows["stale_logo"].pk)
    assert bytes(logo.blob_data) == OLD_PNG
    for fresh in ("fresh_icon", "fresh_logo"):
        row = ImageCache.objects.get(pk=rows[fresh].pk)
        assert row.last_updated == rows[fresh].last_updated
    assert image_server.count("GET", "/types/35/icon") == 0
    assert image_server.count("GET", "/corporations/98000001/logo") == 0
    assert image_server.count() == 3


def test_dry_run_and_bad_limit(rows: dict[str, ImageCache], image_server: FakeHttpServer) -> None:
    """--dry-run only counts; a negative --limit is refused before any work."""
    out = io.StringIO()
    call_command("refresh_images", "--dry-run", stdout=out)
    assert "3 stale image(s) of 5 cached." in out.getvalue()
    with pytest.raises(CommandError, match="--limit"):
        call_command("refresh_images", "--limit", "-1")
    assert image_server.count() == 0


def test_task_is_idempotent(rows: dict[str, ImageCache], image_server: FakeHttpServer) -> None:
    """The task refreshes what is stale; a second run finds nothing to do and asks nobody."""
    image_server.add("GET", r"/.*", FakeResponse(body=OLD_PNG, headers={"Content-Type": "image/png"}), regex=True)
    first = refresh_stale_images()
    assert first == {
        "checked": 3,
        "refreshed": 0,
        "unchanged": 3,
        "removed": 0,
        "failed": 0,
        "busy": 0,
        "evicted": 0,
    }
    assert image_server.count() == 3
    second = refresh_stale_images()
    assert second["checked"] == 0
    assert image_server.count() == 3
    assert image_stale_list() == []


def test_refresh_skips_an_image_being_downloaded(rows: dict[str, ImageCache], image_server: FakeHttpServer) -> None:
    """A refresh does not race a request that holds the image's download lock."""
    get_redis_connection("default").set(LOCK_PREFIX + "type:34:64", "someone", px=10_000)
    image_server.add("GET", r"/.*", FakeResponse(body=NEW_PNG, headers={"Content-Type": "image/png"}), regex=True)
    report = refresh_stale_images()
    assert report["busy"] == 1
    assert report["refreshed"] == 2
    assert image_server.count("GET", "/types/34/icon") == 0


def test_beat_runs_the_task_hourly() -> None:
    """The beat schedule merged in settings names the registered task."""
    entry = django_settings.CELERY_BEAT_SCHEDULE["imagecache-refresh-stale-images"]
    assert entry["task"] == refresh_stale_images.name
    assert entry["schedule"] == 3600.0


def test_settings_defaults() -> None:
    """Without the environment, the image settings have their documented defaults."""
    assert settings_defaults(
        "IMAGE_SERVER_URL",
        "IMAGE_SERVER_TIMEOUT_SECONDS",
        "IMAGE_MAX_BYTES",
        "IMAGE_NEGATIVE_CACHE_SECONDS",
        "IMAGE_MAX_AGE_SECONDS",
        "IMAGE_CLIENT_MAX_AGE_SECONDS",
        "IMAGE_LOCK_WAIT_SECONDS",
        "IMAGE_REFRESH_DELAY_SECONDS",
        "IMAGE_FAILURE_CACHE_SECONDS",
        "IMAGE_MISS_PER_IP_PER_MINUTE",
        "IMAGE_MISS_GLOBAL_PER_MINUTE",
        "IMAGE_CACHE_MAX_MB",
        "IMAGE_LAST_USED_UPDATE_SECONDS",
    ) == [
        "https://images.evetech.net",
        10.0,
        1048576,
        600.0,
        {"icon": 2592000.0, "portrait": 86400.0, "logo": 604800.0},
        86400,
        25.0,
        0.2,
        5.0,
        30,
        300,
        512,
        3600,
    ]
