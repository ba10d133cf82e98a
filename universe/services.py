"""Writes of the universe app: SDE ingestion into PostgreSQL and the gate graph into Neo4j.

:func:`sde_ingest` is all or nothing. Inside one PostgreSQL transaction it
streams each needed table of the dump (any registered format) through the
value normalisers into a temporary staging table with ``COPY``, checks the
references between tables, then upserts changed rows and deletes rows the
dump no longer has. Still inside that transaction it replaces the Neo4j gate
graph in one Neo4j transaction (:mod:`universe.graph_ingest`, through the
models of :mod:`universe.graph`) and checks that the graph holds exactly the
systems and directed jumps of PostgreSQL; only then
does Neo4j commit, and PostgreSQL after it. Any failure before that point
rolls both back, so a bad dump changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psycopg
from django.conf import settings
from django.db import connection, models, transaction
from django.db import utils as db_errors
from neo4j.exceptions import Neo4jError, ServiceUnavailable
from psycopg import sql
from tqdm import tqdm

from evesite.exceptions import DomainError, ServiceUnavailableError
from universe import models as m
from universe.graph import SYSTEM_LABEL, graph_label_check
from universe.graph_ingest import GraphReport, graph_replace
from universe.sde.normalize import CONVERTERS, Converter
from universe.sde.sources import DumpFormatError, DumpSource, dump_find_latest, open_dump

STARGATE_GROUP_ID = 10
ADVISORY_LOCK_KEY = 0x5DE_1_9E57  # serialises concurrent ingestions


@dataclass(frozen=True)
class Field:
    """One model column and where it comes from in the dump."""

    column: str
    sources: tuple[str, ...]
    kind: str
    nullable: bool = False
    required: bool = True
    default: Any = None


@dataclass(frozen=True)
class Ref:
    """A reference from a staged column to another staged table's ``id``."""

    column: str
    target: type[models.Model]
    nullable: bool = False


@dataclass(frozen=True)
class TableSpec:
    """How one dump table becomes one model's rows."""

    model: type[models.Model]
    table: str
    fields: tuple[Field, ...]
    key: tuple[str, ...] = ("id",)
    refs: tuple[Ref, ...] = ()
    only: tuple[str, int] | None = None  # (dump column, value): keep only matching rows


def _f(column: str, source: str | tuple[str, ...], kind: str, **kw: Any) -> Field:
    """Build a :class:`Field` (short form for the table below).

    Args:
        column: The model's database column.
        source: The dump's column name (or alternatives).
        kind: ``int``, ``float``, ``decimal``, ``bool`` or ``text``.
        **kw: ``nullable``, ``required``, ``default``.

    Returns:
        The field.
    """
    sources = (source,) if isinstance(source, str) else source
    return Field(column=column, sources=sources, kind=kind, **kw)


_XYZ = (_f("x", "x", "float"), _f("y", "y", "float"), _f("z", "z", "float"))

