"""Start, stop and check the local PostgreSQL, Redis and Neo4j services.

Usage: ``scripts/services.sh up|down|status`` (``python -m scripts.servers`` from the project root), or
``apt PACKAGE...`` to install Debian packages.
"""

from __future__ import annotations

import argparse
import os
import socket
import time
from urllib.parse import urlsplit

from scripts.servers.common import STATE_DIR, apt_install, log, port_open
from scripts.servers.neo4j import neo4j_down, neo4j_up
from scripts.servers.postgres import pg_host, postgres_down, postgres_up
from scripts.servers.redis import redis_down, redis_up

# Debian's socket directory: a local socket costs PostgreSQL and the app about half the CPU of TCP loopback.
DEFAULT_DATABASE_URL = "postgres://evesite:evesite@%2Fvar%2Frun%2Fpostgresql:5432/evesite"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_NEO4J_BOLT_URL = "bolt://neo4j:password@127.0.0.1:7687"


def service_address(name: str, url: str) -> tuple[str, int]:
    """Where a service listens: a host and port, or a socket path and 0.

    Args:
        name: ``postgres``, ``redis`` or ``neo4j``.
        url: Its URL.

    Returns:
        (host, port), or (socket path, 0) for a PostgreSQL socket directory.
    """
    parts = urlsplit(url)
    host = pg_host(url) if name == "postgres" else parts.hostname or "127.0.0.1"
    if host.startswith("/"):
        return f"{host}/.s.PGSQL.{parts.port or 5432}", 0
    return host or "127.0.0.1", parts.port or 0


def service_reachable(name: str, url: str) -> bool:
    """Tell whether something accepts connections where a service should listen.

    Args:
        name: ``postgres``, ``redis`` or ``neo4j``.
        url: Its URL.

    Returns:
        True when a connection succeeds.
    """
    host, port = service_address(name, url)
    if port:
        return port_open(host, port)
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(1)
            sock.connect(host)
            return True
    except OSError:
        return False


def main() -> None:
    """Parse the command line and act on every service (or install Debian packages with ``apt``)."""
    parser = argparse.ArgumentParser(prog="scripts/services.sh", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "status", "apt"])
    parser.add_argument("packages", nargs="*", help="with apt: Debian packages to install when missing")
    parser.add_argument("--only", choices=["postgres", "redis", "neo4j"], action="append")
    args = parser.parse_args()
    if args.action == "apt":
        apt_install(*args.packages)
        return
    urls = {
        "postgres": os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL),
        "redis": os.environ.get("REDIS_URL", DEFAULT_REDIS_URL),
        "neo4j": os.environ.get("NEO4J_BOLT_URL", DEFAULT_NEO4J_BOLT_URL),
    }
    chosen = args.only or ["postgres", "redis", "neo4j"]
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if args.action == "up":
        actions = {"postgres": postgres_up, "redis": redis_up, "neo4j": neo4j_up}
        for name in chosen:
            actions[name](urls[name])
        log(f"all up in {time.monotonic() - started:.1f} s")
    elif args.action == "down":
        for name, stop in (("neo4j", neo4j_down), ("redis", redis_down), ("postgres", postgres_down)):
            if name in chosen:
                stop(urls[name])
    else:
        for name in chosen:
            host, port = service_address(name, urls[name])
            state = "up" if service_reachable(name, urls[name]) else "down"
            print(f"{name}: {state} ({host}:{port})" if port else f"{name}: {state} ({host})")
