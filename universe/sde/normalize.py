r"""Turn the raw text of any dump format into typed values.

Dumps disagree on how they spell things: NULL is ``None`` (old CSV),
empty (new CSV), ``NULL`` or ``\\N``; booleans are ``0``/``1``, ``t``/``f``
or ``true``/``false``; zero decimals may be ``0E-10``. Every converter
takes the raw text (or None) and returns the value for PostgreSQL, raising
ValueError for text it cannot read.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

NULL_TOKENS = frozenset({"", "none", "null", "\\n"})
TRUE_TOKENS = frozenset({"1", "t", "true", "y", "yes", "1.0"})
FALSE_TOKENS = frozenset({"0", "f", "false", "n", "no", "0.0", "0e-10"})

Converter = Callable[[str | None], Any]


def is_null(raw: str | None) -> bool:
    r"""Tell whether a raw value stands for NULL.

    Args:
        raw: Text from the dump, or None.

    Returns:
        True for None, empty text, ``None``, ``NULL``, ``\\N`` (any case, spaces ignored).
    """
    return raw is None or raw.strip().lower() in NULL_TOKENS


def to_int(raw: str | None) -> int | None:
    """Read an integer (``12``, ``12.0``, ``1.2E+1``).

    Args:
        raw: Text from the dump, or None.

    Returns:
        The integer, or None for NULL.

    Raises:
        ValueError: For text that is not a whole number.
    """
    if raw is None or is_null(raw):
        return None
    text = raw.strip()
    try:
        return int(text)
    except ValueError:
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(f"not an integer: {raw!r}") from exc
        if number != number.to_integral_value():
            raise ValueError(f"not an integer: {raw!r}") from None
        return int(number)


def to_float(raw: str | None) -> float | None:
    """Read a floating-point number (``0E-10`` is zero).

    Args:
        raw: Text from the dump, or None.

    Returns:
        The number, or None for NULL.

    Raises:
        ValueError: For text that is not a finite number.
    """
    if raw is None or is_null(raw):
        return None
    value = float(raw.strip())
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {raw!r}")
    return value


def to_decimal(raw: str | None) -> Decimal | None:
    """Read an exact decimal (prices).

    Args:
        raw: Text from the dump, or None.

    Returns:
        The decimal, or None for NULL.

    Raises:
        ValueError: For text that is not a finite number.
    """
    if raw is None or is_null(raw):
        return None
    try:
        value = Decimal(raw.strip())
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {raw!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not a finite number: {raw!r}")
    return value


def to_bool(raw: str | None) -> bool | None:
    """Read a boolean (``1``/``0``, ``t``/``f``, ``true``/``false``, any case).

    Args:
        raw: Text from the dump, or None.

    Returns:
        The boolean, or None for NULL.

    Raises:
        ValueError: For anything else.
    """
    if raw is None or is_null(raw):
        return None
    text = raw.strip().lower()
    if text in TRUE_TOKENS:
        return True
    if text in FALSE_TOKENS:
        return False
    raise ValueError(f"not a boolean: {raw!r}")


def to_text(raw: str | None) -> str | None:
    """Read text; the NULL spellings become None.

    Args:
        raw: Text from the dump, or None.

    Returns:
        The text unchanged, or None for NULL.
    """
    if is_null(raw):
        return None
    return raw


CONVERTERS: dict[str, Converter] = {
    "int": to_int,
    "float": to_float,
    "decimal": to_decimal,
    "bool": to_bool,
    "text": to_text,
}