SPECS: tuple[TableSpec, ...] = (
    TableSpec(
        m.ItemCategory,
        "invCategories",
        (
            _f("id", "categoryID", "int"),
            _f("name", "categoryName", "text", default=""),
            _f("published", "published", "bool", required=False, default=False),
        ),
    ),
    TableSpec(
        m.ItemGroup,
        "invGroups",
        (
            _f("id", "groupID", "int"),
            _f("category_id", "categoryID", "int"),
            _f("name", "groupName", "text", default=""),
            _f("published", "published", "bool", required=False, default=False),
        ),
        refs=(Ref("category_id", m.ItemCategory),),
    ),
    TableSpec(
        m.MarketGroup,
        "invMarketGroups",
        (
            _f("id", "marketGroupID", "int"),
            _f("parent_id", "parentGroupID", "int", nullable=True),
            _f("name", "marketGroupName", "text", default=""),
            _f("description", "description", "text", required=False, default=""),
            _f("has_types", "hasTypes", "bool", required=False, default=False),
        ),
        refs=(Ref("parent_id", m.MarketGroup, nullable=True),),
    ),
    TableSpec(
        m.ItemType,
        "invTypes",
        (
            _f("id", "typeID", "int"),
            _f("group_id", "groupID", "int"),
            _f("name", "typeName", "text", default=""),
            _f("description", "description", "text", required=False, default=""),
            _f("mass", "mass", "float", nullable=True, required=False),
            _f("volume", "volume", "float", nullable=True),
            _f("capacity", "capacity", "float", nullable=True, required=False),
            _f("portion_size", "portionSize", "int", nullable=True, required=False),
            _f("base_price", "basePrice", "decimal", nullable=True, required=False),
            _f("published", "published", "bool", default=False),
            _f("market_group_id", "marketGroupID", "int", nullable=True),
            _f("icon_id", "iconID", "int", nullable=True, required=False),
        ),
        refs=(Ref("group_id", m.ItemGroup), Ref("market_group_id", m.MarketGroup, nullable=True)),
    ),
    TableSpec(
        m.Region,
        "mapRegions",
        (
            _f("id", "regionID", "int"),
            _f("name", "regionName", "text", default=""),
            *_XYZ,
            _f("faction_id", "factionID", "int", nullable=True, required=False),
        ),
    ),
    TableSpec(
        m.Constellation,
        "mapConstellations",
        (
            _f("id", "constellationID", "int"),
            _f("region_id", "regionID", "int"),
            _f("name", "constellationName", "text", default=""),
            *_XYZ,
        ),
        refs=(Ref("region_id", m.Region),),
    ),
    TableSpec(
        m.SolarSystem,
        "mapSolarSystems",
        (
            _f("id", "solarSystemID", "int"),
            _f("name", "solarSystemName", "text", default=""),
            _f("region_id", "regionID", "int"),
            _f("constellation_id", "constellationID", "int"),
            _f("security", "security", "float"),
            _f("security_class", "securityClass", "text", required=False, default=""),
            *_XYZ,
            _f("x_2d", ("position2Dx", "x2D"), "float", nullable=True, required=False),
            _f("y_2d", ("position2Dy", "y2D"), "float", nullable=True, required=False),
        ),
        refs=(Ref("region_id", m.Region), Ref("constellation_id", m.Constellation)),
    ),
    TableSpec(
        m.SolarSystemJump,
        "mapSolarSystemJumps",
        (
            _f("from_system_id", "fromSolarSystemID", "int"),
            _f("to_system_id", "toSolarSystemID", "int"),
        ),
        key=("from_system_id", "to_system_id"),
        refs=(Ref("from_system_id", m.SolarSystem), Ref("to_system_id", m.SolarSystem)),
    ),
    TableSpec(
        m.Stargate,
        "mapDenormalize",
        (
            _f("id", "itemID", "int"),
            _f("system_id", "solarSystemID", "int"),
            _f("type_id", "typeID", "int"),
            _f("name", "itemName", "text", default=""),
            *_XYZ,
        ),
        refs=(Ref("system_id", m.SolarSystem),),
        only=("groupID", STARGATE_GROUP_ID),
    ),
    TableSpec(
        m.Station,
        "staStations",
        (
            _f("id", "stationID", "int"),
            _f("name", "stationName", "text", default=""),
            _f("system_id", "solarSystemID", "int"),
            _f("region_id", "regionID", "int"),
            _f("security", "security", "float", default=0.0),
            _f("type_id", "stationTypeID", "int"),
            _f("corporation_id", "corporationID", "int", nullable=True, required=False),
            *_XYZ,
        ),
        refs=(Ref("system_id", m.SolarSystem), Ref("region_id", m.Region)),
    ),
)
VOLUMES_TABLE = "invVolumes"
REQUIRED_TABLES = tuple(spec.table for spec in SPECS)


@dataclass
class IngestReport:
    """What :func:`sde_ingest` did."""

    source: str
    format: str
    rows: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    packaged_volumes: int = 0
    graph_nodes: int = 0
    graph_relationships: int = 0
    graph_written: int = 0
    graph_removed: int = 0
    graph_matches: bool = False
    reachable_from_jita: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        """Sum of the phases' seconds."""
        return sum(self.seconds.values())


