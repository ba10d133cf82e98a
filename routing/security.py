"""Moved to :mod:`universe.security` (security is SDE data); kept while callers move over."""

from universe.security import HIGH_SEC_MIN, security_display, security_is_high

__all__ = ["HIGH_SEC_MIN", "security_display", "security_is_high"]
