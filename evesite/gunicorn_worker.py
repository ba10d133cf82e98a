"""Gunicorn's threaded worker with a thread of its own for health probes.

With gthread, every request waits in one queue for the process's threads. Under a flood, a
monitor's ``GET /api/health/`` queued behind it and reported the queue, not the datastores, and a
monitor that times out restarts a server that is only busy. This worker peeks at a request's first
bytes (without reading them) and hands health probes to a thread of their own; everything else
takes the ordinary queue. A new connection whose first bytes have not arrived waits on the
worker's poller (as gthread parks a connection that sent nothing), not in the queue. The probe
still runs every check in the same process, sharing its CPU.
"""

from __future__ import annotations

import selectors
import socket
import time
from concurrent import futures
from functools import partial
from typing import Any

from gunicorn.workers.gthread import DEFAULT_WORKER_DATA_TIMEOUT, ThreadWorker

HEALTH_PATH = b"/api/health/"
_PEEK_BYTES = 32


def _peek(sock: socket.socket) -> bytes | None:
    """The first bytes received on ``sock``, left in place (None: nothing yet; empty: closed or failed)."""
    try:
        return sock.recv(_PEEK_BYTES, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return None
    except OSError:  # the client is gone: the ordinary queue finds out
        return b""


def asks_for_health(sock: socket.socket) -> bool:
    """Tell whether the bytes already received on ``sock`` start a ``GET`` or ``HEAD`` of the health path.

    Args:
        sock: A client's socket (nothing is consumed; no data yet reads as not health).

    Returns:
        True for a health probe.
    """
    return _is_health(_peek(sock) or b"")


def _is_health(head: bytes) -> bool:
    """Whether a request's first bytes are a ``GET`` or ``HEAD`` of the health path."""
    for method in (b"GET ", b"HEAD "):
        target = method + HEALTH_PATH
        if head.startswith(target) and head[len(target) : len(target) + 1] in (b" ", b"?"):
            return True
    return False


class HealthLaneWorker(ThreadWorker):
    """``gthread`` plus one thread that serves only health probes (``--worker-class`` in the Procfile)."""

    def init_process(self) -> None:
        """Start the health thread, then the worker (which runs until it stops)."""
        self.health_pool = futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="health")
        super().init_process()

    def enqueue_req(self, conn: Any) -> None:
        """Queue a connection: a health probe on the health thread, anything else as gthread does."""
        head = _peek(conn.sock)
        if head is None and not conn.initialized and not conn.data_ready:
            self._park(conn)
            return
        if not _is_health(head or b""):
            super().enqueue_req(conn)
            return
        done = self.health_pool.submit(self.handle, conn)
        done.add_done_callback(lambda fut: self.method_queue.defer(self.finish_request, conn, fut))

    def _park(self, conn: Any) -> None:
        """Wait on the poller for a new connection's first bytes; gthread's own timeouts close a silent one."""
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + DEFAULT_WORKER_DATA_TIMEOUT + self.cfg.keepalive
        self.pending_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn))

    def handle_quit(self, sig: int, frame: Any) -> None:
        """Stop the health thread too on an immediate shutdown."""
        self.health_pool.shutdown(wait=False)
        super().handle_quit(sig, frame)
