"""PostgreSQL's binary format: reads on Django's connection, number arrays to and from numpy.

Columns come as ``array_send(array_agg(...))``: one row of a few arrays instead of a row per order, no Python
object per value, and no number written as text by PostgreSQL and parsed back here. Writes go the other way:
``COPY ... FROM STDIN (FORMAT BINARY)`` rows whose arrays numpy lays out in ``array_recv``'s format.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import psycopg
from django.db import connection
from psycopg.postgres import types as pg_types


def binary_rows(sql: str, params: Mapping[str, Any] | Sequence[Any], *, prepare: bool = False) -> list[tuple[Any, ...]]:
    """Run a read on Django's connection with binary results (errors as Django's; not in ``connection.queries``).

    Args:
        sql: The statement.
        params: Its parameters (named or positional).
        prepare: Make it a server-side prepared statement (no parse and plan per call). It takes effect only
            because the settings give the connection a ``prepare_threshold``: Django's None makes psycopg
            ignore it.

    Returns:
        The rows.
    """
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, prepare=prepare, binary=True)
        return cursor.fetchall()


def _elements(dtype: str) -> np.dtype[Any]:
    """The layout of an array's elements in the binary format: each one's length, then its big-endian bytes."""
    return np.dtype([("length", ">i4"), ("value", ">" + dtype)])


def array_read(data: bytes | None, dtype: str) -> Any:
    """Decode a PostgreSQL array of numbers without NULLs (``i8`` or ``f8``, in ``array_send``'s format).

    Args:
        data: The array's bytes (None: no rows were aggregated).
        dtype: ``"i8"`` or ``"f8"``, the array's element type.

    Returns:
        The numpy array (empty for None).

    Raises:
        ValueError: When the bytes are not a one-dimensional array of that type without NULLs.
    """
    if data is None:
        return np.zeros(0, dtype=dtype)
    # Header: dimensions, has-NULLs flag, element type, then (size, lower bound) per dimension; then per element,
    # its length and its big-endian bytes.
    dimensions, has_nulls = struct.unpack_from(">ii", data)
    items = np.frombuffer(data, dtype=_elements(dtype), offset=12 + 8 * dimensions)
    if dimensions != 1 or has_nulls or (items["length"] != np.dtype(dtype).itemsize).any():  # pragma: no cover
        raise ValueError(f"Not a one-dimensional array of {dtype} numbers without NULLs.")
    return items["value"].astype(dtype)


# COPY's binary stream: signature, flags and header extension length; each tuple; then -1 as the field count.
COPY_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
COPY_BINARY_TRAILER = struct.pack(">h", -1)
# The OID of each dtype's element type (from psycopg's registry of built-in types), which heads the array.
_ELEMENT_OIDS = {dtype: pg_types[name].oid for dtype, name in {"i2": "int2", "i8": "int8", "f8": "float8"}.items()}


def array_bytes(values: np.ndarray, dtype: str) -> bytes:
    """Encode a one-dimensional array of numbers in ``array_recv``'s format; NaN floats become NULL.

    Args:
        values: The numbers.
        dtype: ``"i2"``, ``"i8"`` or ``"f8"``, the column's element type (smallint, bigint, double precision).

    Returns:
        The array's bytes.
    """
    count = len(values)
    nulls = np.isnan(values) if dtype == "f8" else np.zeros(count, dtype=bool)
    has_nulls = bool(nulls.any())
    header = struct.pack(">iiiii", 1, int(has_nulls), _ELEMENT_OIDS[dtype], count, 1)
    items = np.empty(count, dtype=_elements(dtype))
    items["length"] = np.where(nulls, -1, np.dtype(dtype).itemsize)
    items["value"] = np.where(nulls, 0, values)
    if not has_nulls:
        return header + items.tobytes()
    keep = np.ones((count, items.dtype.itemsize), dtype=bool)
    keep[nulls, 4:] = False  # a NULL is its length (-1) alone
    return header + items.view(np.uint8).reshape(count, -1)[keep].tobytes()


def copy_binary_tuple(fields: Sequence[bytes]) -> bytes:
    """Encode one row of a binary ``COPY`` from its fields' bytes (none NULL).

    Args:
        fields: Each column's value in its type's binary format, in the ``COPY`` column order.

    Returns:
        The tuple's bytes.
    """
    return struct.pack(">h", len(fields)) + b"".join(struct.pack(">i", len(f)) + f for f in fields)


def int8_bytes(value: int) -> bytes:
    """Encode a bigint in its binary format."""
    return struct.pack(">q", value)
