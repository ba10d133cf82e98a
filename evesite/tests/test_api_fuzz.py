"""Issue 15: schemathesis fuzzes every operation of the schema on a live gunicorn; nothing answers a 5xx.

The requests are anonymous and come from the schema the server itself publishes (``/api/schema/``): its
examples, the coverage phase's boundary and wrong-type values, and random valid and invalid inputs, some of
them real SDE names and ids (``schemathesis.toml`` next to this file) so that they get past the lookups. The
run is bounded (a few dozen cases per operation, about 2200 requests) and deterministic: what one run finds,
the next finds again. A failure lists each operation's failing request as a curl command.

Schemathesis runs as its command line (``schemathesis run``), in a process of its own: its pytest
integration (``schemathesis.pytest.from_fixture``) does not work with this pytest (it sets a node attribute
pytest 9.2 no longer has), and the command runs every phase as documented. No operation is left out: those
that need a login are fuzzed anonymously too (they answer 403 whatever the input, garbage session cookies
included).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from contracts.models import Contract, ItemsStatus
from evesite.testing.fakeserver import FakeHttpServer, FakeResponse
from evesite.testing.worker import gunicorn_server, worker_environment
from imagecache.testing import make_png
from market.services import market_snapshot_store
from market.testing import esi_order
from universe.models import Station

CONFIG = Path(__file__).with_name("schemathesis.toml")
# What the config's dictionaries name: Jita IV-4 and Amarr VIII (The Forge, Domain), Tritanium, a Rifter.
JITA_4_4, AMARR_8 = 60003760, 60008494
TRITANIUM, RIFTER = 34, 587
CONTRACT_ID = 200000001


def _market_and_contract() -> None:
    """Fresh snapshots of The Forge and Domain (station trades and hauls between them) and one contract."""
    jita, amarr = Station.objects.get(id=JITA_4_4), Station.objects.get(id=AMARR_8)
    orders = {
        jita: [(TRITANIUM, False, 4.0), (TRITANIUM, True, 3.0), (RIFTER, False, 400_000.0)],
        amarr: [(TRITANIUM, True, 4.5), (RIFTER, True, 500_000.0), (RIFTER, False, 600_000.0)],
    }
    for n, (station, book) in enumerate(orders.items()):
        market_snapshot_store(
            region_id=station.region_id,
            orders=[esi_order(n * 10 + i, station, t, buy=buy, price=p) for i, (t, buy, p) in enumerate(book, 1)],
        )
    now = timezone.now()
    Contract.objects.create(
        contract_id=CONTRACT_ID,
        region_id=jita.region_id,
        type="item_exchange",
        issuer_id=1,
        issuer_corporation_id=1,
        date_issued=now,
        date_expired=now + timedelta(days=3),
        price=1_000_000,
        items_status=ItemsStatus.FETCHED,
        last_seen_at=now,
    )


@pytest.fixture
def image_server() -> Iterator[FakeHttpServer]:
    """A fake image server: every image is a small PNG."""
    with FakeHttpServer() as server:
        server.add("GET", r"/.*", FakeResponse(body=make_png(), headers={"Content-Type": "image/png"}), regex=True)
        yield server


@pytest.fixture
def live_api(sde_universe: Path, fake_server: FakeHttpServer, image_server: FakeHttpServer) -> Iterator[str]:
    """Gunicorn on the test database with the real SDE and some market data, the outside services faked.

    The test settings' throttle rates (100000/min) stay: the fuzzing is not answered 429.

    Args:
        sde_universe: The real SDE (PostgreSQL and the Neo4j graph), committed.
        fake_server: Stands in for ESI, zKillboard, EVE SSO and Fuzzwork; nothing may ask it anything.
        image_server: The image server.

    Yields:
        The server's base URL.
    """
    _market_and_contract()
    outside = fake_server.url
    with gunicorn_server(
        IMAGE_SERVER_URL=image_server.url,
        ESI_BASE_URL=outside,
        ZKILLBOARD_URL=outside,
        ZKILLBOARD_R2Z2_URL=outside,
        EVE_SSO_URL=outside,
        FUZZWORK_DUMP_URL=outside,
    ) as base:
        yield base


def schemathesis_run(base: str, *options: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``schemathesis run`` on the live server's schema with ``schemathesis.toml``; redirects not followed.

    Args:
        base: The server's base URL.
        *options: More options (the checks).
        cwd: Where it runs.

    Returns:
        The finished process (its report in ``stdout``).
    """
    command = [str(Path(sys.executable).parent / "schemathesis"), "--config-file", str(CONFIG), "--no-color"]
    command += ["run", f"{base}/api/schema/?format=json", "--url", base, "--max-redirects", "0", *options]
    return subprocess.run(
        command,
        cwd=cwd,
        env=worker_environment(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.django_db(transaction=True)
def test_no_generated_request_answers_a_server_error(
    live_api: str, fake_server: FakeHttpServer, tmp_path: Path
) -> None:
    """Every generated request of every operation answers below 500, and no outside service is asked."""
    checks = "not_a_server_error,status_code_conformance"
    run = schemathesis_run(live_api, "--checks", checks, "--request-timeout", "30", cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    assert fake_server.requests == []
