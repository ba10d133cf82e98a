"""The stores of the tests that read the real SDE: a PostgreSQL database and a Neo4j instance of their own.

Most other tests ingest small dumps, whose rows and graph would replace the real SDE's: copying those back
took seconds of PostgreSQL and Neo4j each time. So a test that reads the SDE (conftest.py) runs on
``<test database>_sde`` and ``NEO4J_SDE_BOLT_URL``, where the real SDE stays between tests and between runs;
the others keep the test database and ``NEO4J_BOLT_URL``. The processes a test starts inherit its stores
(``evesite.testing.worker``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from psycopg import sql

from evesite.testing.scratchdb import default_conninfo
from evesite.testing.sde import sde_tables_kept, sde_write_tracking_install
from routing.jumps_graph import weighted_graph_forget
from routing.systems import system_names_forget

SDE_DATABASE_SUFFIX = "_sde"
_READS_SDE: ContextVar[bool] = ContextVar("sde_reads", default=False)
# (test database, SDE database) once the session has both (sde_databases_prepare).
_DATABASES: list[str] = []
# The settings override that points the graph at the SDE's instance, while it is in effect.
_SDE_GRAPH: list[override_settings] = []


@contextmanager
def sde_stores_selected(*, reads_sde: bool) -> Iterator[None]:
    """While inside, the SDE's stores are this process's when ``reads_sde``, else the test database's and graph's.

    The stores stay selected after it, so a run of tests that read the SDE keeps its connections. A flush inside
    keeps the universe tables of the SDE's database while nothing wrote them, and empties those of the test
    database.
    """
    token = _READS_SDE.set(reads_sde)
    try:
        with sde_tables_kept(keep=reads_sde):
            _graph_use(sde=reads_sde)
            _database_use(sde=reads_sde)
            yield
    finally:
        _READS_SDE.reset(token)


def _graph_use(*, sde: bool) -> None:
    """Point the graph at ``NEO4J_SDE_BOLT_URL`` or back, forgetting routing's copies of the other graph."""
    if sde == bool(_SDE_GRAPH):
        return
    if sde:
        if settings.NEO4J_SDE_BOLT_URL == settings.NEO4J_BOLT_URL:
            return  # one instance for every test
        _SDE_GRAPH.append(override_settings(NEO4J_BOLT_URL=settings.NEO4J_SDE_BOLT_URL))
        _SDE_GRAPH[0].enable()
    else:
        _SDE_GRAPH.pop().disable()
    system_names_forget()
    weighted_graph_forget()


def _database_use(*, sde: bool) -> None:
    """Point Django's connection at the SDE's database or the test database (nothing before they are ready)."""
    if not _DATABASES:
        return
    name = _DATABASES[1] if sde else _DATABASES[0]
    if connection.settings_dict["NAME"] != name:
        connection.close()
        connection.settings_dict["NAME"] = name


def sde_databases_prepare() -> None:
    """Make the SDE's database next to the test database (once), migrate it, and flush both (session start).

    The test database then holds no SDE; the SDE's keeps its universe tables while nothing wrote them.
    """
    _database_use(sde=False)  # named after the test database, whichever is selected (when called again)
    test = str(connection.settings_dict["NAME"])
    sde = test + SDE_DATABASE_SUFFIX
    connection.close()  # a session on the template would stop CREATE DATABASE ... TEMPLATE
    with psycopg.connect(**{**default_conninfo(), "dbname": "postgres", "autocommit": True}) as admin:
        if admin.execute("SELECT FROM pg_database WHERE datname = %s", [sde]).fetchone() is None:
            admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(sde), sql.Identifier(test)))
    applied = migrations_applied()
    _DATABASES[:] = [test, sde]
    _database_use(sde=True)
    if migrations_applied() != applied:  # the test database was migrated since the copy
        call_command("migrate", interactive=False, verbosity=0)
    for use_sde in (True, False):
        _database_use(sde=use_sde)
        sde_write_tracking_install()
        with sde_tables_kept(keep=use_sde):
            call_command("flush", interactive=False, verbosity=0)
    _database_use(sde=_READS_SDE.get())


def migrations_applied() -> set[tuple[str, str]]:
    """The ``(app, name)`` of every migration applied to the database Django's connection uses now."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('django_migrations') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return set()
        cursor.execute("SELECT app, name FROM django_migrations")
        return set(cursor.fetchall())
