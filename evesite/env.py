"""Typed readers for environment variables; settings.py is their only caller."""

from __future__ import annotations

import os
from typing import overload

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@overload
def env_str(name: str, default: str) -> str: ...
@overload
def env_str(name: str, default: None = None) -> str | None: ...
def env_str(name: str, default: str | None = None) -> str | None:
    """Read a string variable.

    Args:
        name: Variable name.
        default: Value when unset.

    Returns:
        The value, or ``default``.
    """
    return os.environ.get(name, default)


def env_required(name: str) -> str:
    """Read a variable that has no default (a secret).

    Args:
        name: Variable name.

    Returns:
        The value.

    Raises:
        ImproperlyConfigured: When the variable is unset or empty.
    """
    value = os.environ.get(name)
    if not value:
        raise ImproperlyConfigured(f"The environment variable {name} must be set.")
    return value


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean variable (1/0, true/false, yes/no, on/off).

    Args:
        name: Variable name.
        default: Value when unset.

    Returns:
        The boolean.

    Raises:
        ImproperlyConfigured: On any other text.
    """
    raw = os.environ.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean.")


def env_int(name: str, default: int) -> int:
    """Read an integer variable.

    Args:
        name: Variable name.
        default: Value when unset.

    Returns:
        The integer.
    """
    raw = os.environ.get(name)
    return default if raw is None or raw == "" else int(raw)


def env_float(name: str, default: float) -> float:
    """Read a float variable.

    Args:
        name: Variable name.
        default: Value when unset.

    Returns:
        The float.
    """
    raw = os.environ.get(name)
    return default if raw is None or raw == "" else float(raw)


def env_list(name: str, default: list[str]) -> list[str]:
    """Read a comma-separated list.

    Args:
        name: Variable name.
        default: Value when unset.

    Returns:
        The non-empty, stripped items.
    """
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int_list(name: str, default: list[int]) -> list[int]:
    """Read a comma-separated list of integers.

    Args:
        name: Variable name.
        default: Value when unset.

    Returns:
        The integers.
    """
    return [int(item) for item in env_list(name, [str(d) for d in default])]
