"""``GET /api/images/...`` against the real PostgreSQL and Redis and a fake image server on loopback."""

from __future__ import annotations

import logging
import time

import pytest
import redis
from django.db import connection
from django.test import Client
from django_redis import get_redis_connection
from pytest_django.fixtures import Settings as SettingsWrapper

from evesite.testing.fakeserver import FakeHttpServer, FakeResponse
from evesite.testing.ports import free_port
from imagecache import services
from imagecache.models import ImageCache
from imagecache.services import LOCK_PREFIX, image_etag
from imagecache.testing import streaming_image_server
from imagecache.tests.conftest import store_image

pytestmark = [pytest.mark.django_db, pytest.mark.waits]  # mostly waits (conftest)

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def _png_answer(png: bytes) -> FakeResponse:
    """Answer like the image server does for a PNG.

    Args:
        png: The bytes.

    Returns:
        The scripted answer.
    """
    return FakeResponse(body=png, headers={"Content-Type": "image/png"})


def test_miss_downloads_stores_and_logs_then_hit_serves_from_postgres(
    image_server: FakeHttpServer, png: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """The first request downloads from /types/34/icon?size=64 and stores; the second asks nobody."""
    image_server.add("GET", "/types/34/icon", _png_answer(png))
    with caplog.at_level(logging.INFO, logger="imagecache"):
        first = Client().get("/api/images/type/34")
    assert first.status_code == 200
    assert first["Content-Type"] == "image/png"
    assert first.content == png
    [upstream] = image_server.matching("GET", "/types/34/icon")
    assert upstream.query == {"size": ["64"]}
    assert f"[IMG] Method: GET | URL: {image_server.url}/types/34/icon?size=64 | Status: 200" in caplog.messages
    row = ImageCache.objects.get()
    assert (row.resource_type, row.resource_id, row.variant, row.size) == ("type", 34, "icon", 64)
    assert bytes(row.blob_data) == png
    assert row.content_type == "image/png"
    assert row.etag == image_etag(png)

    second = Client().get("/api/images/type/34?size=64")
    assert second.status_code == 200
    assert second.content == png
    assert image_server.count() == 1


def _image_lookup_executions() -> list[int]:
    """Read how often this connection ran the prepared image lookup (prepared statements outlive tests).

    Returns:
        One count per matching prepared statement (none before the first hit on this connection).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans + custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ["SELECT blob_data, content_type, etag, last_updated, last_used_at FROM imagecache_imagecache WHERE %"],
        )
        return [row[0] for row in cursor.fetchall()]


def test_hits_run_one_server_side_prepared_statement(png: bytes) -> None:
    """Each hit executes the same prepared lookup: PostgreSQL neither parses nor plans it again."""
    store_image("type", 35, "icon", png)
    assert Client().get("/api/images/type/35").content == png
    [before] = _image_lookup_executions()
    for _ in range(3):
        assert Client().get("/api/images/type/35").content == png
    assert _image_lookup_executions() == [before + 3]


@pytest.mark.parametrize(
    ("resource_type", "upstream_path", "variant"),
    [
        ("type", "/types/587/icon", "icon"),
        ("character", "/characters/587/portrait", "portrait"),
        ("corporation", "/corporations/587/logo", "logo"),
        ("alliance", "/alliances/587/logo", "logo"),
    ],
)
def test_singular_api_names_map_to_plural_upstream_paths(
    image_server: FakeHttpServer, png: bytes, resource_type: str, upstream_path: str, variant: str
) -> None:
    """Each API name fetches its plural upstream category and stores its variant."""
    image_server.add("GET", upstream_path, _png_answer(png))
    response = Client().get(f"/api/images/{resource_type}/587?size=128")
    assert response.status_code == 200, response.content
    assert image_server.matching("GET", upstream_path)[0].query == {"size": ["128"]}
    assert ImageCache.objects.filter(resource_type=resource_type, variant=variant, size=128).count() == 1


def test_size_is_part_of_the_key(image_server: FakeHttpServer, png: bytes) -> None:
    """64 and 512 px of the same id are two rows and two downloads; a repeat is a hit."""
    image_server.add("GET", "/characters/90000001/portrait", _png_answer(png))
    for size in ("64", "512", "512", "64"):
        assert Client().get(f"/api/images/character/90000001?size={size}").status_code == 200
    assert sorted(ImageCache.objects.values_list("size", flat=True)) == [64, 512]
    sizes = [r.query["size"] for r in image_server.matching("GET", "/characters/90000001/portrait")]
    assert sizes == [["64"], ["512"]]


def test_jpeg_is_accepted(image_server: FakeHttpServer) -> None:
    """JPEG bytes (by magic number) are served with image/jpeg."""
    image_server.add("GET", "/alliances/99000001/logo", FakeResponse(body=JPEG, headers={"Content-Type": "image/jpeg"}))
    response = Client().get("/api/images/alliance/99000001")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response.content == JPEG


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/api/images/ship/34", 404, "unknown_resource_type"),
        ("/api/images/types/34", 404, "unknown_resource_type"),
        ("/api/images/type/abc", 404, "invalid_resource_id"),
        ("/api/images/type/0", 404, "invalid_resource_id"),
        ("/api/images/type/-5", 404, "invalid_resource_id"),
        ("/api/images/type/3.5", 404, "invalid_resource_id"),
        ("/api/images/type/2147483648", 404, "invalid_resource_id"),
        ("/api/images/type/34?size=65", 400, "invalid_size"),
        ("/api/images/type/34?size=2048", 400, "invalid_size"),
        ("/api/images/type/34?size=16", 400, "invalid_size"),
        ("/api/images/type/34?size=big", 400, "invalid_size"),
        ("/api/images/type/34?size=-64", 400, "invalid_size"),
    ],
)
def test_bad_input_is_a_json_error_without_upstream_request(
    image_server: FakeHttpServer, png: bytes, url: str, status: int, code: str
) -> None:
    """Unknown types and bad ids are 404, bad sizes 400; all JSON, nothing asked upstream."""
    image_server.add("GET", r"/.*", _png_answer(png), regex=True)
    response = Client().get(url, HTTP_ACCEPT="image/png")
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"] == code
    if code == "invalid_size":
        assert response.json()["allowed_sizes"] == [32, 64, 128, 256, 512, 1024]
    assert image_server.count() == 0
    assert not ImageCache.objects.exists()


def test_upstream_404_is_remembered_for_a_while_and_never_stored(
    image_server: FakeHttpServer, settings: SettingsWrapper
) -> None:
    """A 404 is passed on, not stored, and not asked again until the negative cache expires."""
    settings.IMAGE_NEGATIVE_CACHE_SECONDS = 1.5
    image_server.add("GET", "/characters/1/portrait", FakeResponse(status=404, json={"error": "not found"}))
    first = Client().get("/api/images/character/1")
    assert first.status_code == 404
    assert first.json()["error"] == "image_not_found"
    again = Client().get("/api/images/character/1")
    assert again.status_code == 404
    assert image_server.count() == 1
    assert not ImageCache.objects.exists()
    time.sleep(1.6)
    assert Client().get("/api/images/character/1").status_code == 404
    assert image_server.count() == 2


@pytest.mark.parametrize(
    "answer",
    [
        FakeResponse(status=500, body=b"oops"),
        FakeResponse(status=503, body=b"maintenance"),
        FakeResponse(status=403, body=b"forbidden"),
        FakeResponse(drop=True),
        FakeResponse(body=b"<html>not an image</html>", headers={"Content-Type": "text/html"}),
        FakeResponse(body=b"<html>lying</html>", headers={"Content-Type": "image/png"}),
        FakeResponse(body=b"GIF89a\x01\x00\x01\x00", headers={"Content-Type": "image/gif"}),
        FakeResponse(body=b"\x89PNG\r\n\x1a\n", headers={}),
    ],
    ids=["500", "503", "403", "dropped", "html", "not-png-bytes", "gif", "no-content-type"],
)
def test_bad_upstream_answers_are_502_and_nothing_is_stored(image_server: FakeHttpServer, answer: FakeResponse) -> None:
    """5xx, other statuses, broken connections and non-images give 502; the next request tries again."""
    image_server.add("GET", "/corporations/98000001/logo", answer)
    response = Client().get("/api/images/corporation/98000001")
    assert response.status_code == 502
    assert response.json()["error"] == "image_upstream_error"
    assert not ImageCache.objects.exists()
    assert Client().get("/api/images/corporation/98000001").status_code == 502
    assert image_server.count() == 2


def test_upstream_timeout_is_502(image_server: FakeHttpServer, settings: SettingsWrapper, png: bytes) -> None:
    """An answer slower than IMAGE_SERVER_TIMEOUT_SECONDS is a 502; nothing is stored."""
    settings.IMAGE_SERVER_TIMEOUT_SECONDS = 0.3
    image_server.add("GET", "/types/35/icon", FakeResponse(body=png, headers={"Content-Type": "image/png"}, delay=1.0))
    started = time.monotonic()
    response = Client().get("/api/images/type/35")
    assert response.status_code == 502
    assert time.monotonic() - started < 1.0
    assert not ImageCache.objects.exists()


def test_body_over_the_declared_limit_is_502(image_server: FakeHttpServer, settings: SettingsWrapper) -> None:
    """A Content-Length over IMAGE_MAX_BYTES is refused before reading; nothing is stored."""
    settings.IMAGE_MAX_BYTES = 1000
    image_server.add(
        "GET",
        "/types/36/icon",
        FakeResponse(body=b"\x89PNG\r\n\x1a\n" + b"\0" * 5000, headers={"Content-Type": "image/png"}),
    )
    response = Client().get("/api/images/type/36")
    assert response.status_code == 502
    assert "limit" in response.json()["detail"]
    assert not ImageCache.objects.exists()


def test_trickling_body_meets_the_total_deadline(settings: SettingsWrapper) -> None:
    """A body that keeps trickling in is cut off after IMAGE_SERVER_TIMEOUT_SECONDS in total: 502, nothing stored."""
    settings.IMAGE_SERVER_TIMEOUT_SECONDS = 0.5
    started = time.monotonic()
    with streaming_image_server(pieces=100, piece=b"\0", pause=0.1) as url:
        settings.IMAGE_SERVER_URL = url
        response = Client().get("/api/images/type/41")
    assert response.status_code == 502
    assert "timed out" in response.json()["detail"]
    assert time.monotonic() - started < 2.0
    assert not ImageCache.objects.exists()


def test_undeclared_body_is_read_with_a_cap(settings: SettingsWrapper) -> None:
    """Without Content-Length a 2 MiB body is streamed and cut off at IMAGE_MAX_BYTES: 502, nothing stored."""
    settings.IMAGE_MAX_BYTES = 64 * 1024
    with streaming_image_server(pieces=128, piece=b"\0" * 16 * 1024) as url:
        settings.IMAGE_SERVER_URL = url
        response = Client().get("/api/images/type/37")
    assert response.status_code == 502
    assert "more than 65536 bytes" in response.json()["detail"]
    assert not ImageCache.objects.exists()


def test_etag_cache_control_and_304(image_server: FakeHttpServer, png: bytes) -> None:
    """Answers carry the bytes' ETag and a long max-age; a matching If-None-Match gets a 304 without a body."""
    image_server.add("GET", "/types/34/icon", _png_answer(png))
    first = Client().get("/api/images/type/34")
    etag = first["ETag"]
    assert etag == image_etag(png)
    assert first["Cache-Control"] == "public, max-age=86400"
    assert "Last-Modified" in first

    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        cached = Client().get("/api/images/type/34", HTTP_IF_NONE_MATCH=header)
        assert cached.status_code == 304, header
        assert cached.content == b""
        assert cached["ETag"] == etag
        assert cached["Cache-Control"] == "public, max-age=86400"

    changed = Client().get("/api/images/type/34", HTTP_IF_NONE_MATCH='"stale"')
    assert changed.status_code == 200
    assert changed.content == png
    assert image_server.count() == 1


def test_if_none_match_on_a_miss_downloads(image_server: FakeHttpServer, png: bytes) -> None:
    """An If-None-Match for an image not stored yet (e.g. after a purge) gets the full image."""
    image_server.add("GET", "/types/34/icon", _png_answer(png))
    response = Client().get("/api/images/type/34", HTTP_IF_NONE_MATCH=image_etag(png))
    assert response.status_code == 200
    assert response.content == png


def test_endpoint_is_in_the_openapi_schema() -> None:
    """The schema documents the endpoint, its size enum and binary answers."""
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/images/{resource_type}/{resource_id}"]["get"]
    assert operation["operationId"] == "image_get"
    params = {p["name"]: p for p in operation["parameters"]}
    assert sorted(params["size"]["schema"]["enum"]) == [32, 64, 128, 256, 512, 1024]
    assert sorted(params["resource_type"]["schema"]["enum"]) == ["alliance", "character", "corporation", "type"]
    assert set(operation["responses"]["200"]["content"]) == {"image/png", "image/jpeg"}
    assert {"304", "400", "404", "429", "502", "503"} <= set(operation["responses"])


def test_recent_upstream_failure_is_answered_without_asking_again(
    image_server: FakeHttpServer, settings: SettingsWrapper, png: bytes
) -> None:
    """For IMAGE_FAILURE_CACHE_SECONDS after a 5xx the answer is 502 without a request; then it retries."""
    settings.IMAGE_FAILURE_CACHE_SECONDS = 1.0
    image_server.add("GET", "/types/38/icon", FakeResponse(status=500), _png_answer(png))
    assert Client().get("/api/images/type/38").status_code == 502
    remembered = Client().get("/api/images/type/38")
    assert remembered.status_code == 502
    assert "recent failure" in remembered.json()["detail"]
    assert image_server.count() == 1
    time.sleep(1.1)
    assert Client().get("/api/images/type/38").status_code == 200
    assert image_server.count() == 2


def test_accept_header_never_causes_406(image_server: FakeHttpServer, png: bytes) -> None:
    """A client accepting only image/png gets the image on a miss and on a hit, and JSON errors otherwise."""
    image_server.add("GET", "/types/39/icon", _png_answer(png))
    for _ in range(2):
        response = Client().get("/api/images/type/39", HTTP_ACCEPT="image/png")
        assert response.status_code == 200
        assert response.content == png
    assert image_server.count() == 1


def test_waiting_for_a_stuck_download_gives_up_with_502(
    image_server: FakeHttpServer, settings: SettingsWrapper, png: bytes
) -> None:
    """When another holder keeps the download lock past IMAGE_LOCK_WAIT_SECONDS, the waiter answers 502."""
    settings.IMAGE_LOCK_WAIT_SECONDS = 0.3
    get_redis_connection("default").set(LOCK_PREFIX + "type:40:64", "another-process", px=10_000)
    image_server.add("GET", "/types/40/icon", _png_answer(png))
    started = time.monotonic()
    response = Client().get("/api/images/type/40")
    assert response.status_code == 502
    assert "Timed out waiting" in response.json()["detail"]
    assert 0.3 <= time.monotonic() - started < 3
    assert image_server.count() == 0


def test_redis_down_on_a_miss_is_503_but_hits_still_work(
    image_server: FakeHttpServer, png: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the lock's Redis unreachable a miss is a 503 without an upstream request; stored images still serve."""
    image_server.add("GET", r"/types/\d+/icon", _png_answer(png), regex=True)
    assert Client().get("/api/images/type/42").status_code == 200
    dead_port = free_port()
    monkeypatch.setattr(services, "_redis", lambda: redis.Redis(port=dead_port, socket_connect_timeout=0.5))
    miss = Client().get("/api/images/type/43")
    assert miss.status_code == 503
    assert miss.json()["error"] == "service_unavailable"
    assert image_server.count() == 1
    hit = Client().get("/api/images/type/42")
    assert hit.status_code == 200
    assert hit.content == png
