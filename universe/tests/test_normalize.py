"""Value normalisers: every spelling Fuzzwork dumps use, checked against Python's own parsing (hypothesis)."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from universe.sde.normalize import is_null, to_bool, to_decimal, to_float, to_int, to_text

NULLS = [None, "", "None", "NULL", "null", "\\N", "  None "]


@pytest.mark.parametrize("raw", NULLS)
def test_null_spellings(raw: str | None) -> None:
    """Every NULL spelling is NULL for every converter."""
    assert is_null(raw)
    for convert in (to_int, to_float, to_decimal, to_bool, to_text):
        assert convert(raw) is None


@pytest.mark.parametrize(
    ("raw", "value"),
    [("1", True), ("0", False), ("t", True), ("f", False), ("True", True), ("false", False), ("0E-10", False)],
)
def test_boolean_spellings(raw: str, value: bool) -> None:
    """0/1, t/f, true/false (any case) and a zero decimal read as booleans."""
    assert to_bool(raw) is value


@pytest.mark.parametrize("raw", ["2", "yes please", "-1"])
def test_other_booleans_are_refused(raw: str) -> None:
    """Anything else is an error, not a silent False."""
    with pytest.raises(ValueError, match="not a boolean"):
        to_bool(raw)


def test_zero_decimals() -> None:
    """Old dumps' ``0E-10`` and ten-decimal numbers are exact."""
    assert to_float("0E-10") == 0.0
    assert to_decimal("0E-10") == 0
    assert to_int("1.0000000000") == 1
    assert to_decimal("400000.0000000000") == Decimal(400000)


@pytest.mark.parametrize("raw", ["1.5", "abc", "1e400x"])
def test_bad_integers(raw: str) -> None:
    """A fraction or text is not an integer."""
    with pytest.raises(ValueError):
        to_int(raw)


@pytest.mark.parametrize("raw", ["nan", "inf", "-Infinity", "x"])
def test_bad_floats(raw: str) -> None:
    """NaN, infinities and text are refused."""
    with pytest.raises(ValueError):
        to_float(raw)


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_int_round_trip(value: int) -> None:
    """Integers written plainly, with ``.0`` or with ten zero decimals read back exactly."""
    assert to_int(str(value)) == value
    assert to_int(f"{value}.0") == value
    assert to_int(f" {value}.0000000000 ") == value


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_round_trip(value: float) -> None:
    """``repr`` (new dumps, SQLite) and scientific notation read back to the same float."""
    assert to_float(repr(value)) == value
    assert to_float(f"{value:.17e}") == value


@given(st.decimals(allow_nan=False, allow_infinity=False, places=10, min_value=-(10**12), max_value=10**12))
def test_decimal_round_trip(value: Decimal) -> None:
    """Decimals as old dumps print them (fixed ten places, or ``0E-10``) keep their value."""
    assert to_decimal(f"{value:.10f}") == value
    assert to_decimal(str(value)) == value
    converted = to_float(str(value))
    assert converted is not None
    assert math.isclose(converted, float(value), rel_tol=1e-15, abs_tol=1e-300)


@given(st.text().filter(lambda t: t.strip().lower() not in {"", "none", "null", "\\n"}))
def test_text_is_kept(value: str) -> None:
    """Text that is not a NULL spelling passes unchanged."""
    assert to_text(value) == value
