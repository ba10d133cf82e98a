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

import json
import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import urlencode

import requests
from django.conf import settings
from pydantic import ValidationError
from requests.structures import CaseInsensitiveDict

from esi import limits
from esi.budgets import budget_owner, budgets_wait
from esi.cache import cache_entry_get, cache_entry_store, cache_key, expires_at, response_from_entry
from esi.errors import EsiError, EsiInconsistentPagesError, EsiPayloadError
from esi.models import payload_validate
from esi.response import EsiResponse, http_date
from esi.transport import LockdownGuardAdapter, WireAnswer, esi_exchange
from evesite.exceptions import InvalidInputError

__all__ = ["EsiClient", "EsiResponse", "for_each_region"]

logger = logging.getLogger("esi")

T = TypeVar("T")


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
        """Return a page's items; raise EsiPayloadError when the page is not a JSON list."""
        if not isinstance(resp.data, list):
            raise EsiPayloadError("A paginated ESI route did not answer a JSON list.", url=resp.url, status=resp.status)
        return list(resp.data)

    @staticmethod
    def _url(path: str, params: dict[str, Any]) -> str:
        """Build ``ESI_BASE_URL + path`` with sorted parameters; refuse a path that is not a spec path."""
        if not path.startswith("/") or path.startswith(("/latest/", "/v1/", "/v2/", "/v3/", "/v4/", "/v5/", "/v6/")):
            raise InvalidInputError(f"ESI path {path!r} must be a spec path such as /markets/10000002/orders.")
        url = settings.ESI_BASE_URL.rstrip("/") + path
        if params:
            url += "?" + urlencode(sorted((k, str(v)) for k, v in params.items() if v is not None))
        return url

    def _get(
        self,
        path: str,
        params: dict[str, Any] | None,
        token: str | None,
        *,
        revalidate: bool = False,
        not_before: float | None = None,
    ) -> EsiResponse:
        """Do the work of :meth:`get` (``revalidate`` asks ESI even before expiry; ``not_before`` is the last fetch)."""
        query = dict(params or {})
        token = token or query.pop("token", None)
        query.pop("token", None)
        url = self._url(path, query)
        owner = budget_owner(token)
        key = cache_key(url, owner)
        entry = cache_entry_get(key)
        if entry and not revalidate and entry.get("expires_at") and entry["expires_at"] > time.time():
            return response_from_entry(entry, url, path, received_at=None)

        limits.lockdown_check()
        budgets_wait(path, owner, not_before)
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
        answer = esi_exchange(self._session, url=url, headers=headers, path=path, owner=owner)
        status, resp_headers, body, received = answer.status, answer.headers, answer.body, answer.received

        now = time.time()
        if status == HTTPStatus.NOT_MODIFIED:
            if entry is None:
                raise EsiError("ESI answered 304 to a request without If-None-Match.", status=304, url=url)
            merged = {**entry["headers"], **{k: v for k, v in resp_headers.items() if k.lower() != "content-length"}}
            entry["headers"] = merged
            entry["expires_at"] = expires_at(CaseInsensitiveDict(merged), now)
            cache_entry_store(key, entry, now)
            return response_from_entry(entry, url, path, received_at=received)
        if not HTTPStatus.OK <= status < HTTPStatus.MULTIPLE_CHOICES:
            raise EsiError(f"ESI answered an unexpected {status}.", status=status, url=url)
        if status == HTTPStatus.NO_CONTENT or (not body and status != HTTPStatus.OK):
            # No Content (e.g. the items of a contract that is no longer public): nothing to parse or validate.
            return EsiResponse(
                data=None,
                status=status,
                headers=resp_headers,
                expires=None,
                last_modified=http_date(resp_headers.get("Last-Modified")),
                etag=resp_headers.get("ETag"),
                from_cache=False,
                url=url,
                models=None,
                received_at=received,
            )
        return self._parsed(path=path, url=url, key=key, answer=answer, now=now)

    @staticmethod
    def _parsed(*, path: str, url: str, key: str, answer: WireAnswer, now: float) -> EsiResponse:
        """Parse and validate a 2xx body, cache it when it carries freshness or an ETag."""
        status, resp_headers, body = answer.status, answer.headers, answer.body
        try:
            data = json.loads(body)
        except ValueError as exc:
            logger.exception("ESI sent a body that is not JSON for %s (status %d)", url, status)
            raise EsiPayloadError("ESI sent a body that is not valid JSON.", status=status, url=url) from exc
        try:
            models = payload_validate(path=path, data=data)
        except ValidationError as exc:
            logger.exception("ESI payload of %s does not fit its model: %s", url, exc.errors()[:3])
            raise EsiPayloadError(
                f"ESI payload does not fit its model ({exc.error_count()} errors).", status=status, url=url
            ) from exc
        stale_at = expires_at(resp_headers, now)
        if stale_at is not None or resp_headers.get("ETag"):
            cache_entry_store(
                key,
                {
                    "body": body.decode("utf-8"),
                    "status": status,
                    "headers": {k: v for k, v in resp_headers.items() if k.lower() != "content-length"},
                    "expires_at": stale_at,
                },
                now,
            )
        return EsiResponse(
            data=data,
            status=status,
            headers=resp_headers,
            expires=datetime.fromtimestamp(stale_at, tz=UTC) if stale_at else None,
            last_modified=http_date(resp_headers.get("Last-Modified")),
            etag=resp_headers.get("ETag"),
            from_cache=False,
            url=url,
            models=models,
            received_at=answer.received,
        )


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
