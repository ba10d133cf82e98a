"""The server under test: fake outside services, the Procfile's gunicorn and Celery worker, readiness and warm-up."""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shlex
import subprocess
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from pathlib import Path

from bench.loadtest.common import (
    ACCESS_LOG_FORMAT,
    ROOT,
    SETUP_ADDRESS,
    request,
    special_address,
)
from bench.loadtest.scratch import Target
from evesite.testing.fakeserver import FakeHttpServer, FakeResponse
from imagecache.testing import make_png

PROCFILE = ROOT / "Procfile"
# Set by the settings' defaults for the run: the rates, miss budgets and concurrency cap `make run` has.
DEFAULTED = ("THROTTLE_", "IMAGE_MISS_", "API_EXPENSIVE_")
_SHELL_SYNTAX = re.compile(r"[;&|<>`]|\$\(")
_BRACED = re.compile(r"\$\{(\w+)(?::-([^${}]*))?\}")
_PLAIN = re.compile(r"\$(\w+)")


def fake_servers() -> tuple[FakeHttpServer, FakeHttpServer]:
    """Make (not start) the fake image server and the fake outside.

    Returns:
        (images: a 64 px PNG for every type icon, outside: 503 to anything, for ESI, zKillboard, SSO, Fuzzwork).
    """
    png = make_png(64, 64, noise_seed=14)
    images = FakeHttpServer()
    images.add("GET", r"/types/\d+/icon", FakeResponse(body=png, headers={"Content-Type": "image/png"}), regex=True)
    outside = FakeHttpServer()
    for method in ("GET", "POST", "HEAD", "PUT", "DELETE"):
        outside.add(method, r"/.*", FakeResponse(status=503, json={"error": "load test: no outside"}), regex=True)
    return images, outside


