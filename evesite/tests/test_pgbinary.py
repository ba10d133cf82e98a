"""evesite.pgbinary's writer: rows of a binary COPY read back from PostgreSQL exactly as they were written."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evesite.pgbinary import COPY_BINARY_HEADER, COPY_BINARY_TRAILER, array_bytes, copy_binary_tuple, int8_bytes

SMALLINTS = st.lists(st.integers(min_value=-(2**15), max_value=2**15 - 1), max_size=40)
FLOATS = st.lists(st.none() | st.floats(allow_nan=False), max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(st.integers(min_value=-(2**63), max_value=2**63 - 1), SMALLINTS, FLOATS), min_size=1, max_size=4
    )
)
@pytest.mark.django_db
def test_binary_copy_rows_read_back_as_written(rows: list[tuple[int, list[int], list[float | None]]]) -> None:
    """bigint, smallint[], double precision[] (None as NaN, written as NULL) and bigint[], empty arrays too."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS pgbinary_rows (n bigint, a smallint[], f float8[], b bigint[])")
        cursor.execute("TRUNCATE pgbinary_rows")
        with cursor.cursor.copy("COPY pgbinary_rows FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(COPY_BINARY_HEADER)
            for n, small, floats in rows:
                nan_for_none = np.array([np.nan if v is None else v for v in floats], dtype=np.float64)
                fields = [
                    int8_bytes(n),
                    array_bytes(np.array(small, dtype=np.int16), "i2"),
                    array_bytes(nan_for_none, "f8"),
                    array_bytes(np.array(small, dtype=np.int64) * 2**40, "i8"),
                ]
                copy.write(copy_binary_tuple(fields))
            copy.write(COPY_BINARY_TRAILER)
        cursor.execute("SELECT n, a, f, b FROM pgbinary_rows ORDER BY ctid")
        got = cursor.fetchall()
    assert got == [(n, small, floats, [v * 2**40 for v in small]) for n, small, floats in rows]
