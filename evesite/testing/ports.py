"""Loopback ports for servers that tests and benchmarks start."""

from __future__ import annotations

import socket


def free_port() -> int:
    """Return a loopback port nothing listens on now (the system picks it).

    Returns:
        The port number.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
