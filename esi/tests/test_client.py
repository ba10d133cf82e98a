"""The ESI client against a fake ESI on loopback (real sockets, every request counted)."""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from django_redis import get_redis_connection
from pytest_django.fixtures import Settings as SettingsWrapper

from esi.client import EsiClient, for_each_region
from esi.errors import (
    EsiHttpError,
    EsiInconsistentPagesError,
    EsiLockdownError,
    EsiPayloadError,
    EsiRateLimitError,
    EsiTimeoutError,
)
from esi.limits import LOCKDOWN_KEY, error_limit_get
from evesite.exceptions import DomainError, api_exception_handler
from evesite.testing.fakeserver import FakeHttpServer, FakeResponse, RecordedRequest

pytestmark = pytest.mark.waits  # mostly waits (conftest)

ORDER = {
    "duration": 90,
    "is_buy_order": False,
    "issued": "2023-02-03T13:06:31Z",
    "location_id": 60003760,
    "min_volume": 1,
    "order_id": 6434412694,
    "price": 10000000,
    "range": "region",
    "system_id": 30000142,
    "type_id": 19229,
    "volume_remain": 8,
    "volume_total": 9,
}


def _http_date(delta: float) -> str:
    """Format now + ``delta`` seconds as an HTTP date."""
    return format_datetime(datetime.now(tz=UTC) + timedelta(seconds=delta), usegmt=True)


def _order(order_id: int) -> dict:
    """Build one valid market order."""
    return {**ORDER, "order_id": order_id}


def test_lockdown_key_blocks_every_request(esi_server: FakeHttpServer) -> None:
    """While ESI_GLOBAL_LOCKDOWN exists, get raises 429 with Retry-After and nothing reaches the server."""
    esi_server.add("GET", "/status", FakeResponse(json={"players": 1}))
    get_redis_connection("default").set(LOCKDOWN_KEY, "test", ex=42)
    with pytest.raises(EsiLockdownError) as info:
        EsiClient().get("/status")
    assert isinstance(info.value, DomainError)
    assert info.value.status_code == 429
    assert 41 <= int(info.value.headers["Retry-After"]) <= 42
    with pytest.raises(EsiLockdownError):
        EsiClient().get_all_pages("/markets/10000002/orders")
    assert esi_server.count() == 0


@pytest.mark.parametrize("status", [404, 500, 420, 429, 502, 503])
def test_one_error_sets_lockdown_and_sleeps(esi_server: FakeHttpServer, settings: SettingsWrapper, status: int) -> None:
    """ONE 4xx/5xx sets the key with sleep + lockdown TTL, sleeps, raises; the next call sends nothing."""
    settings.ESI_ERROR_SLEEP_SECONDS = 0.4
    settings.ESI_LOCKDOWN_SECONDS = 3.0
    esi_server.add("GET", "/status", FakeResponse(status=status, json={"error": "x"}))
    started = time.monotonic()
    with pytest.raises(EsiHttpError) as info:
        EsiClient().get("/status")
    elapsed = time.monotonic() - started
    assert info.value.status == status
    assert elapsed >= 0.4
    ttl = get_redis_connection("default").pttl(LOCKDOWN_KEY) / 1000
    # Set at once with sleep + lockdown (3.4 s): about 3 s remain once the sleep is over.
    assert 2.5 < ttl <= 3.0 + 1e-3 + 0.05
    with pytest.raises(EsiLockdownError):
        EsiClient().get("/status")
    assert esi_server.count() == 1


def test_key_is_set_before_the_sleep(esi_server: FakeHttpServer, settings: SettingsWrapper) -> None:
    """During the error sleep another client is already refused (the key exists at once)."""
    settings.ESI_ERROR_SLEEP_SECONDS = 1.0
    esi_server.add("GET", "/boom", FakeResponse(status=500))
    esi_server.add("GET", "/status", FakeResponse(json={}))
    errors: list[Exception] = []

    def call() -> None:
        """Hit the failing route."""
        try:
            EsiClient().get("/boom")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    deadline = time.monotonic() + 5
    while esi_server.count("GET", "/boom") == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    assert thread.is_alive()  # still sleeping
    with pytest.raises(EsiLockdownError):
        EsiClient().get("/status")
    thread.join()
    assert isinstance(errors[0], EsiHttpError)
    assert esi_server.count("GET", "/status") == 0


