"""Command line and the run: refuse anything off loopback, build the scratch stack, load it, report, clean up."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import multiprocessing
import os
import secrets
import shlex
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import django
from django.conf import settings

import bench.loadtest
from bench.loadtest import report, scratch, stack
from bench.loadtest.clients import client_group, client_groups, prober
from bench.loadtest.common import (
    APPRAISAL_BODY,
    BASELINE_SECONDS,
    MAX_CLIENTS,
    MAX_SECONDS,
    PROBER_ADDRESS,
    REQUEST_TIMEOUT,
    ROOT,
    SETUP_ADDRESS,
    VENV_BIN,
    Answer,
    Plan,
    client_address,
    loopback_host,
    request,
    special_address,
)
from evesite.testing.fakeserver import FakeHttpServer
from evesite.testing.ports import free_port
from evesite.testing.worker import _group_cpu_ticks, _group_stop

MAX_PAUSE = 10  # seconds between a client's requests, at most
MAX_ORDERS = 200_000  # seeded orders per region, at most
MAX_WORKERS = 16  # gunicorn workers, at most


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    """Parse and check the command line."""
    doc = bench.loadtest.__doc__ or ""
    parser = argparse.ArgumentParser(prog="bench/load_test.py", description=doc.split("\n", 1)[0])
    parser.add_argument("--clients", type=int, default=50, help=f"anonymous clients (1..{MAX_CLIENTS})")
    parser.add_argument("--greedy", type=int, default=10, help="of them: no pause, Retry-After ignored (0..clients)")
    parser.add_argument("--seconds", type=float, default=30.0, help=f"length of the run (1..{MAX_SECONDS:g})")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds a paced client waits between requests")
    parser.add_argument("--orders", type=int, default=20_000, help="synthetic orders per region (1..200000)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address gunicorn binds")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")), help="WEB_WORKERS")
    parser.add_argument("--gunicorn-args", default="", help="gunicorn options after the Procfile's web line")
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= MAX_CLIENTS:
        parser.error(f"--clients must be 1..{MAX_CLIENTS}")
    if not 0 <= args.greedy <= args.clients:
        parser.error("--greedy must be 0..--clients")
    if not 1 <= args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be 1..{MAX_SECONDS:g}")
    if not 0 <= args.pause <= MAX_PAUSE:
        parser.error(f"--pause must be 0..{MAX_PAUSE}")
    if not 1 <= args.orders <= MAX_ORDERS:
        parser.error(f"--orders must be 1..{MAX_ORDERS}")
    if not 1 <= args.workers <= MAX_WORKERS:
        parser.error(f"--workers must be 1..{MAX_WORKERS}")
    try:
        args.host = str(ipaddress.ip_address(args.host))
    except ValueError:
        parser.error(f"--host {args.host!r} is not an IP address")
    if not loopback_host(args.host):
        parser.error(f"--host {args.host!r} is not a loopback address (127.0.0.0/8 or ::1): refused")
    for item in args.server_env:
        if "=" not in item:
            parser.error(f"--server-env {item!r}: use NAME=VALUE")
        value = item.split("=", 1)[1]
        if "://" in value and not loopback_host(urlsplit(value).hostname or ""):
            parser.error(f"--server-env {item!r} points off this machine: refused (loopback only)")
    return args


def _refusal(host: str, clients: int) -> str | None:
    """Say why the run cannot go on: a datastore off this machine, a source address that cannot be bound."""
    urls = {"DATABASE_URL": settings.DATABASE_URL, "REDIS_URL": settings.REDIS_URL}
    urls["NEO4J_BOLT_URL"] = settings.NEO4J_BOLT_URL
    for name, url in urls.items():
        where = settings.DATABASES["default"].get("HOST") if name == "DATABASE_URL" else urlsplit(url).hostname
        if not loopback_host(str(where or "")):
            return f"{name} points at {where!r}, not at this machine: refused (loopback only)"
    addresses = {client_address(host, i) for i in range(1, clients + 1)}
    for address in {*addresses, special_address(host, PROBER_ADDRESS), special_address(host, SETUP_ADDRESS)}:
        with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as probe:
            try:
                probe.bind((address, 0))
            except OSError as exc:
                return f"cannot bind source address {address}: {exc}"
    return None


@contextlib.contextmanager
def _terminate_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt for the block, so the cleanup runs."""

    def raise_interrupt(signum: int, frame: object) -> None:
        """Interrupt the main thread."""
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _prepare(env: dict[str, str], args: argparse.Namespace) -> dict[str, Any] | None:
    """Migrate and seed the scratch copies; return the seed's report (None on failure, said why)."""
    python = str(VENV_BIN / "python")
    started = time.monotonic()
    migrate = subprocess.run(
        [python, "manage.py", "migrate", "--noinput", "-v0"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if migrate.returncode:
        print(f"migrate of the scratch database failed:\n{migrate.stdout[-2000:]}{migrate.stderr[-3000:]}")
        return None
    spec = {
        "orders": args.orders,
        "seed": args.seed,
        "ttl": int(args.seconds) + 900,
        "new_types": args.clients * int(args.seconds * 4 + 20),
    }
    seeded = subprocess.run(
        [python, "-m", "bench.loadtest.seed", json.dumps(spec)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if seeded.returncode:
        print(f"seeding failed:\n{seeded.stdout[-2000:]}{seeded.stderr[-3000:]}")
        return None
    seed: dict[str, Any] = json.loads(seeded.stdout.strip().splitlines()[-1])
    print(
        f"scratch ready in {time.monotonic() - started:.1f} s: snapshots "
        + ", ".join(f"{region}: {count} orders" for region, count in seed["orders"].items())
        + f"; hot icons {seed['hot_types']}, {len(seed['new_types'])} type ids for first-time icons"
    )
    return seed


def _describe(web: Sequence[str]) -> str:
    """Shorten the gunicorn command for the summary (no app, bind, logs or control socket)."""
    words: list[str] = []
    rest = iter(web[2:])
    for word in rest:
        if word in ("--bind", "--access-logfile", "--access-logformat"):
            next(rest, None)
        elif word != "--no-control-socket":
            words.append(word)
    return shlex.join(["gunicorn", *words])


def _measure(
    plan: Plan,
    processes: Sequence[subprocess.Popen[bytes]],
    fakes: tuple[FakeHttpServer, FakeHttpServer],
    access_log: Path,
    server: str,
) -> bool:
    """Run the prober and the clients, then report; True when the run passes."""

    def cpu_seconds() -> list[float]:
        """CPU seconds of gunicorn's and the worker's process groups."""
        return [_group_cpu_ticks(p.pid) / os.sysconf("SC_CLK_TCK") for p in processes]

    images, outside = fakes
    before = {"images": images.count(), "outside": outside.count()}
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    loaders = [ctx.Process(target=prober, args=(plan, queue), daemon=True)]
    loaders += [ctx.Process(target=client_group, args=(g, plan, queue), daemon=True) for g in client_groups(plan)]
    for loader in loaders:
        loader.start()
    usage = report.Usage(loadavg=" ".join(Path("/proc/loadavg").read_text().split()[:3]))
    time.sleep(max(0.0, plan.start_at - plan.baseline - time.time()))
    cpu_baseline = report.cpu_ticks()
    time.sleep(max(0.0, plan.start_at - time.time()))
    cpu_before, groups_before = report.cpu_ticks(), cpu_seconds()
    time.sleep(plan.seconds)
    cpu_after, groups_after = report.cpu_ticks(), cpu_seconds()
    usage.busy_baseline = (cpu_before[0] - cpu_baseline[0]) / max(1, cpu_before[1] - cpu_baseline[1])
    usage.busy_run = (cpu_after[0] - cpu_before[0]) / max(1, cpu_after[1] - cpu_before[1])
    usage.gunicorn = groups_after[0] - groups_before[0]
    usage.worker = groups_after[1] - groups_before[1]
    answers: list[Answer] = []
    health: list[Answer] = []
    deadline = time.monotonic() + REQUEST_TIMEOUT + 60
    for _ in loaders:
        kind, items, process_seconds = queue.get(timeout=max(1.0, deadline - time.monotonic()))
        (health if kind == "health" else answers).extend(items)
        usage.generator += process_seconds
    for loader in loaders:
        loader.join(timeout=10)
    upstream = {"images": images.count() - before["images"], "outside": outside.count() - before["outside"]}
    time.sleep(0.5)  # the access log's last lines
    return report.report(
        answers, health, plan, server_times=report.access_log(access_log), upstream=upstream, usage=usage, server=server
    )


def _run(args: argparse.Namespace, target: scratch.Target, logs: Path, cleanup: contextlib.ExitStack) -> int:
    """Build the scratch stack (its cleanup goes on ``cleanup``), load it and report; the exit status."""
    cleanup.callback(scratch.redis_flush, target.redis_url)
    why = scratch.database_create(target)
    if why:
        print(why)
        return 2

    def drop() -> None:
        """Drop the scratch database and say so."""
        if scratch.database_drop(target):
            print(f"dropped {target.scratch_db}")

    cleanup.callback(drop)
    fakes = stack.fake_servers()
    for fake in fakes:
        fake.start()
        cleanup.callback(fake.stop)
    env = stack.server_env(args.server_env, target, fakes[0].url, fakes[1].url)
    seed = _prepare(env, args)
    if seed is None:
        return 2
    host, port = args.host, free_port()
    # What `make run` exports for the Procfile (gunicorn wants an IPv6 address in brackets).
    env.update(HOST=f"[{host}]" if ":" in host else host, WEB_PORT=str(port), WEB_WORKERS=str(args.workers))
    access_log = logs / "access.log"
    try:
        web = stack.web_command(env, access_log, args.gunicorn_args)
        worker = stack.procfile_command("worker", env)
    except (LookupError, ValueError) as exc:
        print(exc)
        return 2
    print(f"web: {shlex.join(web)}\nworker: {shlex.join(worker)}")
    processes = []
    for command, name in ((web, "gunicorn"), (worker, "worker")):
        processes.append(stack.spawn(command, env, logs / f"{name}.log"))
        cleanup.callback(_group_stop, processes[-1])
    problem = stack.wait_healthy(host, port, processes)
    if problem:
        print(f"the server did not come up: {problem} (see {logs})")
        return 2
    setup = special_address(host, SETUP_ADDRESS)
    status, _, _ = request(host, port, setup, "POST", "/api/appraisal/", body=APPRAISAL_BODY)
    print(
        f"appraisal: POST /api/appraisal/ answered {status} at start: "
        + ("in the mix" if status != HTTPStatus.NOT_FOUND else "not there yet (404), left out of the mix")
    )
    problems = stack.warm(host, port, args.workers, seed["hot_types"])
    if problems:
        print("warm-up failed: " + "; ".join(problems[:5]))
        return 1
    access_log.write_text("")  # the figures count the run only (gunicorn appends)
    plan = Plan(
        host=host,
        port=port,
        start_at=time.time() + 2.0 + BASELINE_SECONDS,
        seconds=float(args.seconds),
        pause=float(args.pause),
        seed=args.seed,
        baseline=BASELINE_SECONDS,
        appraisal=status != HTTPStatus.NOT_FOUND,
        hot_types=list(seed["hot_types"]),
        new_types=list(seed["new_types"]),
        clients=args.clients,
        greedy=args.greedy,
    )
    passed = _measure(plan, processes, fakes, access_log, _describe(web))
    print(f"logs: {logs}\n{'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


def main(argv: Sequence[str]) -> int:
    """Run the load test.

    Args:
        argv: Command-line arguments.

    Returns:
        0 on pass, 1 on fail, 2 when it could not run.
    """
    args = _arguments(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evesite.settings.production")
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))  # settings need one; this serves nothing
    django.setup()
    refused = _refusal(args.host, args.clients)
    if refused:
        print(refused)
        return 2
    if args.host == "::1":
        print("note: an IPv6 server: every client shares ::1, so the throttles see ONE client")
    target = scratch.target()
    logs = Path(tempfile.mkdtemp(prefix="evesite-loadtest-"))
    print(
        f"load test: {args.clients} clients ({args.greedy} greedy: no pause, Retry-After ignored; "
        f"{args.clients - args.greedy} paced: {args.pause:g} s apart) x {args.seconds:g} s; "
        f"scratch database {target.scratch_db} (template {target.source_db}), Redis db {scratch.REDIS_DB}; logs {logs}"
    )
    with contextlib.ExitStack() as cleanup:
        try:
            with _terminate_on_sigterm():
                return _run(args, target, logs, cleanup)
        except KeyboardInterrupt:
            print("interrupted: cleaning up")
            return 2
    return 2  # not reached: the block returns
