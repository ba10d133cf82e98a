"""Abuse limits of the image proxy (issue 14): SDE types only, miss budgets, no redirects or proxies, a size cap.

Everything runs against the real PostgreSQL and Redis and a fake image server on loopback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from evesite.testing.fakeserver import FakeHttpServer, FakeResponse
from imagecache import lru
from imagecache.models import ImageCache
from imagecache.tasks import refresh_stale_images
from imagecache.testing import make_png
from imagecache.tests.conftest import store_image

pytestmark = pytest.mark.django_db


def _png_answer(png: bytes) -> FakeResponse:
    """Answer like the image server does for a PNG.

    Args:
        png: The bytes.

    Returns:
        The scripted answer.
    """
    return FakeResponse(body=png, headers={"Content-Type": "image/png"})


@pytest.fixture
def any_image(image_server: FakeHttpServer, png: bytes) -> FakeHttpServer:
    """The fake image server answering a PNG for every path."""
    image_server.add("GET", r"/.*", _png_answer(png), regex=True)
    return image_server


# ---- 1. type ids must be SDE types


def test_type_not_in_the_sde_is_404_without_upstream_request(any_image: FakeHttpServer) -> None:
    """A type id the SDE does not know is a JSON 404; nothing is asked upstream or stored."""
    response = Client().get("/api/images/type/999999?size=128")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "unknown_type_id"
    assert any_image.count() == 0
    assert not ImageCache.objects.exists()


def test_sde_type_and_any_character_id_are_fetched(any_image: FakeHttpServer) -> None:
    """An SDE type is fetched; character ids cannot be checked against the SDE and are fetched as before."""
    assert Client().get("/api/images/type/34").status_code == 200
    assert Client().get("/api/images/character/999999").status_code == 200
    assert any_image.count() == 2


# ---- 2. miss budgets per client address and in total


def test_misses_beyond_the_per_ip_budget_are_429_with_retry_after(
    any_image: FakeHttpServer, settings: SettingsWrapper, png: bytes
) -> None:
    """The 4th miss of one address in a minute is a 429 with Retry-After; hits and other addresses go on."""
    settings.IMAGE_MISS_PER_IP_PER_MINUTE = 3
    settings.IMAGE_MISS_GLOBAL_PER_MINUTE = 100
    client = Client(REMOTE_ADDR="203.0.113.5")
    for character_id in (1001, 1002, 1003):
        assert client.get(f"/api/images/character/{character_id}").status_code == 200
    refused = client.get("/api/images/character/1004")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["error"] == "image_miss_budget_exceeded"
    assert refused.json()["retry_after"] == int(refused["Retry-After"])
    assert any_image.count() == 3
    assert not ImageCache.objects.filter(resource_id=1004).exists()
    # Hits are neither refused nor counted; the miss path (If-None-Match) serves a stored image too.
    for _ in range(5):
        hit = client.get("/api/images/character/1001")
        assert hit.status_code == 200
        assert hit.content == png
    assert client.get("/api/images/character/1002", HTTP_IF_NONE_MATCH='"old"').status_code == 200
    # Another address has its own budget.
    assert Client(REMOTE_ADDR="203.0.113.6").get("/api/images/character/1004").status_code == 200
    assert any_image.count() == 4


def test_global_budget_is_shared_by_every_address(any_image: FakeHttpServer, settings: SettingsWrapper) -> None:
    """Past IMAGE_MISS_GLOBAL_PER_MINUTE a miss is a 429 whoever asks; the refused one is not counted."""
    settings.IMAGE_MISS_PER_IP_PER_MINUTE = 100
    settings.IMAGE_MISS_GLOBAL_PER_MINUTE = 2
    assert Client(REMOTE_ADDR="192.0.2.1").get("/api/images/corporation/2001").status_code == 200
    assert Client(REMOTE_ADDR="192.0.2.2").get("/api/images/corporation/2002").status_code == 200
    refused = Client(REMOTE_ADDR="192.0.2.3").get("/api/images/alliance/2003")
    assert refused.status_code == 429
    assert "Retry-After" in refused
    assert any_image.count() == 2


def test_ipv6_addresses_share_the_budget_of_their_64(any_image: FakeHttpServer, settings: SettingsWrapper) -> None:
    """Addresses of one IPv6 /64 (one subscriber) share a budget; another /64 has its own."""
    settings.IMAGE_MISS_PER_IP_PER_MINUTE = 1
    assert Client(REMOTE_ADDR="2001:db8::1").get("/api/images/character/3001").status_code == 200
    assert Client(REMOTE_ADDR="2001:db8::2").get("/api/images/character/3002").status_code == 429
    assert Client(REMOTE_ADDR="2001:db8:0:1::1").get("/api/images/character/3002").status_code == 200


def test_remembered_404s_and_refused_input_are_not_counted(
    image_server: FakeHttpServer, settings: SettingsWrapper, png: bytes
) -> None:
    """Only requests that reach the image server use the budget."""
    settings.IMAGE_MISS_PER_IP_PER_MINUTE = 2
    image_server.add("GET", "/characters/4001/portrait", FakeResponse(status=404))
    image_server.add("GET", "/characters/4002/portrait", _png_answer(png))
    client = Client()
    for _ in range(3):
        assert client.get("/api/images/character/4001").status_code == 404
    for _ in range(3):
        assert client.get("/api/images/type/999999").status_code == 404
        assert client.get("/api/images/type/34?size=65").status_code == 400
    assert client.get("/api/images/character/4002").status_code == 200
    assert client.get("/api/images/character/4003").status_code == 429
    assert image_server.count() == 2


def test_budget_is_shared_with_other_processes(any_image: FakeHttpServer, settings: SettingsWrapper) -> None:
    """Misses counted by another process (here a plain subprocess) use this process's budget too: it is in Redis."""
    settings.IMAGE_MISS_PER_IP_PER_MINUTE = 2
    code = (
        "import django; django.setup(); from imagecache.budget import image_miss_budget_take; "
        "[image_miss_budget_take(client_ip='198.51.100.7') for _ in range(2)]"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "evesite.settings.test", "IMAGE_MISS_PER_IP_PER_MINUTE": "2"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=django_settings.BASE_DIR)
    assert Client(REMOTE_ADDR="198.51.100.7").get("/api/images/character/5001").status_code == 429
    assert Client(REMOTE_ADDR="198.51.100.8").get("/api/images/character/5001").status_code == 200
    assert any_image.count() == 1


