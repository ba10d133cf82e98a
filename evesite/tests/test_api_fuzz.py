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

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils import timezone

from accounts.tests.conftest import CHARACTER_ID, CLIENT_SECRET, ENCRYPTION_KEY, FakeSso
from contracts.models import Contract, ItemsStatus
from evesite.testing.fakeserver import FakeHttpServer, FakeResponse
from evesite.testing.worker import gunicorn_server, worker_environment
from imagecache.testing import make_png
from market.services import market_snapshot_store
from market.testing import esi_order
from universe.models import Station

CONFIG = Path(__file__).with_name("schemathesis.toml")
ROOT = Path(__file__).resolve().parents[2]
# Hypothesis' Unicode tables, which schemathesis' string strategies need (about 5 CPU-seconds to build), are
# kept where pytest's own Hypothesis keeps them, not rebuilt in each run's tmp_path. The runs are derandomized,
# which leaves Hypothesis' example database out: nothing else is read from there.
HYPOTHESIS_STORAGE = ROOT / ".hypothesis"
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
        EVE_CLIENT_SECRET=CLIENT_SECRET,
        TOKEN_ENCRYPTION_KEY=ENCRYPTION_KEY,
        IMAGE_SERVER_URL=image_server.url,
        ESI_BASE_URL=outside,
        ZKILLBOARD_URL=outside,
        ZKILLBOARD_R2Z2_URL=outside,
        EVE_SSO_URL=outside,
        FUZZWORK_DUMP_URL=outside,
    ) as base:
        yield base


# What the fuzzer checks on every answer: no 5xx, only documented statuses, content types and headers, bodies
# that match the documented schema, invalid input refused, valid input accepted, 405 for other methods.
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "positive_data_acceptance",
        "unsupported_method",
    ]
)
# `make fuzz` multiplies the random cases per operation (FUZZ_EXAMPLES=250: ten times the suite's 25).
MAX_EXAMPLES = os.environ.get("FUZZ_EXAMPLES", "")
# Operations whose answer depends on the login, fuzzed again with a session; logout is left out (it would end it).
LOGGED_IN = ["--include-path-regex", "^/api/(me/|market/stations/)", "--exclude-operation-id", "auth_logout_create"]


def schemathesis_run(
    base: str, *options: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``schemathesis run`` on the live server's schema with ``schemathesis.toml``; redirects not followed.

    Args:
        base: The server's base URL.
        *options: More options (headers, operations).
        cwd: Where it runs.
        env: More environment variables (the logged-in run's hook and session).

    Returns:
        The finished process (its report in ``stdout``).
    """
    command = [str(Path(sys.executable).parent / "schemathesis"), "--config-file", str(CONFIG), "--no-color"]
    command += ["run", f"{base}/api/schema/?format=json", "--url", base, "--max-redirects", "0"]
    command += ["--checks", CHECKS, "--request-timeout", "30", *options]
    if MAX_EXAMPLES:
        command += ["--max-examples", MAX_EXAMPLES]
    run = subprocess.run(
        command,
        cwd=cwd,
        env=worker_environment(HYPOTHESIS_STORAGE_DIRECTORY=str(HYPOTHESIS_STORAGE), **(env or {})),
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    (cwd / "schemathesis.txt").open("a").write(run.stdout + run.stderr)
    return run


def _failures(run: subprocess.CompletedProcess[str], cwd: Path) -> str:
    """What failed, one line per operation and kind of failure (the whole report is in ``schemathesis.txt``)."""
    lines = [line.strip() for line in run.stdout.splitlines()]
    summary = [line for line in lines if (line.startswith("___") and line.endswith("___")) or line.startswith("- ")]
    return "\n".join([f"report: {cwd / 'schemathesis.txt'}", *dict.fromkeys(summary), *lines[-15:]])


@pytest.fixture
def sso(fake_server: FakeHttpServer, settings: Any) -> FakeSso:
    """EVE SSO on the fake server, for the live server's logins."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return FakeSso(fake_server, key, settings.EVE_CLIENT_ID)


def _login(base: str, sso: FakeSso) -> tuple[str, str]:
    """Log in through the fake SSO on the live server; return the session id and the CSRF token."""
    browser = requests.Session()
    begin = browser.get(f"{base}/api/auth/login/", timeout=10)
    assert begin.status_code == 200, begin.text
    csrf = browser.cookies["csrftoken"]
    start = browser.post(
        f"{base}/auth/login/eveonline/", headers={"X-CSRFToken": csrf}, allow_redirects=False, timeout=10
    )
    assert start.status_code == 302, start.text
    query = {k: v[0] for k, v in parse_qs(urlsplit(start.headers["Location"]).query).items()}
    code = sso.authorize(query["code_challenge"])
    done = browser.get(
        f"{base}/auth/complete/eveonline/",
        params={"code": code, "state": query["state"]},
        allow_redirects=False,
        timeout=10,
    )
    assert done.status_code == 302, done.text
    me = browser.get(f"{base}/api/me/", timeout=10)
    assert me.status_code == 200, me.text
    return browser.cookies["sessionid"], browser.cookies["csrftoken"]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_no_generated_request_breaks_the_contract(
    live_api: str, fake_server: FakeHttpServer, sso: FakeSso, tmp_path: Path
) -> None:
    """Anonymous, then logged in: no 5xx, nothing undocumented, no schema violation, no outside request."""
    # Anonymous requests change nothing another operation reads: two at a time, one per gunicorn worker.
    anonymous = schemathesis_run(live_api, "--workers", "2", cwd=tmp_path)
    assert anonymous.returncode == 0, _failures(anonymous, tmp_path)
    assert fake_server.requests == []

    session, csrf = _login(live_api, sso)
    # ``station_id=current`` asks ESI where the character is: docked in Jita IV-4.
    location = {"solar_system_id": 30000142, "station_id": JITA_4_4}
    fake_server.add("GET", f"/characters/{CHARACTER_ID}/location", FakeResponse(json=location))
    asked = len(fake_server.requests)
    hooks = {
        "SCHEMATHESIS_HOOKS": "evesite.tests.fuzz_session",
        "PYTHONPATH": str(ROOT),
        "FUZZ_SESSIONID": session,
        "FUZZ_CSRFTOKEN": csrf,
    }
    logged_in = schemathesis_run(live_api, *LOGGED_IN, cwd=tmp_path, env=hooks)
    assert logged_in.returncode == 0, _failures(logged_in, tmp_path)
    assert "Authentication failed" not in logged_in.stdout, _failures(logged_in, tmp_path)
    # Only ``current`` station scans ask an outside service something.
    outside = {request.path for request in fake_server.requests[asked:]}
    assert outside <= {f"/characters/{CHARACTER_ID}/location"}, outside
