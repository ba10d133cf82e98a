"""Reading the dump: find its tables, match their headers to the specs, convert raw rows to typed ones."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from evesite.exceptions import DomainError
from universe.ingest.specs import VOLUMES_TABLE, Field, TableSpec
from universe.sde.normalize import CONVERTERS, Converter
from universe.sde.sources import DumpFormatError, DumpSource


def table_where(source: DumpSource, table: str) -> str:
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


def table_lookup(source: DumpSource) -> dict[str, str]:
    """Map lower-case table names to the dump's spelling.

    Args:
        source: The dump.

    Returns:
        ``{"invtypes": "invTypes", ...}``.
    """
    return {name.lower(): name for name in source.tables()}


def columns_plan(
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


def _row_kept(spec: TableSpec, raw: Sequence[str | None], only_index: int | None, number: int, where: str) -> bool:
    """Apply the spec's row filter (``only``) to a raw row."""
    if only_index is None:
        return True
    if only_index >= len(raw):
        raise DumpFormatError(f"{where}: row {number}: too few fields")
    try:
        return bool(CONVERTERS["int"](raw[only_index]) == spec.only[1])  # type: ignore[index]
    except ValueError:
        return False


def _row_values(
    raw: Sequence[str | None], plan: list[tuple[int | None, Converter, Field]], number: int, where: str
) -> list[Any]:
    """Convert one raw row's fields, filling defaults and refusing NULL where it is not allowed."""
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
    return out


def rows_convert(
    *,
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
        plan: From :func:`columns_plan`.
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
        if not _row_kept(spec, raw, only_index, number, where):
            continue
        if width >= len(raw):
            raise DumpFormatError(f"{where}: row {number}: {len(raw)} fields, expected at least {width + 1}")
        row = tuple(_row_values(raw, plan, number, where))
        yield extra(row) if extra is not None else row


def volumes_read(source: DumpSource, tables: dict[str, str], where: str) -> dict[int, float]:
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