def test_429_retry_after_lengthens_lockdown(esi_server: FakeHttpServer, settings: SettingsWrapper) -> None:
    """A 429's Retry-After longer than the lockdown is honoured."""
    settings.ESI_LOCKDOWN_SECONDS = 2.0
    esi_server.add("GET", "/status", FakeResponse(status=429, headers={"Retry-After": "30"}))
    with pytest.raises(EsiHttpError):
        EsiClient().get("/status")
    assert get_redis_connection("default").pttl(LOCKDOWN_KEY) / 1000 > 29


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        (429, {"Retry-After": "999999"}),
        (420, {"X-ESI-Error-Limit-Remain": "0", "X-ESI-Error-Limit-Reset": "999999"}),
        (429, {"Retry-After": "1e999"}),  # float() reads it as infinity
    ],
)
def test_upstream_wait_is_capped(
    esi_server: FakeHttpServer, settings: SettingsWrapper, status: int, headers: dict[str, str]
) -> None:
    """A huge Retry-After or X-ESI-Error-Limit-Reset locks ESI out for ESI_MAX_RETRY_AFTER_SECONDS at most."""
    settings.ESI_LOCKDOWN_SECONDS = 2.0
    settings.ESI_MAX_RETRY_AFTER_SECONDS = 40.0
    esi_server.add("GET", "/status", FakeResponse(status=status, headers=headers))
    with pytest.raises(EsiHttpError) as info:
        EsiClient().get("/status")
    assert info.value.status == status
    ttl = get_redis_connection("default").pttl(LOCKDOWN_KEY) / 1000
    assert ttl <= settings.ESI_ERROR_SLEEP_SECONDS + 40.0
    if headers.get("Retry-After") != "1e999":
        assert ttl > 39  # the cap is used, not the plain lockdown


def test_a_huge_error_limit_reset_is_capped(esi_server: FakeHttpServer, settings: SettingsWrapper) -> None:
    """The error-limit window a 2xx answer reports is kept no longer than ESI_MAX_RETRY_AFTER_SECONDS."""
    settings.ESI_MAX_RETRY_AFTER_SECONDS = 40.0
    headers = {"X-ESI-Error-Limit-Remain": "5", "X-ESI-Error-Limit-Reset": "999999"}
    esi_server.add("GET", "/status", FakeResponse(json={}, headers=headers))
    EsiClient().get("/status")
    state = error_limit_get()
    assert state is not None
    assert state.remain == 5
    assert 39 < state.reset_in() <= 40


def test_timeout_and_connection_error_are_handled_like_5xx(
    esi_server: FakeHttpServer, settings: SettingsWrapper
) -> None:
    """A slow answer and a dropped connection both set the lockdown."""
    settings.ESI_TIMEOUT_SECONDS = 0.2
    esi_server.add("GET", "/slow", FakeResponse(json={}, delay=1.0))
    with pytest.raises(EsiTimeoutError):
        EsiClient().get("/slow")
    conn = get_redis_connection("default")
    assert conn.exists(LOCKDOWN_KEY)
    conn.delete(LOCKDOWN_KEY)
    esi_server.add("GET", "/drop", FakeResponse(drop=True))
    with pytest.raises(EsiTimeoutError):
        EsiClient().get("/drop")
    assert conn.exists(LOCKDOWN_KEY)


