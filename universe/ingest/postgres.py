"""The PostgreSQL side of an ingestion: COPY each table into a temporary staging table, check, merge.

Everything runs inside the caller's transaction, under an advisory lock that
serialises concurrent ingestions; a bad dump raises and changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import psycopg
from django.db import connection, models
from psycopg import sql
from tqdm import tqdm

from universe import models as m
from universe.ingest.report import IngestProgress, IngestReport
from universe.ingest.rows import columns_plan, rows_convert, table_where, volumes_read
from universe.ingest.specs import SPECS, VOLUMES_TABLE, TableSpec
from universe.sde.sources import DumpFormatError, DumpSource

ADVISORY_LOCK_KEY = 0x5DE_1_9E57  # serialises concurrent ingestions


def _stage_name(model: type[models.Model]) -> str:
    """Name of a model's temporary staging table, e.g. ``sde_stage_universe_region``."""
    return f"sde_stage_{model._meta.db_table}"


def _idents(names: Iterable[str]) -> sql.Composed:
    """Quote column names as a comma-separated SQL list."""
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def _copy_table(
    cursor: psycopg.Cursor[Any],
    spec: TableSpec,
    columns: list[str],
    rows: Iterable[tuple[Any, ...]],
    bar: tqdm,
) -> int:
    """Create a model's staging table, COPY the rows into it, return how many."""
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
    # Autovacuum never analyzes temporary tables: the reference checks and the merge are planned with these.
    cursor.execute(sql.SQL("ANALYZE {}").format(stage))
    return count


def _check_refs(cursor: psycopg.Cursor[Any], spec: TableSpec, where: str) -> None:
    """Check a staged table's references (DumpFormatError when one is missing); NULL optional dangling ones."""
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
    """Merge a staged table into its model's table; return (rows inserted or changed, rows deleted)."""
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
    # The statistics must describe the rows now in the table before the delete is planned, and queries after the
    # commit need them too: with those of an empty table (a first ingestion, or a refill autovacuum had not seen
    # yet) the delete of the vanished types took 35-179 s for 48,037 types, and a name lookup right after ran
    # for minutes.
    cursor.execute(sql.SQL("ANALYZE {}").format(table))
    match = sql.SQL(" AND ").join(sql.SQL("s.{c} = t.{c}").format(c=sql.Identifier(c)) for c in spec.key)
    cursor.execute(
        sql.SQL("DELETE FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM {stage} s WHERE {match})").format(
            table=table, stage=stage, match=match
        )
    )
    deleted = max(cursor.rowcount, 0)
    if deleted:  # the statistics above still count the deleted rows
        cursor.execute(sql.SQL("ANALYZE {}").format(table))
    return changed, deleted


def tables_load(dump: DumpSource, tables: dict[str, str], report: IngestReport, progress: IngestProgress) -> None:
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
    volumes = volumes_read(dump, tables, table_where(dump, VOLUMES_TABLE))
    report.packaged_volumes = len(volumes)
    for spec in SPECS:
        name = tables[spec.table.lower()]
        where = table_where(dump, name)
        columns, raw_rows = dump.rows(name)
        plan, only_index = columns_plan(spec, columns, where)
        model_columns = [fld.column for fld in spec.fields]
        extra = None
        if spec.model is m.ItemType:
            model_columns.append("packaged_volume")

            def extra(row: tuple[Any, ...]) -> tuple[Any, ...]:
                """Append the packaged volume of a type row (None when unknown)."""
                return (*row, volumes.get(row[0]))

        converted = rows_convert(spec=spec, rows=raw_rows, plan=plan, only_index=only_index, where=where, extra=extra)
        with progress.bar(spec.table) as bar:
            count = _copy_table(cursor, spec, model_columns, converted, bar)
        if count == 0:
            raise DumpFormatError(f"{where}: no rows")
        report.rows[spec.table] = count
    report.seconds["read+copy"] = time.perf_counter() - phase
    phase = time.perf_counter()
    for spec in SPECS:
        _check_refs(cursor, spec, table_where(dump, tables[spec.table.lower()]))
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
