"""``manage.py ingest_data``: load a Fuzzwork SDE dump into PostgreSQL and the gate graph into Neo4j."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evesite.exceptions import DomainError
from universe.graph_ingest import JITA_ID
from universe.ingest.report import IngestReport
from universe.sde.download import dump_download
from universe.sde.sources import dump_find_latest
from universe.services import sde_graph_rebuild, sde_ingest


class Command(BaseCommand):
    """Ingest the newest dump in EVE_DATA_DIR (or ``--source``), all or nothing."""

    help = (
        "Ingest a Fuzzwork SDE dump (SQLite, PostgreSQL custom dump, MySQL dump or CSV folder; "
        "compressed or not) into PostgreSQL, and build the gate graph in Neo4j. "
        "Nothing changes when the dump is bad."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the options.

        Args:
            parser: The argument parser.
        """
        parser.add_argument("--source", type=Path, help="dump file or CSV folder (default: newest in EVE_DATA_DIR)")
        parser.add_argument("--quiet", action="store_true", help="no progress bars and no summary")
        parser.add_argument(
            "--if-present", action="store_true", help="exit quietly with status 0 when EVE_DATA_DIR holds no dump"
        )
        parser.add_argument(
            "--missing-status",
            type=int,
            default=0,
            metavar="N",
            help="with --if-present: the exit status when EVE_DATA_DIR holds no dump (default 0), "
            "so a caller can tell 'no dump' from 'ingested'",
        )
        parser.add_argument(
            "--graph-only",
            action="store_true",
            help="rebuild the Neo4j gate graph from the systems and jumps already in PostgreSQL",
        )
        parser.add_argument(
            "--download", action="store_true", help="fetch the latest dump from Fuzzwork into EVE_DATA_DIR first"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Pre-flight, ingest, report.

        Args:
            *args: Unused.
            **options: Parsed options.

        Raises:
            CommandError: With a one-line message when the dump is missing or bad, or a datastore fails.
            SystemExit: With ``--if-present --missing-status N`` (N > 0), when EVE_DATA_DIR holds no dump.
        """
        quiet: bool = options["quiet"]
        try:
            if options["graph_only"]:
                report = sde_graph_rebuild(quiet=quiet, out=self._stream())
            else:
                source = self._source(options)
                if source is None:
                    return
                if not quiet:
                    self.stdout.write(f"Ingesting {source}")
                report = sde_ingest(source=source, quiet=quiet, out=self._stream())
        except DomainError as exc:
            raise CommandError(" ".join(exc.message.split())) from exc
        if not quiet:
            self._summary(report)

    def _source(self, options: dict[str, Any]) -> Path | None:
        """The dump to ingest (downloaded first with ``--download``), or None to exit quietly (``--if-present``)."""
        quiet: bool = options["quiet"]
        source: Path | None = options["source"]
        if options["download"]:
            source = self._download(quiet)
        if source is not None:
            if not source.exists():
                raise CommandError(f"{source}: no such file or folder")
            return source
        data_dir = Path(settings.EVE_DATA_DIR)
        source = dump_find_latest(data_dir)
        if source is not None:
            return source
        if not options["if_present"]:
            raise CommandError(f"{data_dir}: no SDE dump found (use --source PATH or --download)")
        if not quiet:
            self.stdout.write(f"No SDE dump in {data_dir}: nothing to ingest.")
        if options["missing_status"]:
            raise SystemExit(options["missing_status"])
        return None

    def _stream(self) -> IO[str]:
        """The raw stream under ``self.stdout`` (tqdm needs one that does not add line ends)."""
        out: IO[str] = self.stdout._out  # type: ignore[assignment]
        return out

    def _download(self, quiet: bool) -> Path:
        """Fetch the latest dump (``universe.sde.download``)."""
        out = self._stream()
        tty = out.isatty()
        result = dump_download(progress=out if tty and not quiet else None)
        if not quiet:
            state = "downloaded" if result.downloaded else "unchanged, kept"
            self.stdout.write(f"{result.url}: {state} -> {result.path}")
        return result.path

    def _summary(self, report: IngestReport) -> None:
        """Write the closing summary."""
        self.stdout.write(f"Source: {report.source} ({report.format})")
        width = max((len(t) for t in report.rows), default=0)
        for table, rows in report.rows.items():
            changed = report.changed.get(table, 0)
            deleted = report.deleted.get(table, 0)
            self.stdout.write(f"  {table:<{width}} {rows:>8,} rows  ({changed:,} new/changed, {deleted:,} removed)")
        if report.rows:
            self.stdout.write(f"  packaged volumes: {report.packaged_volumes:,} types")
        self.stdout.write(
            f"Graph: {report.graph_nodes:,} systems, {report.graph_relationships:,} gate relationships "
            f"({report.graph_written:,} nodes/relationships written, {report.graph_removed:,} removed)"
        )
        if report.graph_matches:
            self.stdout.write(
                self.style.SUCCESS("Graph matches PostgreSQL exactly (same systems, same directed jumps).")
            )
        self.stdout.write(f"Systems reachable from Jita ({JITA_ID}) by gate: {report.reachable_from_jita:,}")
        phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.seconds.items())
        self.stdout.write(f"Seconds: {phases}; total {report.total_seconds:.1f} s")
        self.stdout.write(self.style.SUCCESS("SDE ingestion done."))
