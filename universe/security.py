"""EVE's security rounding and classes (pure functions, no I/O)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# A system is high-sec when its security shows as 0.5 or more, i.e. ``security >= 0.45``.
HIGH_SEC_MIN = 0.45
# Below this a positive status would round to 0.0, which EVE never shows: it shows 0.1.
_ROUNDS_TO_ZERO = 0.05
_LOWEST_POSITIVE_SHOWN = 0.1


def security_display(security: float) -> float:
    """Round a security status the way EVE shows it.

    One decimal, halves rounded up; a positive status below 0.05 shows as 0.1
    (EVE never shows a positive system as 0.0).

    Args:
        security: The true security status.

    Returns:
        The displayed value, e.g. 0.9 for Jita's 0.945913 and 0.5 for 0.45.
    """
    if 0.0 < security < _ROUNDS_TO_ZERO:
        return _LOWEST_POSITIVE_SHOWN
    return float(Decimal(repr(security)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def security_is_high(security: float) -> bool:
    """Tell whether a system is high-sec (it shows as 0.5 or more).

    Args:
        security: The true security status.

    Returns:
        True for high-sec.
    """
    return security >= HIGH_SEC_MIN
