"""``make run`` as a new user runs it: with a fake ESI and the shared SDE, data appears without any other command.

The run gets its own PostgreSQL database, Redis database and beat schedule; the test Neo4j
instance holds the same shared SDE graph the other tests use. SIGTERM to ``make`` must
leave no process behind: every process the run started carries a marker in its environment.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import requests
from django.conf import settings

from contracts.tests.conftest import page_headers, shift_dates
from evesite.testing.fakeserver import FakeHttpServer, FakeResponse
from evesite.testing.ports import free_port
from evesite.testing.scratchdb import default_conninfo, scratch_database_drop

MARKER = "EVESITE_MAKE_RUN_TEST"
RUN_REDIS_DB = 11  # below the test workers' databases (12 and up, see the Makefile)
TIMEOUT = 420  # seconds: migrations and the SDE ingestion of a fresh database come first


def _marked_pids(marker: str) -> list[int]:
    """List the processes whose environment holds ``MARKER=marker``.

    Args:
        marker: This run's marker value.

    Returns:
        Their pids.
    """
    needle = f"{MARKER}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
    return found


def _station_per_region(shared: Path, regions: list[int]) -> dict[int, int]:
    """Pick one real NPC station in each region from the shared SDE.

    Args:
        shared: The shared data folder.
        regions: Region ids.

    Returns:
        Region -> station.
    """
    picked: dict[int, int] = {}
    with (shared / "eve-sde" / "staStations.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            region = int(row["regionID"])
            if region in regions:
                picked.setdefault(region, int(row["stationID"]))
    return picked


def _serve_esi(server: FakeHttpServer, shared: Path) -> None:
    """Script a fake ESI for every call the beat makes at start: markets, public contracts, their items, kills.

    Args:
        server: The fake server.
        shared: The shared data folder.
    """
    regions = list(settings.MARKET_SNAPSHOT_REGIONS) + list(settings.CONTRACTS_REGIONS)
    stations = _station_per_region(shared, regions)
    samples = shared / "samples" / "contracts"
    contracts = shift_dates(
        json.loads((samples / "contracts-10000002-1.json").read_text()), expire_in=timedelta(days=3)
    )
    items = json.loads((samples / "items-190123693.json").read_text())

    def orders(request: Any) -> FakeResponse:
        """One page of orders at the region's station."""
        region = int(request.path.split("/")[2])
        station = stations[region]
        book = [
            {
                "duration": 90,
                "is_buy_order": is_buy,
                "issued": "2026-11-28T10:00:00Z",
                "location_id": station,
                "min_volume": 1,
                "order_id": region * 100 + n,
                "price": 5.0 if is_buy else 6.0,
                "range": "region",
                "system_id": 30000142,
                "type_id": 34,
                "volume_remain": 1000,
                "volume_total": 1000,
            }
            for n, is_buy in enumerate((True, False))
        ]
        return FakeResponse(json=book, headers={"X-Pages": "1", "Expires": formatdate(time.time() + 300, usegmt=True)})

    def listing(request: Any) -> FakeResponse:
        """The region's public contracts (the sample's, with ids of their own per region)."""
        region = int(request.path.split("/")[3])
        page = [{**c, "contract_id": region * 10 + n} for n, c in enumerate(contracts)]
        return FakeResponse(json=page, headers=page_headers(1))

    def contract_items(request: Any) -> FakeResponse:
        """The sample's items, with record ids of their own per contract."""
        contract = int(request.path.split("/")[-1])
        lines = [{**item, "record_id": contract * 100 + n} for n, item in enumerate(items)]
        return FakeResponse(json=lines, headers={"X-Pages": "1"})

    server.add("GET", r"/markets/\d+/orders", orders, regex=True, repeat_last=True)
    server.add("GET", r"/contracts/public/\d+", listing, regex=True, repeat_last=True)
    server.add("GET", r"/contracts/public/items/\d+", contract_items, regex=True, repeat_last=True)
    bids_answer = FakeResponse(json=[], headers={"X-Pages": "1"})
    server.add("GET", r"/contracts/public/bids/\d+", bids_answer, regex=True, repeat_last=True)
    server.add("GET", "/universe/system_kills", FakeResponse(json=[]), repeat_last=True)
    # zKillboard's R2Z2 feed: a latest sequence number, and nothing published after it yet.
    server.add("GET", "/ephemeral/sequence.json", FakeResponse(json={"sequence": 1000}), repeat_last=True)


