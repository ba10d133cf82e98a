"""``manage.py refresh_system_kills``: read ESI's kills of the last hour per system and write the risk."""

from __future__ import annotations

from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from neo4j.exceptions import DriverError, Neo4jError
from redis.exceptions import RedisError
from tqdm import tqdm

from esi.client import EsiClient, EsiResponse
from evesite.exceptions import DomainError
from routing.services import system_kills_refresh


class _SteppingClient(EsiClient):
    """An ESI client that moves a progress bar one step when an answer arrives."""

    def __init__(self, bar: tqdm[Any]) -> None:
        """Create the client.

        Args:
            bar: The bar to move.
        """
        super().__init__()
        self._bar = bar

    def get(self, path: str, params: dict[str, Any] | None = None, token: str | None = None) -> EsiResponse:
        """GET as the client does, then move the bar.

        Args:
            path: As in ESI's OpenAPI spec.
            params: Query parameters.
            token: An SSO access token, if the route needs one.

        Returns:
            ESI's answer.
        """
        response = super().get(path, params, token)
        self._bar.set_postfix_str("writing the risk to the graph")
        self._bar.update(1)
        return response


class Command(BaseCommand):
    """Refresh ESI's hourly ship, pod and NPC kills per system and write the risk (as the hourly beat does)."""

    help = (
        "Fetch ESI's /universe/system_kills (kills of the last hour per system), keep it in Redis and write "
        "the risk levels to the gate graph."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the options.

        Args:
            parser: The argument parser.
        """
        parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary")

    def handle(self, *args: Any, **options: Any) -> None:
        """Fetch, store, write the risk, report.

        Args:
            *args: Unused.
            **options: Parsed options.

        Raises:
            CommandError: With a one-line message when ESI or a datastore (PostgreSQL, Redis, Neo4j) fails.
        """
        quiet: bool = options["quiet"]
        out: IO[str] = self.stdout._out  # type: ignore[assignment]
        # Two steps only: draw each one (tqdm skips redraws within its 0.1 s minimum interval otherwise).
        bar = tqdm(
            total=2,
            desc="system kills",
            unit="step",
            file=out,
            disable=quiet or not out.isatty(),
            leave=False,
            mininterval=0,
        )
        try:
            systems = system_kills_refresh(client=_SteppingClient(bar))
            bar.update(1)
        except DomainError as exc:
            raise CommandError(" ".join(exc.message.split())) from exc
        except (DatabaseError, RedisError, Neo4jError, DriverError) as exc:
            raise CommandError(" ".join(f"{type(exc).__name__}: {exc}".split())) from exc
        finally:
            bar.close()
        if not quiet:
            self.stdout.write(
                self.style.SUCCESS(
                    f"ESI listed kills of the last hour for {systems:,} systems; kept in Redis and the risk "
                    "written to the gate graph."
                )
            )
