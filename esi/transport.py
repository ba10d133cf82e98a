"""The wire: one GET to ESI, its ``[ESI]`` log line, and what ONE error does.

The request passes the global lockdown check at the last moment (in
:class:`LockdownGuardAdapter`), every answer is logged as
``[ESI] Method: GET | URL: ... | Status: 200 | Limit-Remain: 99`` and its
budget headers are recorded; on ONE 4xx/5xx, timeout or connection error the
lockdown is set at once for ``ESI_ERROR_SLEEP_SECONDS + ESI_LOCKDOWN_SECONDS``,
the process sleeps ``ESI_ERROR_SLEEP_SECONDS`` (never in a web request) and raises.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, NoReturn

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from esi import limits
from esi.budgets import budgets_record
from esi.errors import EsiHttpError, EsiTimeoutError
from esi.response import int_header
from esi.webmode import in_web_request

logger = logging.getLogger("esi")

LOG_FORMAT = "[ESI] Method: %s | URL: %s | Status: %s | Limit-Remain: %s"
# What the log line shows when ESI sent no X-ESI-Error-Limit-Remain header.
NO_REMAIN = "-"
# ESI's own status for "error limited" (not in the HTTP registry).
ESI_ERROR_LIMITED = 420


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


@dataclass(frozen=True)
class WireAnswer:
    """A successful or 304 answer as it came off the wire (errors never get this far).

    Attributes:
        status: HTTP status (below 400).
        headers: Response headers.
        body: The raw body.
        received: Monotonic time the body was read.
    """

    status: int
    headers: CaseInsensitiveDict[str]
    body: bytes
    received: float


def esi_exchange(session: requests.Session, *, url: str, headers: dict[str, str], path: str, owner: str) -> WireAnswer:
    """Send one GET, log it, record its budgets; on an error lock everyone out, sleep and raise.

    Args:
        session: The client's session (its adapter checks the lockdown).
        url: Full URL.
        headers: Request headers.
        path: Spec path (maps the route to its rate-limit group).
        owner: Budget owner.

    Returns:
        The answer (status below 400).

    Raises:
        EsiHttpError: On a 4xx/5xx (after the lockdown was set and the error sleep).
        EsiTimeoutError: On a timeout or connection error (same handling).
    """
    started = time.monotonic()
    try:
        # stream=True: the status is known before the body is read, so an error locks everyone out at once.
        answer = session.get(
            url, headers=headers, timeout=float(settings.ESI_TIMEOUT_SECONDS), allow_redirects=False, stream=True
        )
    except requests.Timeout as exc:
        esi_fail(url=url, status=None, label="timeout", headers=None, started=started, cause=exc)
    except requests.RequestException as exc:
        esi_fail(url=url, status=None, label="connection-error", headers=None, started=started, cause=exc)
    status = answer.status_code
    resp_headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(answer.headers)
    if status >= HTTPStatus.BAD_REQUEST:
        _lock(url=url, status=status, label=str(status), headers=resp_headers)
    try:
        body = answer.content
    except requests.RequestException as exc:
        answer.close()
        if status >= HTTPStatus.BAD_REQUEST:
            body = b""
        else:
            esi_fail(url=url, status=None, label="timeout", headers=None, started=started, cause=exc)
    received = time.monotonic()
    remain = budgets_record(path, owner, status, resp_headers)
    level = logging.INFO if status < HTTPStatus.BAD_REQUEST else logging.CRITICAL
    logger.log(level, LOG_FORMAT, "GET", url, status, NO_REMAIN if remain is None else remain)
    limits.call_record(
        {
            "at": time.time(),
            "method": "GET",
            "url": url,
            "status": status,
            "limit_remain": remain,
            "duration_ms": round((received - started) * 1000, 1),
            "error": status >= HTTPStatus.BAD_REQUEST,
        }
    )
    if status >= HTTPStatus.BAD_REQUEST:
        esi_fail(
            url=url, status=status, label=str(status), headers=resp_headers, started=started, logged=True, locked=True
        )
    return WireAnswer(status=status, headers=resp_headers, body=body, received=received)


def lockdown_seconds(status: int | None, headers: CaseInsensitiveDict[str] | None) -> float:
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
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            upstream = float(int_header(headers, "Retry-After") or 0)
        if status == ESI_ERROR_LIMITED:
            upstream = float(int_header(headers, "X-ESI-Error-Limit-Reset") or 0)
    hold = max(hold, min(upstream, float(settings.ESI_MAX_RETRY_AFTER_SECONDS)))
    return float(settings.ESI_ERROR_SLEEP_SECONDS) + hold


def _lock(*, url: str, status: int | None, label: str, headers: CaseInsensitiveDict[str] | None) -> float:
    """Set the global lockdown for one error at once; return its length in seconds."""
    total = lockdown_seconds(status, headers)
    limits.lockdown_set(seconds=total, reason=f"{label} from GET {url}")
    return total


def esi_fail(
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
    total = _lock(url=url, status=status, label=label, headers=headers) if not locked else None
    if total is None:
        total = lockdown_seconds(status, headers)
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
