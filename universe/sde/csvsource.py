"""Fuzzwork's per-table CSV dumps: a folder of ``<table>.csv`` or ``<table>.csv.bz2`` files.

Both styles Fuzzwork has published are read the same way, as raw text:

- old (until about 2019): no quoting unless needed, ``None`` for NULL, 0/1
  booleans, ``0E-10`` for zero decimals;
- new: a UTF-8 byte order mark, every field quoted, empty fields for NULL.

The loader normalises the values; this module only splits the files. File
names (table names) and column names compare case-insensitively. A bzip2
file is decompressed as a stream, never whole in memory.
"""

from __future__ import annotations

import bz2
import csv
import io
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

from universe.sde.compressed import DumpFormatError
from universe.sde.sources import register_format

_SUFFIXES = (".csv.bz2", ".csv")
csv.field_size_limit(1 << 24)


def _table_name(path: Path) -> str | None:
    """Return the table a CSV file holds, from its name, or None when it is not a CSV file."""
    lower = path.name.lower()
    for suffix in _SUFFIXES:
        if lower.endswith(suffix) and len(lower) > len(suffix):
            return path.name[: -len(suffix)]
    return None


class CsvFolderDump:
    """A folder of per-table CSV files."""

    def __init__(self, path: Path) -> None:
        """Index the folder's CSV files.

        Args:
            path: The folder.

        Raises:
            DumpFormatError: When it is not a folder or holds no CSV file.
        """
        self.path = path
        self.name = str(path)
        if not path.is_dir():
            raise DumpFormatError(f"{path}: not a folder of CSV files")
        self._files: dict[str, tuple[str, Path]] = {}
        for child in sorted(path.iterdir()):
            table = _table_name(child)
            if table is None or not child.is_file():
                continue
            key = table.lower()
            # Prefer the plain file when both plain and bzip2 exist.
            if key not in self._files or child.name.lower().endswith(".csv"):
                self._files[key] = (table, child)
        if not self._files:
            raise DumpFormatError(f"{path}: the folder holds no CSV files")

    def tables(self) -> set[str]:
        """Return the table names (from the file names).

        Returns:
            E.g. ``{"invTypes", "mapRegions"}``.
        """
        return {table for table, _ in self._files.values()}

    def file_for(self, table: str) -> Path:
        """Return the file holding a table.

        Args:
            table: Table name, any case.

        Returns:
            The file.

        Raises:
            DumpFormatError: When the folder has no such file.
        """
        entry = self._files.get(table.lower())
        if entry is None:
            raise DumpFormatError(f"{self.path}: table {table} is missing (no {table}.csv)")
        return entry[1]

    def rows(self, table: str) -> tuple[list[str], Iterator[Sequence[str | None]]]:
        """Read a table's header and stream its rows.

        Args:
            table: Table name, any case.

        Returns:
            Column names and an iterator of rows (lists of text).

        Raises:
            DumpFormatError: When the file is empty, unreadable, or not valid CSV.
        """
        file = self.file_for(table)
        stream = self._open(file)
        reader = csv.reader(stream)
        try:
            header = next(reader)
        except StopIteration:
            stream.close()
            raise DumpFormatError(f"{file}: the file is empty (no header line)") from None
        except (OSError, EOFError, UnicodeDecodeError, csv.Error, zlib.error) as exc:
            stream.close()
            raise DumpFormatError(f"{file}: truncated or corrupt CSV ({_detail(exc)})") from exc
        columns = [column.strip().lstrip("\ufeff").strip('"') for column in header]
        return columns, self._iter(file, stream, reader, len(columns))

    @staticmethod
    def _open(file: Path) -> io.TextIOWrapper:
        """Open a CSV file as text, decompressing bzip2 by content and dropping a BOM."""
        with file.open("rb") as fh:
            head = fh.read(3)
        if head == b"BZh":
            return io.TextIOWrapper(bz2.open(file, "rb"), encoding="utf-8-sig", newline="")
        return file.open(encoding="utf-8-sig", newline="")

    @staticmethod
    def _iter(
        file: Path, stream: io.TextIOWrapper, reader: Iterator[list[str]], width: int
    ) -> Iterator[Sequence[str | None]]:
        """Yield rows, checking their width, and close the file at the end."""
        try:
            for row in reader:
                if len(row) != width:
                    if not row:
                        continue
                    raise DumpFormatError(
                        f"{file}: line {reader.line_num}: {len(row)} fields where the header has {width}"  # type: ignore[attr-defined]
                    )
                yield row
        except (OSError, EOFError, UnicodeDecodeError, csv.Error, zlib.error) as exc:
            raise DumpFormatError(f"{file}: truncated or corrupt CSV ({_detail(exc)})") from exc
        finally:
            stream.close()

    def close(self) -> None:
        """Nothing to release: files are closed as each table is read."""


def _detail(exc: BaseException) -> str:
    """Squeeze an exception's message onto one line."""
    return " ".join(str(exc).split()) or type(exc).__name__


def is_csv_folder(path: Path) -> bool:
    """Tell whether a path is a folder holding at least one table CSV file.

    Args:
        path: A file or folder.

    Returns:
        True for a folder with ``*.csv`` or ``*.csv.bz2`` files.
    """
    if not path.is_dir():
        return False
    return any(_table_name(child) is not None and child.is_file() for child in path.iterdir())


register_format("csv", is_csv_folder, CsvFolderDump)
