"""The one ESI client: paranoid about bans.

Every call goes through :meth:`EsiClient.get`, which, in order:

1. serves a cached copy while its ``Expires`` has not passed (no request);
2. refuses with :class:`~esi.errors.EsiLockdownError` while the Redis key
   ``ESI_GLOBAL_LOCKDOWN`` exists (no request leaves the process);
3. waits for the budgets: ESI's error limit (stops at the low-water mark until
   ``X-ESI-Error-Limit-Reset``), the route group's rate limit, the local token
   bucket, and the page delay of a walk; then checks the lockdown again;
4. sends the request with ``User-Agent``, ``X-Compatibility-Date`` and
   ``If-None-Match`` (the stored ETag);
5. logs ``[ESI] Method: GET | URL: ... | Status: 200 | Limit-Remain: 99``;
6. on ONE 4xx/5xx (420 and 429 included), timeout or connection error: sets the
   lockdown at once for ``ESI_ERROR_SLEEP_SECONDS + ESI_LOCKDOWN_SECONDS``, sleeps
   ``ESI_ERROR_SLEEP_SECONDS`` and raises; a 304 is a success (cached body);
7. parses the JSON and validates it against the route's pydantic model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlencode

import requests
from django.conf import settings
from pydantic import ValidationError
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from esi import limits
from esi.errors import (
    EsiError,
    EsiHttpError,
    EsiInconsistentPagesError,
    EsiPayloadError,
    EsiTimeoutError,
)
from esi.models import payload_validate
from evesite.exceptions import InvalidInputError

logger = logging.getLogger("esi")

T = TypeVar("T")

CACHE_PREFIX = "esi:cache:"
LOG_FORMAT = "[ESI] Method: %s | URL: %s | Status: %s | Limit-Remain: %s"
# What the log line shows when ESI sent no X-ESI-Error-Limit-Remain header.
NO_REMAIN = "-"
# True while a web request is served: the client then never sleeps (see web_request_serving).
_in_web_request: ContextVar[bool] = ContextVar("esi_in_web_request", default=False)


@contextmanager
def web_request_serving() -> Iterator[None]:
    """Run the block in web mode: ESI errors and low budgets answer at once, never sleep.

    An error still locks every process out; a budget at its low-water mark refuses (HTTP 429).

    Yields:
        Nothing.
    """
    token = _in_web_request.set(True)
    try:
        yield
    finally:
        _in_web_request.reset(token)


def in_web_request() -> bool:
    """Tell whether a web request is being served on this thread.

    Returns:
        True in web mode.
    """
    return _in_web_request.get()


def _http_date(value: str | None) -> datetime | None:
    """Parse an HTTP date header.

    Args:
        value: The header, e.g. ``Sat, 28 Nov 2026 23:05:00 GMT``.

    Returns:
        An aware datetime, or None when absent or unreadable.
    """
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _expires_at(headers: CaseInsensitiveDict[str], now: float) -> float | None:
    """Work out when a response goes stale.

    ``Expires`` wins; else ``Cache-Control: max-age``; ``no-store``/``no-cache`` mean now.

    Args:
        headers: Response headers.
        now: Epoch seconds when the response arrived.

    Returns:
        Epoch seconds, or None when the response carries no freshness.
    """
    control = (headers.get("Cache-Control") or "").lower()
    if "no-store" in control or "no-cache" in control:
        return now
    expires = _http_date(headers.get("Expires"))
    if expires is not None:
        return expires.timestamp()
    for part in control.split(","):
        name, _, value = part.strip().partition("=")
        if name == "max-age" and value.strip().isdigit():
            return now + int(value)
    return None


def _int_header(headers: CaseInsensitiveDict[str], name: str) -> int | None:
    """Read an integer header.

    Args:
        headers: Response headers.
        name: Header name.

    Returns:
        The integer, or None when absent or unreadable.
    """
    raw = headers.get(name)
    try:
        return int(float(raw)) if raw is not None else None
    except (ValueError, OverflowError):  # OverflowError: "inf" or "1e999"
        return None


def _owner(token: str | None) -> str:
    """Identify whose budget a call spends without keeping the token.

    Args:
        token: The access token, if any.

    Returns:
        ``"app"``, or a short hash of the token.
    """
    return "app" if not token else "tok-" + hashlib.sha256(token.encode()).hexdigest()[:16]


@dataclass
class EsiResponse:
    """One ESI answer (fresh, revalidated by a 304, or from the cache).

    Attributes:
        data: The parsed JSON body.
        status: ESI's status (200 also for cache hits; 304 answers report the cached 200).
        headers: Response headers (case-insensitive).
        expires: When the copy goes stale.
        last_modified: ``Last-Modified``.
        etag: ``ETag``.
        from_cache: True when the body came from our cache (304, or not yet expired).
        url: The full URL.
        models: The validated pydantic model(s) when the route has one.
        received_at: Monotonic time the answer arrived (None for a cache hit with no request).
    """

    data: Any
    status: int
    headers: CaseInsensitiveDict[str]
    expires: datetime | None
    last_modified: datetime | None
    etag: str | None
    from_cache: bool
    url: str
    models: Any = None
    received_at: float | None = field(default=None, repr=False)

    @property
    def pages(self) -> int:
        """Number of pages (``X-Pages``, 1 when absent)."""
        return max(1, _int_header(self.headers, "X-Pages") or 1)


_bucket_lock = threading.Lock()
_bucket: limits.TokenBucket | None = None


def _process_bucket() -> limits.TokenBucket:
    """Return this process's token bucket, rebuilt when the settings changed.

    Returns:
        The bucket.
    """
    global _bucket
    capacity = float(settings.ESI_BUCKET_CAPACITY)
    rate = float(settings.ESI_BUCKET_REFILL_PER_SECOND)
    with _bucket_lock:
        if _bucket is None or _bucket.capacity != capacity or _bucket.rate != rate:
            _bucket = limits.TokenBucket(capacity=capacity, rate=rate)
        return _bucket


class LockdownGuardAdapter(HTTPAdapter):
    """Transport adapter that checks the global lockdown at the last moment before a request is written."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        """Refuse to send while ``ESI_GLOBAL_LOCKDOWN`` exists, else send.

        The moment the check passed (Redis's clock) is kept on the request as ``esi_checked_at``.

        Args:
            request: The prepared request.
            *args: Passed to ``HTTPAdapter.send``.
            **kwargs: Passed to ``HTTPAdapter.send``.

        Returns:
            The response.
        """
        request.esi_checked_at = limits.lockdown_check()  # type: ignore[attr-defined]
        return self.transmit(request, *args, **kwargs)

    def transmit(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        """Write the request (the benchmark's probe hooks in here, after the check).

        Args:
            request: The prepared request.
            *args: Passed to ``HTTPAdapter.send``.
            **kwargs: Passed to ``HTTPAdapter.send``.

        Returns:
            The response.
        """
        return super().send(request, *args, **kwargs)


class EsiClient:
    """Client for ESI; cheap to create (the budgets live in Redis and in the process)."""

    adapter_class: type[LockdownGuardAdapter] = LockdownGuardAdapter

    def __init__(self, *, session: requests.Session | None = None) -> None:
        """Create a client.

        Args:
            session: HTTP session to reuse (one is made otherwise).
        """
        self._session = session or requests.Session()
        self._session.trust_env = False
        adapter = self.adapter_class()
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    # ------------------------------------------------------------------ public
    def get(self, path: str, params: dict[str, Any] | None = None, token: str | None = None) -> EsiResponse:
        """GET one ESI resource.

        Args:
            path: As in ESI's OpenAPI spec, without ``/latest/``, e.g. ``/markets/10000002/orders``.
            params: Query parameters.
            token: An SSO access token for authenticated routes (sent as a Bearer header, never logged).

        Returns:
            The response.

        Raises:
            EsiLockdownError: While the global lockdown lasts (nothing was sent).
            EsiRateLimitError: When a budget is exhausted for longer than ``ESI_MAX_WAIT_SECONDS``.
            EsiHttpError: On a 4xx/5xx (after the lockdown was set and the error sleep).
            EsiTimeoutError: On a timeout or connection error (same handling).
            EsiPayloadError: On a 2xx whose body is not valid JSON or does not fit the route's model.
        """
        return self._get(path, params, token)

    def get_all_pages(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        token: str | None = None,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[Any]:
        """GET every page of a paginated resource (``X-Pages``), pausing ``ESI_PAGE_DELAY_SECONDS`` between fetches.

        All pages must share one ``Last-Modified`` (and ``X-Pages``): when it
        changes mid-walk, the walk restarts (revalidating the pages it had), at
        most ``ESI_PAGE_WALK_RESTARTS`` times; two versions are never merged.

        Args:
            path: As in ESI's OpenAPI spec.
            params: Query parameters (``page`` is set by the walk).
            token: An SSO access token, if the route needs one.
            progress: Called with (pages done, ``X-Pages``) after each page (again from 1 after a restart).

        Returns:
            Every page's items, in page order.

        Raises:
            EsiInconsistentPagesError: When the version kept changing.
            EsiError: Any error of :meth:`get`.
        """
        base = {k: v for k, v in (params or {}).items() if k != "page"}
        restarts = 0
        revalidate = False
        last_fetch: float | None = None
        while True:
            first = self._get(path, {**base, "page": 1}, token, revalidate=revalidate, not_before=last_fetch)
            last_fetch = first.received_at or last_fetch
            items = self._page_items(first)
            if progress is not None:
                progress(1, first.pages)
            consistent = True
            for page in range(2, first.pages + 1):
                resp = self._get(path, {**base, "page": page}, token, revalidate=revalidate, not_before=last_fetch)
                last_fetch = resp.received_at or last_fetch
                if resp.headers.get("Last-Modified") != first.headers.get("Last-Modified") or resp.pages != first.pages:
                    consistent = False
                    logger.warning(
                        "ESI pages of %s changed version mid-walk at page %d (Last-Modified %s -> %s): restarting",
                        path,
                        page,
                        first.headers.get("Last-Modified"),
                        resp.headers.get("Last-Modified"),
                    )
                    break
                items.extend(self._page_items(resp))
                if progress is not None:
                    progress(page, first.pages)
            if consistent:
                return items
            restarts += 1
            if restarts > int(settings.ESI_PAGE_WALK_RESTARTS):
                raise EsiInconsistentPagesError(
                    f"The pages of {path} kept changing version during {restarts} walks.", url=first.url
                )
            revalidate = True

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _page_items(resp: EsiResponse) -> list[Any]:
        """Check that a page is a JSON list.

        Args:
            resp: One page.

        Returns:
            Its items.

        Raises:
            EsiPayloadError: When the page is not a list.
        """
        if not isinstance(resp.data, list):
            raise EsiPayloadError("A paginated ESI route did not answer a JSON list.", url=resp.url, status=resp.status)
        return list(resp.data)

    @staticmethod
    def _url(path: str, params: dict[str, Any]) -> str:
        """Build the full URL.

        Args:
            path: Spec path.
            params: Query parameters (no token).

        Returns:
            ``ESI_BASE_URL + path`` with the parameters sorted (a stable cache key).

        Raises:
            InvalidInputError: For a path that is not absolute or uses ``/latest/``.
        """
        if not path.startswith("/") or path.startswith(("/latest/", "/v1/", "/v2/", "/v3/", "/v4/", "/v5/", "/v6/")):
            raise InvalidInputError(f"ESI path {path!r} must be a spec path such as /markets/10000002/orders.")
        url = settings.ESI_BASE_URL.rstrip("/") + path
        if params:
            url += "?" + urlencode(sorted((k, str(v)) for k, v in params.items() if v is not None))
        return url

    @staticmethod
    def _cache_key(url: str, owner: str) -> str:
        """Return the Redis key of a cached response.

        Args:
            url: Full URL.
            owner: Budget owner (authenticated answers are cached per token).

        Returns:
            The key.
        """
        return CACHE_PREFIX + hashlib.sha256(f"{owner}|{url}".encode()).hexdigest()

    @staticmethod
    def _from_entry(entry: dict[str, Any], url: str, path: str, *, received_at: float | None) -> EsiResponse:
        """Rebuild a response from a cache entry (its models validated again, as on arrival).

        Args:
            entry: The stored entry.
            url: Full URL.
            path: Spec path (picks the payload model).
            received_at: When the 304 arrived, or None for a pure cache hit.

        Returns:
            The response with ``from_cache`` set.
        """
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(entry["headers"])
        data = json.loads(entry["body"])
        return EsiResponse(
            data=data,
            status=int(entry["status"]),
            headers=headers,
            expires=datetime.fromtimestamp(entry["expires_at"], tz=UTC) if entry.get("expires_at") else None,
            last_modified=_http_date(headers.get("Last-Modified")),
            etag=headers.get("ETag"),
            from_cache=True,
            url=url,
            models=payload_validate(path=path, data=data),
            received_at=received_at,
        )

    def _wait_for_budgets(self, path: str, owner: str, not_before: float | None) -> None:
        """Wait until every budget allows one more request.

        Args:
            path: The path about to be requested.
            owner: Budget owner.
            not_before: Monotonic time before which the request must not leave (page delay).

        Raises:
            EsiRateLimitError: When a wait would exceed ``ESI_MAX_WAIT_SECONDS``.
        """
        if not_before is not None:
            delay = not_before + float(settings.ESI_PAGE_DELAY_SECONDS) - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        low_water = int(settings.ESI_ERROR_LIMIT_LOW_WATER)
        max_wait = 0.0 if in_web_request() else float(settings.ESI_MAX_WAIT_SECONDS)
        deadline = time.monotonic() + max_wait
        # A wait can end in a window that is low again (other processes): look again until both budgets allow.
        while True:
            error_wait = limits.error_limit_wait_seconds(low_water=low_water)
            rate_wait = limits.rate_limit_wait_seconds(
                path=path, owner=owner, low_water_fraction=float(settings.ESI_RATE_LIMIT_LOW_WATER)
            )
            if error_wait <= 0 and rate_wait <= 0:
                break
            what = "error-limit" if error_wait >= rate_wait else "rate-limit"
            waited = limits.wait_or_refuse(
                max(error_wait, rate_wait), max_wait=max(0.0, deadline - time.monotonic()), what=what
            )
            logger.warning("ESI %s budget of %s at its low-water mark: waited %.2f s", what, path, waited)
        bucket = _process_bucket()
        state = limits.error_limit_get()
        if state is not None and state.reset_in() > 0:
            bucket.cap(state.remain - low_water)
        bucket.acquire()
        limits.bucket_publish(bucket.snapshot(), pid=os.getpid())

    def _get(
        self,
        path: str,
        params: dict[str, Any] | None,
        token: str | None,
        *,
        revalidate: bool = False,
        not_before: float | None = None,
    ) -> EsiResponse:
        """Do the work of :meth:`get`.

        Args:
            path: Spec path.
            params: Query parameters.
            token: Access token.
            revalidate: Ask ESI even if the cached copy has not expired (the server proved it stale).
            not_before: Monotonic time of the previous page fetch (page delay applies after it).

        Returns:
            The response.
        """
        query = dict(params or {})
        token = token or query.pop("token", None)
        query.pop("token", None)
        url = self._url(path, query)
        owner = _owner(token)
        conn = limits.redis_connection()
        cache_key = self._cache_key(url, owner)
        raw_entry = conn.get(cache_key)
        entry: dict[str, Any] | None = json.loads(raw_entry) if raw_entry else None
        if entry and not revalidate and entry.get("expires_at") and entry["expires_at"] > time.time():
            return self._from_entry(entry, url, path, received_at=None)

        limits.lockdown_check()
        self._wait_for_budgets(path, owner, not_before)
        limits.lockdown_check()

        headers = {
            "User-Agent": settings.ESI_USER_AGENT,
            "X-Compatibility-Date": settings.ESI_COMPATIBILITY_DATE,
            "Accept": "application/json",
        }
        if entry and entry["headers"].get("ETag"):
            headers["If-None-Match"] = entry["headers"]["ETag"]
        if token:
            headers["Authorization"] = f"Bearer {token}"

        started = time.monotonic()
        try:
            # stream=True: the status is known before the body is read, so an error locks everyone out at once.
            answer = self._session.get(
                url, headers=headers, timeout=float(settings.ESI_TIMEOUT_SECONDS), allow_redirects=False, stream=True
            )
        except requests.Timeout as exc:
            self._fail(url=url, status=None, label="timeout", headers=None, started=started, cause=exc)
        except requests.RequestException as exc:
            self._fail(url=url, status=None, label="connection-error", headers=None, started=started, cause=exc)
        status = answer.status_code
        resp_headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(answer.headers)
        if status >= 400:
            self._lock(url=url, status=status, label=str(status), headers=resp_headers)
        try:
            body = answer.content
        except requests.RequestException as exc:
            answer.close()
            if status >= 400:
                body = b""
            else:
                self._fail(url=url, status=None, label="timeout", headers=None, started=started, cause=exc)
        received = time.monotonic()
        remain = self._record_budgets(path, owner, status, resp_headers)
        level = logging.INFO if status < 400 else logging.CRITICAL
        logger.log(level, LOG_FORMAT, "GET", url, status, NO_REMAIN if remain is None else remain)
        limits.call_record(
            {
                "at": time.time(),
                "method": "GET",
                "url": url,
                "status": status,
                "limit_remain": remain,
                "duration_ms": round((received - started) * 1000, 1),
                "error": status >= 400,
            }
        )
        if status >= 400:
            self._fail(
                url=url,
                status=status,
                label=str(status),
                headers=resp_headers,
                started=started,
                logged=True,
                locked=True,
            )

        now = time.time()
        if status == 304:
            if entry is None:
                raise EsiError("ESI answered 304 to a request without If-None-Match.", status=304, url=url)
            merged = {**entry["headers"], **{k: v for k, v in resp_headers.items() if k.lower() != "content-length"}}
            entry["headers"] = merged
            entry["expires_at"] = _expires_at(CaseInsensitiveDict(merged), now)
            self._store(cache_key, entry, now)
            return self._from_entry(entry, url, path, received_at=received)
        if not 200 <= status < 300:
            raise EsiError(f"ESI answered an unexpected {status}.", status=status, url=url)

        if status == 204 or (not body and status != 200):
            # No Content (e.g. the items of a contract that is no longer public): nothing to parse or validate.
            return EsiResponse(
                data=None,
                status=status,
                headers=resp_headers,
                expires=None,
                last_modified=_http_date(resp_headers.get("Last-Modified")),
                etag=resp_headers.get("ETag"),
                from_cache=False,
                url=url,
                models=None,
                received_at=received,
            )
        try:
            data = json.loads(body)
        except ValueError as exc:
            logger.error("ESI sent a body that is not JSON for %s (status %d)", url, status)
            raise EsiPayloadError("ESI sent a body that is not valid JSON.", status=status, url=url) from exc
        try:
            models = payload_validate(path=path, data=data)
        except ValidationError as exc:
            logger.error("ESI payload of %s does not fit its model: %s", url, exc.errors()[:3])
            raise EsiPayloadError(
                f"ESI payload does not fit its model ({exc.error_count()} errors).", status=status, url=url
            ) from exc
        expires_at = _expires_at(resp_headers, now)
        if expires_at is not None or resp_headers.get("ETag"):
            self._store(
                cache_key,
                {
                    "body": body.decode("utf-8"),
                    "status": status,
                    "headers": {k: v for k, v in resp_headers.items() if k.lower() != "content-length"},
                    "expires_at": expires_at,
                },
                now,
            )
        return EsiResponse(
            data=data,
            status=status,
            headers=resp_headers,
            expires=datetime.fromtimestamp(expires_at, tz=UTC) if expires_at else None,
            last_modified=_http_date(resp_headers.get("Last-Modified")),
            etag=resp_headers.get("ETag"),
            from_cache=False,
            url=url,
            models=models,
            received_at=received,
        )

    @staticmethod
    def _store(cache_key: str, entry: dict[str, Any], now: float) -> None:
        """Keep a response for its freshness plus ``ESI_CACHE_KEEP_SECONDS`` (for ETag revalidation).

        Args:
            cache_key: Redis key.
            entry: What to store.
            now: Epoch seconds.
        """
        fresh = max(0.0, (entry.get("expires_at") or now) - now)
        keep = math.ceil(fresh + float(settings.ESI_CACHE_KEEP_SECONDS))
        limits.redis_connection().set(cache_key, json.dumps(entry), ex=max(1, keep))

    @staticmethod
    def _record_budgets(path: str, owner: str, status: int, headers: CaseInsensitiveDict[str]) -> int | None:
        """Store the error-limit and rate-limit headers of an answer for every process.

        Args:
            path: The path requested.
            owner: Budget owner.
            status: HTTP status.
            headers: Response headers.

        Returns:
            ``X-ESI-Error-Limit-Remain``, or None when absent.
        """
        remain = _int_header(headers, "X-ESI-Error-Limit-Remain")
        reset = _int_header(headers, "X-ESI-Error-Limit-Reset")
        if remain is not None:
            if reset is None:
                known = limits.error_limit_get()
                reset = math.ceil(known.reset_in()) if known and known.reset_in() > 0 else 60
            # A huge reset would keep every call waiting or refused for as long: capped like Retry-After.
            reset = min(reset, math.ceil(float(settings.ESI_MAX_RETRY_AFTER_SECONDS)))
            limits.error_limit_record(remain=remain, reset=reset)
        elif status >= 400:
            limits.error_limit_spend()
        group = headers.get("X-Ratelimit-Group")
        remaining = _int_header(headers, "X-Ratelimit-Remaining")
        if group and remaining is not None:
            limits.rate_limit_record(
                path=path,
                owner=owner,
                group=group,
                limit=headers.get("X-Ratelimit-Limit") or "",
                remaining=remaining,
                used=_int_header(headers, "X-Ratelimit-Used") or 0,
            )
        return remain

    @staticmethod
    def _lockdown_seconds(status: int | None, headers: CaseInsensitiveDict[str] | None) -> float:
        """Work out how long an error locks ESI out.

        Args:
            status: HTTP status, or None without an answer.
            headers: Response headers, if any.

        Returns:
            ``ESI_ERROR_SLEEP_SECONDS`` + the longest of ``ESI_LOCKDOWN_SECONDS``, a 429's
            ``Retry-After`` and a 420's ``X-ESI-Error-Limit-Reset``; what ESI asks for is cut to
            ``ESI_MAX_RETRY_AFTER_SECONDS``, so an answer never locks ESI out without bound.
        """
        hold = float(settings.ESI_LOCKDOWN_SECONDS)
        upstream = 0.0
        if headers is not None:
            if status == 429:
                upstream = float(_int_header(headers, "Retry-After") or 0)
            if status == 420:
                upstream = float(_int_header(headers, "X-ESI-Error-Limit-Reset") or 0)
        hold = max(hold, min(upstream, float(settings.ESI_MAX_RETRY_AFTER_SECONDS)))
        return float(settings.ESI_ERROR_SLEEP_SECONDS) + hold

    @staticmethod
    def _lock(*, url: str, status: int | None, label: str, headers: CaseInsensitiveDict[str] | None) -> float:
        """Set the global lockdown for one error, at once.

        Args:
            url: Full URL.
            status: HTTP status, or None without an answer.
            label: What happened.
            headers: Response headers, if any.

        Returns:
            The lockdown's length in seconds.
        """
        total = EsiClient._lockdown_seconds(status, headers)
        limits.lockdown_set(seconds=total, reason=f"{label} from GET {url}")
        return total

    @staticmethod
    def _fail(
        *,
        url: str,
        status: int | None,
        label: str,
        headers: CaseInsensitiveDict[str] | None,
        started: float,
        cause: BaseException | None = None,
        logged: bool = False,
        locked: bool = False,
    ) -> NoReturn:
        """Handle ONE error: lock every process out at once, sleep (never in a web request), raise.

        The lockdown lasts ``ESI_ERROR_SLEEP_SECONDS + ESI_LOCKDOWN_SECONDS`` so
        that ``ESI_LOCKDOWN_SECONDS`` remain when the sleep ends; a 429's
        ``Retry-After`` or a 420's ``X-ESI-Error-Limit-Reset`` lengthen it.

        Args:
            url: Full URL.
            status: HTTP status, or None without an answer.
            label: What the log line shows as the status.
            headers: Response headers, if any.
            started: Monotonic time the request left.
            cause: The transport exception, if any.
            logged: The interaction line was already written.
            locked: The lockdown was already set for this error.

        Raises:
            EsiHttpError: For an HTTP error.
            EsiTimeoutError: For a timeout or connection error.
        """
        sleep_s = float(settings.ESI_ERROR_SLEEP_SECONDS)
        total = EsiClient._lock(url=url, status=status, label=label, headers=headers) if not locked else None
        if total is None:
            total = EsiClient._lockdown_seconds(status, headers)
        if not logged:
            logger.critical(LOG_FORMAT, "GET", url, label, NO_REMAIN)
            limits.call_record(
                {
                    "at": time.time(),
                    "method": "GET",
                    "url": url,
                    "status": label,
                    "limit_remain": None,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    "error": True,
                }
            )
            limits.error_limit_spend()
        if in_web_request():
            sleep_s = 0.0  # a web request answers at once; sleeping is for workers
        logger.critical(
            "ESI error (%s) on GET %s: global lockdown set for %.1f s; sleeping %.1f s",
            label,
            url,
            total,
            sleep_s,
        )
        if sleep_s > 0:
            time.sleep(sleep_s)
        if status is None:
            raise EsiTimeoutError(f"ESI did not answer ({label}).", url=url) from cause
        raise EsiHttpError(f"ESI answered {status}.", status=status, url=url)


def for_each_region(region_ids: Iterable[int], fn: Callable[[int], T]) -> list[T]:
    """Apply ``fn`` to each region, pausing ``ESI_REGION_DELAY_SECONDS`` between regions.

    Args:
        region_ids: Regions, in order.
        fn: Work for one region (typically ESI calls).

    Returns:
        ``fn``'s results, in order.
    """
    results: list[T] = []
    for index, region_id in enumerate(region_ids):
        if index:
            time.sleep(float(settings.ESI_REGION_DELAY_SECONDS))
        results.append(fn(region_id))
    return results
