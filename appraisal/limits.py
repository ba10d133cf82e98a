"""How much one appraisal may hold, and the error beyond it.

A paste may carry 100 KiB of text (UTF-8) on 5,000 lines; more answers 413. The request body may be
larger than the site's ``API_MAX_BODY_BYTES`` on this path only: JSON escapes every tab and line break
into two bytes (and non-ASCII text into up to six bytes each), so 100 KiB of text needs more.
"""

from __future__ import annotations

from evesite.exceptions import DomainError

MAX_TEXT_BYTES = 100 * 1024
MAX_LINES = 5000
# The body cap of POST /api/appraisal/ (the middleware refuses a larger Content-Length before reading it).
MAX_BODY_BYTES = 6 * MAX_TEXT_BYTES + 4096
PATH = "/api/appraisal/"


class PayloadTooLargeError(DomainError):
    """The request holds more than an endpoint takes."""

    status_code = 413
    code = "payload_too_large"


def paste_limits_check(*, text: str, line_count: int) -> None:
    """Refuse a paste over the limits.

    Args:
        text: The paste.
        line_count: Its lines.

    Raises:
        PayloadTooLargeError: Over 100 KiB of text or 5,000 lines.
    """
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_TEXT_BYTES:
        raise PayloadTooLargeError(
            f"The text is {size:,} bytes; an appraisal takes at most {MAX_TEXT_BYTES:,} (100 KiB).",
            max_bytes=MAX_TEXT_BYTES,
        )
    if line_count > MAX_LINES:
        raise PayloadTooLargeError(
            f"The text has {line_count:,} lines; an appraisal takes at most {MAX_LINES:,}.", max_lines=MAX_LINES
        )
