"""Every Fuzzwork dump format, built from the real SDE with real tools, reads like the CSV folder.

Test dumps are made from ``<shared>/eve-sde`` and kept in pytest's cache until it, the builders or pg_dump
change: a SQLite database with Python's sqlite3, PostgreSQL custom-format archives with
``pg_dump -Fc`` from a scratch database on the test server (``public`` and
``evesde`` schemas), and mysqldump-style SQL (``CREATE TABLE`` + extended
``INSERT``s, written here since no MySQL server is installed); then
compressed with bzip2, gzip and tar as Fuzzwork publishes them.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import hashlib
import io
import json
import lzma
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import settings as settings_hypothesis
from hypothesis import strategies as st
from psycopg import sql

from evesite.graph import graph_query
from evesite.testing.scratchdb import scratch_database_drop
from universe import models as m
from universe.graph import GATE_TYPE, SYSTEM_LABEL
from universe.sde.compressed import DumpFormatError, sniff
from universe.sde.mysqlsource import MysqlDump
from universe.sde.pgdumpsource import PgDump
from universe.sde.pgtext import copy_field
from universe.sde.sources import open_dump
from universe.sde.sqlitesource import SqliteDump
from universe.services import sde_ingest
from universe.tests.sde_synthetic import base, snapshot, write_dump

# The tables ingestion needs, plus one it does not (to prove readers skip or tolerate it).
NEEDED = (
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
EXTRA = ("invMetaTypes",)
LEFT_OUT = ("invTypes",)  # from the bzip2-heavy variants, for speed
PARTIAL = ("sqlite.bz2", "sqlite.gz", "mysql.tar.bz2")
BOOLEAN_COLUMNS = {
    "published",
    "useBasePrice",
    "anchored",
    "anchorable",
    "fittableNonSingleton",
    "hasTypes",
    "border",
    "fringe",
    "corridor",
    "hub",
    "international",
    "regional",
}
DECIMAL_COLUMNS = {"basePrice"}

Rows = list[tuple[str | None, ...]]


class Table:
    """One CSV table of the shared SDE, with a column type inferred per column."""

    def __init__(self, name: str, columns: list[str], rows: Rows) -> None:
        """Keep the table and infer its column types.

        Args:
            name: Fuzzwork's table name.
            columns: Header.
            rows: Raw values, None for empty fields.
        """
        self.name = name
        self.columns = columns
        self.rows = rows
        self.types = [self._infer(i, c) for i, c in enumerate(columns)]

    @cached_property
    def counted(self) -> Counter[tuple[str | None, ...]]:
        """The rows as text, with how often each occurs."""
        return Counter(self.rows)

    def _infer(self, index: int, column: str) -> str:
        """Infer a column's type: bool, decimal, int, float or text.

        Args:
            index: Column position.
            column: Column name.

        Returns:
            The type's name.
        """
        if column in BOOLEAN_COLUMNS:
            return "bool"
        if column in DECIMAL_COLUMNS:
            return "decimal"
        values = [v for r in self.rows if (v := r[index]) is not None]
        if not values:
            return "text"
        for kind, parse in (("int", int), ("float", float)):
            try:
                for v in values:
                    parse(v)
            except ValueError:
                continue
            return kind
        return "text"


def read_csv(path: Path) -> Table:
    """Read a plain Fuzzwork CSV (empty field = NULL).

    Args:
        path: The ``.csv`` file.

    Returns:
        The table.
    """
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        columns = next(reader)
        rows = [tuple(v if v != "" else None for v in row) for row in reader]
    return Table(path.stem, columns, rows)


# How each inferred column type compares: numbers by value (``1.0`` == ``1`` == ``1.0000``), booleans as 0/1.
_COMPARABLE: dict[str, Any] = {"int": Decimal, "decimal": Decimal, "bool": float, "float": float, "text": str}


def normalised(table: Table, columns: list[str], rows: Iterable[tuple[str | None, ...]]) -> Counter[tuple[Any, ...]]:
    """Turn a reader's raw rows into comparable values, counted (the order of rows does not matter).

    Args:
        table: The reference table (for column types).
        columns: The reader's columns (must equal the reference's).
        rows: The reader's rows.

    Returns:
        Each row of typed values with how often it occurs.
    """
    assert columns == table.columns, f"{table.name}: columns {columns} != {table.columns}"
    convert = [_COMPARABLE[kind] for kind in table.types]
    out: Counter[tuple[Any, ...]] = Counter()
    for row in rows:
        assert len(row) == len(convert), f"{table.name}: row width {len(row)}"
        out[tuple([None if value is None else to(value) for value, to in zip(row, convert, strict=True)])] += 1
    return out


def same_rows(table: Table, columns: list[str], rows: Iterable[Sequence[str | None]]) -> None:
    """Assert a reader's rows hold the table's values, in any order, naming a few rows that differ.

    Rows equal as text hold equal values: only the others are converted (most rows of most readers are equal).
    """
    assert columns == table.columns, f"{table.name}: columns {columns} != {table.columns}"
    got, expected = Counter(map(tuple, rows)), table.counted
    common = got & expected
    got, expected = (
        normalised(table, columns, (got - common).elements()),
        normalised(table, columns, (expected - common).elements()),
    )
    assert got.total() == expected.total(), (
        f"{table.name}: {got.total() + common.total()} rows, expected {expected.total() + common.total()}"
    )
    assert got == expected, f"{table.name}: unexpected {_some(got - expected)}, missing {_some(expected - got)}"


def _some(rows: Counter[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Three of the rows, for a failure message."""
    return list(rows.elements())[:3]


