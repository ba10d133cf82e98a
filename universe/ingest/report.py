"""What an ingestion reports, and its progress bars."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO

from tqdm import tqdm


@dataclass
class IngestReport:
    """What :func:`universe.services.sde_ingest` did."""

    source: str
    format: str
    rows: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    packaged_volumes: int = 0
    graph_nodes: int = 0
    graph_relationships: int = 0
    graph_written: int = 0
    graph_removed: int = 0
    graph_matches: bool = False
    reachable_from_jita: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        """Sum of the phases' seconds."""
        return sum(self.seconds.values())


class IngestProgress:
    """Progress bars for one ingestion, drawn only on a terminal and when not quiet."""

    def __init__(self, out: IO[str] | None, quiet: bool) -> None:
        """Decide whether to draw.

        Args:
            out: The stream (a management command's stdout); None draws nothing.
            quiet: Draw nothing.
        """
        self.out = out
        isatty = getattr(out, "isatty", None)
        self.enabled = bool(out is not None and not quiet and callable(isatty) and isatty())

    def bar(self, desc: str, total: int | None = None, unit: str = "rows") -> tqdm:
        """Start a bar.

        Args:
            desc: The label (table or graph phase).
            total: The expected count, when known.
            unit: What is counted.

        Returns:
            A tqdm bar (disabled when not drawing).
        """
        return tqdm(
            total=total,
            desc=f"{desc:<22}",
            unit=unit,
            unit_scale=True,
            file=self.out,
            disable=not self.enabled,
            leave=True,
            dynamic_ncols=True,
        )
