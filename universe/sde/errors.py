"""The one error of the dump readers (a leaf module: the format registry and the readers both import it)."""

from __future__ import annotations

from evesite.exceptions import InvalidInputError


class DumpFormatError(InvalidInputError):
    """A dump file is unreadable: unknown format, truncated, corrupt, or missing a table or column."""

    code = "bad_dump"