def server_env(overrides: Sequence[str], target: Target, images: str, outside: str) -> dict[str, str]:
    """Build the environment of gunicorn, the worker and the seeding child.

    Args:
        overrides: ``NAME=VALUE`` items (``--server-env``), applied last.
        target: Scratch database and Redis.
        images: The fake image server's URL.
        outside: The fake outside's URL (ESI, zKillboard, SSO, Fuzzwork).

    Returns:
        This environment without debug and the ``DEFAULTED`` variables, pointed at the scratch copies and fakes.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(DEFAULTED) and k != "DJANGO_DEBUG"}
    env.update(
        DJANGO_SETTINGS_MODULE="evesite.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=target.scratch_url,
        REDIS_URL=target.redis_url,
        CELERY_BROKER_URL=target.redis_url,
        CELERY_RESULT_BACKEND=target.redis_url,
        IMAGE_SERVER_URL=images,
        ESI_BASE_URL=outside,
        ZKILLBOARD_URL=outside,
        ZKILLBOARD_R2Z2_URL=outside,
        EVE_SSO_URL=outside,
        FUZZWORK_DUMP_URL=outside + "/dump/",
    )
    for item in overrides:
        name, value = item.split("=", 1)
        env[name] = value
    return env


def procfile_command(name: str, variables: Mapping[str, str], procfile: Path = PROCFILE) -> list[str]:
    """Read a Procfile line and expand it as ``/bin/sh`` would: ``$NAME``, ``${NAME}``, ``${NAME:-default}``.

    Args:
        name: The process (``web``, ``worker``).
        variables: The environment to expand from.
        procfile: The file.

    Returns:
        The command line.

    Raises:
        LookupError: When there is no such line.
        ValueError: When the line is more than one plain command (pipes, lists, redirections, substitutions).
    """
    for line in procfile.read_text().splitlines():
        key, colon, command = line.partition(":")
        if colon and key.strip() == name:
            break
    else:
        raise LookupError(f"no `{name}:` line in {procfile}")
    if _SHELL_SYNTAX.search(command):
        raise ValueError(f"the `{name}:` line of {procfile} is not one plain command: {command.strip()}")

    def braced(match: re.Match[str]) -> str:
        """Expand one ``${...}``."""
        value = variables.get(match.group(1), "")
        return value if value or match.group(2) is None else match.group(2)

    previous = ""
    while previous != command:  # innermost first: ${A:-${B:-x}/y}
        previous, command = command, _BRACED.sub(braced, command)
    return shlex.split(_PLAIN.sub(lambda m: variables.get(m.group(1), ""), command))


def web_command(variables: Mapping[str, str], access_log: Path, extra: str) -> list[str]:
    """Return the Procfile's ``web`` command with our access log and the extra gunicorn options.

    Args:
        variables: The environment (``HOST``, ``WEB_PORT``, ``WEB_WORKERS`` among them).
        access_log: Where gunicorn logs requests (``ACCESS_LOG_FORMAT``, which the report reads).
        extra: More gunicorn options (``--gunicorn-args``), last so they win.

    Returns:
        The command line.

    Raises:
        ValueError: When the line does not run gunicorn.
    """
    command = procfile_command("web", variables)
    if Path(command[0]).name != "gunicorn":
        raise ValueError(f"the Procfile's web line does not run gunicorn: {shlex.join(command)}")
    log = ["--access-logfile", str(access_log), "--access-logformat", ACCESS_LOG_FORMAT]
    return [*command, *log, *shlex.split(extra)]


def spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start one of our processes from the checkout, in its own session, output to ``log``.

    Args:
        command: The command line (a relative program is found from the checkout, as honcho would).
        env: Its environment.
        log: Its log file.

    Returns:
        The process (stop it with ``evesite.testing.worker._group_stop``).
    """
    with log.open("wb") as out:
        return subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_healthy(host: str, port: int, processes: Sequence[subprocess.Popen[bytes]]) -> str | None:
    """Wait up to 90 s until health answers 200 with a worker that answered its ping.

    Args:
        host: Server address.
        port: Server port.
        processes: gunicorn and the worker (each must still run).

    Returns:
        None when ready, else what went wrong.
    """
    source = special_address(host, SETUP_ADDRESS)
    deadline = time.monotonic() + 90
    last = "no answer"
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                return f"{process.args!r} exited with {process.returncode}"
        try:
            status, _, content = request(host, port, source, "GET", "/api/health/", timeout=10)
            body = json.loads(content) if status in (200, 503) else {}
            if status == HTTPStatus.OK and body.get("worker") == "ok":
                return None
            last = f"{status} {content[:300]!r}"
        except (OSError, http.client.HTTPException, ValueError) as exc:
            last = type(exc).__name__
        time.sleep(0.5)
    return f"health not ready within 90 s: {last}"


def warm(host: str, port: int, workers: int, hot_types: list[int]) -> list[str]:
    """Warm every gunicorn worker (connections, code, the route name index) and cache the hot icons.

    Args:
        host: Server address.
        port: Server port.
        workers: gunicorn workers (requests are sent that many at a time, twice over).
        hot_types: Icons to cache.

    Returns:
        Unexpected answers (status >= 500 or no answer).
    """
    source = special_address(host, SETUP_ADDRESS)
    paths = [
        "/api/health/",
        "/api/market/global/scan/",
        "/api/routes/?origin=Jita&destination=Amarr&mode=secure",
        "/api/routes/?origin=Jita&destination=Amarr&mode=secure&format=svg",
        *[f"/api/images/type/{t}?size=64" for t in hot_types],
    ]
    problems: list[str] = []

    def get(path: str) -> None:
        """Ask once; note a failure."""
        try:
            status, _, content = request(host, port, source, "GET", path)
            if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
                problems.append(f"{path}: {status} {content[:200]!r}")
        except (OSError, http.client.HTTPException) as exc:
            problems.append(f"{path}: {type(exc).__name__}")

    # The setup address spends 4 x workers of its 20 expensive requests a minute (scans and SVG routes).
    with ThreadPoolExecutor(max(1, workers)) as pool:
        for path in paths[:4]:
            list(pool.map(get, [path] * max(1, workers) * 2))
        list(pool.map(get, paths[4:]))
    return problems
