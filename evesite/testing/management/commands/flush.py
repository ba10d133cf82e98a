"""``flush`` in the test settings: it may keep the universe tables when nothing wrote them since their restore.

Django empties every table after each ``transactional_db`` test. The SDE tables then had to be copied back
for the next test that reads them (about 2.6 CPU-seconds of PostgreSQL each time), though most of those tests
never wrote them. Triggers note every write (``evesite.testing.sde.sde_write_tracking_install``). In the
database of the tests that read the SDE (``sde_tables_kept``, set by ``evesite.testing.sde_stores``), when no
write was noted, this flush leaves those tables as they are; else it empties them too.
"""

from __future__ import annotations

from typing import Any

from django.core.management.color import no_style
from django.core.management.commands import flush
from django.core.management.sql import emit_post_migrate_signal
from django.db import connections

from evesite.testing.sde import sde_tables_clean_mark, sde_tables_keepable, universe_tables


class Command(flush.Command):
    """Django's ``flush``, the universe tables kept while unwritten (asked interactively: Django's own)."""

    def handle(self, **options: Any) -> None:
        """Empty the tables; the universe tables only when a write was noted since they were last restored."""
        connection = connections[options["database"]]
        if options["interactive"] or not sde_tables_keepable():
            super().handle(**options)
            if not options["interactive"]:
                sde_tables_clean_mark()
            return
        kept = set(universe_tables())
        tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
        statements = connection.ops.sql_flush(
            no_style(),
            [table for table in tables if table not in kept],
            reset_sequences=options.get("reset_sequences", True),
            allow_cascade=options.get("allow_cascade", False),
        )
        connection.ops.execute_sql_flush(statements)
        if statements and not options.get("inhibit_post_migrate", False):
            emit_post_migrate_signal(options["verbosity"], False, connection.alias)
