"""Fault-injection run of the ESI client against a hostile fake ESI on loopback.

The fake ESI answers at random with 5xx, 420, 429 (Retry-After), slow answers
(past the client's timeout), broken JSON, and "other traffic" that lowers the
error budget it reports in ``X-ESI-Error-Limit-Remain``. It keeps a real error
limit (``BENCH_ESI_ERROR_LIMIT`` errors per ``BENCH_ESI_WINDOW`` seconds, then
420 for everything) and checks Redis's ``ESI_GLOBAL_LOCKDOWN`` as each request
arrives. Several client threads (``BENCH_ESI_THREADS``) drive the client with
shrunken delays for ``BENCH_ESI_SECONDS``.

Figures: requests sent, errors, lockdowns, requests that arrived while the
lockdown key existed (must be 0), and the lowest Remain the server reported
(must stay > 0).

It uses a scratch Redis database (``BENCH_REDIS_URL``, default: ``REDIS_URL``
with database 15) and deletes only the ESI client's keys there, so a running
site's lockdown and cache are never touched.

Run: ``.venv/bin/python bench/bench_esi_faults.py`` (``make bench`` runs every benchmark).
"""

from __future__ import annotations

import json
import logging
import os
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _scratch_redis_url() -> str:
    """Pick the Redis database the benchmark may scribble on.

    Returns:
        ``BENCH_REDIS_URL``, or ``REDIS_URL`` with database 15.
    """
    explicit = os.environ.get("BENCH_REDIS_URL")
    if explicit:
        return explicit
    parts = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    return urlunsplit((parts.scheme, parts.netloc, "/15", parts.query, parts.fragment))


SECONDS = float(os.environ.get("BENCH_ESI_SECONDS", "20"))
THREADS = int(os.environ.get("BENCH_ESI_THREADS", "4"))
ERROR_LIMIT = int(os.environ.get("BENCH_ESI_ERROR_LIMIT", "40"))
WINDOW = float(os.environ.get("BENCH_ESI_WINDOW", "6"))
SEED = int(os.environ.get("BENCH_ESI_SEED", "4"))

os.environ["REDIS_URL"] = _scratch_redis_url()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evesite.settings.production")
for _name, _value in {
    "ESI_PAGE_DELAY_SECONDS": "0.01",
    "ESI_REGION_DELAY_SECONDS": "0.02",
    "ESI_ERROR_SLEEP_SECONDS": "0.05",
    "ESI_LOCKDOWN_SECONDS": "0.25",
    "ESI_TIMEOUT_SECONDS": "0.3",
    "ESI_MAX_WAIT_SECONDS": "15",
    "ESI_BUCKET_CAPACITY": "20",
    "ESI_BUCKET_REFILL_PER_SECOND": "200",
}.items():
    os.environ[_name] = _value

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from esi import limits  # noqa: E402
from esi.client import EsiClient, for_each_region  # noqa: E402
from esi.errors import EsiError, EsiLockdownError, EsiRateLimitError  # noqa: E402
from esi.transport import LockdownGuardAdapter  # noqa: E402
from evesite.testing.fakeserver import FakeHttpServer, FakeResponse, RecordedRequest  # noqa: E402

ORDER = {
    "duration": 90,
    "is_buy_order": False,
    "issued": "2026-01-01T00:00:00Z",
    "location_id": 60003760,
    "min_volume": 1,
    "order_id": 1,
    "price": 5.5,
    "range": "region",
    "system_id": 30000142,
    "type_id": 34,
    "volume_remain": 10,
    "volume_total": 10,
}

# Fault mix (cumulative by order): the rest are good answers.
FAULTS = [("500", 0.04), ("503", 0.03), ("420", 0.01), ("429", 0.02), ("slow", 0.02), ("broken", 0.03), ("other", 0.05)]


