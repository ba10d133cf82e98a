"""Benchmark: cache-hit throughput of ``/api/images/...`` next to a trivial JSON view (target: >= half its rate).

It starts gunicorn (``BENCH_WORKERS`` sync workers, the same server for both
URLs) on a free loopback port against the configured database, with a bench-only
URLconf (``bench/images_urls.py``) that adds ``/bench/ping/`` (a constant
``JsonResponse``). A fake image server on loopback serves one PNG; the benchmark
warms one image into the cache (one miss), then measures requests per second of
the cached image and of the trivial view in alternating rounds with a bounded
load generator in separate processes (``wrk`` when installed, else a threaded
Python client), prints both rates and their ratio, and deletes the row it
created (also when interrupted). Existing rows are never touched: it picks a
type id (near 2**31) that no row uses.

Run: ``.venv/bin/python bench/bench_images.py`` (``make bench`` runs every benchmark).
Environment: ``BENCH_WORKERS`` (2), ``BENCH_CONNECTIONS`` (16), ``BENCH_SECONDS`` (2 per round),
``BENCH_ROUNDS`` (8 per URL), ``BENCH_IMAGE_SIZE`` (64), ``BENCH_LOAD`` (``auto``, ``wrk`` or ``python``).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from http import HTTPStatus
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evesite.settings.production")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import DatabaseError  # noqa: E402

from evesite.testing.fakeserver import FakeHttpServer, FakeResponse  # noqa: E402
from evesite.testing.ports import free_port  # noqa: E402
from imagecache.models import ImageCache  # noqa: E402
from imagecache.testing import make_png  # noqa: E402

WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "2"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "8"))
SIZE = int(os.environ.get("BENCH_IMAGE_SIZE", "64"))
TARGET_RATIO = 0.5
ID_BASE = 2_147_480_000  # character ids this high do not exist in EVE (type ids must be in the SDE)


def unused_character_id() -> int:
    """Pick a type id no cached row uses.

    Returns:
        The id.
    """
    taken = set(
        ImageCache.objects.filter(resource_type="character", resource_id__gte=ID_BASE).values_list(
            "resource_id", flat=True
        )
    )
    return next(i for i in range(ID_BASE + os.getpid() % 1000, 2**31) if i not in taken)


def start_gunicorn(port: int, image_server_url: str) -> subprocess.Popen[bytes]:
    """Start gunicorn with the bench URLconf, DEBUG off and no access log.

    Args:
        port: Loopback port.
        image_server_url: The fake image server.

    Returns:
        The process (its own process group).
    """
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.images_settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=env.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
        IMAGE_SERVER_URL=image_server_url,
        LOG_LEVEL="WARNING",
    )
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    cmd = [gunicorn, "evesite.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS)]
    cmd += ["--pythonpath", str(ROOT), "--log-level", "warning", "--backlog", "2048"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)


def wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    """Wait until gunicorn answers the trivial view.

    Args:
        base: The server's base URL.
        process: The gunicorn process.

    Raises:
        RuntimeError: When it exits or does not answer within 60 s.
    """
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            if requests.get(f"{base}/bench/ping/", timeout=2).status_code == HTTPStatus.OK:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within 60 s")


def run_wrk(url: str) -> tuple[float, int]:
    """Load one URL with wrk for SECONDS.

    Args:
        url: The URL.

    Returns:
        (requests per second, non-2xx/3xx answers and socket errors).
    """
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS:g}s", "--timeout", "10s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", out))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if errors:
        bad += sum(int(n) for n in errors.groups())
    return rate, bad


PY_CLIENT = r"""
import sys, threading, time, http.client, urllib.parse
url, seconds, conns = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
u = urllib.parse.urlsplit(url)
target = u.path + ("?" + u.query if u.query else "")
counts = [0, 0]
lock = threading.Lock()
end = time.monotonic() + seconds
def worker():
    ok = bad = 0
    while time.monotonic() < end:
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        try:
            c.request("GET", target)
            r = c.getresponse(); r.read()
            ok += r.status < 400; bad += r.status >= 400
        except OSError:
            bad += 1
        finally:
            c.close()
    with lock:
        counts[0] += ok; counts[1] += bad
threads = [threading.Thread(target=worker) for _ in range(conns)]
start = time.monotonic()
[t.start() for t in threads]; [t.join() for t in threads]
print(counts[0] / (time.monotonic() - start), counts[1])
"""


def run_python_client(url: str) -> tuple[float, int]:
    """Load one URL with a threaded Python client in a separate process (when wrk is missing).

    Args:
        url: The URL.

    Returns:
        (requests per second, failed requests).
    """
    out = subprocess.run(
        [sys.executable, "-c", PY_CLIENT, url, str(SECONDS), str(CONNECTIONS)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), int(out[1])


def main() -> int:
    """Run the benchmark.

    Returns:
        The exit status (0 when the target is met).
    """
    try:
        character_id = unused_character_id()
    except DatabaseError as exc:
        print(f"cannot read the image cache table (run `manage.py migrate`): {exc}")
        return 2
    png = make_png(SIZE, SIZE, noise_seed=5)
    wanted = os.environ.get("BENCH_LOAD", "auto")
    load = run_wrk if wanted == "wrk" or (wanted == "auto" and shutil.which("wrk")) else run_python_client
    db = settings.DATABASES["default"]
    host = str(db["HOST"] or "127.0.0.1")
    reach = f"unix socket in {host}" if host.startswith("/") else f"TCP {host}:{db['PORT'] or 5432}"
    print(f"gunicorn: {WORKERS} sync workers; load: {load.__name__}, {CONNECTIONS} connections; PostgreSQL: {reach}")
    print(f"{ROUNDS} alternating rounds of {SECONDS:g} s per URL; image: {len(png)} bytes PNG ({SIZE} px)")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    image_url = f"{base}/api/images/character/{character_id}?size={SIZE}"
    ping_url = f"{base}/bench/ping/"
    with FakeHttpServer() as upstream:
        upstream.add(
            "GET", f"/characters/{character_id}/portrait", FakeResponse(body=png, headers={"Content-Type": "image/png"})
        )
        server = start_gunicorn(port, upstream.url)
        try:
            wait_ready(base, server)
            first = requests.get(image_url, timeout=30)
            second = requests.get(image_url, timeout=30)
            assert first.status_code == HTTPStatus.OK, first.text
            assert first.content == png
            assert second.content == png
            assert upstream.count() == 1, "the second request should have been a cache hit"
            rates: dict[str, list[float]] = {"image": [], "ping": []}
            bad = 0
            for _ in range(ROUNDS):
                for name, url in (("ping", ping_url), ("image", image_url)):
                    rate, failed = load(url)
                    rates[name].append(rate)
                    bad += failed
            assert upstream.count() == 1, "every measured image request must be a cache hit"
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
            deleted, _ = ImageCache.objects.filter(resource_type="character", resource_id=character_id).delete()
            print(f"cleanup: deleted {deleted} bench row(s)", flush=True)
    image_rate = sum(rates["image"]) / ROUNDS
    ping_rate = sum(rates["ping"]) / ROUNDS
    ratio = image_rate / ping_rate
    print(f"trivial JSON view : {ping_rate:8.0f} req/s  (rounds: {', '.join(f'{r:.0f}' for r in rates['ping'])})")
    print(f"image cache hits  : {image_rate:8.0f} req/s  (rounds: {', '.join(f'{r:.0f}' for r in rates['image'])})")
    print(f"ratio             : {ratio:8.2f}  (target >= {TARGET_RATIO}); failed requests: {bad}")
    ok = ratio >= TARGET_RATIO and bad == 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
