"""What every process of the load test shares: limits, the plan, answer records, addresses and one HTTP request."""

from __future__ import annotations

import http.client
import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
MAX_CLIENTS = 200
MAX_SECONDS = 120.0
HEALTH_TARGET_MS = 200.0
HEALTH_INTERVAL = 0.2
BASELINE_SECONDS = 3.0  # health probes before the clients start: the machine's own noise
IPV4 = 4  # ipaddress' version of an IPv4 address
REQUEST_TIMEOUT = 30.0  # gunicorn's own worker timeout: a request never waits longer than this
OK_STATUSES = frozenset({200, 201, 202, 304, 429})  # 201: an appraisal stored
ENDPOINTS = ("scan", "route", "route_svg", "image", "appraisal")
SETUP_ADDRESS = "127.0.3.1"
PROBER_ADDRESS = "127.0.2.1"
APPRAISAL_BODY = json.dumps({"text": "Tritanium 1000\nPyerite 500\nMexallon 100"}).encode()
# Access log line: client address, request line, status, request time in the server (seconds).
ACCESS_LOG_FORMAT = '%(h)s "%(r)s" %(s)s %(L)s'


class Answer(NamedTuple):
    """One request as a client saw it."""

    client: int  # 0: the health prober
    endpoint: str
    status: int  # 0: no HTTP answer (see ``failure``)
    failure: str  # the exception's name when ``status`` is 0
    latency: float  # seconds
    started: float  # seconds since the start of the run
    error_code: str  # the JSON ``error`` of a 4xx/5xx answer
    retry_after: bool  # the answer carried Retry-After


@dataclass
class Plan:
    """What the clients ask for (sent to the client processes)."""

    host: str
    port: int
    start_at: float  # time.time() of the common start
    seconds: float
    pause: float  # between the requests of a paced client
    seed: int
    baseline: float  # seconds of health probes before the clients start
    appraisal: bool
    hot_types: list[int]
    new_types: list[int]
    clients: int
    greedy: int  # clients 1..greedy send without pause and ignore Retry-After

    def is_greedy(self, client: int) -> bool:
        """Tell whether a client (1-based) is one of the greedy ones.

        Args:
            client: The client.

        Returns:
            True for clients 1..``greedy``.
        """
        return 1 <= client <= self.greedy


def loopback_host(host: str) -> bool:
    """Tell whether a host is a loopback address (127.0.0.0/8 or ::1), ``localhost`` or a Unix socket directory.

    Args:
        host: An address, a name or a path.

    Returns:
        True when connections to it stay on this machine.
    """
    if not host or host.startswith("/") or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def client_address(host: str, index: int) -> str:
    """Return the source address of client ``index`` (1-based).

    Args:
        host: The server's address.
        index: The client.

    Returns:
        ``127.0.1.<index>`` for an IPv4 server; ``::1`` (the only IPv6 loopback address) otherwise.
    """
    return f"127.0.1.{index}" if ipaddress.ip_address(host).version == IPV4 else "::1"


def special_address(host: str, address: str) -> str:
    """Return the prober's or the setup's source address for this server.

    Args:
        host: The server's address.
        address: The IPv4 choice (``PROBER_ADDRESS`` or ``SETUP_ADDRESS``).

    Returns:
        ``address``, or ``::1`` for an IPv6 server.
    """
    return address if ipaddress.ip_address(host).version == IPV4 else "::1"


def request(
    host: str,
    port: int,
    source: str,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> tuple[int, dict[str, str], bytes]:
    """Send one request on a new connection from ``source`` (``Connection: close``).

    Args:
        host: Server address.
        port: Server port.
        source: Local address to bind.
        method: HTTP method.
        path: Path and query.
        body: JSON body, if any.
        timeout: Socket timeout (seconds).

    Returns:
        (status, headers with lower-case names, body).
    """
    conn = http.client.HTTPConnection(host, port, timeout=timeout, source_address=(source, 0))
    try:
        # What a browser's <img> sends for a picture (DRF answers 406 to format=svg with Accept: application/json).
        accept = "*/*" if "format=svg" in path else "application/json"
        headers = {"Connection": "close", "Accept": accept, "User-Agent": "evesite-load-test"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        content = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, content
    finally:
        conn.close()


def error_code(content: bytes) -> str:
    """Read the JSON ``error`` of an error answer.

    Args:
        content: The body.

    Returns:
        The code, or ``"?"`` when the body is not the API's JSON error.
    """
    try:
        value = json.loads(content)
    except ValueError:
        return "?"
    return str(value.get("error", "?")) if isinstance(value, dict) else "?"
