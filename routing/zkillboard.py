"""The one client of zKillboard's R2Z2 killmail feed.

R2Z2 numbers every killmail it publishes: ``GET /ephemeral/sequence.json``
gives the latest sequence number and ``GET /ephemeral/{sequence}.json`` one
record (the ESI killmail plus zKillboard's ``zkb`` block); a 404 means "not
published yet". Being polite: a real User-Agent, gzip, requests spaced by
``ZKILLBOARD_REQUEST_DELAY_SECONDS`` from the end of the previous one (R2Z2
allows about 15/s), retries only on timeouts, 429 and 5xx (honouring
``Retry-After`` up to ``ZKILLBOARD_MAX_RETRY_AFTER_SECONDS``), and a caller
that waits between runs once it reaches the end of the feed.
"""

from __future__ import annotations

import logging
import time
from http import HTTPStatus
from typing import Any

import requests
from django.conf import settings
from pydantic import BaseModel, ConfigDict, ValidationError

from esi.models import Killmail
from evesite.exceptions import UpstreamError

logger = logging.getLogger("routing.zkillboard")


class ZkillboardError(UpstreamError):
    """zKillboard answered badly or not at all."""

    code = "zkillboard_error"


class R2z2Record(BaseModel):
    """One record of the R2Z2 feed (see ``../shared/samples/killmails/r2z2_134265477.json``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    killmail_id: int
    hash: str
    esi: Killmail
    zkb: dict[str, Any] = {}
    sequence_id: int
    uploaded_at: int | None = None


class R2z2Client:
    """Client of the R2Z2 feed; one per polling run (it spaces its own requests)."""

    def __init__(self, *, session: requests.Session | None = None) -> None:
        """Create a client.

        Args:
            session: HTTP session to reuse (one is made otherwise).
        """
        self._session = session or requests.Session()
        self._session.trust_env = False
        self._session.headers.update(
            {
                "User-Agent": settings.ZKILLBOARD_USER_AGENT,
                "Accept": "application/json",
                "Accept-Encoding": "gzip",
            }
        )
        self._last_request_end: float | None = None

    def _url(self, path: str) -> str:
        """Build a feed URL."""
        return settings.ZKILLBOARD_R2Z2_URL.rstrip("/") + path

    def _space(self) -> None:
        """Wait until ``ZKILLBOARD_REQUEST_DELAY_SECONDS`` passed since the previous request ended."""
        if self._last_request_end is not None:
            delay = self._last_request_end + float(settings.ZKILLBOARD_REQUEST_DELAY_SECONDS) - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def _get(self, path: str) -> Any | None:
        """GET one JSON document with retries on transient failures."""
        url = self._url(path)
        retries = int(settings.ZKILLBOARD_RETRIES)
        for attempt in range(retries + 1):
            self._space()
            wait = float(settings.ZKILLBOARD_RETRY_DELAY_SECONDS) * (attempt + 1)
            try:
                response = self._session.get(url, timeout=float(settings.ZKILLBOARD_TIMEOUT_SECONDS))
            except requests.RequestException as exc:
                problem = f"{type(exc).__name__}"
            else:
                if response.status_code == HTTPStatus.NOT_FOUND:
                    return None
                if response.status_code == HTTPStatus.OK:
                    try:
                        return response.json()
                    except ValueError as exc:
                        raise ZkillboardError(f"zKillboard sent a body that is not JSON for {url}.") from exc
                if (
                    response.status_code != HTTPStatus.TOO_MANY_REQUESTS
                    and response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR
                ):
                    raise ZkillboardError(f"zKillboard answered HTTP {response.status_code} for {url}.")
                problem = f"HTTP {response.status_code}"
                retry_after = response.headers.get("Retry-After", "")
                if retry_after.isascii() and retry_after.isdigit():  # "²".isdigit() too, but float() refuses it
                    # zKillboard's wish is honoured up to a cap: one answer never stalls the feed for long.
                    wait = max(wait, min(float(retry_after), float(settings.ZKILLBOARD_MAX_RETRY_AFTER_SECONDS)))
            finally:
                self._last_request_end = time.monotonic()
            logger.warning("zKillboard %s for %s (attempt %d of %d)", problem, url, attempt + 1, retries + 1)
            if attempt < retries:
                time.sleep(wait)
        raise ZkillboardError(f"zKillboard kept failing for {url}.")

    def sequence_latest(self) -> int:
        """Return the feed's latest sequence number.

        Returns:
            The number.

        Raises:
            ZkillboardError: When the feed does not say.
        """
        data = self._get("/ephemeral/sequence.json")
        if not isinstance(data, dict) or not isinstance(data.get("sequence"), int):
            raise ZkillboardError("zKillboard's sequence.json has no sequence number.")
        return int(data["sequence"])

    def record_get(self, sequence: int) -> R2z2Record | None:
        """Fetch one record of the feed.

        Args:
            sequence: Its sequence number.

        Returns:
            The record, or None when it is not published yet.

        Raises:
            ZkillboardError: On failures, or when the record does not fit the model.
        """
        data = self._get(f"/ephemeral/{sequence}.json")
        if data is None:
            return None
        try:
            return R2z2Record.model_validate(data)
        except ValidationError as exc:
            raise ZkillboardError(f"R2Z2 record {sequence} does not look like a killmail: {exc.errors()[:2]}") from exc