def test_exact_log_line(esi_server: FakeHttpServer, caplog: pytest.LogCaptureFixture) -> None:
    """Each request is logged as [ESI] Method: GET | URL: <full url> | Status: N | Limit-Remain: N."""
    esi_server.add(
        "GET",
        "/markets/10000002/orders",
        FakeResponse(json=[ORDER], headers={"X-ESI-Error-Limit-Remain": "99", "X-ESI-Error-Limit-Reset": "30"}),
    )
    esi_server.add("GET", "/markets/prices", FakeResponse(json=[{"type_id": 34}]))
    esi_server.add(
        "GET",
        "/boom",
        FakeResponse(status=500, headers={"X-ESI-Error-Limit-Remain": "98", "X-ESI-Error-Limit-Reset": "30"}),
    )
    caplog.set_level(logging.INFO, logger="esi")
    EsiClient().get("/markets/10000002/orders", params={"order_type": "sell", "type_id": 34})
    EsiClient().get("/markets/prices")
    with pytest.raises(EsiHttpError):
        EsiClient().get("/boom")
    lines = [(r.levelno, r.getMessage()) for r in caplog.records if r.getMessage().startswith("[ESI]")]
    base = esi_server.url
    assert lines == [
        (
            logging.INFO,
            f"[ESI] Method: GET | URL: {base}/markets/10000002/orders?order_type=sell&type_id=34"
            " | Status: 200 | Limit-Remain: 99",
        ),
        (logging.INFO, f"[ESI] Method: GET | URL: {base}/markets/prices | Status: 200 | Limit-Remain: -"),
        (logging.CRITICAL, f"[ESI] Method: GET | URL: {base}/boom | Status: 500 | Limit-Remain: 98"),
    ]


def test_token_never_logged_and_sent_as_bearer(esi_server: FakeHttpServer, caplog: pytest.LogCaptureFixture) -> None:
    """The access token goes in the Authorization header only; logs and call list never show it."""
    esi_server.add("GET", "/characters/90000001/location", FakeResponse(json={"solar_system_id": 30000142}))
    caplog.set_level(logging.DEBUG)
    resp = EsiClient().get("/characters/90000001/location", token="SECRET-TOKEN-abc")
    assert resp.models.solar_system_id == 30000142
    request = esi_server.matching("GET", "/characters/90000001/location")[0]
    assert request.headers["Authorization"] == "Bearer SECRET-TOKEN-abc"
    assert "SECRET-TOKEN" not in caplog.text
    assert b"SECRET-TOKEN" not in b"".join(get_redis_connection("default").lrange("esi:calls", 0, -1))


def test_headers_sent(esi_server: FakeHttpServer, settings: SettingsWrapper) -> None:
    """User-Agent and X-Compatibility-Date come from settings."""
    settings.ESI_USER_AGENT = "evesite-test (+mailto:ops@example.org)"
    esi_server.add("GET", "/status", FakeResponse(json={}))
    EsiClient().get("/status")
    headers = esi_server.matching()[0].headers
    assert headers["User-Agent"] == "evesite-test (+mailto:ops@example.org)"
    assert headers["X-Compatibility-Date"] == settings.ESI_COMPATIBILITY_DATE == "2025-08-26"


def test_latest_prefix_is_refused(esi_server: FakeHttpServer) -> None:
    """Paths are the spec's, without /latest/."""
    with pytest.raises(DomainError):
        EsiClient().get("/latest/status/")
    assert esi_server.count() == 0


def test_pages_walk_with_page_delay(esi_server: FakeHttpServer, settings: SettingsWrapper) -> None:
    """X-Pages is followed; consecutive page fetches are at least the page delay apart."""
    settings.ESI_PAGE_DELAY_SECONDS = 0.3
    lm = _http_date(-60)

    def page(req: RecordedRequest) -> FakeResponse:
        """Answer two orders per page, numbered after the page."""
        number = int(req.query["page"][0])
        return FakeResponse(
            json=[_order(number * 10 + i) for i in range(2)], headers={"X-Pages": "3", "Last-Modified": lm}
        )

    esi_server.add("GET", "/markets/10000002/orders", page)
    items = EsiClient().get_all_pages("/markets/10000002/orders", params={"order_type": "all"})
    assert [o["order_id"] for o in items] == [10, 11, 20, 21, 30, 31]
    received = esi_server.matching()
    assert [r.query["page"] for r in received] == [["1"], ["2"], ["3"]]
    gaps = [b.received_at - a.received_at for a, b in itertools.pairwise(received)]
    assert all(gap >= 0.3 for gap in gaps), gaps
    assert all(gap < 1.5 for gap in gaps), gaps