class _Progress:
    """Progress bars for one ingestion, drawn only on a terminal and when not quiet."""

    def __init__(self, out: IO[str] | None, quiet: bool) -> None:
        """Decide whether to draw.

        Args:
            out: The stream (a management command's stdout); None draws nothing.
            quiet: Draw nothing.
        """
        self.out = out
        isatty = getattr(out, "isatty", None)
        self.enabled = bool(out is not None and not quiet and callable(isatty) and isatty())

    def bar(self, desc: str, total: int | None = None, unit: str = "rows") -> tqdm:
        """Start a bar.

        Args:
            desc: The label (table or graph phase).
            total: The expected count, when known.
            unit: What is counted.

        Returns:
            A tqdm bar (disabled when not drawing).
        """
        return tqdm(
            total=total,
            desc=f"{desc:<22}",
            unit=unit,
            unit_scale=True,
            file=self.out,
            disable=not self.enabled,
            leave=True,
            dynamic_ncols=True,
        )


def _where(source: DumpSource, table: str) -> str:
    """Name the file holding a table for error messages.

    Args:
        source: The dump.
        table: The table.

    Returns:
        The file's path when the source knows it, else ``<dump> table <table>``.
    """
    file_for = getattr(source, "file_for", None)
    if callable(file_for):
        try:
            return str(file_for(table))
        except DomainError:
            pass
    return f"{source.name} (table {table})"


def _table_lookup(source: DumpSource) -> dict[str, str]:
    """Map lower-case table names to the dump's spelling.

    Args:
        source: The dump.

    Returns:
        ``{"invtypes": "invTypes", ...}``.
    """
    return {name.lower(): name for name in source.tables()}


def _plan(
    spec: TableSpec, columns: Sequence[str], where: str
) -> tuple[list[tuple[int | None, Converter, Field]], int | None]:
    """Match a spec's fields to a dump table's header (case-insensitively).

    Args:
        spec: The table spec.
        columns: The dump's column names.
        where: File or table named in errors.

    Returns:
        Per field (column index or None when absent, converter, field), and the
        index of the ``only`` filter column.

    Raises:
        DumpFormatError: When a required column is missing.
    """
    index = {name.strip().lower(): i for i, name in enumerate(columns)}
    plan: list[tuple[int | None, Converter, Field]] = []
    missing: list[str] = []
    for fld in spec.fields:
        pos = next((index[s.lower()] for s in fld.sources if s.lower() in index), None)
        if pos is None and fld.required:
            missing.append(fld.sources[0])
        plan.append((pos, CONVERTERS[fld.kind], fld))
    only_index = None
    if spec.only is not None:
        only_index = index.get(spec.only[0].lower())
        if only_index is None:
            missing.append(spec.only[0])
    if missing:
        raise DumpFormatError(
            f"{where}: wrong columns: missing {', '.join(missing)} (has {', '.join(columns) or 'no columns'})"
        )
    return plan, only_index


