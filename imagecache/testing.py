"""Test and benchmark helpers of imagecache: real PNG bytes and a raw streaming image server."""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager


def make_png(
    width: int = 4, height: int = 4, rgb: tuple[int, int, int] = (200, 30, 30), *, noise_seed: int | None = None
) -> bytes:
    """Build a valid, decodable 8-bit RGB PNG.

    Args:
        width: Pixels.
        height: Pixels.
        rgb: The colour of every pixel (without ``noise_seed``).
        noise_seed: When given, random pixels from this seed instead (about the size of a real icon).

    Returns:
        The PNG file's bytes.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        """Frame one PNG chunk with its length and CRC."""
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    if noise_seed is None:
        row = bytes(rgb) * width
        rows = b"".join(b"\x00" + row for _ in range(height))  # filter byte 0 per row
    else:
        rng = random.Random(noise_seed)  # noqa: S311 (test pixels, not secrets)
        rows = b"".join(b"\x00" + bytes(rng.randrange(0, 256, 16) for _ in range(width * 3)) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


@contextmanager
def streaming_image_server(*, pieces: int, piece: bytes, pause: float = 0.0) -> Iterator[str]:
    """Serve a PNG-looking body without Content-Length: the PNG magic, then ``pieces`` times ``piece``.

    FakeHttpServer always declares the length; this raw server tests what the
    client does with bodies that are undeclared, endless or slow.

    Args:
        pieces: How many pieces follow the magic number.
        piece: The bytes of each piece.
        pause: Seconds before each piece.

    Yields:
        The server's base URL (loopback).
    """
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        """Answer each connection until the client hangs up or the body is sent."""
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                try:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n\r\n")
                    conn.sendall(b"\x89PNG\r\n\x1a\n")
                    for _ in range(pieces):
                        if pause:
                            time.sleep(pause)
                        conn.sendall(piece)
                except OSError:
                    pass

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
