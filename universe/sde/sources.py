"""The format-independent view of an SDE dump, and the registry of dump formats.

Every reader (CSV folder, SQLite, PostgreSQL custom dump, MySQL dump, each
possibly compressed) yields the same thing: Fuzzwork's table names, the
column names as the dump spells them, and raw values as text (``None`` for
NULL). Normalising the text (``None``/``NULL``/empty, booleans, ``0E-10``)
is the loader's job, not the reader's.

Registry: each format module calls :func:`register_format` at import time
with a detector (``Path -> bool``, deciding by the file's content, not its
name) and an opener (``Path -> DumpSource``). :func:`open_dump` imports the
modules listed in ``FORMAT_MODULES`` (missing ones are skipped), then tries
the detectors in registration order; the first match opens the dump.

An opener may return an object with ``read(table)`` instead of ``rows(table)``
and ``tables()`` as any iterable: :func:`open_dump` adapts it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

from universe.sde.errors import DumpFormatError

__all__ = [
    "FORMATS",
    "FORMAT_MODULES",
    "ClosingDump",
    "DumpFormat",
    "DumpFormatError",
    "DumpSource",
    "dump_find_latest",
    "open_dump",
    "register_format",
]


@runtime_checkable
class DumpSource(Protocol):
    """An opened dump: its tables, and each table's columns and raw text rows."""

    name: str

    def tables(self) -> set[str]:
        """Return the Fuzzwork table names present (as the dump spells them)."""
        ...

    def rows(self, table: str) -> tuple[list[str], Iterator[Sequence[str | None]]]:
        """Return one table's column names and an iterator of raw rows (text, or None for NULL)."""
        ...

    def close(self) -> None:
        """Release files, processes and temporary copies."""
        ...


class ClosingDump:
    """Base of the readers: a ``with`` block calls the subclass's ``close()``."""

    def close(self) -> None:
        """Release files, processes and temporary copies."""

    def __enter__(self) -> Self:
        """Use the dump in a ``with`` block.

        Returns:
            The dump itself.
        """
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the dump.

        Args:
            exc_type: Exception type, if any.
            exc: Exception, if any.
            tb: Traceback, if any.
        """
        self.close()


Detector = Callable[[Path], bool]
Opener = Callable[[Path], Any]


@dataclass(frozen=True)
class DumpFormat:
    """One registered dump format."""

    name: str
    detect: Detector
    open: Opener


FORMATS: list[DumpFormat] = []

# Modules that register formats when imported (a missing module is skipped).
FORMAT_MODULES: tuple[str, ...] = (
    "universe.sde.csvsource",
    "universe.sde.sqlitesource",
    "universe.sde.pgdumpsource",
    "universe.sde.mysqlsource",
    "universe.sde.compressed",
)


def register_format(name: str, detect: Detector, opener: Opener) -> None:
    """Add a dump format to the registry (once per name; re-registering replaces it in place).

    Args:
        name: Short format name, e.g. ``csv`` or ``sqlite``.
        detect: Tells from a path's content whether this format can open it.
        opener: Opens the path as a :class:`DumpSource`.
    """
    entry = DumpFormat(name=name, detect=detect, open=opener)
    for index, existing in enumerate(FORMATS):
        if existing.name == name:
            FORMATS[index] = entry
            return
    FORMATS.append(entry)


def _load_format_modules() -> None:
    """Import every module of ``FORMAT_MODULES`` that exists, so they register themselves."""
    for module in FORMAT_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


class _Adapted:
    """Present a reader with ``read``/``tables() -> list`` as a :class:`DumpSource`."""

    def __init__(self, inner: Any, path: Path) -> None:
        """Wrap a reader.

        Args:
            inner: The format module's reader.
            path: The dump's path (its ``name`` when the reader has none).
        """
        self._inner = inner
        self.name = str(getattr(inner, "name", path))

    def tables(self) -> set[str]:
        """Return the reader's table names as a set."""
        return set(self._inner.tables())

    def rows(self, table: str) -> tuple[list[str], Iterator[Sequence[str | None]]]:
        """Read one table through the reader's ``rows`` or ``read``.

        Args:
            table: The dump's spelling of the table name.

        Returns:
            Column names and raw rows.
        """
        reader = getattr(self._inner, "rows", None) or self._inner.read
        columns, rows = reader(table)
        return list(columns), rows

    def close(self) -> None:
        """Close the reader."""
        self._inner.close()


def open_dump(path: Path) -> DumpSource:
    """Open a dump file or folder, detecting its format by content.

    Args:
        path: A dump file (any registered format, compressed or not) or a folder of CSV files.

    Returns:
        The opened source; the caller closes it.

    Raises:
        DumpFormatError: When the path is missing, empty or of no known format, or damaged.
    """
    path = Path(path)
    if not path.exists():
        raise DumpFormatError(f"{path}: no such file or folder")
    if path.is_file() and path.stat().st_size == 0:
        raise DumpFormatError(f"{path}: the file is empty")
    _load_format_modules()
    for fmt in FORMATS:
        if fmt.detect(path):
            opened = fmt.open(path)
            if isinstance(opened, DumpSource) and isinstance(opened.tables(), set):
                return opened
            return _Adapted(opened, path)
    if path.is_dir():
        raise DumpFormatError(f"{path}: the folder holds no SDE dump (no table CSV files)")
    raise DumpFormatError(f"{path}: unknown dump format (not CSV, SQLite, PostgreSQL or MySQL dump)")


_IGNORED_SUFFIXES = (".md5", ".json", ".part", ".tmp", ".txt", ".md")


def _candidates(data_dir: Path) -> Iterable[Path]:
    """List what in a data folder could be a dump: files and sub-folders (not hidden, not notes)."""
    for child in data_dir.iterdir():
        if child.name.startswith(".") or child.name.lower().endswith(_IGNORED_SUFFIXES):
            continue
        if (child.is_file() and child.stat().st_size > 0) or child.is_dir():
            yield child


def dump_find_latest(data_dir: Path) -> Path | None:
    """Find the newest dump in a data folder (by modification time).

    A folder of CSV files counts as one dump; so does ``data_dir`` itself when
    it holds the CSV files directly. Files count when a format recognises them
    or their name looks like a dump, so a damaged newest download is reported,
    not silently passed over for an older one.

    Args:
        data_dir: Usually ``settings.EVE_DATA_DIR``.

    Returns:
        The newest dump file or folder, or None when there is none.
    """
    if not data_dir.is_dir():
        return None
    _load_format_modules()
    found: list[tuple[float, str, Path]] = []
    for candidate in _candidates(data_dir):
        lower = candidate.name.lower()
        if candidate.is_file() and lower.endswith((".csv", ".csv.bz2")):
            continue  # one table of a CSV dump, not a dump
        named_like_dump = candidate.is_file() and any(part in lower for part in _DUMP_NAME_PARTS)
        if named_like_dump or any(_safe_detect(fmt, candidate) for fmt in FORMATS):
            found.append((candidate.stat().st_mtime, candidate.name, candidate))
    if found:
        return max(found)[2]
    if any(_safe_detect(fmt, data_dir) for fmt in FORMATS):
        return data_dir
    return None


_DUMP_NAME_PARTS = (".sqlite", ".db", ".dmp", ".pgdump", ".sql", ".bz2", ".gz", ".xz", ".tar")


def _safe_detect(fmt: DumpFormat, path: Path) -> bool:
    """Run a detector, treating an unreadable path as not matching."""
    try:
        return fmt.detect(path)
    except (OSError, DumpFormatError):
        return False