def _converted_rows(
    spec: TableSpec,
    rows: Iterable[Sequence[str | None]],
    plan: list[tuple[int | None, Converter, Field]],
    only_index: int | None,
    where: str,
    extra: Callable[[tuple[Any, ...]], tuple[Any, ...]] | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Convert raw rows to typed tuples in the model's column order.

    Args:
        spec: The table spec.
        rows: Raw rows.
        plan: From :func:`_plan`.
        only_index: Column of the row filter, if any.
        where: File or table named in errors.
        extra: Appends computed columns to each converted row.

    Yields:
        Typed rows.

    Raises:
        DumpFormatError: On a value that cannot be read or a NULL where one is not allowed.
    """
    width = max((pos for pos, _, _ in plan if pos is not None), default=-1)
    for number, raw in enumerate(rows, start=2):
        if only_index is not None:
            if only_index >= len(raw):
                raise DumpFormatError(f"{where}: row {number}: too few fields")
            try:
                keep = CONVERTERS["int"](raw[only_index]) == spec.only[1]  # type: ignore[index]
            except ValueError:
                keep = False
            if not keep:
                continue
        if width >= len(raw):
            raise DumpFormatError(f"{where}: row {number}: {len(raw)} fields, expected at least {width + 1}")
        out: list[Any] = []
        for pos, convert, fld in plan:
            value = None
            if pos is not None:
                try:
                    value = convert(raw[pos])
                except (ValueError, TypeError) as exc:
                    raise DumpFormatError(f"{where}: row {number}, column {fld.sources[0]}: {exc}") from None
            if value is None:
                if fld.default is not None:
                    value = fld.default
                elif not fld.nullable:
                    raise DumpFormatError(f"{where}: row {number}: column {fld.sources[0]} is empty")
            out.append(value)
        row = tuple(out)
        yield extra(row) if extra is not None else row


def _stage_name(model: type[models.Model]) -> str:
    """Name of a model's temporary staging table.

    Args:
        model: The model.

    Returns:
        E.g. ``sde_stage_universe_region``.
    """
    return f"sde_stage_{model._meta.db_table}"


def _idents(names: Iterable[str]) -> sql.Composed:
    """Quote column names as a comma-separated SQL list.

    Args:
        names: Column names.

    Returns:
        ``"a", "b"`` as composable SQL.
    """
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def _copy_table(
    cursor: psycopg.Cursor[Any],
    spec: TableSpec,
    columns: list[str],
    rows: Iterable[tuple[Any, ...]],
    bar: tqdm,
) -> int:
    """Create a model's staging table and COPY rows into it.

    Args:
        cursor: A raw psycopg cursor inside the ingestion transaction.
        spec: The table spec.
        columns: Model columns in row order.
        rows: Typed rows.
        bar: Progress bar, advanced per batch.

    Returns:
        The number of rows copied.
    """
    stage = sql.Identifier(_stage_name(spec.model))
    table = sql.Identifier(spec.model._meta.db_table)
    cols = _idents(columns)
    cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(stage))
    cursor.execute(
        sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(stage, cols, table)
    )
    count = 0
    with cursor.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(stage, cols)) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
            if count % 5000 == 0:
                bar.update(5000)
    bar.update(count % 5000)
    return count


def _check_refs(cursor: psycopg.Cursor[Any], spec: TableSpec, where: str) -> None:
    """Check a staged table's references; NULL the optional ones that point nowhere.

    Args:
        cursor: The ingestion cursor.
        spec: The table spec.
        where: File or table named in errors.

    Raises:
        DumpFormatError: When a required reference names a row the dump lacks.
    """
    stage = sql.Identifier(_stage_name(spec.model))
    for ref in spec.refs:
        target = sql.Identifier(_stage_name(ref.target))
        column = sql.Identifier(ref.column)
        if ref.nullable:
            cursor.execute(
                sql.SQL(
                    "UPDATE {stage} u SET {col} = NULL WHERE u.{col} IS NOT NULL "
                    "AND NOT EXISTS (SELECT 1 FROM {target} t WHERE t.id = u.{col})"
                ).format(stage=stage, col=column, target=target)
            )
            continue
        cursor.execute(
            sql.SQL(
                "SELECT count(*), min(s.{col}) FROM {stage} s WHERE s.{col} IS NOT NULL "
                "AND NOT EXISTS (SELECT 1 FROM {target} t WHERE t.id = s.{col})"
            ).format(stage=stage, col=column, target=target)
        )
        bad, example = cursor.fetchone() or (0, None)
        if bad:
            raise DumpFormatError(
                f"{where}: {bad} rows name a {ref.column.removesuffix('_id')} the dump lacks (e.g. id {example})"
            )


def _upsert(cursor: psycopg.Cursor[Any], spec: TableSpec, columns: list[str]) -> tuple[int, int]:
    """Merge a staged table into its model's table.

    Args:
        cursor: The ingestion cursor.
        spec: The table spec.
        columns: Model columns.

    Returns:
        (rows inserted or changed, rows deleted).
    """
    stage = sql.Identifier(_stage_name(spec.model))
    table = sql.Identifier(spec.model._meta.db_table)
    cols = _idents(columns)
    key = _idents(spec.key)
    others = [sql.Identifier(c) for c in columns if c not in spec.key]
    conflict: sql.Composable = sql.SQL("DO NOTHING")
    if others:
        conflict = sql.SQL("DO UPDATE SET {sets} WHERE ({olds}) IS DISTINCT FROM ({news})").format(
            sets=sql.SQL(", ").join(sql.SQL("{} = EXCLUDED.{}").format(c, c) for c in others),
            olds=sql.SQL(", ").join(sql.SQL("t.{}").format(c) for c in others),
            news=sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(c) for c in others),
        )
    cursor.execute(
        sql.SQL(
            "INSERT INTO {table} AS t ({cols}) SELECT DISTINCT ON ({key}) {cols} FROM {stage} ORDER BY {key} "
            "ON CONFLICT ({key}) {conflict}"
        ).format(table=table, cols=cols, key=key, stage=stage, conflict=conflict)
    )
    changed = max(cursor.rowcount, 0)
    match = sql.SQL(" AND ").join(sql.SQL("s.{c} = t.{c}").format(c=sql.Identifier(c)) for c in spec.key)
    cursor.execute(
        sql.SQL("DELETE FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM {stage} s WHERE {match})").format(
            table=table, stage=stage, match=match
        )
    )
    return changed, max(cursor.rowcount, 0)


def _read_volumes(source: DumpSource, tables: dict[str, str], where: str) -> dict[int, float]:
    """Read packaged volumes (invVolumes) when the dump has them.

    Args:
        source: The dump.
        tables: Lower-case table name lookup.
        where: File or table named in errors.

    Returns:
        ``{type_id: packaged volume}``; empty when the dump has no invVolumes.

    Raises:
        DumpFormatError: When the table is there but unreadable.
    """
    name = tables.get(VOLUMES_TABLE.lower())
    if name is None:
        return {}
    columns, rows = source.rows(name)
    index = {c.strip().lower(): i for i, c in enumerate(columns)}
    if "typeid" not in index or "volume" not in index:
        raise DumpFormatError(f"{where}: wrong columns: need typeID and volume (has {', '.join(columns)})")
    t, v = index["typeid"], index["volume"]
    volumes: dict[int, float] = {}
    for number, raw in enumerate(rows, start=2):
        try:
            type_id = CONVERTERS["int"](raw[t])
            volume = CONVERTERS["float"](raw[v])
        except (ValueError, IndexError) as exc:
            raise DumpFormatError(f"{where}: row {number}: {exc}") from None
        if type_id is not None and volume is not None:
            volumes[type_id] = volume
    return volumes


def _resolve_source(source: Path | None) -> Path:
    """Pick the dump to ingest.

    Args:
        source: An explicit file or folder, or None for the newest dump in ``EVE_DATA_DIR``.

    Returns:
        The path.

    Raises:
        DumpFormatError: When ``EVE_DATA_DIR`` holds no dump.
    """
    if source is not None:
        return Path(source)
    data_dir = Path(settings.EVE_DATA_DIR)
    found = dump_find_latest(data_dir)
    if found is None:
        raise DumpFormatError(f"{data_dir}: no SDE dump found (put a Fuzzwork dump there or use --source)")
    return found


def sde_ingest(
    *,
    source: Path | None = None,
    quiet: bool = True,
    out: IO[str] | None = None,
    graph_label: str = SYSTEM_LABEL,
) -> IngestReport:
    """Ingest an SDE dump into PostgreSQL and the gate graph into Neo4j, all or nothing.

    Args:
        source: Dump file or folder; None takes the newest dump in ``EVE_DATA_DIR``.
        quiet: Draw no progress bars.
        out: Stream for progress bars (drawn only when it is a terminal).
        graph_label: Node label of the systems; only benchmarks use another (a scratch graph).

    Returns:
        Rows per table, graph counts, reachability from Jita, seconds per phase.

    Raises:
        DumpFormatError: On a missing, unknown, damaged, incomplete or inconsistent dump.
        ServiceUnavailableError: When Neo4j cannot be reached.
    """
    graph_label_check(graph_label)
    path = _resolve_source(source)
    progress = _Progress(out, quiet)
    started = time.perf_counter()
    dump = open_dump(path)
    try:
        report = IngestReport(source=str(path), format=type(dump).__name__)
        report.seconds["open"] = time.perf_counter() - started
        tables = _table_lookup(dump)
        missing = [t for t in REQUIRED_TABLES if t.lower() not in tables]
        if missing:
            raise DumpFormatError(f"{path}: missing table{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        try:
            with transaction.atomic():
                _load_tables(dump, tables, report, progress)
                _graph_replace(report, progress, graph_label)
                committing = time.perf_counter()
            report.seconds["commit"] = time.perf_counter() - committing
        except (psycopg.OperationalError, db_errors.OperationalError) as exc:
            detail = " ".join(str(exc).split())
            raise ServiceUnavailableError(f"PostgreSQL failed ({detail}); nothing was changed") from exc
        except (psycopg.Error, db_errors.DatabaseError) as exc:
            raise DumpFormatError(f"{path}: rejected by PostgreSQL ({' '.join(str(exc).split())})") from exc
        except ServiceUnavailable as exc:
            raise ServiceUnavailableError(f"Neo4j is unreachable ({exc}); nothing was changed") from exc
        except Neo4jError as exc:
            raise DumpFormatError(f"{path}: Neo4j refused the graph ({exc}); nothing was changed") from exc
        return report
    finally:
        dump.close()


def sde_graph_rebuild(
    *, quiet: bool = True, out: IO[str] | None = None, graph_label: str = SYSTEM_LABEL
) -> IngestReport:
    """Rebuild the Neo4j gate graph from the systems and jumps already in PostgreSQL.

    Useful after Neo4j lost its data; the same checks as after an ingestion apply.

    Args:
        quiet: Draw no progress bars.
        out: Stream for progress bars (drawn only when it is a terminal).
        graph_label: Node label of the systems; only benchmarks use another.

    Returns:
        Graph counts, the match check, reachability from Jita and seconds (no table rows).

    Raises:
        ServiceUnavailableError: When Neo4j cannot be reached.
        DumpFormatError: When the graph written does not match PostgreSQL.
    """
    report = IngestReport(source="PostgreSQL", format="graph only")
    try:
        with transaction.atomic():
            _graph_replace(report, _Progress(out, quiet), graph_label_check(graph_label))
    except ServiceUnavailable as exc:
        raise ServiceUnavailableError(f"Neo4j is unreachable ({exc}); nothing was changed") from exc
    return report


def _load_tables(dump: DumpSource, tables: dict[str, str], report: IngestReport, progress: _Progress) -> None:
    """Stage, check and merge every needed table (inside the caller's transaction).

    Args:
        dump: The opened dump.
        tables: Lower-case table name lookup.
        report: Filled with rows, changes and seconds.
        progress: Progress bars.

    Raises:
        DumpFormatError: On any problem with the dump's data.
    """
    django_cursor = connection.cursor()
    cursor: psycopg.Cursor[Any] = django_cursor.cursor
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))
    phase = time.perf_counter()
    volumes = _read_volumes(dump, tables, _where(dump, VOLUMES_TABLE))
    report.packaged_volumes = len(volumes)
    for spec in SPECS:
        name = tables[spec.table.lower()]
        where = _where(dump, name)
        columns, raw_rows = dump.rows(name)
        plan, only_index = _plan(spec, columns, where)
        model_columns = [fld.column for fld in spec.fields]
        extra = None
        if spec.model is m.ItemType:
            model_columns.append("packaged_volume")

            def extra(row: tuple[Any, ...]) -> tuple[Any, ...]:
                """Append the packaged volume of a type row.

                Args:
                    row: Converted type row (id first).

                Returns:
                    The row with its packaged volume (or None).
                """
                return (*row, volumes.get(row[0]))

        converted = _converted_rows(spec, raw_rows, plan, only_index, where, extra)
        with progress.bar(spec.table) as bar:
            count = _copy_table(cursor, spec, model_columns, converted, bar)
        if count == 0:
            raise DumpFormatError(f"{where}: no rows")
        report.rows[spec.table] = count
    report.seconds["read+copy"] = time.perf_counter() - phase
    phase = time.perf_counter()
    for spec in SPECS:
        _check_refs(cursor, spec, _where(dump, tables[spec.table.lower()]))
    for spec in SPECS:
        columns = [fld.column for fld in spec.fields]
        if spec.model is m.ItemType:
            columns.append("packaged_volume")
        changed, deleted = _upsert(cursor, spec, columns)
        report.changed[spec.table] = changed
        report.deleted[spec.table] = deleted
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    report.seconds["merge"] = time.perf_counter() - phase


def _graph_replace(report: IngestReport, progress: _Progress, label: str) -> None:
    """Replace the gate graph (:func:`universe.graph_ingest.graph_replace`) and copy its figures into the report.

    Args:
        report: Filled with graph counts, the match check, reachability and seconds.
        progress: Progress bars.
        label: Node label of the systems.
    """
    graph: GraphReport = graph_replace(label=label, bar=progress.bar)
    report.graph_nodes = graph.nodes
    report.graph_relationships = graph.relationships
    report.graph_written = graph.written
    report.graph_removed = graph.removed
    report.graph_matches = graph.matches
    report.reachable_from_jita = graph.reachable_from_jita
    report.seconds.update(graph.seconds)