def test_region_delay(settings: SettingsWrapper) -> None:
    """for_each_region pauses the region delay between regions, not before the first."""
    settings.ESI_REGION_DELAY_SECONDS = 0.3
    stamps: list[float] = []
    started = time.monotonic()

    def work(region_id: int) -> int:
        """Note when a region starts."""
        stamps.append(time.monotonic())
        return region_id * 2

    result = for_each_region([10000002, 10000043, 10000032], work)
    assert result == [20000004, 20000086, 20000064]
    assert stamps[0] - started < 0.2
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert all(0.3 <= gap < 1.0 for gap in gaps), gaps


def test_expires_prevents_a_second_request_then_304_serves_cache(esi_server: FakeHttpServer) -> None:
    """Before Expires no request is sent; after it, If-None-Match is sent and a 304 returns the cached body."""
    esi_server.add(
        "GET",
        "/markets/prices",
        FakeResponse(json=[{"type_id": 34, "average_price": 5.0}], headers={"ETag": '"v1"', "Expires": _http_date(2)}),
        FakeResponse(status=304, headers={"ETag": '"v1"', "Expires": _http_date(60)}),
    )
    client = EsiClient()
    first = client.get("/markets/prices")
    assert not first.from_cache
    assert first.etag == '"v1"'
    second = client.get("/markets/prices")
    assert second.from_cache
    assert second.data == first.data
    assert esi_server.count() == 1
    time.sleep(2.1)
    third = client.get("/markets/prices")
    assert third.from_cache
    assert third.status == 200
    assert third.data == [{"type_id": 34, "average_price": 5.0}]
    assert esi_server.count() == 2
    assert esi_server.matching()[1].headers["If-None-Match"] == '"v1"'
    assert "If-None-Match" not in esi_server.matching()[0].headers
    # The 304's new Expires is kept: no request now.
    client.get("/markets/prices")
    assert esi_server.count() == 2
    assert get_redis_connection("default").exists(LOCKDOWN_KEY) == 0


def test_last_modified_change_mid_walk_restarts(esi_server: FakeHttpServer) -> None:
    """When page 2 has another Last-Modified than page 1, the walk restarts; versions are never merged."""
    old, new = _http_date(-600), _http_date(-10)
    esi_server.add(
        "GET",
        "/contracts/public/10000002",
        lambda req: FakeResponse(
            json=[{**CONTRACT, "contract_id": 100 + int(req.query["page"][0])}],
            headers={"X-Pages": "2", "Last-Modified": old if (esi_server.count() == 1) else new},
        ),
    )
    items = EsiClient().get_all_pages("/contracts/public/10000002")
    assert [c["contract_id"] for c in items] == [101, 102]
    assert [r.query["page"][0] for r in esi_server.matching()] == ["1", "2", "1", "2"]


def test_last_modified_changing_every_time_raises(esi_server: FakeHttpServer, settings: SettingsWrapper) -> None:
    """A version that never settles ends in EsiInconsistentPagesError after the bounded restarts."""
    settings.ESI_PAGE_WALK_RESTARTS = 1
    esi_server.add(
        "GET",
        "/contracts/public/10000002",
        lambda req: FakeResponse(
            json=[CONTRACT], headers={"X-Pages": "2", "Last-Modified": _http_date(-1000 + esi_server.count())}
        ),
    )
    with pytest.raises(EsiInconsistentPagesError):
        EsiClient().get_all_pages("/contracts/public/10000002")
    assert esi_server.count() == 4


def test_error_limit_low_makes_client_wait(esi_server: FakeHttpServer, settings: SettingsWrapper) -> None:
    """When Remain falls to the low-water mark, the next request waits for the reset."""
    settings.ESI_ERROR_LIMIT_LOW_WATER = 10
    esi_server.add(
        "GET",
        "/status",
        FakeResponse(json={}, headers={"X-ESI-Error-Limit-Remain": "10", "X-ESI-Error-Limit-Reset": "2"}),
        FakeResponse(json={}, headers={"X-ESI-Error-Limit-Remain": "100", "X-ESI-Error-Limit-Reset": "60"}),
    )
    client = EsiClient()
    client.get("/status", params={"a": 1})
    started = time.monotonic()
    client.get("/status", params={"a": 2})
    requests = esi_server.matching()
    assert requests[1].received_at - requests[0].received_at >= 1.5
    assert time.monotonic() - started >= 1.5


