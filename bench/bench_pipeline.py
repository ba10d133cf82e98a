"""Benchmark: the market pipeline under load, from the first scan to three stored snapshots.

It makes a scratch database (``<name>_bench_pipeline``, dropped afterwards) and uses a
scratch Redis database (``BENCH_REDIS_DB``, flushed), so nothing ``make run`` serves is
touched. A fake ESI on loopback serves 3 regions x ``BENCH_PIPELINE_PAGES`` pages of
``BENCH_PIPELINE_ORDERS_PER_PAGE`` orders. gunicorn (2 workers) and ONE Celery worker
(prefork, 2 processes) run as in ``make run``, with the page delay shrunk to 0.05 s.

One scan request per region starts the clock; each answers 202 with a job. It stops when
all three snapshots are stored, and compares the time with the floor
``pages x page delay + regions x region delay`` (walks are serialised across every worker:
one ESI walk at a time). Meanwhile a separate process sends other API requests (global
scan, job status, a fresh region's scan, health) with 2 clients and reports p50/p99. Each gunicorn
worker is warmed first (its first requests connect and load code), as a running server would be.

Run: ``.venv/bin/python bench/bench_pipeline.py`` (``make bench`` runs every benchmark).
Environment: ``BENCH_PIPELINE_PAGES`` (100), ``BENCH_PIPELINE_ORDERS_PER_PAGE`` (1000),
``BENCH_PIPELINE_PAGE_DELAY`` (0.05), ``BENCH_PIPELINE_REGION_DELAY`` (0.5), ``BENCH_REDIS_DB`` (13),
``BENCH_PIPELINE_CLIENT_PAUSE`` (0.1 s between the requests of each load client).
Targets: total time within 2 x the floor at a 0.05 s page delay (the floor leaves out each page's
round trip and the storing of the last region); p99 of the other requests under 200 ms; no 5xx.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Nothing here needs Django set up (the spawned load process imports this script too); main() sets it up.
import django  # noqa: E402
import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from bench.pipeline_support import fake_esi_start  # noqa: E402
from evesite.testing.ports import free_port  # noqa: E402 - after the path
from evesite.testing.scratchdb import default_conninfo, scratch_database_drop  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evesite.settings.production")

PAGES = int(os.environ.get("BENCH_PIPELINE_PAGES", "100"))
PER_PAGE = int(os.environ.get("BENCH_PIPELINE_ORDERS_PER_PAGE", "1000"))
PAGE_DELAY = float(os.environ.get("BENCH_PIPELINE_PAGE_DELAY", "0.05"))
REGION_DELAY = float(os.environ.get("BENCH_PIPELINE_REGION_DELAY", "0.5"))
REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "13"))
# Pause of each of the 2 load clients between requests (about 15 requests/s in all: users, not a flood).
PAUSE = float(os.environ.get("BENCH_PIPELINE_CLIENT_PAUSE", "0.1"))
# Region, system and station ids outside CCP's ranges (they only exist in the scratch database).
REGIONS = (19800001, 19800002, 19800003)
FRESH_REGION = 19800004
# The floor leaves out each page's round trip (the page delay runs from the end of one answer to the next
# request) and the storing of the last region (100,000 orders): at 0.05 s they roughly double it.
TARGET_RATIO = 2.0
TARGET_P99_MS = 200.0


def _pct(values: list[float], q: float) -> float:
    """Return the q-quantile (0..1) in milliseconds."""
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _other_requests(base: str, job_ids: list[str], stop: Any, out: Any) -> None:
    """Send other API requests with 2 clients until ``stop`` is set (runs in its own process).

    Args:
        base: Server URL.
        job_ids: Jobs to ask about.
        stop: A multiprocessing Event.
        out: Queue receiving (latencies in seconds, failures).
    """
    paths = [
        "/api/market/global/scan/?limit=10",
        f"/api/market/regions/{FRESH_REGION}/scan/?limit=10",
        "/api/health/",
        *[f"/api/jobs/{job_id}/" for job_id in job_ids],
    ]
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client(offset: int) -> None:
        """Cycle through the paths."""
        session = requests.Session()
        session.trust_env = False
        index = offset
        while not stop.is_set():
            path = paths[index % len(paths)]
            index += 1
            start = time.perf_counter()
            response = session.get(base + path, timeout=30)
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                if response.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR:
                    failures.append(f"{path}: {response.status_code}")
            time.sleep(PAUSE)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put((latencies, failures))


def _scratch_database(name: str, *, create: bool) -> None:
    """Create (after dropping a leftover) or drop the scratch database, through the default connection.

    Args:
        name: The scratch database.
        create: Create it, or only drop it.
    """
    scratch_database_drop(conninfo=default_conninfo(), name=name)
    if create:
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')


class _BenchFailedError(Exception):
    """The benchmark could not measure (a job failed, or the snapshots were not stored in time)."""


def _stack_start(env: dict[str, str], processes: list[subprocess.Popen[bytes]]) -> str:
    """Migrate and seed the scratch database, start gunicorn and a worker (added to ``processes``); the base URL."""
    py = str(ROOT / ".venv/bin/python")
    subprocess.run([py, "manage.py", "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
    setup = (
        "import django; django.setup()\n"
        "from django_redis import get_redis_connection; get_redis_connection('default').flushdb()\n"
        "from universe.models import Region, Constellation, SolarSystem, Station\n"
        f"for r in {(*REGIONS, FRESH_REGION)!r}:\n"
        "    Region.objects.create(id=r, name=f'Bench {r}', x=0, y=0, z=0)\n"
        "    Constellation.objects.create(id=r + 10_000_000, name=f'C {r}', region_id=r, x=0, y=0, z=0)\n"
        "    SolarSystem.objects.create(id=r + 20_000_000, name=f'S {r}', region_id=r,"
        " constellation_id=r + 10_000_000, security=0.9, x=0, y=0, z=0)\n"
        "    Station.objects.create(id=r + 50_000_000, name=f'St {r}', system_id=r + 20_000_000, region_id=r,"
        " security=0.9, type_id=1529, x=0, y=0, z=0)\n"
        "from market.services import market_snapshot_store\n"
        f"market_snapshot_store(region_id={FRESH_REGION}, orders=[])\n"
    )
    subprocess.run([py, "-c", setup], env=env, cwd=ROOT, check=True)
    port = free_port()
    processes.append(
        subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "evesite.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
    )
    processes.append(
        subprocess.Popen(
            [
                py,
                "-m",
                "celery",
                "-A",
                "evesite",
                "worker",
                "-c",
                "2",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
    )
    return f"http://127.0.0.1:{port}"


def _ready(session: requests.Session, base: str) -> bool:
    """Wait for gunicorn and the worker (health), then warm the gunicorn workers; whether they came up."""
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(requests.RequestException):
            health = session.get(f"{base}/api/health/", timeout=5)
            if health.status_code == HTTPStatus.OK and health.json().get("worker", "ok") == "ok":
                break
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    # Each gunicorn worker connects and loads its code on its first requests (two at a time reach both).
    warm = ["/api/schema/", "/api/market/global/scan/", "/api/market/regions/1/scan/", "/api/jobs/0/"]
    with ThreadPoolExecutor(2) as pool:
        for path in warm * 3:
            list(pool.map(lambda url: session.get(url, timeout=30), [base + path] * 2))
    return True


def _jobs_wait(
    session: requests.Session, base: str, job_ids: list[str], *, started: float, floor: float
) -> dict[str, float]:
    """Poll the jobs until all are done or time runs out: seconds since ``started`` each finished at.

    Raises:
        _BenchFailedError: When a job failed.
    """
    done: dict[str, float] = {}
    while len(done) < len(job_ids) and time.monotonic() - started < floor * 3 + 60:
        for job_id in job_ids:
            job = session.get(f"{base}/api/jobs/{job_id}/", timeout=10).json()
            if job["state"] == "failed":
                raise _BenchFailedError(f"job {job_id} failed: {job['error']}")
            if job["state"] == "done":
                done.setdefault(job_id, time.monotonic() - started)
        time.sleep(0.05)
    return done


def _walk(session: requests.Session, base: str) -> dict[str, Any]:
    """Start the scans, time the walk while other requests run; the figures.

    Raises:
        _BenchFailedError: When a job failed or the snapshots were not all stored in time.
    """
    started = time.monotonic()
    first_answers = []
    job_ids = []
    for region in REGIONS:
        t = time.perf_counter()
        response = session.get(f"{base}/api/market/regions/{region}/scan/", timeout=10)
        first_answers.append((time.perf_counter() - t) * 1000)
        assert response.status_code == HTTPStatus.ACCEPTED, response.text
        job_ids.append(response.json()["job"]["id"])
    floor = PAGES * len(REGIONS) * PAGE_DELAY + len(REGIONS) * REGION_DELAY
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    stop = ctx.Event()
    loader = ctx.Process(target=_other_requests, args=(base, job_ids, stop, queue))
    loader.start()
    try:
        done = _jobs_wait(session, base, job_ids, started=started, floor=floor)
    finally:
        elapsed = time.monotonic() - started
        stop.set()
        latencies, failures = queue.get(timeout=60)
        loader.join()
    if len(done) < len(job_ids):
        raise _BenchFailedError(f"only {len(done)} of {len(job_ids)} snapshots stored after {elapsed:.1f} s")
    return {
        "first_answers": first_answers,
        "done": done,
        "elapsed": elapsed,
        "floor": floor,
        "latencies": latencies,
        "failures": failures,
    }


def _report(walk: dict[str, Any]) -> bool:
    """Print the figures; whether the targets are met."""
    elapsed, floor, latencies, failures = walk["elapsed"], walk["floor"], walk["latencies"], walk["failures"]
    ratio = elapsed / floor
    p50, p99 = _pct(latencies, 0.5), _pct(latencies, 0.99)
    stored_at = ", ".join(f"{seconds:.2f}" for seconds in sorted(walk["done"].values()))
    print(f"first scans (202): {', '.join(f'{ms:.1f}' for ms in walk['first_answers'])} ms")
    print(f"snapshots stored at {stored_at} s; all three after {elapsed:.2f} s")
    print(
        f"floor (pages x page delay + regions x region delay) {floor:.2f} s; "
        f"ratio {ratio:.2f} (target <= {TARGET_RATIO})"
    )
    print(
        f"other requests during the walk: {len(latencies)}, p50 {p50:.1f} ms, p99 {p99:.1f} ms "
        f"(target p99 < {TARGET_P99_MS:.0f} ms), mean {1000 * statistics.mean(latencies):.1f} ms, "
        f"server errors {len(failures)}"
    )
    pages = PAGES * len(REGIONS)
    print(f"one worker: {pages / elapsed:.1f} pages/s, {pages * PER_PAGE / elapsed:,.0f} orders/s stored")
    return ratio <= TARGET_RATIO and p99 < TARGET_P99_MS and not failures


def main() -> int:
    """Run the benchmark and print its figures.

    Returns:
        0 when the targets are met.
    """
    django.setup()
    base_url = settings.DATABASE_URL
    scratch = urlsplit(base_url).path.lstrip("/") + "_bench_pipeline"
    scratch_url = urlunsplit(urlsplit(base_url)._replace(path="/" + scratch))
    redis_url = urlunsplit(urlsplit(settings.REDIS_URL)._replace(path=f"/{REDIS_DB}"))
    print(
        f"pages {PAGES} x {len(REGIONS)} regions, {PER_PAGE} orders a page; delays: page {PAGE_DELAY} s, "
        f"region {REGION_DELAY} s; scratch database {scratch}, Redis db {REDIS_DB}"
    )
    fake = fake_esi_start(regions=REGIONS, pages=PAGES, per_page=PER_PAGE)
    _scratch_database(scratch, create=True)
    processes: list[subprocess.Popen[bytes]] = []
    env = {
        **os.environ,
        "DATABASE_URL": scratch_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "ESI_PAGE_DELAY_SECONDS": str(PAGE_DELAY),
        "ESI_REGION_DELAY_SECONDS": str(REGION_DELAY),
        "ESI_BUCKET_CAPACITY": "1000",
        "ESI_BUCKET_REFILL_PER_SECOND": "1000",
        "DJANGO_SETTINGS_MODULE": "evesite.settings.production",
        "LOG_LEVEL": "WARNING",
        "ESI_BASE_URL": fake.url,
    }
    try:
        base = _stack_start(env, processes)
        session = requests.Session()
        session.trust_env = False
        if not _ready(session, base):
            print("gunicorn or the worker did not start")
            return 1
        walk = _walk(session, base)
    except _BenchFailedError as exc:
        print(exc)
        return 1
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
        fake.stop()
        _scratch_database(scratch, create=False)
    return 0 if _report(walk) else 1


if __name__ == "__main__":
    sys.exit(main())
