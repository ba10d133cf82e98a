"""``manage.py ingest_data`` and ``scripts/ingest_data.py``: options, summary, exit codes, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings as SettingsWrapper

from universe import models as m
from universe.tests.sde_synthetic import base, write_dump

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _env(data_dir: Path) -> dict[str, str]:
    """Environment for a subprocess: the test database and a given EVE_DATA_DIR.

    Args:
        data_dir: The data folder the command should look in.

    Returns:
        The environment.
    """
    db = settings.DATABASES["default"]
    host = quote(db["HOST"], safe="")  # a socket directory is percent-encoded in the URL
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{host}:{db['PORT']}/{db['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "EVE_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "evesite.settings.production",
    }


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a command of the project in a subprocess.

    Args:
        args: Arguments after the Python interpreter, e.g. ``["manage.py", "ingest_data"]``.
        env: Its environment.

    Returns:
        The finished process with text output.
    """
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_summary(tmp_path: Path) -> None:
    """The closing summary lists rows per table, the graph, the match, reachability and seconds per phase."""
    out = StringIO()
    call_command("ingest_data", "--source", str(write_dump(tmp_path / "d", base())), stdout=out)
    text = out.getvalue()
    assert "mapSolarSystems" in text
    assert "4 rows" in text
    assert "Graph: 4 systems, 6 gate relationships" in text
    assert "Graph matches PostgreSQL exactly" in text
    assert "Systems reachable from Jita (30000142) by gate: 0" in text
    assert "Seconds: open" in text
    assert "graph write" in text
    assert m.SolarSystem.objects.count() == 4


def test_quiet_writes_nothing(tmp_path: Path) -> None:
    """``--quiet`` ingests without a word."""
    out = StringIO()
    call_command("ingest_data", "--quiet", "--source", str(write_dump(tmp_path / "d", base())), stdout=out)
    assert out.getvalue() == ""
    assert m.Station.objects.count() == 2


def test_default_source_is_the_newest_dump_in_eve_data_dir(tmp_path: Path, settings: SettingsWrapper) -> None:
    """Without ``--source`` the newest dump (by modification time) in EVE_DATA_DIR is ingested; notes are ignored."""
    old = base()
    new = base()
    new["mapRegions"][1][0][1] = "Newest"
    write_dump(tmp_path / "older", old)
    write_dump(tmp_path / "newer", new)
    os.utime(tmp_path / "older", (1_000_000_000, 1_000_000_000))
    os.utime(tmp_path / "newer", (1_100_000_000, 1_100_000_000))
    (tmp_path / "README.md").write_text("notes")
    settings.EVE_DATA_DIR = tmp_path
    call_command("ingest_data", "--quiet")
    assert m.Region.objects.get(id=10000001).name == "Newest"


def test_if_present_without_a_dump(tmp_path: Path, settings: SettingsWrapper) -> None:
    """``--if-present`` returns quietly when EVE_DATA_DIR has no dump; without it the command fails."""
    (tmp_path / "README.md").write_text("put the dump here")
    settings.EVE_DATA_DIR = tmp_path
    out = StringIO()
    call_command("ingest_data", "--if-present", "--quiet", stdout=out)
    assert out.getvalue() == ""
    with pytest.raises(CommandError, match="no SDE dump found"):
        call_command("ingest_data", "--quiet")


def test_command_errors_are_one_line_with_exit_status_1(tmp_path: Path) -> None:
    """A bad dump exits 1 with one ``CommandError:`` line naming the file and the problem."""
    bad = write_dump(tmp_path / "bad", base())
    (bad / "invGroups.csv").write_text('"groupID","name"\r\n"1","x"\r\n', encoding="utf-8")
    result = _run(["manage.py", "ingest_data", "--source", str(bad)], _env(tmp_path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("CommandError: ")
    assert f"{bad / 'invGroups.csv'}: wrong columns: missing categoryID, groupName" in lines[0]


def test_script_wrapper(tmp_path: Path) -> None:
    """``scripts/ingest_data.py`` passes its options on: ``--if-present`` exits 0, a missing source exits 1."""
    empty = tmp_path / "empty"
    empty.mkdir()
    quiet = _run(["scripts/ingest_data.py", "--if-present"], _env(empty))
    assert (quiet.returncode, quiet.stderr) == (0, "")
    assert "nothing to ingest" in quiet.stdout
    missing = _run(["scripts/ingest_data.py", "--source", str(tmp_path / "nope")], _env(empty))
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"CommandError: {tmp_path / 'nope'}: no such file or folder"


def test_neo4j_down_changes_nothing(tmp_path: Path) -> None:
    """With Neo4j unreachable the command exits 1 with one line, and PostgreSQL keeps its rows."""
    before = (m.SolarSystem.objects.count(), m.ItemType.objects.count(), m.Region.objects.count())
    tables = base()
    tables["mapRegions"][1][0][1] = "Must not land"
    env = {
        **_env(tmp_path),
        "NEO4J_BOLT_URL": "bolt://neo4j:password@127.0.0.1:9",
        "NEO4J_CONNECTION_TIMEOUT_SECONDS": "1",
    }
    result = _run(["manage.py", "ingest_data", "--source", str(write_dump(tmp_path / "d", tables))], env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "Neo4j is unreachable" in lines[0]
    assert "nothing was changed" in lines[0]
    assert (m.SolarSystem.objects.count(), m.ItemType.objects.count(), m.Region.objects.count()) == before
    assert not m.Region.objects.filter(name="Must not land").exists()
