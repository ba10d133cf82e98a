"""Concurrent misses through a live server: the image server is asked once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from pytest_django.fixtures import Settings as SettingsWrapper
from pytest_django.live_server_helper import LiveServer

from evesite.testing.fakeserver import FakeHttpServer, FakeResponse
from imagecache.models import ImageCache

# live_server runs the app in another thread of this process: the settings fixture reaches it, and its
# test flushes the tables afterwards (no other test here relies on rows surviving).
pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 50


def _hammer(url: str) -> list[requests.Response]:
    """Send CLIENTS simultaneous GETs (released together by a barrier).

    Args:
        url: The URL.

    Returns:
        The responses.
    """
    barrier = threading.Barrier(CLIENTS)

    def one(_: int) -> requests.Response:
        """Wait for the others, then request.

        Args:
            _: Unused index.

        Returns:
            The response.
        """
        barrier.wait(timeout=30)
        return requests.get(url, timeout=60)

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return list(pool.map(one, range(CLIENTS)))


def test_fifty_concurrent_misses_fetch_once(live_server: LiveServer, image_server: FakeHttpServer, png: bytes) -> None:
    """50 simultaneous requests for one uncached image: exactly one upstream request, 50 images."""
    image_server.add(
        "GET",
        "/characters/2112625428/portrait",
        FakeResponse(body=png, headers={"Content-Type": "image/png"}, delay=0.5),
    )
    responses = _hammer(f"{live_server.url}/api/images/character/2112625428?size=256")
    assert [r.status_code for r in responses] == [200] * CLIENTS
    assert all(r.content == png for r in responses)
    assert len({r.headers["ETag"] for r in responses}) == 1
    assert image_server.count("GET", "/characters/2112625428/portrait") == 1
    assert ImageCache.objects.filter(resource_id=2112625428, size=256).count() == 1


def test_fifty_concurrent_misses_share_one_upstream_failure(
    live_server: LiveServer, image_server: FakeHttpServer, settings: SettingsWrapper
) -> None:
    """When the one download fails, every waiter (and every late request) gets the 502 instead of asking again."""
    settings.IMAGE_FAILURE_CACHE_SECONDS = 10.0
    image_server.add("GET", "/types/44992/icon", FakeResponse(status=503, body=b"down", delay=1.0))
    responses = _hammer(f"{live_server.url}/api/images/type/44992")
    assert [r.status_code for r in responses] == [502] * CLIENTS
    assert image_server.count() == 1
    assert not ImageCache.objects.exists()


def test_fifty_concurrent_misses_share_one_upstream_404(live_server: LiveServer, image_server: FakeHttpServer) -> None:
    """An upstream 404 is asked once and every waiter gets the 404."""
    image_server.add("GET", "/alliances/1/logo", FakeResponse(status=404, body=b"", delay=1.0))
    responses = _hammer(f"{live_server.url}/api/images/alliance/1")
    assert [r.status_code for r in responses] == [404] * CLIENTS
    assert image_server.count() == 1
