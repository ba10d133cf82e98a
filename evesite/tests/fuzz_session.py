"""Schemathesis hook (``SCHEMATHESIS_HOOKS``) for the logged-in fuzz run: the session and its CSRF pair.

Schemathesis' ``cookieAuth`` setting would send ``sessionid`` alone, and a ``Cookie`` header given on the
command line replaces the cookies it sets; so this provider sets both cookies and the ``X-CSRFToken`` header
on every case (from ``FUZZ_SESSIONID`` and ``FUZZ_CSRFTOKEN``).
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis


@schemathesis.auth(refresh_interval=None, retry_on=[])
class SessionAuth:
    """The logged-in browser's session cookie, CSRF cookie and CSRF header."""

    def get(self, case: Any, ctx: Any) -> tuple[str, str]:
        """The session id and the CSRF token the test logged in with."""
        return os.environ["FUZZ_SESSIONID"], os.environ["FUZZ_CSRFTOKEN"]

    def set(self, case: Any, data: tuple[str, str], ctx: Any) -> None:
        """Put them on the request."""
        session, csrf = data
        case.cookies = {**(case.cookies or {}), "sessionid": session, "csrftoken": csrf}
        case.headers = {**(case.headers or {}), "X-CSRFToken": csrf}
