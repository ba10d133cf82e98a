"""The real SDE for tests, ingested once and then restored from a copy in seconds.

Ingesting the shared SDE (``sde_ingest``) takes 10 to 30 s, mostly writing the
gate graph. Tests need it often: a ``transactional_db`` test flushes the SDE
rows, and a test that ingests a small dump replaces the graph. So after one real
ingestion its result is copied to a cache folder (the universe tables as binary
``COPY`` files, the graph's SDE properties pickled), and repairs copy it back:
about a second for PostgreSQL and two for Neo4j.

The copy is named by a fingerprint of the dump folder and of the code that shapes
the data (every non-test module of ``universe``, migrations included, and this
one): a new dump, a changed ingestion or a new column makes a new real
ingestion. The folder is shared by xdist workers and later runs; it is written
under a temporary name and renamed, so a reader never sees half of it.

A repair is needed less often than a flush: triggers note every write to the
universe tables of the test database, and the suite's ``flush`` keeps those
tables while no write was noted. The tests that read the SDE have a database and
a Neo4j instance of their own (:mod:`evesite.testing.sde_stores`), which the
small dumps of the other tests never reach.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, connections, transaction
from django.db.models import Model

from evesite.graph import graph_query
from universe.graph import GATE_TYPE, SYSTEM_LABEL, Gate, SolarSystem, db_name, graph_schema_install, owned_properties
from universe.services import search_names_refresh

GRAPH_FILE = "graph.pickle"
# In test databases only: one row per statement that wrote a universe table since the last restore or flush of
# them (sde_write_tracking_install). The suite's ``flush`` keeps those tables while it is empty.
WRITES_TABLE = "test_sde_writes"
_KEEP: ContextVar[bool] = ContextVar("sde_tables_keep", default=False)
# Systems and gates written per Cypher statement when the graph is restored.
_BATCH = 5000
# Copies of other fingerprints are removed once this old (another checkout state may still be running tests).
_KEEP_SECONDS = 86400


def sde_cache_root() -> Path:
    """Folder of the SDE copies (``TEST_SDE_CACHE_DIR``, else ``.services/test-sde`` in the checkout).

    Returns:
        The folder.
    """
    return Path(os.environ.get("TEST_SDE_CACHE_DIR", Path(settings.BASE_DIR) / ".services" / "test-sde"))


def sde_fingerprint(dump: Path) -> str:
    """Fingerprint a dump folder (names, sizes, times) and the code that shapes the ingested data.

    Args:
        dump: The ``eve-sde`` folder.

    Returns:
        A hex digest.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in dump.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(dump)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    universe = Path(settings.BASE_DIR) / "universe"
    sources = [p for p in universe.rglob("*.py") if "tests" not in p.relative_to(universe).parts]
    for path in sorted([*sources, Path(__file__)]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def universe_models() -> list[type[Model]]:
    """List the models of the universe app that own a table (the SDE's).

    Returns:
        The models, by table name.
    """
    models = apps.get_app_config("universe").get_models()
    return sorted((m for m in models if m._meta.managed and not m._meta.proxy), key=lambda m: m._meta.db_table)


def universe_tables() -> list[str]:
    """Name the PostgreSQL tables of the universe app (the SDE's).

    Returns:
        Table names.
    """
    return [m._meta.db_table for m in universe_models()]


def sde_write_tracking_install() -> None:
    """Note every write to the universe tables of the test database (statement triggers into ``WRITES_TABLE``).

    A database that had no notes yet may hold anything there: it counts as written.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NULL", [WRITES_TABLE])
        (unknown,) = cursor.fetchone()
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {WRITES_TABLE} (at timestamptz NOT NULL DEFAULT now())")
        cursor.execute(
            f"CREATE OR REPLACE FUNCTION {WRITES_TABLE}_note() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN INSERT INTO {WRITES_TABLE} DEFAULT VALUES; RETURN NULL; END $$"
        )
        for table in universe_tables():
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER {WRITES_TABLE} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {connection.ops.quote_name(table)} FOR EACH STATEMENT EXECUTE FUNCTION {WRITES_TABLE}_note()"
            )
        if unknown:
            cursor.execute(f"INSERT INTO {WRITES_TABLE} DEFAULT VALUES")


@contextmanager
def sde_tables_kept(*, keep: bool) -> Iterator[None]:
    """While inside, the suite's ``flush`` keeps the universe tables when ``keep`` and no write was noted."""
    token = _KEEP.set(keep)
    try:
        yield
    finally:
        _KEEP.reset(token)


def sde_tables_keepable() -> bool:
    """Whether a flush now may keep the universe tables: asked to, and nothing wrote them since the last restore."""
    if not _KEEP.get():
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT NOT EXISTS (SELECT FROM {WRITES_TABLE})")  # noqa: S608 - our table name
        (unwritten,) = cursor.fetchone()
    return bool(unwritten)


def sde_tables_clean_mark() -> None:
    """Forget the writes noted so far: the universe tables hold the restored SDE, or nothing."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {WRITES_TABLE}")  # noqa: S608 - our table name


def on_own_connection(work: Callable[[], object]) -> None:
    """Run ``work`` on a thread with its own database connection, so what it writes is committed.

    The calling test may be inside a transaction that is rolled back afterwards;
    rows written here stay for every later test. Errors are raised here.

    Args:
        work: What to run.
    """
    errors: list[BaseException] = []

    def run() -> None:
        """Run the work; keep its error for the caller."""
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name="sde-copy")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def _sde_properties() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The stored names of the SDE's own properties of systems and gates (routing's are left out)."""
    return owned_properties(SolarSystem, sde=True), owned_properties(Gate, sde=True)


def sde_cache_save(folder: Path) -> None:
    """Copy the universe tables and the graph's SDE properties into ``folder`` (atomically, once).

    Args:
        folder: The copy's folder (named by the fingerprint); nothing happens when it exists.
    """
    if folder.exists():
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        with connection.cursor() as cursor:
            for table in universe_tables():
                quoted = connection.ops.quote_name(table)
                with (
                    (scratch / f"{table}.copy").open("wb") as out,
                    cursor.copy(f"COPY {quoted} TO STDOUT (FORMAT BINARY)") as copy,
                ):
                    for block in copy:
                        out.write(block)
        node_props, gate_props = (", ".join(f".`{p}`" for p in props) for props in _sde_properties())
        system_id = db_name(SolarSystem.system_id)
        nodes = graph_query(f"MATCH (s:`{SYSTEM_LABEL}`) RETURN s {{{node_props}}} AS p")
        gates = graph_query(
            f"MATCH (a:`{SYSTEM_LABEL}`)-[g:`{GATE_TYPE}`]->(b:`{SYSTEM_LABEL}`) "
            f"RETURN a.`{system_id}` AS a, b.`{system_id}` AS b, g {{{gate_props}}} AS p"
        )
        with (scratch / GRAPH_FILE).open("wb") as out:
            pickle.dump({"nodes": [r["p"] for r in nodes], "gates": gates}, out)
        for old in folder.parent.iterdir():  # copies of earlier dumps or code (a day old: no run still reads them)
            if old.is_dir() and old.name != folder.name and time.time() - old.stat().st_mtime > _KEEP_SECONDS:
                shutil.rmtree(old, ignore_errors=True)
        try:
            scratch.rename(folder)
        except OSError:
            if not folder.exists():
                raise  # else another worker saved the same copy first
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def sde_tables_restore(folder: Path) -> None:
    """Make the universe tables equal the copy (delete, then ``COPY`` back), committed, in one transaction.

    Args:
        folder: The copy's folder.
    """

    def restore() -> None:
        """Replace the rows on this thread's connection."""
        tables = universe_tables()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for table in tables:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608 - our table names
            for table in tables:
                quoted = connection.ops.quote_name(table)
                with (
                    (folder / f"{table}.copy").open("rb") as source,
                    cursor.copy(f"COPY {quoted} FROM STDIN (FORMAT BINARY)") as copy,
                ):
                    while block := source.read(1 << 20):
                        copy.write(block)
                # Fresh statistics, as after an ingestion; autovacuum would come a minute later.
                cursor.execute(f"ANALYZE {quoted}")
            # Rows came with their ids: the id sequences (e.g. of the jumps) must continue after them.
            for statement in connection.ops.sequence_reset_sql(no_style(), universe_models()):
                cursor.execute(statement)
            search_names_refresh()
            sde_tables_clean_mark()

    on_own_connection(restore)


def sde_graph_routing_strip() -> None:
    """Remove routing's properties (weights, risk) from the graph's systems and gates: the SDE's own stay."""
    for pattern, model in ((f"(e:`{SYSTEM_LABEL}`)", SolarSystem), (f"()-[e:`{GATE_TYPE}`]->()", Gate)):
        props = ", ".join(f"e.`{p}`" for p in owned_properties(model, sde=False))
        graph_query(f"MATCH {pattern} REMOVE {props}")


def sde_graph_restore(folder: Path) -> None:
    """Replace the ``SolarSystem`` graph with the copy's systems and gates.

    Args:
        folder: The copy's folder.
    """
    with (folder / GRAPH_FILE).open("rb") as source:
        data: dict[str, list[dict[str, Any]]] = pickle.load(source)  # noqa: S301 - our own file
    system_id = db_name(SolarSystem.system_id)
    graph_schema_install()  # the unique index on system_id finds the gates' ends
    graph_query(
        f"CALL apoc.periodic.iterate('MATCH (s:`{SYSTEM_LABEL}`) RETURN s', 'DETACH DELETE s', {{batchSize: {_BATCH}}})"
    )
    nodes = data["nodes"]
    for start in range(0, len(nodes), _BATCH):
        graph_query(f"UNWIND $rows AS p CREATE (s:`{SYSTEM_LABEL}`) SET s = p", {"rows": nodes[start : start + _BATCH]})
    gates = data["gates"]
    for start in range(0, len(gates), _BATCH):
        graph_query(
            f"UNWIND $rows AS r MATCH (a:`{SYSTEM_LABEL}` {{`{system_id}`: r.a}}), "
            f"(b:`{SYSTEM_LABEL}` {{`{system_id}`: r.b}}) CREATE (a)-[g:`{GATE_TYPE}`]->(b) SET g = r.p",
            {"rows": gates[start : start + _BATCH]},
        )
