r"""Fuzzwork's PostgreSQL custom-format dumps (``postgres-latest.dmp.bz2``, ``latest-postgres.pgdump``).

Nothing is ever restored into a database: ``pg_restore -l`` lists the
archive's contents, and for each wanted table ``pg_restore --data-only -L``
with a one-entry list writes that table's ``COPY`` text to a pipe, which is
parsed line by line (``\N`` for NULL, backslash escapes). The schema
(``public`` or Fuzzwork's ``evesde`` variant) and the case of table names do
not matter. Boolean columns (``t``/``f``) become ``1``/``0`` like the CSV dumps.
A compressed dump is stream-decompressed to a temporary file first.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from universe.sde.compressed import COMPRESSIONS, PGDUMP, DumpFormatError, content_kinds, decompress_to
from universe.sde.pgtext import (
    BOOLEANS,
    COPY_LINE,
    CREATE_TABLE,
    ENCODINGS,
    copy_field,
    copy_identifiers,
    ddl_columns,
    qualified_name,
)
from universe.sde.sources import ClosingDump, register_format

PREFERRED_SCHEMAS = ("evesde", "public")

_TOC_LINE = re.compile(r"^(?P<id>\d+);\s+\d+\s+\d+\s+(?P<kind>TABLE DATA|TABLE)\s+(?P<schema>\S+)\s+(?P<name>\S+)\s")


@dataclass(frozen=True)
class _Entry:
    """One TABLE or TABLE DATA line of an archive's table of contents."""

    line: str
    schema: str
    name: str


def pg_restore_binary() -> str:
    """Find ``pg_restore``.

    Returns:
        Its path.

    Raises:
        DumpFormatError: When it is not installed.
    """
    found = shutil.which("pg_restore")
    if found is None:
        raise DumpFormatError("pg_restore is not installed: it is needed to read PostgreSQL dumps")
    return found


def _archive_path(path: Path, tmp_dir: Path) -> Path:
    """Return the custom-format archive of a dump: the file itself, or its decompressed copy in ``tmp_dir``."""
    kind, inner = content_kinds(path)
    if kind in COMPRESSIONS:
        if inner != PGDUMP:
            raise DumpFormatError(f"{path}: the {kind} file does not hold a PostgreSQL dump")
        return decompress_to(path, tmp_dir / "dump.pgdump", kind)
    if kind != PGDUMP:
        raise DumpFormatError(f"{path}: not a PostgreSQL custom-format dump")
    return path