@pytest.fixture(scope="module")
def sde_tables(shared_dir: Path) -> dict[str, Table]:
    """The needed tables (and one extra) of ``<shared>/eve-sde``, read with Python's csv module."""
    folder = shared_dir / "eve-sde"
    return {name: read_csv(folder / f"{name}.csv") for name in (*NEEDED, *EXTRA)}


# --------------------------------------------------------------------------- builders
_SQLITE_TYPES = {"bool": "INTEGER", "decimal": "NUMERIC", "int": "INTEGER", "float": "REAL", "text": "TEXT"}
_PG_TYPES = {
    "bool": "boolean",
    "decimal": "numeric(19,4)",
    "int": "bigint",
    "float": "double precision",
    "text": "text",
}
_MYSQL_TYPES = {
    "bool": "tinyint(1)",
    "decimal": "decimal(19,4)",
    "int": "bigint(20)",
    "float": "double",
    "text": "text",
}


def build_sqlite(path: Path, tables: dict[str, Table]) -> Path:
    """Write a SQLite database like Fuzzwork's with Python's sqlite3.

    Args:
        path: The database file.
        tables: Tables to write.

    Returns:
        ``path``.
    """
    conn = sqlite3.connect(path)
    for table in tables.values():
        cols = ", ".join(f'"{c}" {_SQLITE_TYPES[t]}' for c, t in zip(table.columns, table.types, strict=True))
        conn.execute(f'CREATE TABLE "{table.name}" ({cols})')
        marks = ", ".join("?" for _ in table.columns)
        conn.executemany(f'INSERT INTO "{table.name}" VALUES ({marks})', table.rows)  # noqa: S608 - our own names
    conn.commit()
    conn.close()
    return path


def _pg_conninfo(dbname: str | None = None) -> dict[str, Any]:
    """Connection parameters of the test PostgreSQL server.

    Args:
        dbname: Database to connect to (the default database when None).

    Returns:
        psycopg keyword arguments.
    """
    db = settings.DATABASES["default"]
    return {
        "host": db["HOST"] or "127.0.0.1",
        "port": db["PORT"] or 5432,
        "user": db["USER"],
        "password": db["PASSWORD"],
        "dbname": dbname or db["NAME"],
    }


def _pg_copy_text(value: str | None) -> str:
    """Encode one value for COPY text format.

    Args:
        value: The raw value.

    Returns:
        The escaped field.
    """
    if value is None:
        return "\\N"
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def build_pgdumps(folder: Path, tables: dict[str, Table]) -> dict[str, Path]:
    """Load the tables into a scratch database and ``pg_dump -Fc`` it, as evesde and public schemas.

    Args:
        folder: Where to write the archives.
        tables: Tables to load.

    Returns:
        ``{"evesde": path, "public": path}``.
    """
    scratch = f"sde_formats_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(**_pg_conninfo(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(scratch)))
    info = _pg_conninfo(scratch)
    env = {"PGPASSWORD": str(info["password"]), "PATH": "/usr/bin:/bin"}
    base = ["-h", str(info["host"]), "-p", str(info["port"]), "-U", str(info["user"]), "-d", scratch]
    out: dict[str, Path] = {}
    try:
        with psycopg.connect(**info, autocommit=True) as conn:
            conn.execute("CREATE SCHEMA evesde")
            for table in tables.values():
                cols = ", ".join(f'"{c}" {_PG_TYPES[t]}' for c, t in zip(table.columns, table.types, strict=True))
                conn.execute(f'CREATE TABLE evesde."{table.name}" ({cols})')
                bools = [t == "bool" for t in table.types]
                with conn.cursor().copy(f'COPY evesde."{table.name}" FROM STDIN') as copy:
                    buf = io.StringIO()
                    for row in table.rows:
                        fields = [
                            ("t" if v == "1" else "f") if flag and v is not None else v
                            for v, flag in zip(row, bools, strict=True)
                        ]
                        buf.write("\t".join(_pg_copy_text(v) for v in fields))
                        buf.write("\n")
                    copy.write(buf.getvalue())
            out["evesde"] = folder / "postgres-schema-latest.dmp"
            subprocess.run(["pg_dump", "-Fc", "-n", "evesde", "-f", str(out["evesde"]), *base], env=env, check=True)
            for table in tables.values():
                conn.execute(f'ALTER TABLE evesde."{table.name}" SET SCHEMA public')
            out["public"] = folder / "latest-postgres.pgdump"
            subprocess.run(["pg_dump", "-Fc", "-n", "public", "-f", str(out["public"]), *base], env=env, check=True)
    finally:
        scratch_database_drop(conninfo=_pg_conninfo(), name=scratch)
    return out