def test_drf_throttles_do_not_apply_to_images(any_image: FakeHttpServer, settings: SettingsWrapper) -> None:
    """However low the project's DRF rates, image hits and misses are limited by the miss budget only."""
    settings.REST_FRAMEWORK = {
        **django_settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "1/min", "anon_burst": "1/min", "user": "1/min", "expensive": "1/min"},
    }
    client = Client()
    for character_id in (6001, 6002, 6003, 6001, 6002, 6003):
        assert client.get(f"/api/images/character/{character_id}").status_code == 200
    assert client.get("/api/images/character/6001", HTTP_IF_NONE_MATCH='"x"').status_code == 200


# ---- 3. no redirects, no proxies from the environment


def test_upstream_redirect_is_not_followed_and_is_502(image_server: FakeHttpServer, png: bytes) -> None:
    """A 302 from the image server is a 502: the target is never requested and nothing is stored."""
    image_server.add("GET", "/elsewhere.png", _png_answer(png))
    image_server.add(
        "GET", "/types/36/icon", FakeResponse(status=302, headers={"Location": f"{image_server.url}/elsewhere.png"})
    )
    response = Client().get("/api/images/type/36")
    assert response.status_code == 502
    assert response.json()["error"] == "image_upstream_error"
    assert "redirect" in response.json()["detail"]
    assert image_server.count("GET", "/types/36/icon") == 1
    assert image_server.count("GET", "/elsewhere.png") == 0
    assert not ImageCache.objects.exists()