def test_error_limit_high_does_not_wait(esi_server: FakeHttpServer) -> None:
    """With Remain above the low-water mark there is no wait (the wait test can fail)."""
    esi_server.add(
        "GET",
        "/status",
        FakeResponse(json={}, headers={"X-ESI-Error-Limit-Remain": "11", "X-ESI-Error-Limit-Reset": "30"}),
    )
    client = EsiClient()
    client.get("/status", params={"a": 1})
    started = time.monotonic()
    client.get("/status", params={"a": 2})
    assert time.monotonic() - started < 0.5


def test_broken_json_raises_payload_error(esi_server: FakeHttpServer) -> None:
    """A 200 with a body that is not JSON raises EsiPayloadError."""
    esi_server.add("GET", "/status", FakeResponse(body=b"{not json", headers={"Content-Type": "application/json"}))
    with pytest.raises(EsiPayloadError):
        EsiClient().get("/status")


def test_payload_is_validated_on_arrival(esi_server: FakeHttpServer) -> None:
    """A market order missing a required field is refused."""
    bad = {k: v for k, v in ORDER.items() if k != "price"}
    esi_server.add("GET", "/markets/10000002/orders", FakeResponse(json=[bad]))
    with pytest.raises(EsiPayloadError):
        EsiClient().get("/markets/10000002/orders")
    esi_server.add("GET", "/markets/10000002/orders", FakeResponse(json=[ORDER]))
    resp = EsiClient().get("/markets/10000002/orders", params={"page": 1})
    assert resp.models[0].price == 10000000.0
    assert math.isclose(resp.data[0]["price"], 10000000)


CONTRACT = {
    "contract_id": 190124106,
    "date_expired": "2023-04-11T06:43:34Z",
    "date_issued": "2023-03-14T06:43:34Z",
    "issuer_corporation_id": 98649334,
    "issuer_id": 992705504,
    "type": "item_exchange",
}


def _group_headers(remaining: int, used: int = 2) -> dict[str, str]:
    """Rate-limit headers of the market group."""
    return {
        "X-Ratelimit-Group": "market",
        "X-Ratelimit-Limit": "20/2s",
        "X-Ratelimit-Remaining": str(remaining),
        "X-Ratelimit-Used": str(used),
    }


def test_rate_limit_group_low_makes_client_wait(esi_server: FakeHttpServer, settings: SettingsWrapper) -> None:
    """When a route group's Remaining reaches its reserve, the next call waits for tokens to come back."""
    settings.ESI_RATE_LIMIT_LOW_WATER = 0.1  # reserve 2 of 20
    esi_server.add(
        "GET",
        "/markets/prices",
        FakeResponse(json=[], headers=_group_headers(2, used=18)),
        FakeResponse(json=[], headers=_group_headers(18)),
    )
    client = EsiClient()
    client.get("/markets/prices", params={"a": 1})
    client.get("/markets/prices", params={"a": 2})
    first, second = esi_server.matching()
    # The 18 tokens spent come back one 2 s window after the first call.
    assert second.received_at - first.received_at >= 1.8


def test_rate_limit_wait_too_long_refuses_with_429(esi_server: FakeHttpServer, settings: SettingsWrapper) -> None:
    """A wait beyond ESI_MAX_WAIT_SECONDS raises EsiRateLimitError (HTTP 429) and sends nothing."""
    settings.ESI_MAX_WAIT_SECONDS = 0.5
    headers = {**_group_headers(1, used=2), "X-Ratelimit-Limit": "150/15m"}
    esi_server.add("GET", "/markets/prices", FakeResponse(json=[], headers=headers))
    client = EsiClient()
    client.get("/markets/prices", params={"a": 1})
    with pytest.raises(EsiRateLimitError) as info:
        client.get("/markets/prices", params={"a": 2})
    assert info.value.status_code == 429
    assert int(info.value.headers["Retry-After"]) > 800
    assert esi_server.count() == 1