def _mysql_literal(value: str | None, kind: str) -> str:
    """Write one value as mysqldump does.

    Args:
        value: The raw value.
        kind: The column's type.

    Returns:
        SQL text: NULL, a bare number, or a quoted, backslash-escaped string.
    """
    if value is None:
        return "NULL"
    if kind != "text":
        return value
    escaped = (
        value.replace("\\", "\\\\")
        .replace("'", "\\'")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
        .replace("\x00", "\\0")
        .replace("\x1a", "\\Z")
    )
    return f"'{escaped}'"


def mysql_table_sql(table: Table, *, max_statement: int = 1_000_000) -> str:
    """Write one table as mysqldump does (structure, then extended INSERTs).

    Args:
        table: The table.
        max_statement: Longest INSERT line, like mysqldump's ``net_buffer_length``.

    Returns:
        The SQL text.
    """
    name = table.name
    defs = [f"  `{c}` {_MYSQL_TYPES[t]} DEFAULT NULL" for c, t in zip(table.columns, table.types, strict=True)]
    defs.append(f"  KEY `ix_{name}_{table.columns[0]}` (`{table.columns[0]}`)")
    parts = [
        "--\n",
        f"-- Table structure for table `{name}`\n",
        "--\n\n",
        f"DROP TABLE IF EXISTS `{name}`;\n",
        "/*!40101 SET @saved_cs_client     = @@character_set_client */;\n",
        "/*!40101 SET character_set_client = utf8 */;\n",
        f"CREATE TABLE `{name}` (\n" + ",\n".join(defs) + "\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n",
        "/*!40101 SET character_set_client = @saved_cs_client */;\n\n",
        f"LOCK TABLES `{name}` WRITE;\n",
        f"/*!40000 ALTER TABLE `{name}` DISABLE KEYS */;\n",
    ]
    head = f"INSERT INTO `{name}` VALUES "  # noqa: S608 - SQL text written to a file
    current: list[str] = []
    size = 0
    for row in table.rows:
        tup = "(" + ",".join(_mysql_literal(v, t) for v, t in zip(row, table.types, strict=True)) + ")"
        if current and size + len(tup) > max_statement:
            parts.append(head + ",".join(current) + ";\n")
            current, size = [], 0
        current.append(tup)
        size += len(tup) + 1
    if current:
        parts.append(head + ",".join(current) + ";\n")
    parts.append(f"/*!40000 ALTER TABLE `{name}` ENABLE KEYS */;\nUNLOCK TABLES;\n\n")
    return "".join(parts)


MYSQL_HEADER = (
    "-- MySQL dump 10.13  Distrib 5.7.44, for Linux (x86_64)\n--\n-- Host: localhost    Database: sde\n"
    "-- ------------------------------------------------------\n"
    "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n/*!40101 SET NAMES utf8 */;\n\n"
)


@pytest.fixture(scope="module")
def dumps(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    shared_dir: Path,
    sde_tables: dict[str, Table],
) -> dict[str, Path]:
    """Every format Fuzzwork publishes, built from the real tables; kept in pytest's cache between runs."""
    cache = getattr(request.config, "cache", None)
    if cache is None:  # -p no:cacheprovider
        return build_dumps(tmp_path_factory.mktemp("dumps"), sde_tables)
    return cached_dumps(cache.mkdir("sde-format-dumps"), sde_tables, shared_dir / "eve-sde")