def test_proxy_environment_variables_are_ignored(
    image_server: FakeHttpServer, png: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY/HTTPS_PROXY/ALL_PROXY in the environment do not divert image downloads."""
    image_server.add("GET", "/types/37/icon", _png_answer(png))
    with FakeHttpServer() as proxy:
        proxy.add("GET", r"/.*", _png_answer(png), regex=True)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(name, proxy.url)
        assert Client().get("/api/images/type/37").status_code == 200
        assert proxy.count() == 0
    assert image_server.count("GET", "/types/37/icon") == 1


# ---- 4. size cap with least-recently-used eviction


def test_hits_record_their_use_at_most_once_per_interval(
    image_server: FakeHttpServer, settings: SettingsWrapper, png: bytes
) -> None:
    """A hit moves last_used_at when it is older than IMAGE_LAST_USED_UPDATE_SECONDS, not on every hit."""
    settings.IMAGE_LAST_USED_UPDATE_SECONDS = 3600
    row = store_image("type", 38, "icon", png, unused_for=timedelta(hours=2))
    assert Client().get("/api/images/type/38").status_code == 200
    row.refresh_from_db()
    assert timezone.now() - row.last_used_at < timedelta(minutes=1)

    recent = timezone.now() - timedelta(minutes=10)
    ImageCache.objects.filter(pk=row.pk).update(last_used_at=recent)
    for _ in range(3):
        assert Client().get("/api/images/type/38").status_code == 200
    row.refresh_from_db()
    assert row.last_used_at == recent

    # A revalidation (304) is a use too.
    ImageCache.objects.filter(pk=row.pk).update(last_used_at=timezone.now() - timedelta(hours=2))
    assert Client().get("/api/images/type/38", HTTP_IF_NONE_MATCH=row.etag).status_code == 304
    row.refresh_from_db()
    assert timezone.now() - row.last_used_at < timedelta(minutes=1)
    assert image_server.count() == 0


def test_a_miss_over_the_cap_evicts_the_least_recently_used_rows(
    image_server: FakeHttpServer, settings: SettingsWrapper
) -> None:
    """Past IMAGE_CACHE_MAX_MB the rows served longest ago are deleted (not the oldest downloads)."""
    settings.IMAGE_LAST_USED_UPDATE_SECONDS = 3600
    pngs = {type_id: make_png(width=16, height=16, noise_seed=type_id) for type_id in (39, 40, 41, 42)}
    store_image("type", 39, "icon", pngs[39], age=timedelta(hours=3))
    store_image("type", 40, "icon", pngs[40], age=timedelta(hours=2))
    store_image("type", 41, "icon", pngs[41], age=timedelta(hours=1))
    cap = sum(map(len, pngs.values())) - len(pngs[40]) // 2
    settings.IMAGE_CACHE_MAX_MB = cap / 2**20
    image_server.add("GET", "/types/42/icon", _png_answer(pngs[42]))

    assert Client().get("/api/images/type/39").content == pngs[39]  # 39 is used again: 40 is now the LRU
    response = Client().get("/api/images/type/42")
    assert response.status_code == 200
    assert response.content == pngs[42]
    assert sorted(ImageCache.objects.values_list("resource_id", flat=True)) == [39, 41, 42]
    assert sum(len(bytes(b)) for b in ImageCache.objects.values_list("blob_data", flat=True)) <= cap
    assert sorted(ImageCache.objects.values_list("blob_bytes", flat=True)) == sorted(len(pngs[i]) for i in (39, 41, 42))


def test_refresh_task_trims_the_cache_too(image_server: FakeHttpServer, settings: SettingsWrapper) -> None:
    """The hourly task also enforces the cap (e.g. after IMAGE_CACHE_MAX_MB was lowered)."""
    png = make_png(width=16, height=16, noise_seed=1)
    for hours, type_id in enumerate((43, 44, 45, 46), start=1):
        store_image("type", type_id, "icon", png, unused_for=timedelta(hours=hours))
    settings.IMAGE_CACHE_MAX_MB = 2.5 * len(png) / 2**20
    report = refresh_stale_images()
    assert report["evicted"] == 2
    assert sorted(ImageCache.objects.values_list("resource_id", flat=True)) == [43, 44]
    assert image_server.count() == 0


def test_a_download_trims_a_bounded_number_of_rows(
    image_server: FakeHttpServer, settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a lowered cap one request deletes at most REQUEST_TRIM_ROWS rows; the task deletes the rest."""
    monkeypatch.setattr(lru, "REQUEST_TRIM_ROWS", 2)
    png = make_png(width=16, height=16, noise_seed=2)
    for hours, type_id in enumerate((43, 44, 45, 46), start=2):
        store_image("type", type_id, "icon", png, unused_for=timedelta(hours=hours))
    settings.IMAGE_CACHE_MAX_MB = 1.5 * len(png) / 2**20
    image_server.add("GET", "/types/47/icon", _png_answer(png))
    assert Client().get("/api/images/type/47").status_code == 200
    assert sorted(ImageCache.objects.values_list("resource_id", flat=True)) == [43, 44, 47]
    assert refresh_stale_images()["evicted"] == 2
    assert list(ImageCache.objects.values_list("resource_id", flat=True)) == [47]


# ---- 5. upstream 404s are remembered for every route and size


@pytest.mark.parametrize(
    ("resource_type", "upstream_path"),
    [
        ("type", "/types/47/icon"),
        ("character", "/characters/7001/portrait"),
        ("corporation", "/corporations/7001/logo"),
        ("alliance", "/alliances/7001/logo"),
    ],
)
def test_upstream_404_is_remembered_for_every_route_and_size(
    image_server: FakeHttpServer, resource_type: str, upstream_path: str
) -> None:
    """After one upstream 404 the id is answered 404 at every size without asking again."""
    image_server.add("GET", upstream_path, FakeResponse(status=404))
    resource_id = upstream_path.split("/")[2]
    for size in ("64", "64", "512", "32"):
        response = Client().get(f"/api/images/{resource_type}/{resource_id}?size={size}")
        assert response.status_code == 404
        assert response.json()["error"] == "image_not_found"
    assert image_server.count() == 1
    assert not ImageCache.objects.exists()