def test_rate_limit_groups_are_per_route(esi_server: FakeHttpServer, settings: SettingsWrapper) -> None:
    """An exhausted group does not hold back a route of another group."""
    settings.ESI_MAX_WAIT_SECONDS = 0.5
    esi_server.add(
        "GET", "/markets/prices", FakeResponse(json=[], headers={**_group_headers(0), "X-Ratelimit-Limit": "150/15m"})
    )
    esi_server.add("GET", "/universe/system_kills", FakeResponse(json=[]))
    client = EsiClient()
    client.get("/markets/prices")
    client.get("/universe/system_kills")
    assert esi_server.count("GET", "/universe/system_kills") == 1


def test_bucket_is_capped_by_error_budget(esi_server: FakeHttpServer, settings: SettingsWrapper) -> None:
    """With Remain just above the low-water mark, the local bucket allows no burst: calls are paced by its refill."""
    settings.ESI_BUCKET_CAPACITY = 50.0
    settings.ESI_BUCKET_REFILL_PER_SECOND = 5.0
    settings.ESI_ERROR_LIMIT_LOW_WATER = 10
    esi_server.add(
        "GET",
        "/status",
        FakeResponse(json={}, headers={"X-ESI-Error-Limit-Remain": "11", "X-ESI-Error-Limit-Reset": "50"}),
    )
    client = EsiClient()
    started = time.monotonic()
    for n in range(6):
        client.get("/status", params={"n": n})
    # Call 1 from the full bucket; call 2 takes the one affordable token; calls 3-6 wait 0.2 s each (5/s).
    assert time.monotonic() - started >= 0.75


def test_timeout_log_line(
    esi_server: FakeHttpServer, settings: SettingsWrapper, caplog: pytest.LogCaptureFixture
) -> None:
    """A timeout is logged in the same format, at CRITICAL, with Status: timeout and Limit-Remain: -."""
    settings.ESI_TIMEOUT_SECONDS = 0.2
    esi_server.add("GET", "/slow", FakeResponse(json={}, delay=1.0))
    caplog.set_level(logging.INFO, logger="esi")
    with pytest.raises(EsiTimeoutError):
        EsiClient().get("/slow", params={"x": 1})
    lines = [(r.levelno, r.getMessage()) for r in caplog.records if r.getMessage().startswith("[ESI]")]
    assert lines == [
        (logging.CRITICAL, f"[ESI] Method: GET | URL: {esi_server.url}/slow?x=1 | Status: timeout | Limit-Remain: -")
    ]


def test_cached_pages_are_revalidated_when_a_newer_page_appears(esi_server: FakeHttpServer) -> None:
    """Page 1 fresh in the cache but page 2 already newer: the walk restarts with If-None-Match and never merges."""
    old, new = _http_date(-600), _http_date(-5)
    esi_server.add(
        "GET",
        "/markets/10000002/orders",
        FakeResponse(
            json=[_order(1)],
            headers={"X-Pages": "2", "Last-Modified": old, "ETag": '"p1-old"', "Expires": _http_date(300)},
        ),
    )
    client = EsiClient()
    client.get("/markets/10000002/orders", params={"page": 1})
    esi_server.reset()

    def answer(req: RecordedRequest) -> FakeResponse:
        """Serve the new version of both pages."""
        number = int(req.query["page"][0])
        headers = {"X-Pages": "2", "Last-Modified": new, "ETag": f'"p{number}-new"'}
        return FakeResponse(json=[_order(number * 100)], headers=headers)

    esi_server.add("GET", "/markets/10000002/orders", answer)
    items = client.get_all_pages("/markets/10000002/orders")
    assert [o["order_id"] for o in items] == [100, 200]
    received = esi_server.matching()
    assert [r.query["page"][0] for r in received] == ["2", "1", "2"]
    assert received[1].headers["If-None-Match"] == '"p1-old"'


def test_cache_hit_needs_no_request_even_during_lockdown(esi_server: FakeHttpServer) -> None:
    """A fresh cached copy is served without a request; models are validated again."""
    esi_server.add(
        "GET",
        "/universe/system_kills",
        FakeResponse(
            json=[{"system_id": 30000142, "ship_kills": 1, "npc_kills": 2, "pod_kills": 0}],
            headers={"Expires": _http_date(300)},
        ),
    )
    EsiClient().get("/universe/system_kills")
    get_redis_connection("default").set(LOCKDOWN_KEY, "test", ex=30)
    cached = EsiClient().get("/universe/system_kills")
    assert cached.from_cache
    assert cached.models[0].npc_kills == 2
    assert esi_server.count() == 1


