"""`make run`'s pipeline: the Procfile run by honcho, beat's scheduler, and the SDE step's exit status.

Everything runs for real: honcho and gunicorn/celery subprocesses, beat's schedule file on
disk, its messages in the test Redis database (the broker).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.core.management import call_command
from django_redis import get_redis_connection
from honcho.environ import parse_procfile
from pytest_django.fixtures import Settings as SettingsWrapper

from evesite.beat import BEAT_LAST_TICK_KEY, EvesiteScheduler
from evesite.celery import app as evesite_app
from evesite.testing.ports import free_port

pytestmark = pytest.mark.waits  # mostly waits (conftest)

BASE_DIR = Path(settings.BASE_DIR)


def _procfile() -> dict[str, str]:
    """The Procfile's processes, parsed by honcho itself."""
    return dict(parse_procfile((BASE_DIR / "Procfile").read_text()).processes)


# --------------------------------------------------------------------------- Procfile and Makefile


def test_procfile_names_exactly_web_worker_beat() -> None:
    """Three processes, in this order: web, worker, beat."""
    assert list(_procfile()) == ["web", "worker", "beat"]


def test_procfile_commands() -> None:
    """Web binds ${HOST} on WEB_PORT (honcho overrides PORT); the worker's concurrency and beat's scheduler."""
    processes = _procfile()
    assert "gunicorn evesite.wsgi" in processes["web"]
    assert "--bind ${HOST" in processes["web"]
    assert "WEB_PORT" in processes["web"]
    assert "PORT}" not in processes["web"].replace("WEB_PORT", "")
    assert "celery -A evesite worker" in processes["worker"]
    assert "--concurrency=${CELERY_WORKER_CONCURRENCY:-4}" in processes["worker"]
    assert "celery -A evesite beat" in processes["beat"]
    assert "--scheduler=evesite.beat:EvesiteScheduler" in processes["beat"]
    assert "${SERVICES_DIR:-.services}/" in processes["beat"]