@pytest.fixture
def run_database() -> Iterator[str]:
    """A scratch PostgreSQL database for the run (dropped afterwards).

    Yields:
        Its URL.
    """
    params = default_conninfo()
    name = f"evesite_makerun_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(settings.DATABASE_URL)
    try:
        yield urlunsplit(parts._replace(path="/" + name))
    finally:
        scratch_database_drop(conninfo=params, name=name)


def _counts(url: str) -> tuple[set[int], set[int]]:
    """Read which regions have a market snapshot and which have contracts.

    Args:
        url: The run's database.

    Returns:
        (snapshot regions, contract regions); empty before the tables exist.
    """
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            snaps = {r[0] for r in conn.execute("SELECT DISTINCT region_id FROM market_marketsnapshot")}
            deals = {r[0] for r in conn.execute("SELECT DISTINCT region_id FROM contracts_contract")}
    except psycopg.Error:
        return set(), set()
    return snaps, deals


@pytest.mark.slow
def test_make_run_fills_the_data_and_stops_cleanly(
    fake_server: FakeHttpServer, run_database: str, shared_dir: Path, tmp_path: Path
) -> None:
    """Without another command: snapshots for MARKET_SNAPSHOT_REGIONS, contracts for CONTRACTS_REGIONS; no orphans."""
    _serve_esi(fake_server, shared_dir)
    redis_url = urlunsplit(urlsplit(settings.REDIS_URL)._replace(path=f"/{RUN_REDIS_DB}"))
    port = free_port()
    marker = uuid.uuid4().hex
    env = {
        **os.environ,
        MARKER: marker,
        "DJANGO_SETTINGS_MODULE": "evesite.settings.production",
        "DATABASE_URL": run_database,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        # The real SDE's instance: the ingestion finds its graph there, and the other instance keeps small graphs.
        "NEO4J_BOLT_URL": settings.NEO4J_SDE_BOLT_URL,
        "EVE_DATA_DIR": str(shared_dir / "eve-sde"),
        "ESI_BASE_URL": fake_server.url,
        "ZKILLBOARD_R2Z2_URL": fake_server.url,
        "ZKILLBOARD_URL": fake_server.url,
        "IMAGE_SERVER_URL": fake_server.url,
        "FUZZWORK_DUMP_URL": fake_server.url + "/dump/",
        "ESI_PAGE_DELAY_SECONDS": "0.01",
        "ESI_REGION_DELAY_SECONDS": "0.01",
        "ESI_ERROR_SLEEP_SECONDS": "0.05",
        "BEAT_SCHEDULE_FILE": str(tmp_path / "beat-schedule"),
        "CELERY_WORKER_CONCURRENCY": "2",
        "PORT": str(port),
        "WORKERS": "1",
    }
    for name in ("PYTEST_CURRENT_TEST", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"):  # a make of its own, not make test's
        env.pop(name, None)
    subprocess.run(["redis-cli", "-u", redis_url, "flushdb"], check=True, capture_output=True)
    log = (tmp_path / "make-run.log").open("w")
    make = subprocess.Popen(
        ["make", "run"], cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    want_markets = set(settings.MARKET_SNAPSHOT_REGIONS)
    want_contracts = set(settings.CONTRACTS_REGIONS)
    health: dict[str, Any] = {}
    try:
        deadline = time.monotonic() + TIMEOUT
        snaps: set[int] = set()
        deals: set[int] = set()
        while time.monotonic() < deadline and make.poll() is None:
            snaps, deals = _counts(run_database)
            if snaps >= want_markets and deals >= want_contracts:
                break
            time.sleep(0.5)
        log_text = (tmp_path / "make-run.log").read_text()
        assert snaps >= want_markets, f"snapshots for {snaps}; log tail:\n{log_text[-4000:]}"
        assert deals >= want_contracts, f"contracts for {deals}; log tail:\n{log_text[-4000:]}"
        health = requests.get(f"http://127.0.0.1:{port}/api/health/", timeout=10).json()
        assert _marked_pids(marker), "the run's processes carry the marker"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(make.pid, signal.SIGTERM)
        try:
            make.wait(timeout=60)
        finally:
            log.close()
            leftovers = _marked_pids(marker)
            for pid in leftovers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    assert health["worker"] == "ok", health
    assert health["sde"] == "ok", health
    assert isinstance(health["beat"], float | int), health
    assert health["market_snapshot_missing_regions"] == []
    assert leftovers == [], f"processes left after SIGTERM: {leftovers}"
    text = (tmp_path / "make-run.log").read_text()
    assert "Listening at: http://127.0.0.1:" in text
    for region in want_markets:
        assert fake_server.count("GET", f"/markets/{region}/orders") >= 1
