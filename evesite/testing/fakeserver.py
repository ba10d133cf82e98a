"""A scripted HTTP server on 127.0.0.1 that stands in for an outside service.

Tests point a base-URL setting (``ESI_BASE_URL``, ``IMAGE_SERVER_URL``, ...)
at ``server.url`` and script the answers per route. Every request received is
recorded, so tests can count what really crossed the wire.

Example::

    with FakeHttpServer() as server:
        server.add("GET", "/markets/10000002/orders", FakeResponse(json=[...], headers={"X-Pages": "2"}))
        ...
        assert server.count("GET", "/markets/10000002/orders") == 1
"""

from __future__ import annotations

import json as jsonlib
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

_POLL_SECONDS = 0.02


@dataclass
class RecordedRequest:
    """One request the fake server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    received_at: float

    def json(self) -> Any:
        """Decode the body as JSON.

        Returns:
            The decoded value.
        """
        return jsonlib.loads(self.body or b"null")

    def form(self) -> dict[str, list[str]]:
        """Decode an ``application/x-www-form-urlencoded`` body.

        Returns:
            The fields.
        """
        return parse_qs(self.body.decode())


@dataclass
class FakeResponse:
    """A scripted answer.

    ``json`` wins over ``body`` when both are given. ``delay`` sleeps before
    answering (for timeouts). ``drop`` closes the connection without answering.
    """

    status: int = 200
    json: Any = None
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        """Return the body bytes and headers to send.

        Returns:
            (body, headers) with a Content-Type when one is implied.
        """
        headers = dict(self.headers)
        if self.json is not None:
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
            return jsonlib.dumps(self.json).encode(), headers
        body = self.body.encode() if isinstance(self.body, str) else self.body
        return body, headers


Responder = FakeResponse | Callable[[RecordedRequest], FakeResponse]


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    responders: list[Responder]
    repeat_last: bool


class FakeHttpServer:
    """A threaded HTTP/1.1 server on an ephemeral loopback port."""

    def __init__(self) -> None:
        """Create the server; call ``start`` (or use ``with``) to serve."""
        self._routes: list[_Route] = []
        self._lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, without a trailing slash."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add(
        self,
        method: str,
        path: str,
        *responders: Responder,
        regex: bool = False,
        repeat_last: bool = True,
    ) -> None:
        """Script the answers for a route; later calls take precedence.

        Args:
            method: HTTP method.
            path: Exact path, or a regular expression when ``regex``.
            *responders: Answers given in turn; the last repeats when ``repeat_last``.
            regex: Treat ``path`` as a full-match regular expression.
            repeat_last: Keep giving the last answer; else answer 599 once used up.
        """
        pattern = re.compile(path if regex else re.escape(path))
        with self._lock:
            self._routes.insert(0, _Route(method.upper(), pattern, list(responders), repeat_last))

    def reset(self) -> None:
        """Forget every route and recorded request."""
        with self._lock:
            self._routes.clear()
            self.requests.clear()

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """Count received requests, optionally filtered.

        Args:
            method: Only this method.
            path: Only this exact path.

        Returns:
            The number of matching requests.
        """
        return len(self.matching(method, path))

    def matching(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """List received requests, optionally filtered.

        Args:
            method: Only this method.
            path: Only this exact path.

        Returns:
            The matching requests, oldest first.
        """
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method.upper()) and (path is None or r.path == path)
            ]

    def _respond(self, request: RecordedRequest) -> FakeResponse:
        """Pick the scripted answer for a request."""
        with self._lock:
            self.requests.append(request)
            for route in self._routes:
                if route.method == request.method and route.pattern.fullmatch(request.path):
                    if not route.responders:
                        return FakeResponse(status=599, body=b"script exhausted")
                    responder = route.responders[0]
                    if len(route.responders) > 1 or not route.repeat_last:
                        route.responders.pop(0)
                    break
            else:
                return FakeResponse(status=404, json={"error": f"no fake route for {request.method} {request.path}"})
        return responder(request) if callable(responder) else responder

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        """Build the request handler bound to this server."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Stay quiet."""

            def _handle(self) -> None:
                """Record the request and send the scripted answer."""
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = RecordedRequest(
                    method=self.command,
                    path=split.path,
                    query=parse_qs(split.query),
                    headers={k: v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                    received_at=time.monotonic(),
                )
                answer = fake._respond(request)
                if answer.delay:
                    time.sleep(answer.delay)
                if answer.drop:
                    self.close_connection = True
                    return
                body, headers = answer.encoded()
                try:
                    self.send_response(answer.status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle  # noqa: N815

        return Handler

    def start(self) -> FakeHttpServer:
        """Serve in a background thread.

        Returns:
            The server itself.
        """
        # serve_forever notices shutdown() once per poll: its default 0.5 s would end every test half a second late.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(_POLL_SECONDS,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeHttpServer:
        """Start serving.

        Returns:
            The server itself.
        """
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop serving.

        Args:
            exc_type: Exception type, if any.
            exc: Exception, if any.
            tb: Traceback, if any.
        """
        self.stop()


def paths(requests: Iterable[RecordedRequest]) -> list[str]:
    """List the paths of some requests.

    Args:
        requests: Recorded requests.

    Returns:
        Their paths, in order.
    """
    return [r.path for r in requests]
