"""The one client of the EVE image server (``IMAGE_SERVER_URL``).

It owns the timeouts, the body cap and the checks of what comes back, and
returns a typed :class:`FetchedImage`. It makes exactly one request per call
(no retries: a failure is a 502 for this request and the next one tries again)
and logs it as ``[IMG] Method: GET | URL: ... | Status: 200``. It follows no
redirect (a 3xx is a failure) and ignores the proxy variables of the environment.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from http import HTTPStatus

import requests
import urllib3
from django.conf import settings

from evesite.exceptions import NotFoundError, UpstreamError
from imagecache.models import UPSTREAM_CATEGORY, VARIANT_BY_TYPE

logger = logging.getLogger("imagecache")

LOG_FORMAT = "[IMG] Method: %s | URL: %s | Status: %s"
USER_AGENT = "evesite-imagecache/0.1"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
CHUNK_BYTES = 64 * 1024


class ImageNotFoundUpstreamError(NotFoundError):
    """The image server has no such image (it answered 404)."""

    code = "image_not_found"


class ImageUpstreamError(UpstreamError):
    """The image server failed: 5xx, timeout, connection error, or a body that is not an acceptable image."""

    code = "image_upstream_error"


@dataclass(frozen=True)
class FetchedImage:
    """An image downloaded from the image server.

    Attributes:
        content: The bytes (PNG or JPEG, checked by their magic number).
        content_type: ``image/png`` or ``image/jpeg``, from the bytes.
        url: The URL it came from.
    """

    content: bytes
    content_type: str
    url: str


def image_url(*, resource_type: str, resource_id: int, size: int) -> str:
    """Build the image server's URL of an image.

    Args:
        resource_type: The API's singular name (``type``, ``character``, ...).
        resource_id: The EVE id.
        size: Pixels.

    Returns:
        e.g. ``{IMAGE_SERVER_URL}/types/34/icon?size=64``.
    """
    base = settings.IMAGE_SERVER_URL.rstrip("/")
    category = UPSTREAM_CATEGORY[resource_type]
    variant = VARIANT_BY_TYPE[resource_type]
    return f"{base}/{category}/{resource_id}/{variant}?size={size}"


def sniff_content_type(content: bytes) -> str | None:
    """Tell PNG and JPEG apart by their magic numbers.

    Args:
        content: The bytes.

    Returns:
        ``image/png``, ``image/jpeg``, or None for anything else.
    """
    if content.startswith(PNG_MAGIC):
        return "image/png"
    if content.startswith(JPEG_MAGIC):
        return "image/jpeg"
    return None


def _read_capped(response: requests.Response, *, url: str, limit: int, deadline: float) -> bytes:
    """Read a streamed body, stopping as soon as it passes the limit or the deadline."""
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ImageUpstreamError(f"The image server sent {declared} bytes; the limit is {limit}.")
    chunks: list[bytes] = []
    total = 0
    # read1 returns whatever has arrived (up to CHUNK_BYTES), so a trickling body meets the deadline check
    # after at most one read timeout instead of filling a whole chunk first.
    while chunk := response.raw.read1(CHUNK_BYTES, decode_content=True):
        total += len(chunk)
        if total > limit:
            raise ImageUpstreamError(f"The image server sent more than {limit} bytes.")
        if time.monotonic() > deadline:
            raise ImageUpstreamError(f"The image server timed out sending {url}.")
        chunks.append(chunk)
    return b"".join(chunks)


def image_fetch(*, resource_type: str, resource_id: int, size: int) -> FetchedImage:
    """Download one image from the image server.

    Args:
        resource_type: The API's singular name (``type``, ``character``, ``corporation``, ``alliance``).
        resource_id: The EVE id.
        size: Pixels (one of the allowed sizes).

    Returns:
        The checked image.

    Raises:
        ImageNotFoundUpstreamError: The image server answered 404.
        ImageUpstreamError: Any other failure (non-200 including redirects, timeout, connection error, not an
            image, too large).
    """
    url = image_url(resource_type=resource_type, resource_id=resource_id, size=size)
    timeout = settings.IMAGE_SERVER_TIMEOUT_SECONDS
    deadline = time.monotonic() + timeout
    try:
        with requests.Session() as session:
            # No HTTP(S)_PROXY/ALL_PROXY, .netrc or CA bundle from the environment: only IMAGE_SERVER_URL is asked.
            session.trust_env = False
            response = session.get(
                url,
                timeout=timeout,
                stream=True,
                allow_redirects=False,
                headers={"User-Agent": USER_AGENT, "Accept": "image/*"},
            )
            content = _checked_body(response, url=url, what=f"{resource_type} {resource_id}", deadline=deadline)
    except (requests.Timeout, urllib3.exceptions.TimeoutError) as exc:
        logger.warning(LOG_FORMAT, "GET", url, "timeout")
        raise ImageUpstreamError(f"The image server timed out for {url}.") from exc
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        logger.warning(LOG_FORMAT, "GET", url, f"error ({type(exc).__name__})")
        raise ImageUpstreamError(f"The image server could not be reached for {url}.") from exc
    content_type = sniff_content_type(content)
    if content_type is None:
        raise ImageUpstreamError("The image server sent bytes that are neither PNG nor JPEG.")
    return FetchedImage(content=content, content_type=content_type, url=url)


def _checked_body(response: requests.Response, *, url: str, what: str, deadline: float) -> bytes:
    """Check an answer's status and content type, then read its body with the cap."""
    with response:
        status = response.status_code
        logger.log(logging.INFO if status < HTTPStatus.BAD_REQUEST else logging.WARNING, LOG_FORMAT, "GET", url, status)
        if status == HTTPStatus.NOT_FOUND:
            raise ImageNotFoundUpstreamError(f"The image server has no {what} image.")
        if HTTPStatus.MULTIPLE_CHOICES <= status < HTTPStatus.BAD_REQUEST:
            location = response.headers.get("Location", "nowhere")
            raise ImageUpstreamError(
                f"The image server answered {status} (a redirect to {location}, not followed) for {url}.",
                upstream_status=status,
            )
        if status != HTTPStatus.OK:
            raise ImageUpstreamError(f"The image server answered {status} for {url}.", upstream_status=status)
        declared_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if not declared_type.startswith("image/"):
            raise ImageUpstreamError(f"The image server sent {declared_type or 'no content type'}, not an image.")
        return _read_capped(response, url=url, limit=settings.IMAGE_MAX_BYTES, deadline=deadline)
