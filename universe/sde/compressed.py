"""Compression and containers of SDE dumps, recognised by their first bytes.

Fuzzwork publishes dumps compressed with bzip2 or gzip, and MySQL dumps as a
tar (bzip2-compressed) of per-table ``.sql`` files. Everything here streams:
a compressed file is read in chunks, decompressed to a temporary file only
when the reader needs a real file (SQLite, ``pg_restore``), and a damaged
stream becomes one :class:`DumpFormatError` line naming the file.
"""

from __future__ import annotations

import bz2
import functools
import gzip
import io
import lzma
import shutil
import tarfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from universe.sde.errors import DumpFormatError
from universe.sde.sources import register_format

CHUNK = 1 << 20
HEAD_BYTES = 4096

BZ2 = "bz2"
GZIP = "gzip"
XZ = "xz"
TAR = "tar"
SQLITE = "sqlite"
PGDUMP = "pgdump"
MYSQL = "mysql"
PGSQL_TEXT = "pgsql-text"
TEXT = "text"
EMPTY = "empty"

COMPRESSIONS = (BZ2, GZIP, XZ)

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"BZh", BZ2),
    (b"\x1f\x8b", GZIP),
    (b"\xfd7zXZ\x00", XZ),
    (b"SQLite format 3\x00", SQLITE),
    (b"PGDMP", PGDUMP),
)
_MYSQL_MARKERS = (b"-- MySQL dump", b"-- MariaDB dump", b"/*!40101 SET", b"CREATE TABLE `", b"INSERT INTO `")
# A tar header spells "ustar" at this offset.
_USTAR_OFFSET = 257
_DAMAGE = (EOFError, OSError, zlib.error, lzma.LZMAError, tarfile.TarError, ValueError)


def sniff_bytes(head: bytes) -> str:
    """Name the format of some data from its first bytes.

    Args:
        head: The first bytes (a few kilobytes are enough).

    Returns:
        One of ``bz2``, ``gzip``, ``xz``, ``tar``, ``sqlite``, ``pgdump``,
        ``mysql``, ``text`` (anything else that decodes as UTF-8, such as CSV)
        or ``empty``; ``unknown`` for other binary data.
    """
    if not head:
        return EMPTY
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head.startswith(b"ustar", _USTAR_OFFSET):
        return TAR
    return _text_kind(head)


def _text_kind(head: bytes) -> str:
    """Name the format of data with no binary magic: a SQL dump, other text, or ``unknown``."""
    if b"PostgreSQL database dump" in head[:HEAD_BYTES]:
        return PGSQL_TEXT
    stripped = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if any(marker in stripped[:HEAD_BYTES] for marker in _MYSQL_MARKERS) or stripped.startswith(
        (b"--", b"/*!", b"SET ", b"DROP TABLE")
    ):
        return MYSQL
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        if exc.start < len(head) - 4:
            return "unknown"
    return TEXT


def sniff(path: Path) -> str:
    """Name the format of a file from its first bytes (not its name).

    Args:
        path: The file.

    Returns:
        See :func:`sniff_bytes`.
    """
    with path.open("rb") as fh:
        return sniff_bytes(fh.read(HEAD_BYTES))


def open_decompressed(path: Path, kind: str | None = None) -> io.BufferedIOBase:
    """Open a bzip2, gzip or xz file as a stream of its decompressed bytes.

    Args:
        path: The compressed file.
        kind: Its compression, when already sniffed.

    Returns:
        A binary stream; the caller closes it.

    Raises:
        DumpFormatError: When the file is not compressed in a known way.
    """
    kind = kind or sniff(path)
    if kind == BZ2:
        return bz2.open(path, "rb")
    if kind == GZIP:
        return gzip.open(path, "rb")
    if kind == XZ:
        return lzma.open(path, "rb")
    raise DumpFormatError(f"{path}: not a bzip2, gzip or xz file")


@contextmanager
def damage_guard(path: Path, what: str) -> Iterator[None]:
    """Turn the errors of a damaged stream into one :class:`DumpFormatError` line.

    Args:
        path: The file being read, named in the message.
        what: What the file was read as, e.g. ``bzip2 data``.

    Yields:
        Nothing; the guarded block runs inside.

    Raises:
        DumpFormatError: When the block raised a decompression, tar or I/O error.
    """
    try:
        yield
    except DumpFormatError:
        raise
    except _DAMAGE as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise DumpFormatError(f"{path}: truncated or corrupt {what} ({detail})") from exc


def inner_kind(path: Path, kind: str) -> str:
    """Sniff what a compressed file holds by decompressing its first bytes.

    Args:
        path: The compressed file.
        kind: Its compression.

    Returns:
        The format of the decompressed data (see :func:`sniff_bytes`).

    Raises:
        DumpFormatError: When even the start cannot be decompressed.
    """
    with damage_guard(path, f"{kind} data"), open_decompressed(path, kind) as stream:
        head = _read_at_most(stream, HEAD_BYTES)
    return sniff_bytes(head)


