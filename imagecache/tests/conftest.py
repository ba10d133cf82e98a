"""Fixtures of the image cache tests: real PNG bytes and a fake image server on loopback."""

from __future__ import annotations

import struct
import zlib

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from evesite.testing.fakeserver import FakeHttpServer


def make_png(width: int = 4, height: int = 4, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """Build a valid, decodable RGB PNG of one colour.

    Args:
        width: Pixels.
        height: Pixels.
        rgb: The colour.

    Returns:
        The PNG file's bytes.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        """Frame one PNG chunk with its length and CRC.

        Args:
            kind: Four-letter chunk type.
            data: Its payload.

        Returns:
            The chunk bytes.
        """
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))  # filter byte 0 per row
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture
def png() -> bytes:
    """A real 4x4 red PNG."""
    return make_png()


@pytest.fixture
def image_server(fake_server: FakeHttpServer, settings: SettingsWrapper) -> FakeHttpServer:
    """The fake image server, with IMAGE_SERVER_URL pointed at it and short delays."""
    settings.IMAGE_SERVER_URL = fake_server.url
    settings.IMAGE_SERVER_TIMEOUT_SECONDS = 5.0
    settings.IMAGE_LOCK_WAIT_SECONDS = 10.0
    settings.IMAGE_REFRESH_DELAY_SECONDS = 0.0
    settings.IMAGE_FAILURE_CACHE_SECONDS = 0.0
    return fake_server
