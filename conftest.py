"""Fixtures shared by every app's tests."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from _pytest.nodeid import NodeId
from django.conf import settings
from django_redis import get_redis_connection
from pytest_django.fixtures import Settings as SettingsWrapper

from esi.testing import esi_settings_for_tests
from evesite.gate import gate_forget
from evesite.graph import graph_query
from evesite.testing.fakeserver import FakeHttpServer
from evesite.testing.sde import (
    on_own_connection,
    sde_cache_root,
    sde_cache_save,
    sde_fingerprint,
    sde_graph_restore,
    sde_graph_routing_strip,
    sde_tables_clean_mark,
    sde_tables_restore,
)
from evesite.testing.sde_stores import sde_databases_prepare, sde_stores_selected
from routing.jumps_graph import weighted_graph_forget
from routing.systems import system_names_forget

_SHARED_SCOPES = {"package", "module", "class"}
# pytest-django's autouse class fixture is on every test and shares nothing worth a group.
_NOT_SHARED = {"_django_setup_unittest"}
# The fixture that loads the real SDE (sde_universe and the fixtures built on it).
_SDE_FIXTURE = "_sde_session"


def _shares_a_fixture(item: pytest.Item) -> bool:
    """Whether a test uses a module-, class- or package-scoped fixture of ours."""
    info = getattr(item, "_fixtureinfo", None)
    definitions = info.name2fixturedefs.items() if info is not None else ()
    return any(defs and defs[-1].scope in _SHARED_SCOPES and name not in _NOT_SHARED for name, defs in definitions)


def _group(item: pytest.Item) -> str | None:
    """The test's xdist group: every ``waits`` module together, else its module when it shares a fixture."""
    if item.get_closest_marker("waits") is not None:
        return "waits"
    return item.nodeid.split("::")[0] if _shares_a_fixture(item) else None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Group and order the tests for pytest-xdist (``make test`` runs ``--dist loadgroup``).

    The tests of a module that share a module- or class-scoped fixture stay
    together on one worker (``xdist_group``), so that fixture is built once, not
    on every worker. The modules marked ``waits`` (their tests mostly sleep or
    wait for other processes) share one worker, so that the others keep both
    cores busy meanwhile: spread over every worker, they left the CPU idle
    together. The ``slow`` tests go first, so that the long units start
    early on separate workers instead of ending the run alone. Then the tests
    that do not read the real SDE, then those that do, groups first in each (the
    order is otherwise kept): the latter use stores of their own
    (``evesite/testing/sde_stores.py``), and a worker switches between them seldom.

    This runs last, after pytest-django's own ordering (database tests, then
    transactional ones, then the rest), which would otherwise put most slow
    tests at the end. Here a transactional test may come first: its flush is
    followed by ``post_migrate`` (content types, permissions, the graph schema),
    no migration inserts rows, and ``sde_universe`` repairs the SDE.

    Args:
        items: The collected tests, reordered in place.
    """
    for item in items:
        group = _group(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(name=group))
            if getattr(item.config.option, "loadgroup", False) and "@" not in item.nodeid:
                # xdist 3.8 puts the group in item._nodeid, which pytest 9.2 no longer reads (the id is item._id).
                item._id = NodeId.parse(f"{item.nodeid}@{group}")
    items.sort(
        key=lambda item: (
            item.get_closest_marker("slow") is None,
            _SDE_FIXTURE in getattr(item, "fixturenames", ()),
            item.get_closest_marker("xdist_group") is None,
        )
    )


def _reads_sde(item: pytest.Item | None) -> bool:
    return item is not None and _SDE_FIXTURE in getattr(item, "fixturenames", ())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    """Run the test (setup, call, teardown); one that reads the SDE on the SDE's own database and Neo4j."""
    with sde_stores_selected(reads_sde=_reads_sde(item)):
        return (yield)


@pytest.fixture(autouse=True)
def _clean_redis() -> None:
    """Empty the test Redis database before each test (real Redis, not a mock), and the throttle gate's memory."""
    get_redis_connection("default").flushdb()
    gate_forget()


@pytest.fixture
def fake_server() -> Iterator[FakeHttpServer]:
    """A scripted HTTP server on 127.0.0.1 for one test."""
    with FakeHttpServer() as server:
        yield server


