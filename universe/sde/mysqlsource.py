"""Fuzzwork's MySQL dumps (``mysql-latest.tar.bz2``, ``latest-mysql.sql.gz``, plain ``.sql``).

mysqldump output is read in one streaming pass, line by line: only the
wanted tables' ``CREATE TABLE`` (for the column names) and ``INSERT``
statements are parsed (multi-row ``VALUES``, quoting, backslash escapes,
``NULL``); their rows are spilled in batches to a temporary file per table,
so a dump of any size never sits in memory and each table is read back
quickly. A tar archive (``sde-*-TRANQUILITY/*.sql``) is walked once, member
by member, in stream mode. The statement syntax is in :mod:`universe.sde.mysqlsyntax`.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from universe.sde.compressed import (
    COMPRESSIONS,
    MYSQL,
    TAR,
    DumpFormatError,
    content_kinds,
    damage_guard,
    open_decompressed,
    tar_members,
    text_lines,
)
from universe.sde.mysqlsyntax import CREATE_TABLE_START, INSERT_START, InsertParser, column_list, create_table_columns
from universe.sde.sources import ClosingDump, register_format

BATCH = 5000
# The tables ingestion needs; only these are parsed and kept.
WANTED_TABLES: tuple[str, ...] = (
    "invCategories",
    "invGroups",
    "invMarketGroups",
    "invTypes",
    "invVolumes",
    "mapRegions",
    "mapConstellations",
    "mapSolarSystems",
    "mapSolarSystemJumps",
    "staStations",
    "mapDenormalize",
)


@dataclass
class _Spill:
    """The rows of one wanted table, spilled to a temporary file in JSON batches."""

    path: Path
    columns: list[str] | None = None
    rows: int = 0
    batch: list[list[str | None]] = field(default_factory=list)
    handle: IO[str] | None = None

    def add(self, row: list[str | None]) -> None:
        """Buffer one row, writing a batch when full.

        Args:
            row: Raw text values.
        """
        self.batch.append(row)
        self.rows += 1
        if len(self.batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows."""
        if not self.batch:
            return
        if self.handle is None:
            self.handle = self.path.open("a", encoding="utf-8")
        self.handle.write(json.dumps(self.batch, ensure_ascii=False, separators=(",", ":")))
        self.handle.write("\n")
        self.batch = []

    def close(self) -> None:
        """Write what is left and close the file."""
        self.flush()
        if self.handle is not None:
            self.handle.close()
            self.handle = None


