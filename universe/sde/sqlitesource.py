"""Fuzzwork's SQLite dumps (``sqlite-latest.sqlite.bz2``, ``latest-sqlite.db.gz``).

A compressed database is stream-decompressed to a temporary file first
(SQLite needs a real file); the database is opened read-only and each table
is read in batches, never whole in memory.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

from universe.sde.compressed import COMPRESSIONS, SQLITE, DumpFormatError, content_kinds, decompress_to
from universe.sde.sources import ClosingDump, register_format

BATCH = 5000


def raw_text(value: object) -> str | None:
    """Render one SQLite value as the raw text a CSV dump would hold.

    Args:
        value: An int, float, str, bytes or None from SQLite.

    Returns:
        The text (``repr`` for floats, so no precision is lost), or None for NULL.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, float):
        return repr(value)
    return str(value)


class SqliteDump(ClosingDump):
    """Tables of a SQLite dump file, plain or compressed."""

    def __init__(self, path: Path) -> None:
        """Open the dump (decompressing it to a temporary file when needed).

        Args:
            path: A SQLite database, or one compressed with bzip2, gzip or xz.

        Raises:
            DumpFormatError: When the file is not a SQLite database or is damaged.
        """
        self.path = path
        self.name = str(path)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        kind, inner = content_kinds(path)
        db_path = path
        if kind in COMPRESSIONS:
            if inner != SQLITE:
                raise DumpFormatError(f"{path}: the {kind} file does not hold a SQLite database")
            self._tmp = tempfile.TemporaryDirectory(prefix="sde-sqlite-")
            db_path = decompress_to(path, Path(self._tmp.name) / "dump.sqlite", kind)
        elif kind != SQLITE:
            raise DumpFormatError(f"{path}: not a SQLite database")
        try:
            self._conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
            found = self._conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')").fetchall()
        except sqlite3.DatabaseError as exc:
            self.close()
            raise DumpFormatError(f"{path}: corrupt SQLite database ({exc})") from exc
        self._names = {str(name).lower(): str(name) for (name,) in found}

    def tables(self) -> set[str]:
        """List the dump's tables.

        Returns:
            Table names as the dump spells them.
        """
        return set(self._names.values())

    def has_table(self, table: str) -> bool:
        """Tell whether the dump holds a table (names compare case-insensitively).

        Args:
            table: Fuzzwork's table name, e.g. ``invTypes``.

        Returns:
            True when present.
        """
        return table.lower() in self._names

    def rows(self, table: str) -> tuple[list[str], Iterator[tuple[str | None, ...]]]:
        """Read one table.

        Args:
            table: Fuzzwork's table name, e.g. ``invTypes`` (case-insensitive).

        Returns:
            (column names, iterator of rows of raw text values, None for NULL).

        Raises:
            DumpFormatError: When the table is missing or unreadable.
        """
        name = self._names.get(table.lower())
        if name is None:
            raise DumpFormatError(f"{self.path}: table {table} is missing")
        quoted = '"' + name.replace('"', '""') + '"'
        try:
            cursor = self._conn.execute(f"SELECT * FROM {quoted}")  # noqa: S608 - a name read from sqlite_master
        except sqlite3.DatabaseError as exc:
            raise DumpFormatError(f"{self.path}: cannot read table {table} ({exc})") from exc
        columns = [str(d[0]) for d in cursor.description]
        return columns, self._iter_rows(cursor, table)

    def _iter_rows(self, cursor: sqlite3.Cursor, table: str) -> Iterator[tuple[str | None, ...]]:
        """Yield a cursor's rows as raw text, a batch at a time."""
        try:
            while batch := cursor.fetchmany(BATCH):
                for row in batch:
                    yield tuple(raw_text(value) for value in row)
        except sqlite3.DatabaseError as exc:
            raise DumpFormatError(f"{self.path}: corrupt SQLite table {table} ({exc})") from exc

    def close(self) -> None:
        """Close the database and delete any temporary copy."""
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()
            self._conn = None  # type: ignore[assignment]
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def is_sqlite_dump(path: Path) -> bool:
    """Tell from its content whether a file is a SQLite database, plain or compressed.

    Args:
        path: A file or folder.

    Returns:
        True for SQLite.
    """
    return content_kinds(path)[1] == SQLITE


register_format("sqlite", is_sqlite_dump, SqliteDump)