@pytest.fixture
def esi_server(fake_server: FakeHttpServer, settings: SettingsWrapper) -> FakeHttpServer:
    """A fake ESI: ``ESI_BASE_URL`` points at the scripted server and every ESI delay is shrunk.

    Args:
        fake_server: The scripted loopback server.
        settings: pytest-django's settings fixture.

    Returns:
        The fake server.
    """
    esi_settings_for_tests(settings, fake_server.url)
    return fake_server


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The folder of real public data (``settings.EVE_SHARED_DIR``); it must exist."""
    path = Path(settings.EVE_SHARED_DIR)
    assert path.is_dir(), f"EVE_SHARED_DIR {path} is missing: the real test data lives there"
    return path


# What ``<shared>/eve-sde`` holds once ingested (see universe.selectors.sde_counts).
SDE_COUNTS = {
    "regions": 113,
    "constellations": 1175,
    "systems": 8437,
    "jumps": 13776,
    "stargates": 13776,
    "stations": 5154,
    "types": 48037,
    "graph_nodes": 8437,
    "graph_relationships": 13776,
}


_PG_COUNTS = ("regions", "constellations", "systems", "jumps", "stargates", "stations", "types")
_GRAPH_COUNTS = ("graph_nodes", "graph_relationships")


def _sde_ensure(dump: Path, *, graph_fresh: bool = False) -> None:
    """Make PostgreSQL and Neo4j hold the shared SDE, committed, repairing only what differs.

    The first time (per dump and ingestion code) the dump is really ingested and
    the result copied (evesite/testing/sde.py); afterwards a repair restores the
    copy, which takes seconds instead of a new ingestion. Writes happen on a
    thread with its own connection, so they are committed even when the calling
    test runs inside a transaction that is rolled back afterwards.

    Args:
        dump: The ``eve-sde`` folder.
        graph_fresh: Drop routing's properties (weights, risk) that earlier runs left on a graph whose counts match.
    """
    from universe.selectors import sde_counts  # noqa: PLC0415 (app modules load after pytest-django's setup)
    from universe.services import sde_ingest  # noqa: PLC0415 (same)

    counts = sde_counts()
    tables_ok = all(counts[k] == SDE_COUNTS[k] for k in _PG_COUNTS)
    graph_ok = all(counts[k] == SDE_COUNTS[k] for k in _GRAPH_COUNTS)
    if graph_ok and graph_fresh:
        sde_graph_routing_strip()  # 0.8 CPU-s of Neo4j; a restore took about 3 CPU-s of Neo4j and Python
    if tables_ok and graph_ok:
        return
    folder = sde_cache_root() / _sde_fingerprint(dump)
    if not folder.exists():
        on_own_connection(lambda: sde_ingest(source=dump))
        on_own_connection(lambda: sde_cache_save(folder))
        on_own_connection(sde_tables_clean_mark)
        return
    if not tables_ok:
        sde_tables_restore(folder)
    if not graph_ok:
        sde_graph_restore(folder)


_FINGERPRINTS: dict[Path, str] = {}


def _sde_fingerprint(dump: Path) -> str:
    """The dump's fingerprint, computed once per process."""
    if dump not in _FINGERPRINTS:
        _FINGERPRINTS[dump] = sde_fingerprint(dump)
    return _FINGERPRINTS[dump]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """pytest-django's test database and the SDE tests' one, kept between runs (``--reuse-db``), flushed.

    The SDE's database keeps its universe tables when no write was noted since they were last restored (the
    suite's ``flush``, ``evesite/testing/management/commands/flush.py``): ``sde_universe`` then has nothing
    to copy back.

    Args:
        django_db_setup: pytest-django's fixture: the database created, or migrated when it was kept.
        django_db_blocker: Lets a session fixture use the database.
    """
    with django_db_blocker.unblock():
        sde_databases_prepare()


@pytest.fixture(scope="session")
def _sde_session(django_db_setup: None, django_db_blocker: Any, shared_dir: Path) -> Path:
    """Load the shared SDE once per session (per xdist worker), committed, so every test's transaction sees it.

    Args:
        django_db_setup: pytest-django's test database.
        django_db_blocker: Lets a session fixture use the database.
        shared_dir: The real data folder.

    Returns:
        The ``eve-sde`` folder.
    """
    dump = shared_dir / "eve-sde"
    with django_db_blocker.unblock():
        _sde_ensure(dump, graph_fresh=True)
    return dump


@pytest.fixture
def sde_universe(_sde_session: Path, db: None) -> Path:
    """The real SDE in PostgreSQL and the gate graph in Neo4j (cheap check; restored only when it differs).

    A ``transactional_db`` test flushes the SDE rows after it, and a test that
    ingested another dump leaves another graph: both are noticed by the counts
    and repaired here from the session's copy.

    Args:
        _sde_session: The session-wide ingestion.
        db: Database access.

    Returns:
        The ``eve-sde`` folder that was ingested.
    """
    _sde_ensure(_sde_session)
    return _sde_session


@pytest.fixture(scope="module")
def sde_universe_module(_sde_session: Path, django_db_blocker: Any) -> Path:
    """``sde_universe`` for module-scoped fixtures: repaired when the module's first test starts.

    Without it a module fixture can read the tables that an earlier transactional test flushed.
    """
    with django_db_blocker.unblock():
        _sde_ensure(_sde_session)
    return _sde_session


# One scratch label for every test of a worker (each worker has its own Neo4j): Neo4j plans a query once per
# text, and a label of its own per test made every query text new (about 60 ms of planning each).
SCRATCH_LABEL = "Scratch"


@pytest.fixture
def graph_label() -> Iterator[str]:
    """The scratch Neo4j label, empty before the test and emptied after it, with the process's copies forgotten."""

    def empty() -> None:
        graph_query(f"MATCH (n:`{SCRATCH_LABEL}`) DETACH DELETE n")
        system_names_forget()
        weighted_graph_forget()

    empty()
    yield SCRATCH_LABEL
    empty()
