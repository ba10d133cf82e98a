"""Redis from Debian's packages, daemonised on loopback with its data under ``SERVICES_DIR``."""

from __future__ import annotations

import os
import signal
import socket
from urllib.parse import urlsplit

from scripts.servers.common import STATE_DIR, apt_install, log, loopback_address, port_open, run, wait_for


def redis_ping(host: str, port: int) -> bool:
    """Send PING over a raw socket.

    Args:
        host: Host.
        port: Port.

    Returns:
        True on +PONG.
    """
    with socket.create_connection((host, port), timeout=1) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")


def redis_up(url: str) -> None:
    """Install and start a Redis server for ``url`` on loopback.

    Args:
        url: The REDIS_URL.
    """
    address = loopback_address("redis", url, 6379)
    if address is None:
        return
    host, port = address
    if port_open(host, port):
        wait_for("redis", lambda: redis_ping(host, port))
        log(f"redis: already answering on {host}:{port}")
        return
    apt_install("redis-server")
    data = STATE_DIR / f"redis-{port}"
    data.mkdir(parents=True, exist_ok=True)
    run(
        [
            "redis-server",
            "--bind",
            host,
            "--port",
            str(port),
            "--daemonize",
            "yes",
            "--dir",
            str(data),
            "--pidfile",
            str(data / "redis.pid"),
            "--logfile",
            str(data / "redis.log"),
            "--save",
            "",
            "--appendonly",
            "no",
        ]
    )
    wait_for("redis", lambda: redis_ping(host, port))
    log(f"redis: ready on {host}:{port}")


def redis_down(url: str) -> None:
    """Stop the Redis server this script started for ``url``.

    Args:
        url: The REDIS_URL.
    """
    parts = urlsplit(url)
    pidfile = STATE_DIR / f"redis-{parts.port or 6379}" / "redis.pid"
    if pidfile.exists():
        try:
            os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
            log("redis: stopped")
        except (ProcessLookupError, ValueError):
            pass