class StampingAdapter(LockdownGuardAdapter):
    """The client's adapter, stamping each request with the Redis time at which it passed the lockdown check."""

    def transmit(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """Stamp, then write the request.

        Args:
            request: The prepared request.
            *args: Passed on.
            **kwargs: Passed on.

        Returns:
            The response.
        """
        request.headers["X-Bench-Checked-At"] = repr(request.esi_checked_at)
        return super().transmit(request, *args, **kwargs)


class ProbedClient(EsiClient):
    """The ESI client with the stamping adapter (nothing else changes)."""

    adapter_class = StampingAdapter


class HostileEsi:
    """Scripted answers with a real error limit and a lockdown watch."""

    def __init__(self, rng: random.Random) -> None:
        """Start with a full budget.

        Args:
            rng: Random source.
        """
        self.rng = rng
        self.lock = threading.Lock()
        self.window_start = time.monotonic()
        self.errors = 0
        self.kinds: Counter[str] = Counter()
        self.min_remain = ERROR_LIMIT
        self.while_locked = 0
        self.in_flight = 0
        self.redis = limits.redis_connection()

    def _budget(self) -> tuple[int, int]:
        """Roll the window over when due and report the budget (caller holds the lock).

        Returns:
            (remain, reset seconds).
        """
        now = time.monotonic()
        if now - self.window_start >= WINDOW:
            self.window_start = now
            self.errors = 0
        reset = max(1, round(self.window_start + WINDOW - now))
        return max(0, ERROR_LIMIT - self.errors), reset

    def answer(self, request: RecordedRequest) -> FakeResponse:
        """Answer one request.

        Args:
            request: The request received.

        Returns:
            The scripted answer.
        """
        kind, remain, reset = self._pick(request)
        headers = {"X-ESI-Error-Limit-Remain": str(remain), "X-ESI-Error-Limit-Reset": str(reset)}
        return _scripted(kind, request, headers)

    def _pick(self, request: RecordedRequest) -> tuple[str, int, int]:
        """Count a request sent during a lockdown, draw its fault and spend the budget; (kind, remain, reset)."""
        raw = self.redis.get(limits.LOCKDOWN_KEY)
        checked_at = float(request.headers.get("X-Bench-Checked-At", "inf"))
        with self.lock:
            if raw is not None:
                set_at = float(json.loads(raw).get("set_at", 0))
                # Cleared to go after the key was set (or never checked): a breach.
                # Cleared before: it was already on its way when another thread's error set the key.
                if checked_at >= set_at:
                    self.while_locked += 1
                else:
                    self.in_flight += 1
            remain, reset = self._budget()
            roll = self.rng.random()
            kind = "ok"
            acc = 0.0
            for name, share in FAULTS:
                acc += share
                if roll < acc:
                    kind = name
                    break
            if remain == 0:
                kind = "420-exhausted"
            if kind == "other":
                # Other software on the same IP spent some of the budget, but never below 12.
                self.errors = min(self.errors + self.rng.randint(3, 8), max(self.errors, ERROR_LIMIT - 12))
                remain, reset = self._budget()
            erroring = kind in {"500", "503", "420", "429", "420-exhausted"}
            if erroring and remain > 0:
                self.errors += 1
                remain, reset = self._budget()
            self.kinds[kind] += 1
            self.min_remain = min(self.min_remain, remain)
        return kind, remain, reset


def _error_answer(kind: str, headers: dict[str, str]) -> FakeResponse:
    """The answer of an erroring fault kind (a 5xx, an error-limited 420 or a rate-limited 429)."""
    if kind in {"500", "503"}:
        return FakeResponse(status=int(kind), json={"error": "boom"}, headers=headers)
    if kind.startswith("420"):
        return FakeResponse(status=420, json={"error": "error limited"}, headers=headers)
    return FakeResponse(status=429, json={"error": "rate limited"}, headers={**headers, "Retry-After": "1"})


def _scripted(kind: str, request: RecordedRequest, headers: dict[str, str]) -> FakeResponse:
    """The answer of one fault kind (``ok``: a page of orders or of prices)."""
    if kind in {"500", "503", "429"} or kind.startswith("420"):
        return _error_answer(kind, headers)
    if kind == "slow":
        return FakeResponse(json=[], headers=headers, delay=0.5)
    if kind == "broken":
        return FakeResponse(body=b'[{"order_id": 1,', headers={**headers, "Content-Type": "application/json"})
    if request.path.endswith("/orders"):
        return FakeResponse(
            json=[ORDER], headers={**headers, "X-Pages": "3", "Last-Modified": "Sat, 28 Nov 2026 00:00:00 GMT"}
        )
    return FakeResponse(json=[{"type_id": 34, "average_price": 5.0}], headers=headers)


def _clean_scratch() -> None:
    """Delete the ESI client's keys in the scratch database (and nothing else)."""
    conn = limits.redis_connection()
    conn.delete(limits.LOCKDOWN_KEY)
    for key in conn.scan_iter(match="esi:*"):
        conn.delete(key)


class _WaitCounter(logging.Handler):
    """Counts the client's budget waits from its log."""

    def __init__(self) -> None:
        """Start at zero."""
        super().__init__(level=logging.WARNING)
        self.waits = 0

    def emit(self, record: logging.LogRecord) -> None:
        """Count one record when it reports a wait.

        Args:
            record: A log record of the ``esi`` logger.
        """
        if "waited" in record.getMessage():
            self.waits += 1


def _drive(*, seed: int, deadline: float, outcomes: Counter[str], outcomes_lock: threading.Lock) -> None:
    """Drive the client until the deadline (one thread), counting the outcomes of its operations."""
    local = random.Random(seed)
    client = ProbedClient()
    while time.monotonic() < deadline:
        op = local.choice(["pages", "prices", "regions"])
        try:
            if op == "pages":
                client.get_all_pages(f"/markets/{10000002 + local.randint(0, 3)}/orders", {"order_type": "all"})
            elif op == "prices":
                client.get("/markets/prices")
            else:
                for_each_region([10000002, 10000043], lambda r: client.get("/markets/prices", {"r": r}).status)
            result = "ok"
        except EsiLockdownError:
            result = "refused: lockdown"
            left = limits.lockdown_ttl() or 0.0
            time.sleep(min(max(left, 0.01), 2.0))
        except EsiRateLimitError:
            result = "refused: budget"
            time.sleep(0.2)
        except EsiError as exc:
            result = f"error: {type(exc).__name__}"
        with outcomes_lock:
            outcomes[result] += 1


def _report(
    *, hostile: HostileEsi, outcomes: Counter[str], waits: int, elapsed: float, sent: int, low_water: int
) -> bool:
    """Print the figures; whether the two invariants hold."""
    stats = limits.stats_get()
    print(f"ESI fault injection: {THREADS} threads for {elapsed:.1f} s (seed {SEED})")
    print(f"  fake ESI error limit: {ERROR_LIMIT} errors per {WINDOW:g} s; client low-water mark: {low_water}")
    print(f"  requests sent (received by the fake ESI): {sent} ({sent / elapsed:.1f}/s)")
    print("  answers injected: " + ", ".join(f"{k}={v}" for k, v in sorted(hostile.kinds.items())))
    print("  client operations: " + ", ".join(f"{k}={v}" for k, v in sorted(outcomes.items())))
    print(f"  errors (HTTP 4xx/5xx + timeouts, counted by the client): {stats.get('errors', 0)}")
    print(
        f"  lockdowns set: {stats.get('lockdowns', 0)}; calls refused by the lockdown: {stats.get('refused_locked', 0)}"
    )
    print(f"  budget waits (error limit / rate limit): {waits}")
    print(
        f"  requests sent while locked down (cleared after the key was set, or never checked): {hostile.while_locked}"
    )
    print(
        f"  requests cleared before the key was set that reached the server after it (in flight): {hostile.in_flight}"
    )
    print(f"  minimum X-ESI-Error-Limit-Remain reported: {hostile.min_remain} (must stay > 0)")
    ok = hostile.while_locked == 0 and hostile.min_remain > 0
    print("  invariants: " + ("hold" if ok else "BROKEN"))
    return ok


def main() -> int:
    """Run the fault-injection benchmark and print its figures.

    Returns:
        0 when the two invariants hold, else 1.
    """
    low_water = settings.ESI_ERROR_LIMIT_LOW_WATER

    rng = random.Random(SEED)
    hostile = HostileEsi(rng)
    _clean_scratch()
    logging.getLogger("esi").setLevel(logging.WARNING)
    logging.getLogger("esi").propagate = False
    counter = _WaitCounter()
    logging.getLogger("esi").addHandler(counter)
    outcomes: Counter[str] = Counter()
    outcomes_lock = threading.Lock()
    deadline = time.monotonic() + SECONDS

    with FakeHttpServer() as server:
        settings.ESI_BASE_URL = server.url
        server.add("GET", r"/markets/\d+/orders", hostile.answer, regex=True)
        server.add("GET", "/markets/prices", hostile.answer)

        started = time.monotonic()
        threads = [
            threading.Thread(
                target=_drive,
                kwargs={
                    "seed": SEED * 100 + i,
                    "deadline": deadline,
                    "outcomes": outcomes,
                    "outcomes_lock": outcomes_lock,
                },
            )
            for i in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        sent = server.count()

    ok = _report(
        hostile=hostile, outcomes=outcomes, waits=counter.waits, elapsed=elapsed, sent=sent, low_water=low_water
    )
    _clean_scratch()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
