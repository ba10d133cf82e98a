"""Each xdist worker gets its own Redis database and Neo4j ports; the tests that read the SDE, their own stores."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from evesite.graph import graph_query
from evesite.testing import worker
from evesite.testing.parallel import (
    APPLIED_VARIABLE,
    WORKER_VARIABLE,
    neo4j_url_for,
    redis_url_for,
    worker_environment_apply,
    worker_index,
)
from evesite.testing.sde_stores import (
    SDE_DATABASE_SUFFIX,
    migrations_applied,
    sde_databases_prepare,
    sde_stores_selected,
)

BASE = {
    "REDIS_URL": "redis://127.0.0.1:6379/14",
    "NEO4J_BOLT_URL": "bolt://neo4j:password@127.0.0.1:7688",
    "NEO4J_SDE_BOLT_URL": "bolt://neo4j:password@127.0.0.1:7698",
}


def test_worker_names() -> None:
    assert [worker_index(name) for name in ("gw0", "gw1", "gw12")] == [0, 1, 12]
    with pytest.raises(ValueError, match="xdist worker name"):
        worker_index("master")


def test_urls_move_by_the_worker_number() -> None:
    assert redis_url_for("redis://127.0.0.1:6379/14", 1) == "redis://127.0.0.1:6379/15"
    assert redis_url_for("redis://127.0.0.1:6379", 2) == "redis://127.0.0.1:6379/2"
    assert redis_url_for("redis://:secret@127.0.0.1:6379/3", 0) == "redis://:secret@127.0.0.1:6379/3"
    assert neo4j_url_for("bolt://neo4j:password@127.0.0.1:7688", 1) == "bolt://neo4j:password@127.0.0.1:7689"
    assert neo4j_url_for("bolt://127.0.0.1", 3) == "bolt://127.0.0.1:7690"
    with pytest.raises(ValueError, match="Redis database 16"):
        redis_url_for("redis://127.0.0.1:6379/14", 2)


def test_a_worker_environment_is_shifted_once() -> None:
    """Worker 1 moves every Redis URL given and both Neo4j ports; its subprocesses (marked) are not moved again."""
    env = {**BASE, "CELERY_BROKER_URL": "redis://127.0.0.1:6379/14", WORKER_VARIABLE: "gw1"}
    worker_environment_apply(env)
    assert env == {
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15",
        "NEO4J_BOLT_URL": "bolt://neo4j:password@127.0.0.1:7689",
        "NEO4J_SDE_BOLT_URL": "bolt://neo4j:password@127.0.0.1:7699",
        WORKER_VARIABLE: "gw1",
        APPLIED_VARIABLE: "gw1",
    }
    child = dict(env)
    worker_environment_apply(child)
    assert child == env


def test_outside_xdist_nothing_changes() -> None:
    env = dict(BASE)
    worker_environment_apply(env)
    assert env == BASE


def _bolt_port_answering() -> int:
    """The Bolt port of the Neo4j instance that graph queries reach now."""
    rows = graph_query("SHOW SETTINGS YIELD name, value WHERE name = 'server.bolt.listen_address' RETURN value")
    return int(rows[0]["value"].rsplit(":", 1)[1])


def test_this_process_uses_its_workers_stores() -> None:
    """The settings of this test process name the URLs the environment holds (shifted under xdist)."""
    assert os.environ["REDIS_URL"] == settings.REDIS_URL
    assert os.environ["NEO4J_BOLT_URL"] == settings.NEO4J_BOLT_URL
    assert os.environ.get(APPLIED_VARIABLE) == os.environ.get(WORKER_VARIABLE)
    assert _bolt_port_answering() == urlsplit(os.environ["NEO4J_BOLT_URL"]).port
    assert not str(connection.settings_dict["NAME"]).endswith(SDE_DATABASE_SUFFIX)


def test_a_test_that_reads_the_sde_uses_the_sde_stores(sde_universe: Path) -> None:
    """Its graph queries go to NEO4J_SDE_BOLT_URL and its SQL to the SDE's database, as do its processes'."""
    assert settings.NEO4J_BOLT_URL == os.environ["NEO4J_SDE_BOLT_URL"] != os.environ["NEO4J_BOLT_URL"]
    assert _bolt_port_answering() == urlsplit(os.environ["NEO4J_SDE_BOLT_URL"]).port
    name = str(connection.settings_dict["NAME"])
    assert name.startswith("test_")
    assert name.endswith(SDE_DATABASE_SUFFIX)
    assert urlsplit(worker.tests_database_url()).path == f"/{name}"
    assert graph_query("MATCH (s:SolarSystem {name: 'Jita'}) RETURN s.system_id AS id") == [{"id": 30000142}]


@pytest.mark.django_db(transaction=True)
def test_an_sde_database_a_migration_behind_catches_up_at_the_session_start() -> None:
    """The SDE's database is kept between runs; when the test database has a migration it lacks, it is migrated."""
    latest = ("imagecache", "0002_lru_size_cap")
    with sde_stores_selected(reads_sde=True):
        call_command("migrate", "imagecache", "0001", interactive=False, verbosity=0)
        assert latest not in migrations_applied()
    sde_databases_prepare()
    assert latest in migrations_applied()  # the test database's
    with sde_stores_selected(reads_sde=True):
        assert latest in migrations_applied()
        with connection.cursor() as cursor:
            columns = connection.introspection.get_table_description(cursor, "imagecache_imagecache")
        assert {"blob_bytes", "last_used_at"} <= {column.name for column in columns}