class PgDump(ClosingDump):
    """Tables of a PostgreSQL custom-format dump, plain or compressed."""

    def __init__(self, path: Path) -> None:
        """Open the dump and read its table of contents.

        Args:
            path: A ``pg_dump -Fc`` archive, or one compressed with bzip2, gzip or xz.

        Raises:
            DumpFormatError: When the file is not such a dump or ``pg_restore`` rejects it.
        """
        self.path = path
        self.name = str(path)
        self._tmp = tempfile.TemporaryDirectory(prefix="sde-pgdump-")
        try:
            self._archive = _archive_path(path, Path(self._tmp.name))
            self._ddl: dict[tuple[str, str], tuple[list[str], set[str]]] | None = None
            self._processes: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []
            self._data: dict[str, list[_Entry]] = {}
            self._tables: dict[str, list[_Entry]] = {}
            for line in self._run(["-l"]).splitlines():
                match = _TOC_LINE.match(line)
                if match is None:
                    continue
                entry = _Entry(line, match.group("schema"), match.group("name"))
                target = self._data if match.group("kind") == "TABLE DATA" else self._tables
                target.setdefault(entry.name.lower(), []).append(entry)
        except BaseException:
            self.close()
            raise

    def _run(self, args: list[str]) -> str:
        """Run ``pg_restore`` on the archive and return its output."""
        done = subprocess.run(  # noqa: S603 - fixed binary, our own arguments
            [pg_restore_binary(), *args, "-f", "-", str(self._archive)],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            detail = self._first_error(done.stderr)
            if "unsupported version" in detail:
                detail += "; the dump was made by a newer pg_dump: install a newer pg_restore"
            raise DumpFormatError(f"{self.path}: pg_restore failed ({detail})")
        return done.stdout.decode("utf-8", errors="replace")

    @staticmethod
    def _first_error(stderr: bytes) -> str:
        """Pick the most telling line of pg_restore's error output."""
        lines = [line.strip() for line in stderr.decode("utf-8", errors="replace").splitlines() if line.strip()]
        errors = [line for line in lines if "error" in line.lower()]
        picked = (errors or lines or ["no message"])[0]
        return picked.removeprefix("pg_restore: ").removeprefix("error: ")

    @staticmethod
    def _pick(entries: list[_Entry]) -> _Entry:
        """Choose among same-named tables of several schemas."""
        for schema in PREFERRED_SCHEMAS:
            for entry in entries:
                if entry.schema == schema:
                    return entry
        return entries[0]

    def tables(self) -> set[str]:
        """List the dump's tables.

        Returns:
            Table names as the dump spells them.
        """
        return {self._pick(e).name for e in (*self._tables.values(), *self._data.values())}

    def has_table(self, table: str) -> bool:
        """Tell whether the dump holds a table (case-insensitive).

        Args:
            table: Fuzzwork's table name, e.g. ``invTypes``.

        Returns:
            True when present.
        """
        key = table.lower()
        return key in self._tables or key in self._data

    def _list_file(self, entry: _Entry) -> Path:
        """Write a one-entry list file for ``pg_restore -L``."""
        path = Path(self._tmp.name) / f"entry-{entry.line.split(';', 1)[0]}.list"
        path.write_text(entry.line + "\n", encoding="utf-8")
        return path

    def _schema_columns(self, table: str) -> tuple[list[str], set[str]]:
        """Read a table's columns and its boolean columns from the dump's DDL."""
        entries = self._tables.get(table.lower())
        if not entries:
            return [], set()
        if self._ddl is None:
            self._ddl = self._read_all_ddl()
        entry = self._pick(entries)
        return self._ddl.get((entry.schema, entry.name), ([], set()))

    def _read_all_ddl(self) -> dict[tuple[str, str], tuple[list[str], set[str]]]:
        """Parse the CREATE TABLE statements of every table in the archive."""
        listing = Path(self._tmp.name) / "tables.list"
        listing.write_text("".join(e.line + "\n" for es in self._tables.values() for e in es), encoding="utf-8")
        ddl = self._run(["--schema-only", "-L", str(listing)])
        parsed: dict[tuple[str, str], tuple[list[str], set[str]]] = {}
        for match in CREATE_TABLE.finditer(ddl):
            qualified = qualified_name(match.group(1))
            if qualified is not None:
                parsed[qualified] = ddl_columns(match.group(2))
        return parsed

    def rows(self, table: str) -> tuple[list[str], Iterator[tuple[str | None, ...]]]:
        """Read one table through ``pg_restore --data-only``.

        Args:
            table: Fuzzwork's table name (case-insensitive).

        Returns:
            (column names, iterator of rows of raw text values, None for NULL).

        Raises:
            DumpFormatError: When the table is missing or pg_restore fails.
        """
        if not self.has_table(table):
            raise DumpFormatError(f"{self.path}: table {table} is missing")
        schema_columns, booleans = self._schema_columns(table)
        entries = self._data.get(table.lower())
        if not entries:
            return schema_columns, iter(())
        errors = tempfile.TemporaryFile(dir=self._tmp.name)  # noqa: SIM115 - closed when the rows end
        process = subprocess.Popen(  # noqa: S603 - fixed binary, our own arguments
            [
                pg_restore_binary(),
                "--data-only",
                "-L",
                str(self._list_file(self._pick(entries))),
                "-f",
                "-",
                str(self._archive),
            ],
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        self._processes.append((process, errors))
        if process.stdout is None:  # pragma: no cover - stdout=PIPE always gives a stream
            raise DumpFormatError(f"{self.path}: pg_restore gave no output")
        encoding = "utf-8"
        columns: list[str] | None = None
        for raw in process.stdout:
            line = raw.decode(encoding, errors="replace")
            if line.startswith("SET client_encoding"):
                declared = line.split("'")[1] if "'" in line else "UTF8"
                encoding = ENCODINGS.get(declared.upper(), "utf-8")
            match = COPY_LINE.match(line)
            if match is not None:
                columns = copy_identifiers(match.group("cols"))
                break
        if columns is None:
            process.wait()
            errors.seek(0)
            detail = self._first_error(errors.read()) if process.returncode else "no COPY data"
            errors.close()
            raise DumpFormatError(f"{self.path}: pg_restore cannot read table {table} ({detail})")
        flags = tuple(name in booleans for name in columns)
        return columns, self._iter_rows(process, errors, encoding, flags, table)

    def _iter_rows(
        self,
        process: subprocess.Popen[bytes],
        errors: IO[bytes],
        encoding: str,
        flags: tuple[bool, ...],
        table: str,
    ) -> Iterator[tuple[str | None, ...]]:
        """Yield the COPY rows pg_restore writes, then check it succeeded."""
        stdout = process.stdout
        if stdout is None:  # pragma: no cover - stdout=PIPE always gives a stream
            return
        width = len(flags)
        has_booleans = any(flags)
        finished = False
        try:
            for raw in stdout:
                line = raw.decode(encoding, errors="replace").rstrip("\n")
                if line == "\\.":
                    finished = True
                    break
                fields = [copy_field(f) for f in line.split("\t")]
                if len(fields) != width:
                    self._raise_if_failed(process, stdout, errors, table)
                    raise DumpFormatError(
                        f"{self.path}: table {table} has a row of {len(fields)} values for {width} columns"
                    )
                if has_booleans:
                    fields = [
                        BOOLEANS.get(v, v) if flag and v is not None else v
                        for v, flag in zip(fields, flags, strict=True)
                    ]
                yield tuple(fields)
            self._raise_if_failed(process, stdout, errors, table)
            if not finished:
                raise DumpFormatError(f"{self.path}: cannot read table {table} (COPY data cut short)")
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            stdout.close()
            errors.close()

    def _raise_if_failed(
        self, process: subprocess.Popen[bytes], stdout: IO[bytes], errors: IO[bytes], table: str
    ) -> None:
        """Let pg_restore finish and turn a failure into an error quoting it."""
        stdout.read()
        process.wait()
        if process.returncode != 0:
            errors.seek(0)
            detail = self._first_error(errors.read())
            raise DumpFormatError(f"{self.path}: pg_restore cannot read table {table} ({detail})")

    def close(self) -> None:
        """Stop any pg_restore still running (a table not read to the end) and delete the temporary files."""
        for process, errors in getattr(self, "_processes", []):
            if process.poll() is None:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
            errors.close()
        self._tmp.cleanup()


def is_pg_dump(path: Path) -> bool:
    """Tell from its content whether a file is a PostgreSQL custom-format dump, plain or compressed.

    Args:
        path: A file or folder.

    Returns:
        True for a ``pg_dump -Fc`` archive.
    """
    return content_kinds(path)[1] == PGDUMP


register_format("pgdump", is_pg_dump, PgDump)
