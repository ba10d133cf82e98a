"""Reads in PostgreSQL's binary format on Django's connection, and number columns decoded as numpy arrays.

Columns come as ``array_send(array_agg(...))``: one row of a few arrays instead of a row per order, no Python
object per value, and no number written as text by PostgreSQL and parsed back here.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import psycopg
from django.db import connection


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
    items = np.frombuffer(data, dtype=[("length", ">i4"), ("value", ">" + dtype)], offset=12 + 8 * dimensions)
    if dimensions != 1 or has_nulls or (items["length"] != np.dtype(dtype).itemsize).any():  # pragma: no cover
        raise ValueError(f"Not a one-dimensional array of {dtype} numbers without NULLs.")
    return items["value"].astype(dtype)