def _dumps_key(sde_tables: dict[str, Table], csv_folder: Path) -> str:
    """What the dumps depend on: this file (the builders), the CSV files and pg_dump's version."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for name in sorted(sde_tables):
        stat = (csv_folder / f"{name}.csv").stat()
        digest.update(f"{name} {stat.st_size} {stat.st_mtime_ns}".encode())
    digest.update(subprocess.run(["pg_dump", "--version"], capture_output=True, check=True).stdout)
    return digest.hexdigest()[:16]


def cached_dumps(root: Path, sde_tables: dict[str, Table], csv_folder: Path) -> dict[str, Path]:
    """The dumps in ``root/<key>``, built there first when missing (older keys are removed).

    Args:
        root: The cache folder.
        sde_tables: The tables read from the CSV files.
        csv_folder: Where they were read.

    Returns:
        Paths keyed by variant, as :func:`build_dumps` returns them.
    """
    folder = root / _dumps_key(sde_tables, csv_folder)
    if not (folder / "variants.json").exists():
        building = Path(tempfile.mkdtemp(dir=root, prefix="building-"))
        names = {key: path.name for key, path in build_dumps(building, sde_tables).items()}
        (building / "variants.json").write_text(json.dumps(names))
        for old in root.iterdir():  # older keys, and this one if it lost its variants.json
            if old != building:
                shutil.rmtree(old, ignore_errors=True)
        try:
            building.rename(folder)
        except OSError:  # another process stored the same dumps first
            shutil.rmtree(building, ignore_errors=True)
    return {key: folder / name for key, name in json.loads((folder / "variants.json").read_text()).items()}


def build_dumps(folder: Path, sde_tables: dict[str, Table]) -> dict[str, Path]:
    """Build every format Fuzzwork publishes from the real tables (also used by the benchmark).

    For speed, the compressed SQLite variants and ``mysql.tar.bz2`` leave out
    invTypes (three quarters of the volume); the plain SQLite database, both
    PostgreSQL archives and ``latest-mysql.sql.gz`` hold every table.

    Args:
        folder: Where to write the dumps.
        sde_tables: The tables read from the CSV files.

    Returns:
        Paths keyed by variant (``sqlite``, ``sqlite.bz2``, ``pgdump``, ``mysql.sql.gz``...).
    """
    light = {name: t for name, t in sde_tables.items() if name not in LEFT_OUT}
    out: dict[str, Path] = {}
    out["sqlite"] = build_sqlite(folder / "sqlite-latest.sqlite", sde_tables)
    light_db = build_sqlite(folder / "light.sqlite", light)
    out["sqlite.gz"] = folder / "latest-sqlite.db.gz"
    out["sqlite.gz"].write_bytes(gzip.compress(light_db.read_bytes(), compresslevel=1))
    out["sqlite.bz2"] = folder / "sqlite-latest.sqlite.bz2"
    out["sqlite.bz2"].write_bytes(bz2.compress(light_db.read_bytes(), compresslevel=1))
    pg = build_pgdumps(folder, sde_tables)
    out["pgdump"] = pg["public"]
    out["pgdump.evesde.bz2"] = folder / "postgres-schema-latest.dmp.bz2"
    out["pgdump.evesde.bz2"].write_bytes(bz2.compress(pg["evesde"].read_bytes(), compresslevel=1))
    sqls = {name: mysql_table_sql(t) for name, t in sde_tables.items()}
    out["mysql.sql.gz"] = folder / "latest-mysql.sql.gz"
    with gzip.open(out["mysql.sql.gz"], "wt", encoding="utf-8", compresslevel=1) as fh:
        fh.write(MYSQL_HEADER)
        for text in sqls.values():
            fh.write(text)
    out["mysql.tar.bz2"] = folder / "mysql-latest.tar.bz2"
    with tarfile.open(out["mysql.tar.bz2"], "w:bz2", compresslevel=1) as tar:
        for name in light:
            data = (MYSQL_HEADER + sqls[name]).encode()
            info = tarfile.TarInfo(f"sde-20260120-TRANQUILITY/{name}.sql")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def open_reader(path: Path) -> Any:
    """Open a dump through the registry, which picks the reader by content.

    Args:
        path: The dump.

    Returns:
        The opened source.
    """
    return open_dump(path)


# --------------------------------------------------------------------------- tests
@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("sqlite", "sqlite"),
        ("sqlite.bz2", "bz2"),
        ("sqlite.gz", "gzip"),
        ("pgdump", "pgdump"),
        ("pgdump.evesde.bz2", "bz2"),
        ("mysql.sql.gz", "gzip"),
        ("mysql.tar.bz2", "bz2"),
    ],
)
def test_sniff_names_the_format_by_content(dumps: dict[str, Path], key: str, kind: str, tmp_path: Path) -> None:
    """The first bytes decide the format, whatever the file is called."""
    disguised = tmp_path / "dump.csv"
    disguised.symlink_to(dumps[key])
    assert sniff(disguised) == kind


@pytest.mark.no_cover
@pytest.mark.parametrize(
    "key", ["sqlite", "sqlite.bz2", "sqlite.gz", "pgdump", "pgdump.evesde.bz2", "mysql.sql.gz", "mysql.tar.bz2"]
)
def test_every_format_reads_like_the_csv(dumps: dict[str, Path], key: str, sde_tables: dict[str, Table]) -> None:
    """Each needed table yields the CSV's columns and exactly its rows."""
    reader = open_reader(dumps[key])
    expected = {"sqlite": "SqliteDump", "pgdump": "PgDump", "mysql": "MysqlDump"}[key.split(".", maxsplit=1)[0]]
    assert type(reader).__name__ == expected
    with reader:
        for name in NEEDED:
            if key in PARTIAL and name in LEFT_OUT:
                assert not reader.has_table(name)
                continue
            assert reader.has_table(name.lower())
            columns, rows = reader.rows(name)
            same_rows(sde_tables[name], columns, rows)