@pytest.mark.parametrize(
    ("env", "bind"),
    [({}, "127.0.0.1:7777"), ({"HOST": "0.0.0.0", "WEB_PORT": "7791", "PORT": "5000"}, "0.0.0.0:7791")],  # noqa: S104
)
def test_procfile_web_bind_as_the_shell_expands_it(env: dict[str, str], bind: str) -> None:
    """/bin/sh (what honcho runs each line with) expands the web line to the expected address."""
    expanded = subprocess.run(
        ["/bin/sh", "-c", f"printf '%s\\n' {_procfile()['web']}"],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert expanded[expanded.index("--bind") + 1] == bind


def test_make_run_ends_with_exec_honcho() -> None:
    """`make run`'s last command replaces the recipe's shell with honcho (so make's SIGTERM reaches it)."""
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", "HOST=0.0.0.0", "PORT=7791"],
        cwd=BASE_DIR,
        env={k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert dry_run.splitlines()[-1].startswith("exec .venv/bin/honcho start -f Procfile")
    makefile = (BASE_DIR / "Makefile").read_text()
    assert re.search(r"^HOST \?= 127\.0\.0\.1$", makefile, re.MULTILINE)
    assert re.search(r"^PORT \?= 7777$", makefile, re.MULTILINE)


def _group_alive(pgid: int) -> bool:
    """Tell whether any process is left in a process group."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.mark.slow
def test_honcho_runs_the_procfile_and_sigterm_stops_every_child(tmp_path: Path) -> None:
    """Honcho starts web and beat from the Procfile; SIGTERM to honcho leaves no process behind.

    The worker is left out: beat's due tasks would reach it and call ESI. Beat's messages stay
    in the test Redis database, which every test flushes.
    """
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "evesite.settings.test",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
        "NEO4J_BOLT_URL": settings.NEO4J_BOLT_URL,
        "HOST": "127.0.0.1",
        "WEB_PORT": str(port),
        "WEB_WORKERS": "1",
        "BEAT_SCHEDULE_FILE": str(tmp_path / "celerybeat-schedule"),
    }
    log = tmp_path / "honcho.log"
    redis = get_redis_connection("default")
    with log.open("wb") as out:
        honcho = subprocess.Popen(
            [str(BASE_DIR / ".venv/bin/honcho"), "start", "-f", "Procfile", "--env", "/dev/null", "web", "beat"],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            listening = ticked = False
            while time.monotonic() < deadline and not (listening and ticked) and honcho.poll() is None:
                with socket.socket() as sock:
                    listening = sock.connect_ex(("127.0.0.1", port)) == 0
                ticked = redis.get(BEAT_LAST_TICK_KEY) is not None
                time.sleep(0.3)
            assert listening, log.read_text()[-3000:]
            assert ticked, log.read_text()[-3000:]
            assert len(_started_pids(log)) == 2, log.read_text()
            honcho.send_signal(signal.SIGTERM)
            honcho.wait(timeout=30)
        finally:
            if honcho.poll() is None:  # the test failed: leave nothing running
                for pid in [honcho.pid, *_started_pids(log)]:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(pid, signal.SIGKILL)
                honcho.wait(timeout=10)
    text = log.read_text()
    assert "SIGTERM received" in text
    # honcho started each Procfile line in a session (and process group) of its own: none is left.
    children = _started_pids(log)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_group_alive(pid) for pid in children):
        time.sleep(0.2)
    assert not any(_group_alive(pid) for pid in children), text[-3000:]
    assert not _group_alive(honcho.pid)


def _started_pids(log: Path) -> list[int]:
    """The pids honcho reports for the processes it started (``web.1 started (pid=123)``)."""
    return [int(pid) for pid in re.findall(r"\b\w+\.\d+ started \(pid=(\d+)\)", log.read_text())]


# --------------------------------------------------------------------------- beat's scheduler


def _probe_app(queue: str) -> Celery:
    """A Celery app on the test broker whose schedule has one entry, routed to a queue no worker reads."""
    app = Celery("beat-probe", broker=settings.CELERY_BROKER_URL, set_as_current=False)
    app.conf.update(
        timezone="UTC",
        beat_schedule={
            "probe-every-30-minutes": {"task": "evesite.tests.probe", "schedule": 1800.0, "options": {"queue": queue}},
        },
    )
    return app


@pytest.fixture
def probe_queue() -> Iterator[str]:
    """A broker queue unique to one test (deleted afterwards)."""
    name = f"beat-probe-{uuid.uuid4().hex[:8]}"
    yield name
    get_redis_connection("default").delete(name)


def test_fresh_schedule_makes_every_entry_due_and_a_restart_does_not(tmp_path: Path) -> None:
    """The project's own schedule: every entry is due on the first start; the same file read again, none is."""
    filename = str(tmp_path / "celerybeat-schedule")
    first = EvesiteScheduler(app=evesite_app, schedule_filename=filename)
    try:
        names = set(settings.CELERY_BEAT_SCHEDULE)
        assert names <= set(first.schedule)
        assert first.fresh_entries == names
        for name in names:
            entry = first.schedule[name]
            assert entry.total_run_count == 0
            assert first.is_due(entry).is_due, name
            assert not entry.is_due()[0], f"{name}: celery alone would wait a whole interval"
        first.populate_heap()
        assert first._heap is not None
        assert all(event.time <= time.time() for event in first._heap if event.entry.name in names)
        stored = {name: first.schedule[name].last_run_at for name in names}
    finally:
        first.close()

    second = EvesiteScheduler(app=evesite_app, schedule_filename=filename)
    try:
        assert second.fresh_entries == set()
        for name in names:
            entry = second.schedule[name]
            assert entry.last_run_at == stored[name], "a restart keeps the persisted last_run_at"
            assert not second.is_due(entry).is_due, name
    finally:
        second.close()


def test_beat_sends_never_run_entries_on_the_first_tick_only(tmp_path: Path, probe_queue: str) -> None:
    """A real tick sends the never-run entry to the broker at once, records the heartbeat, and a restart waits."""
    redis = get_redis_connection("default")
    filename = str(tmp_path / "celerybeat-schedule")
    app = _probe_app(probe_queue)

    first = EvesiteScheduler(app=app, schedule_filename=filename)
    try:
        before = time.time()
        assert first.tick() == 0  # sent; look again at once
        assert redis.llen(probe_queue) == 1
        heartbeat = redis.get(BEAT_LAST_TICK_KEY)
        assert heartbeat is not None
        assert before - 1 <= float(heartbeat) <= time.time() + 1
        delay = first.tick()
        assert 0 < delay <= first.max_interval
        assert redis.llen(probe_queue) == 1
        assert redis.get(BEAT_LAST_TICK_KEY) == heartbeat, "written at most every few seconds"
        entry = first.schedule["probe-every-30-minutes"]
        assert entry.total_run_count == 1
        sent_at = entry.last_run_at
    finally:
        first.close()

    second = EvesiteScheduler(app=app, schedule_filename=filename)
    try:
        assert second.fresh_entries == set()
        assert second.schedule["probe-every-30-minutes"].last_run_at == sent_at
        assert second.tick() > 0
        assert redis.llen(probe_queue) == 1, "a restart does not send it again before its interval"
    finally:
        second.close()


def test_a_new_entry_in_an_old_schedule_file_is_due_at_once(tmp_path: Path, probe_queue: str) -> None:
    """An entry added to the configuration later is due at its first start; the stored ones keep waiting."""
    filename = str(tmp_path / "celerybeat-schedule")
    app = _probe_app(probe_queue)
    EvesiteScheduler(app=app, schedule_filename=filename).close()

    app.conf.beat_schedule = {
        **app.conf.beat_schedule,
        "probe-added-later": {"task": "evesite.tests.probe", "schedule": 3600.0, "options": {"queue": probe_queue}},
    }
    scheduler = EvesiteScheduler(app=app, schedule_filename=filename)
    try:
        assert scheduler.fresh_entries == {"probe-added-later"}
        assert scheduler.is_due(scheduler.schedule["probe-added-later"]).is_due
        assert not scheduler.is_due(scheduler.schedule["probe-every-30-minutes"]).is_due
    finally:
        scheduler.close()


# --------------------------------------------------------------------------- the SDE step of `make run`


def test_ingest_data_missing_status_tells_no_dump_from_ingested(tmp_path: Path, settings: SettingsWrapper) -> None:
    """`--if-present --missing-status 3` exits 3 on an empty EVE_DATA_DIR; `--if-present` alone still exits 0."""
    settings.EVE_DATA_DIR = tmp_path
    call_command("ingest_data", "--if-present", "--quiet")
    with pytest.raises(SystemExit) as exited:
        call_command("ingest_data", "--if-present", "--missing-status", "3", "--quiet")
    assert exited.value.code == 3


def test_ingest_data_missing_status_from_the_shell(tmp_path: Path) -> None:
    """The exit status `make run` reads, from a real `manage.py` process."""
    env = {**os.environ, "EVE_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "evesite.settings.test"}
    result = subprocess.run(
        [str(BASE_DIR / ".venv/bin/python"), "manage.py", "ingest_data", "--if-present", "--missing-status", "3"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 3, result.stderr
    assert "No SDE dump in" in result.stdout
