"""Output helpers for command tests."""

from __future__ import annotations

import io


class TtyStringIO(io.StringIO):
    """A text buffer that says it is a terminal, so a command draws its progress bar into it."""

    def isatty(self) -> bool:
        """Pretend to be a terminal.

        Returns:
            Always True.
        """
        return True