class MysqlDump(ClosingDump):
    """The wanted tables of a mysqldump file or tar of files, plain or compressed."""

    def __init__(self, path: Path, tables: Iterable[str] = WANTED_TABLES) -> None:
        """Scan the dump once, keeping the wanted tables' rows in temporary files.

        Args:
            path: A ``.sql`` dump, a tar of them, either compressed with bzip2, gzip or xz.
            tables: Fuzzwork table names to keep (compared case-insensitively).

        Raises:
            DumpFormatError: When the file is not a MySQL dump or is damaged.
        """
        self.path = path
        self.name = str(path)
        self._wanted = {t.lower() for t in tables}
        self._tmp = tempfile.TemporaryDirectory(prefix="sde-mysql-")
        self._spills: dict[str, _Spill] = {}
        self._names: dict[str, str] = {}
        try:
            self._scan_file()
        except BaseException:
            self.close()
            raise
        finally:
            for spill in self._spills.values():
                spill.close()

    def _scan_file(self) -> None:
        """Dispatch on the file's content: plain SQL, compressed SQL, or a tar."""
        kind, inner = content_kinds(self.path)
        if TAR in (kind, inner):
            found = False
            for member, stream in tar_members(self.path):
                if not member.name.endswith(".sql"):
                    continue
                found = True
                with damage_guard(self.path, "tar archive"):
                    self._scan(text_lines(stream), f"{self.path}:{member.name}")
            if not found:
                raise DumpFormatError(f"{self.path}: the tar archive holds no .sql file")
            return
        if inner != MYSQL:
            raise DumpFormatError(f"{self.path}: not a MySQL dump")
        if kind in COMPRESSIONS:
            with damage_guard(self.path, f"{kind} data"), open_decompressed(self.path, kind) as raw:
                self._scan(text_lines(raw), str(self.path))
        else:
            with damage_guard(self.path, "file"), self.path.open("rb") as raw:
                self._scan(text_lines(raw), str(self.path))

    def _spill_for(self, name: str) -> _Spill:
        """The spill file of a wanted table, created on first use."""
        key = name.lower()
        if key not in self._spills:
            self._spills[key] = _Spill(Path(self._tmp.name) / f"{len(self._spills)}.jsonl")
            self._names[key] = name
        return self._spills[key]

    def _scan(self, lines: Iterable[str], origin: str) -> None:
        """Parse one SQL text, keeping the wanted tables' columns and rows."""
        iterator = iter(lines)
        for line in iterator:
            head = line.lstrip()[:7].upper()
            if head.startswith(("INSERT", "REPLACE")):
                self._scan_insert(line, iterator, origin)
            elif head.startswith("CREATE"):
                self._scan_create(line, iterator, origin)

    def _scan_insert(self, line: str, iterator: Iterator[str], origin: str) -> None:
        """Keep the rows of an INSERT (or REPLACE) into a wanted table; skip any other."""
        match = INSERT_START.match(line)
        if match is None:
            return
        name = match.group("qname") or match.group("name")
        if name.lower() not in self._wanted:
            self._skip_statement(line, iterator)
            return
        spill = self._spill_for(name)
        columns = column_list(match.group("cols")) if match.group("cols") else None
        if columns is not None:
            if spill.columns is not None and spill.columns != columns:
                raise DumpFormatError(f"{origin}: INSERTs into {name} name different columns")
            spill.columns = columns
        width = len(columns) if columns else (len(spill.columns) if spill.columns else None)
        parser = InsertParser(spill.add, width, f"{origin}: table {name}")
        done = parser.feed(line[match.end() :])
        while not done:
            more = next(iterator, None)
            if more is None:
                raise DumpFormatError(f"{origin}: the INSERT into {name} is cut short")
            done = parser.feed(more)

    def _scan_create(self, line: str, iterator: Iterator[str], origin: str) -> None:
        """Keep the columns of a wanted table's CREATE TABLE."""
        match = CREATE_TABLE_START.match(line)
        if match is None:
            return
        name = match.group("qname") or match.group("name")
        statement = self._collect_statement(line, iterator, origin)
        if name.lower() in self._wanted:
            spill = self._spill_for(name)
            try:
                spill.columns = create_table_columns(statement)
            except ValueError as exc:
                raise DumpFormatError(f"{origin}: unreadable CREATE TABLE {name}") from exc

    @staticmethod
    def _collect_statement(first: str, iterator: Iterator[str], origin: str) -> str:
        """Gather a DDL statement's lines up to the one ending with ``;``."""
        parts = [first]
        line = first
        while not line.rstrip().endswith(";"):
            nxt = next(iterator, None)
            if nxt is None:
                raise DumpFormatError(f"{origin}: a CREATE TABLE statement is cut short")
            parts.append(nxt)
            line = nxt
        return "".join(parts)

    @staticmethod
    def _skip_statement(first: str, iterator: Iterator[str]) -> None:
        """Pass over an unwanted INSERT without parsing its values."""
        line = first
        while not line.rstrip().endswith(";"):
            nxt = next(iterator, None)
            if nxt is None:
                return
            line = nxt

    def tables(self) -> set[str]:
        """List the wanted tables the dump holds.

        Returns:
            Table names as the dump spells them.
        """
        return set(self._names.values())

    def has_table(self, table: str) -> bool:
        """Tell whether the dump holds a wanted table.

        Args:
            table: Fuzzwork's table name (case-insensitive).

        Returns:
            True when present.
        """
        return table.lower() in self._spills

    def rows(self, table: str) -> tuple[list[str], Iterator[tuple[str | None, ...]]]:
        """Read one wanted table.

        Args:
            table: Fuzzwork's table name (case-insensitive).

        Returns:
            (column names, iterator of rows of raw text values, None for NULL).

        Raises:
            DumpFormatError: When the table is missing or its columns unknown.
        """
        spill = self._spills.get(table.lower())
        if spill is None:
            raise DumpFormatError(f"{self.path}: table {table} is missing")
        if spill.columns is None:
            raise DumpFormatError(f"{self.path}: table {table} has no CREATE TABLE and no column list")
        return list(spill.columns), self._iter_rows(spill)

    @staticmethod
    def _iter_rows(spill: _Spill) -> Iterator[tuple[str | None, ...]]:
        """Read a spill file back."""
        if not spill.path.exists():
            return
        with spill.path.open(encoding="utf-8") as fh:
            for line in fh:
                for row in json.loads(line):
                    yield tuple(row)

    def close(self) -> None:
        """Delete the temporary files."""
        for spill in self._spills.values():
            spill.close()
        self._tmp.cleanup()


def is_mysql_dump(path: Path) -> bool:
    """Tell from its content whether a file is a mysqldump or a tar of them, plain or compressed.

    Args:
        path: A file or folder.

    Returns:
        True for MySQL/MariaDB dump text or a tar (whose ``.sql`` members are checked on opening).
    """
    return content_kinds(path)[1] in (MYSQL, TAR)


register_format("mysql", is_mysql_dump, MysqlDump)