def _read_at_most(stream: io.BufferedIOBase, size: int) -> bytes:
    """Read up to ``size`` bytes, looping over short reads."""
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def content_kinds(path: Path) -> tuple[str, str]:
    """Name a file's format and, when compressed, the format it holds.

    Results are remembered per (path, size, modification time), so the
    detectors of several formats decompress a file's head only once.

    Args:
        path: A file.

    Returns:
        (outer, inner): e.g. ``("bz2", "sqlite")``; inner equals outer for an
        uncompressed file; ``("", "")`` for anything that is not a regular file.

    Raises:
        DumpFormatError: When the file cannot be read or a compressed file's start cannot be decompressed.
    """
    if not path.is_file():
        return "", ""
    try:
        stat = path.stat()
        return _content_kinds(str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    except OSError as exc:
        raise DumpFormatError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from exc


@functools.lru_cache(maxsize=64)
def _content_kinds(path: str, size: int, mtime_ns: int) -> tuple[str, str]:
    """Cached body of :func:`content_kinds`."""
    outer = sniff(Path(path))
    inner = inner_kind(Path(path), outer) if outer in COMPRESSIONS else outer
    return outer, inner


def decompress_to(path: Path, target: Path, kind: str | None = None) -> Path:
    """Stream-decompress a file into ``target`` in chunks (never whole in memory).

    Args:
        path: The compressed file.
        target: The file to write (created or replaced).
        kind: The compression, when already sniffed.

    Returns:
        ``target``.

    Raises:
        DumpFormatError: When the compressed data is truncated or corrupt.
    """
    kind = kind or sniff(path)
    with damage_guard(path, f"{kind} data"), open_decompressed(path, kind) as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst, CHUNK)
    return target


def tar_members(path: Path) -> Iterator[tuple[tarfile.TarInfo, IO[bytes]]]:
    """Walk a (possibly compressed) tar file once, in stream mode.

    Args:
        path: The tar, tar.bz2, tar.gz or tar.xz file.

    Yields:
        (member, stream of its bytes) for each regular file, in archive order;
        a stream is only valid until the next member is requested.

    Raises:
        DumpFormatError: When the archive is truncated or corrupt.
    """
    with damage_guard(path, "tar archive"), tarfile.open(path, mode="r|*") as archive:
        for member in archive:
            if not member.isfile():
                continue
            stream = archive.extractfile(member)
            if stream is not None:
                yield member, stream


def text_lines(stream: IO[bytes] | io.BufferedIOBase, *, encoding: str = "utf-8") -> io.TextIOWrapper:
    r"""Wrap a binary stream as text read line by line.

    Args:
        stream: Binary stream.
        encoding: Text encoding; invalid bytes are replaced rather than fatal.

    Returns:
        A text stream that keeps ``\r`` characters as they are.
    """
    return io.TextIOWrapper(
        io.BufferedReader(_ForwardOnly(stream), CHUNK), encoding=encoding, errors="replace", newline=""
    )


class _ForwardOnly(io.RawIOBase):
    """A read-only, non-seekable view of a stream (tar members in stream mode cannot answer ``seekable``)."""

    def __init__(self, stream: IO[bytes] | io.BufferedIOBase) -> None:
        """Wrap a stream.

        Args:
            stream: Any binary stream with ``read``.
        """
        super().__init__()
        self._stream = stream

    def readable(self) -> bool:
        """Say the stream can be read.

        Returns:
            True.
        """
        return True

    def seekable(self) -> bool:
        """Say the stream cannot seek.

        Returns:
            False.
        """
        return False

    def readinto(self, buffer: Any) -> int:
        """Read into a buffer.

        Args:
            buffer: A writable buffer.

        Returns:
            The number of bytes read (0 at the end).
        """
        view = memoryview(buffer).cast("B")
        data = self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)


def _is_other_archive(path: Path) -> bool:
    """Tell whether a file is compressed but holds no dump we read, or is a plain-text PostgreSQL dump."""
    outer, inner = content_kinds(path)
    return inner == PGSQL_TEXT or (outer in COMPRESSIONS and inner not in (SQLITE, PGDUMP, MYSQL, TAR))


def _refuse_archive(path: Path) -> None:
    """Explain why such a file cannot be ingested."""
    outer, inner = content_kinds(path)
    if inner == PGSQL_TEXT:
        raise DumpFormatError(
            f"{path}: a plain-text PostgreSQL dump; use Fuzzwork's custom-format dump (or pg_dump -Fc) instead"
        )
    if inner == EMPTY:
        raise DumpFormatError(f"{path}: the {outer} file is empty once decompressed")
    raise DumpFormatError(f"{path}: the {outer} file holds no SDE dump (its content looks like {inner})")


# The fallback for archives no dump format recognised.
register_format("archive", _is_other_archive, _refuse_archive)