def test_error_answer_is_not_cached_and_token_answers_are_per_token(esi_server: FakeHttpServer) -> None:
    """Answers for one token are never served to another."""
    esi_server.add(
        "GET",
        "/characters/1/location",
        lambda req: FakeResponse(
            json={"solar_system_id": 30000142 if req.headers["Authorization"].endswith("A") else 30002187},
            headers={"Expires": _http_date(300)},
        ),
    )
    client = EsiClient()
    assert client.get("/characters/1/location", token="token-A").data["solar_system_id"] == 30000142
    assert client.get("/characters/1/location", token="token-B").data["solar_system_id"] == 30002187
    assert client.get("/characters/1/location", token="token-A").from_cache
    assert esi_server.count() == 2


def test_no_content_is_none_and_not_a_walk(esi_server: FakeHttpServer) -> None:
    """A 204 gives data None from get; a page walk refuses it with EsiPayloadError carrying status 204."""
    esi_server.add("GET", "/contracts/public/items/190000001", FakeResponse(status=204))
    resp = EsiClient().get("/contracts/public/items/190000001")
    assert resp.status == 204
    assert resp.data is None
    with pytest.raises(EsiPayloadError) as info:
        EsiClient().get_all_pages("/contracts/public/items/190000001")
    assert info.value.status == 204
    assert get_redis_connection("default").exists(LOCKDOWN_KEY) == 0


def test_lockdown_error_becomes_http_429_with_retry_after(esi_server: FakeHttpServer) -> None:
    """The project's exception handler turns the lockdown into 429 with Retry-After = TTL rounded up."""
    get_redis_connection("default").set(LOCKDOWN_KEY, "test", px=12_300)
    with pytest.raises(EsiLockdownError) as info:
        EsiClient().get("/status")
    response = api_exception_handler(info.value, {})
    assert response is not None
    assert response.status_code == 429
    assert response["Retry-After"] == "13"
    assert response.data["error"] == "esi_lockdown"
    assert esi_server.count() == 0


def test_420_reset_lengthens_lockdown(esi_server: FakeHttpServer, settings: SettingsWrapper) -> None:
    """A 420's X-ESI-Error-Limit-Reset longer than the lockdown is honoured, and Remain 0 is recorded."""
    settings.ESI_LOCKDOWN_SECONDS = 2.0
    esi_server.add(
        "GET",
        "/status",
        FakeResponse(status=420, headers={"X-ESI-Error-Limit-Remain": "0", "X-ESI-Error-Limit-Reset": "45"}),
    )
    with pytest.raises(EsiHttpError) as info:
        EsiClient().get("/status")
    assert info.value.status == 420
    assert get_redis_connection("default").pttl(LOCKDOWN_KEY) / 1000 > 44

    state = error_limit_get()
    assert state is not None
    assert state.remain == 0


def test_token_in_params_goes_to_the_header(esi_server: FakeHttpServer, caplog: pytest.LogCaptureFixture) -> None:
    """A token passed as a query parameter is moved to the Authorization header, never into the URL."""
    esi_server.add("GET", "/characters/90000001/location", FakeResponse(json={"solar_system_id": 30000142}))
    caplog.set_level(logging.INFO, logger="esi")
    EsiClient().get("/characters/90000001/location", params={"token": "SECRET-in-query"})
    (request,) = esi_server.matching()
    assert request.query == {}
    assert request.headers["Authorization"] == "Bearer SECRET-in-query"
    assert "SECRET" not in caplog.text


def test_slow_answer_within_timeout_is_fine(esi_server: FakeHttpServer, settings: SettingsWrapper) -> None:
    """A slow answer inside ESI_TIMEOUT_SECONDS is no error and sets no lockdown."""
    settings.ESI_TIMEOUT_SECONDS = 2.0
    esi_server.add("GET", "/status", FakeResponse(json={"ok": True}, delay=0.3))
    assert EsiClient().get("/status").data == {"ok": True}
    assert get_redis_connection("default").exists(LOCKDOWN_KEY) == 0
