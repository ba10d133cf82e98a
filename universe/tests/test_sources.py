"""The dump registry: opening by content, and finding the newest dump in EVE_DATA_DIR."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from universe.sde import sources
from universe.sde.csvsource import CsvFolderDump
from universe.sde.sources import DumpFormatError, DumpSource, dump_find_latest, open_dump, register_format
from universe.tests.sde_synthetic import base, write_dump


def _age(path: Path, seconds: int) -> None:
    """Set a path's modification time.

    Args:
        path: File or folder.
        seconds: Seconds since the epoch.
    """
    os.utime(path, (seconds, seconds))


def test_open_dump_detects_a_csv_folder_by_content(tmp_path: Path) -> None:
    """A folder of CSV files opens as a CsvFolderDump with its tables, whatever the folder is called."""
    dump = open_dump(write_dump(tmp_path / "whatever.sqlite", base()))
    assert isinstance(dump, CsvFolderDump)
    assert isinstance(dump, DumpSource)
    assert "mapSolarSystems" in dump.tables()
    columns, rows = dump.rows("MAPREGIONS")
    assert columns[:2] == ["regionID", "regionName"]
    assert [row[1] for row in rows] == ["Alpha", "Beta"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p, "no such file or folder"),
        (lambda p: (p.write_bytes(b""), p)[1], "the file is empty"),
        (lambda p: (p.mkdir(), p)[1], "holds no SDE dump"),
        (lambda p: (p.write_bytes(b"\x00\x9f\x92\x96 binary junk" * 50), p)[1], "unknown dump format"),
    ],
    ids=["missing", "empty file", "empty folder", "junk"],
)
def test_open_dump_refuses_with_the_path(tmp_path: Path, make: object, message: str) -> None:
    """Unusable paths fail with one line naming the path and the problem."""
    target = make(tmp_path / "x")  # type: ignore[operator]
    with pytest.raises(DumpFormatError) as err:
        open_dump(target)
    assert str(err.value).startswith(str(tmp_path / "x"))
    assert message in str(err.value)


def test_newest_dump_wins_and_notes_are_ignored(tmp_path: Path) -> None:
    """The newest dump-like file or CSV folder is chosen; notes, hidden files and partial downloads are not."""
    assert dump_find_latest(tmp_path) is None
    (tmp_path / "README.md").write_text("notes")
    (tmp_path / ".fuzzwork").mkdir()
    assert dump_find_latest(tmp_path) is None
    csv_dir = write_dump(tmp_path / "latest", base())
    _age(csv_dir, 1_000)
    assert dump_find_latest(tmp_path) == csv_dir
    damaged = tmp_path / "sqlite-latest.sqlite.bz2"
    damaged.write_bytes(b"BZh91AY&SY truncated")
    _age(damaged, 2_000)
    assert dump_find_latest(tmp_path) == damaged  # reported when opened, not silently skipped
    part = tmp_path / ".sqlite-latest.sqlite.bz2.part"
    part.write_bytes(b"BZh9")
    _age(damaged, 500)
    assert dump_find_latest(tmp_path) == csv_dir
    assert dump_find_latest(tmp_path / "missing") is None


def test_a_folder_of_csv_files_is_itself_the_dump(tmp_path: Path) -> None:
    """When EVE_DATA_DIR holds the CSV files directly, the folder itself is the dump."""
    write_dump(tmp_path, base())
    assert dump_find_latest(tmp_path) == tmp_path


class _Legacy:
    """A reader with ``read`` and a list of tables, as an opener may return."""

    def __init__(self, path: Path) -> None:
        """Remember the path.

        Args:
            path: The dump.
        """
        self.path = path
        self.closed = False

    def tables(self) -> list[str]:
        """List the tables.

        Returns:
            One table.
        """
        return ["invTypes"]

    def read(self, table: str) -> tuple[list[str], Iterator[Sequence[str | None]]]:
        """Read a table.

        Args:
            table: The table.

        Returns:
            Columns and one row.
        """
        return ["typeID"], iter([("34",)])

    def close(self) -> None:
        """Mark closed."""
        self.closed = True


def test_registry_adapts_readers_and_replaces_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A registered format is tried by content; a ``read``-style reader is adapted; re-registering replaces."""
    monkeypatch.setattr(sources, "FORMATS", list(sources.FORMATS))
    marker = tmp_path / "dump.bin"
    marker.write_bytes(b"LEGACY-DUMP")

    def detect(path: Path) -> bool:
        """Recognise the marker file.

        Args:
            path: Candidate.

        Returns:
            True for files starting with LEGACY.
        """
        return path.is_file() and path.read_bytes().startswith(b"LEGACY")

    register_format("legacy", detect, _Legacy)
    register_format("legacy", detect, _Legacy)
    assert [f.name for f in sources.FORMATS].count("legacy") == 1
    dump = open_dump(marker)
    assert dump.tables() == {"invTypes"}
    columns, rows = dump.rows("invTypes")
    assert (columns, list(rows)) == (["typeID"], [("34",)])
    assert dump.name == str(marker)
    dump.close()