# --------------------------------------------------------------------------- edge cases
def _one_line_error(excinfo: pytest.ExceptionInfo[DumpFormatError], path: Path, words: str) -> None:
    """Check an error is one line naming the file and saying what is wrong.

    Args:
        excinfo: The caught error.
        path: The file it must name.
        words: Text it must contain.
    """
    message = str(excinfo.value)
    assert "\n" not in message
    assert str(path) in message
    assert words in message, message


@pytest.mark.parametrize("reader", [SqliteDump, PgDump, lambda p: MysqlDump(p, NEEDED)])
def test_unknown_and_empty_files_are_refused(tmp_path: Path, reader: Any) -> None:
    """Random bytes and an empty file give one-line errors naming the file."""
    junk = tmp_path / "sqlite-latest.sqlite.bz2"
    junk.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(DumpFormatError) as excinfo:
        reader(junk)
    _one_line_error(excinfo, junk, "not a")
    empty = tmp_path / "empty.sql"
    empty.write_bytes(b"")
    with pytest.raises(DumpFormatError) as excinfo:
        reader(empty)
    _one_line_error(excinfo, empty, "not a")


@pytest.mark.parametrize("key", ["sqlite.bz2", "sqlite.gz", "pgdump.evesde.bz2", "mysql.sql.gz", "mysql.tar.bz2"])
def test_truncated_archives_are_refused(dumps: dict[str, Path], key: str, tmp_path: Path) -> None:
    """A compressed dump cut in half is reported as truncated, naming the file."""
    source = dumps[key]
    cut = tmp_path / source.name
    cut.write_bytes(source.read_bytes()[: min(source.stat().st_size // 2, 600_000)])
    with pytest.raises(DumpFormatError) as excinfo:
        open_reader(cut)
    _one_line_error(excinfo, cut, "truncated or corrupt")


def _drain(reader: Any) -> None:
    """Read every needed table of a dump to the end.

    Args:
        reader: The opened dump (closed here).
    """
    with reader:
        for name in NEEDED:
            _columns, rows = reader.rows(name)
            for _row in rows:
                pass


def test_truncated_pg_archive_is_refused(dumps: dict[str, Path], tmp_path: Path) -> None:
    """An uncompressed custom-format archive cut short fails in pg_restore, reported in one line."""
    cut = tmp_path / "latest-postgres.pgdump"
    cut.write_bytes(dumps["pgdump"].read_bytes()[: dumps["pgdump"].stat().st_size // 2])
    with pytest.raises(DumpFormatError) as excinfo:
        _drain(PgDump(cut))
    _one_line_error(excinfo, cut, "pg_restore")


@pytest.mark.parametrize("key", ["sqlite", "pgdump"])
def test_missing_table_is_named(dumps: dict[str, Path], key: str) -> None:
    """Asking for a table the dump lacks names the file and the table."""
    with open_reader(dumps[key]) as reader:
        assert not reader.has_table("invNoSuchTable")
        with pytest.raises(DumpFormatError) as excinfo:
            reader.rows("invNoSuchTable")
    _one_line_error(excinfo, dumps[key], "table invNoSuchTable is missing")


def test_mysql_row_of_wrong_width_is_refused(tmp_path: Path) -> None:
    """An INSERT row with more values than CREATE TABLE columns is an error naming file and table."""
    path = tmp_path / "latest-mysql.sql"
    ddl = "CREATE TABLE `invVolumes` (\n  `typeID` int(11),\n  `volume` int(11)\n) ENGINE=InnoDB;\n"
    rows = "INSERT INTO `invVolumes` VALUES (582,2500),(583,2500,7);\n"
    path.write_text(MYSQL_HEADER + ddl + rows, encoding="utf-8")
    with pytest.raises(DumpFormatError) as excinfo:
        MysqlDump(path, NEEDED)
    _one_line_error(excinfo, path, "invVolumes: a row has 3 values but the table has 2 columns")


def test_mysql_parser_handles_quoting_escapes_and_multiline_statements(tmp_path: Path) -> None:
    """Column lists, NULL, escapes, doubled quotes, raw newlines and charset introducers all parse."""
    path = tmp_path / "dump.sql"
    path.write_text(
        "-- MariaDB dump 10.19\n"
        "INSERT INTO `invMetaGroups` VALUES (1,'skip me; really');\n"
        "INSERT INTO invCategories (`categoryID`, `categoryName`, `published`) VALUES\n"
        "(1,'it''s \\'quoted\\' \\\\ \\n\\t\\0\\Z',1),\n"
        "(2,NULL,0),(3,'raw\nnewline; (paren)',_binary '1'),\n"
        '(4,"double \\"q\\"",-1.5e+16);\n',
        encoding="utf-8",
    )
    with MysqlDump(path, NEEDED) as dump:
        assert dump.tables() == {"invCategories"}
        columns, rows = dump.rows("invcategories")
        assert columns == ["categoryID", "categoryName", "published"]
        assert list(rows) == [
            ("1", "it's 'quoted' \\ \n\t\x00\x1a", "1"),
            ("2", None, "0"),
            ("3", "raw\nnewline; (paren)", "1"),
            ("4", 'double "q"', "-1.5e+16"),
        ]
        assert not dump.has_table("invMetaGroups")  # present in the file but not wanted: skipped
        with pytest.raises(DumpFormatError) as excinfo:
            dump.rows("invTypes")
    _one_line_error(excinfo, path, "table invTypes is missing")


# Characters that need escaping in SQL and COPY text are drawn often, any other character now and then.
_text = st.text(
    st.one_of(st.sampled_from("'\"\\\n\r\t\x00\x1a\b;,()_%N "), st.characters(exclude_categories=["Cs"])),
    max_size=40,
)


@given(rows=st.lists(st.tuples(st.integers(-(2**40), 2**40), st.one_of(st.none(), _text)), max_size=30))
@settings_hypothesis(max_examples=60, deadline=None)
def test_mysql_round_trip_property(rows: list[tuple[int, str | None]]) -> None:
    """Whatever the strings, mysqldump-escaped rows parse back to the same values."""
    table = Table("invMetaGroups", ["metaGroupID", "metaGroupName"], [(str(i), s) for i, s in rows])
    table.types = ["int", "text"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dump.sql"
        path.write_text(MYSQL_HEADER + mysql_table_sql(table, max_statement=200), encoding="utf-8")
        with MysqlDump(path, ["invMetaGroups"]) as dump:
            columns, got = dump.rows("invMetaGroups")
            assert columns == table.columns
            assert list(got) == table.rows


@given(value=st.one_of(st.none(), _text))
@settings_hypothesis(max_examples=200)
def test_copy_text_round_trip_property(value: str | None) -> None:
    """COPY text escaping as PostgreSQL writes it decodes back to the value."""
    if value is not None:
        value = value.replace("\x00", "")  # PostgreSQL text cannot hold NUL
    assert copy_field(_pg_copy_text(value)) == value


def test_copy_field_decodes_octal_and_hex_escapes() -> None:
    """The rarer COPY escapes (octal, hex, backspace, form feed, vertical tab) decode too."""
    assert copy_field("a\\101\\x42\\b\\f\\v\\\\N") == "aAB\b\f\v\\N"
    assert copy_field("\\N") is None


def test_registry_refuses_unknown_content_and_foreign_archives(tmp_path: Path) -> None:
    """open_dump names the file: random bytes, a bzip2 of prose, a plain-text pg_dump, a corrupt gzip head."""
    junk = tmp_path / "postgres-latest.dmp"
    junk.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(DumpFormatError) as excinfo:
        open_dump(junk)
    _one_line_error(excinfo, junk, "unknown dump format")
    prose = tmp_path / "mysql-latest.tar.bz2"
    prose.write_bytes(bz2.compress(b"just some words,\nnot a dump\n"))
    with pytest.raises(DumpFormatError) as excinfo:
        open_dump(prose)
    _one_line_error(excinfo, prose, "holds no SDE dump")
    plain_pg = tmp_path / "dump.sql.gz"
    plain_pg.write_bytes(gzip.compress(b"--\n-- PostgreSQL database dump\n--\n\nSET statement_timeout = 0;\n"))
    with pytest.raises(DumpFormatError) as excinfo:
        open_dump(plain_pg)
    _one_line_error(excinfo, plain_pg, "plain-text PostgreSQL dump")
    broken = tmp_path / "latest-sqlite.db.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00" + bytes(range(200)))
    with pytest.raises(DumpFormatError) as excinfo:
        open_dump(broken)
    _one_line_error(excinfo, broken, "truncated or corrupt gzip data")


# --------------------------------------------------------------------------- through the loader
SYSTEM_PROPERTIES = (
    "system_id",
    "name",
    "security",
    "security_class",
    "region_id",
    "region_name",
    "constellation_id",
    "constellation_name",
    "x",
    "y",
    "z",
)


def _database_snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every SDE row in PostgreSQL, per model, ordered by primary key.

    Returns:
        Rows of all fields, keyed by model name.
    """
    snapshot: dict[str, list[tuple[Any, ...]]] = {}
    for model in (
        m.Region,
        m.Constellation,
        m.SolarSystem,
        m.SolarSystemJump,
        m.Stargate,
        m.Station,
        m.ItemCategory,
        m.ItemGroup,
        m.MarketGroup,
        m.ItemType,
    ):
        fields = [f.attname for f in model._meta.concrete_fields if f.attname != "id" or model is not m.SolarSystemJump]
        snapshot[model.__name__] = sorted(model.objects.values_list(*fields))
    return snapshot


def _graph_snapshot() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The gate graph's systems and directed gates with the properties ingestion owns.

    Returns:
        (sorted system rows, sorted gate rows).
    """
    props = ", ".join(f"s.{p} AS {p}" for p in SYSTEM_PROPERTIES)
    systems = sorted(tuple(row.values()) for row in graph_query(f"MATCH (s:{SYSTEM_LABEL}) RETURN {props}"))
    gates = sorted(
        tuple(row.values())
        for row in graph_query(
            f"MATCH (a:{SYSTEM_LABEL})-[g:{GATE_TYPE}]->(b:{SYSTEM_LABEL}) "
            "RETURN a.system_id AS a, b.system_id AS b, g.distance_ly AS d, g.to_security AS s"
        )
    )
    return systems, gates


@pytest.mark.no_cover
@pytest.mark.django_db
@pytest.mark.parametrize("key", ["pgdump"])
def test_ingesting_a_dump_gives_the_same_contents_as_the_csv(
    sde_universe: Path, dumps: dict[str, Path], key: str
) -> None:
    """Ingesting the PostgreSQL dump over the CSV-ingested SDE changes no row, no node and no gate.

    The full dump is ingested (every table, every row) through ``sde_ingest``;
    the other formats are compared reader-against-CSV above, which is what
    the loader consumes.
    """
    before = _database_snapshot()
    graph_before = _graph_snapshot()
    assert len(before["ItemType"]) == 48037

    report = sde_ingest(source=dumps[key])

    assert report.format == "PgDump"
    assert {t: n for t, n in report.changed.items() if n} == {}
    assert {t: n for t, n in report.deleted.items() if n} == {}
    after = _database_snapshot()
    for model, rows in before.items():
        assert after[model] == rows, model
    assert _graph_snapshot() == graph_before


def test_dump_from_a_newer_pg_dump_says_so(tmp_path: Path) -> None:
    """An archive version this pg_restore cannot read is reported with what to do."""
    newer = tmp_path / "latest-postgres.pgdump"
    newer.write_bytes(b"PGDMP\x01\x10\x00\x04\x08\x01\x01" + bytes(512))
    with pytest.raises(DumpFormatError) as excinfo:
        open_dump(newer)
    _one_line_error(excinfo, newer, "install a newer pg_restore")


# --------------------------------------------------------------------------- small synthetic dumps through the loader
# These replace the Neo4j graph with a tiny one (sde_universe reloads the real SDE when a later test needs it),
# so they come last in this module.
def _synthetic_tables(folder: Path) -> dict[str, Table]:
    """The small synthetic SDE of ``sde_synthetic``, written as CSV and read back as tables.

    Args:
        folder: Where to write the CSV folder.

    Returns:
        Tables by name.
    """
    csv_folder = write_dump(folder, base())
    return {path.stem: read_csv(path) for path in sorted(csv_folder.glob("*.csv"))}


def _write_mysql_gz(path: Path, tables: dict[str, Table]) -> Path:
    """Write tables as a gzip-compressed mysqldump.

    Args:
        path: The file.
        tables: Tables by name.

    Returns:
        ``path``.
    """
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(MYSQL_HEADER)
        for table in tables.values():
            fh.write(mysql_table_sql(table))
    return path


@pytest.mark.django_db
def test_four_formats_of_one_synthetic_dump_ingest_identically(tmp_path: Path) -> None:
    """CSV, SQLite (bzip2), PostgreSQL (evesde) and MySQL (gzip) of the same data give identical rows and graph."""
    tables = _synthetic_tables(tmp_path / "csv")
    sde_ingest(source=tmp_path / "csv")
    expected = snapshot(with_run=False)
    assert len(expected["ItemType"]) == len(tables["invTypes"].rows)
    sqlite_bz2 = tmp_path / "sqlite-latest.sqlite.bz2"
    sqlite_bz2.write_bytes(bz2.compress(build_sqlite(tmp_path / "plain.sqlite", tables).read_bytes()))
    sources = {
        "SqliteDump": sqlite_bz2,
        "PgDump": build_pgdumps(tmp_path, tables)["evesde"],
        "MysqlDump": _write_mysql_gz(tmp_path / "latest-mysql.sql.gz", tables),
    }
    for reader, source in sources.items():
        report = sde_ingest(source=source)
        assert report.format == reader
        assert snapshot(with_run=False) == expected, reader


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["sqlite", "mysql"])
def test_wrong_columns_in_a_dump_are_one_line_errors_and_change_nothing(tmp_path: Path, fmt: str) -> None:
    """A dump whose invTypes lacks typeName is refused, naming the file and the column; nothing changes."""
    tables = _synthetic_tables(tmp_path / "csv")
    sde_ingest(source=tmp_path / "csv")
    before = snapshot()
    types = tables["invTypes"]
    types.columns = ["typeTitle" if c == "typeName" else c for c in types.columns]
    if fmt == "sqlite":
        source = build_sqlite(tmp_path / "sqlite-latest.sqlite", tables)
    else:
        source = _write_mysql_gz(tmp_path / "latest-mysql.sql.gz", tables)

    with pytest.raises(DumpFormatError) as excinfo:
        sde_ingest(source=source)

    _one_line_error(excinfo, source, "wrong columns: missing typeName")
    assert snapshot() == before


def test_unread_pg_table_leaves_no_process_behind(dumps: dict[str, Path]) -> None:
    """Closing a PostgreSQL dump stops a pg_restore whose rows were never read (a loader that gave up early)."""
    reader = PgDump(dumps["pgdump"])
    columns, _rows = reader.rows("invTypes")
    assert "typeName" in columns
    process = reader._processes[-1][0]
    assert process.poll() is None  # blocked writing invTypes to the pipe
    reader.close()
    assert process.returncode is not None


def test_truncated_plain_sqlite_is_refused(dumps: dict[str, Path], tmp_path: Path) -> None:
    """An uncompressed SQLite file cut in half fails while reading, with one line naming the file."""
    cut = tmp_path / "sqlite-latest.sqlite"
    cut.write_bytes(dumps["sqlite"].read_bytes()[: dumps["sqlite"].stat().st_size // 2])
    with pytest.raises(DumpFormatError) as excinfo:
        _drain(open_dump(cut))
    _one_line_error(excinfo, cut, "corrupt SQLite")


def test_xz_compressed_sqlite_reads_too(tmp_path: Path) -> None:
    """An xz file is peeled like bzip2 and gzip (small synthetic tables)."""
    tables = _synthetic_tables(tmp_path / "csv")
    plain = build_sqlite(tmp_path / "plain.sqlite", tables)
    packed = tmp_path / "sqlite-latest.sqlite.xz"
    packed.write_bytes(lzma.compress(plain.read_bytes(), preset=0))
    assert sniff(packed) == "xz"
    reader = open_dump(packed)
    try:
        for name, table in tables.items():
            columns, rows = reader.rows(name)
            same_rows(table, columns, rows)
    finally:
        reader.close()
