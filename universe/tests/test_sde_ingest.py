"""sde_ingest on small synthetic dumps: values, updates and removals, idempotence, all-or-nothing on bad input.

These tests replace the Neo4j graph with a tiny one; the ``sde_universe``
fixture notices and reloads the real SDE for the tests that need it.
"""

from __future__ import annotations

import bz2
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from neomodel.exceptions import UniqueProperty

from evesite.graph import graph_query
from universe import graph_ingest
from universe import models as m
from universe.graph import GATE_TYPE, SYSTEM_LABEL, SolarSystem, owned_properties
from universe.ingest.rows import columns_plan, rows_convert
from universe.ingest.specs import SPECS
from universe.sde.csvsource import CsvFolderDump
from universe.sde.sources import DumpFormatError
from universe.search import universe_search
from universe.services import sde_ingest
from universe.tests.sde_synthetic import LY, base, snapshot, write_dump

pytestmark = pytest.mark.django_db


def test_values_are_normalised(tmp_path: Path) -> None:
    """NULLs, booleans, decimals, packaged volumes, dangling optional references and stargate filtering."""
    report = sde_ingest(source=write_dump(tmp_path / "d", base()))
    assert report.rows == {
        "invCategories": 2,
        "invGroups": 2,
        "invMarketGroups": 2,
        "invTypes": 3,
        "mapRegions": 2,
        "mapConstellations": 2,
        "mapSolarSystems": 4,
        "mapSolarSystemJumps": 6,
        "mapDenormalize": 6,
        "staStations": 2,
    }
    trit = m.ItemType.objects.get(id=34)
    assert trit.description == 'A metal,\n"the" most common.'
    assert trit.mass == 0.0
    assert trit.base_price == Decimal("2")
    assert trit.packaged_volume is None
    assert trit.market_group_id == 1857
    rifter = m.ItemType.objects.get(id=587)
    assert (rifter.packaged_volume, rifter.volume, rifter.published, rifter.icon_id) == (2500, 27289.0, True, None)
    ore = m.ItemType.objects.get(id=999)
    assert ore.market_group_id is None  # 777777 is not in the dump
    assert ore.published is False
    assert ore.mass is None
    assert m.MarketGroup.objects.get(id=1857).parent_id == 4
    assert m.MarketGroup.objects.get(id=1857).has_types is True
    assert m.MarketGroup.objects.get(id=4).description == "Capsuleer spaceships, of all sizes"
    bbb = m.SolarSystem.objects.get(id=30000002)
    assert (bbb.security_class, bbb.security, bbb.y_2d) == ("", 0.45, None)
    assert m.SolarSystem.objects.get(id=30000001).x_2d == pytest.approx(1.0e16 / 3)
    assert m.Station.objects.get(id=60000002).corporation_id is None
    assert set(m.Stargate.objects.values_list("system_id", flat=True)) == {30000001, 30000002, 30000003, 30000004}
    assert not m.Stargate.objects.filter(id=40000001).exists()  # a planet row of mapDenormalize
    assert report.graph_matches
    assert (report.graph_nodes, report.graph_relationships) == (4, 6)


def test_old_and_new_csv_styles_give_identical_contents(tmp_path: Path) -> None:
    """Old style (``None``, ``0E-10``, bzip2) and new style (BOM, all quoted) ingest to the same rows and graph."""
    sde_ingest(source=write_dump(tmp_path / "new", base(), style="new"))
    new = snapshot(with_run=False)
    tables = tuple(base())
    sde_ingest(source=write_dump(tmp_path / "old", base(), style="old", bz2_tables=tables))
    old = snapshot(with_run=False)
    assert old == new
    assert len(new["ItemType"]) == 3


def test_graph_weights(tmp_path: Path) -> None:
    """Each gate carries distance_ly from x/y/z in metres and the security of the system it leads into."""
    sde_ingest(source=write_dump(tmp_path / "d", base()))
    a = SolarSystem.nodes.get(system_id=30000001)
    b = SolarSystem.nodes.get(system_id=30000002)
    gate = a.gates.relationship(b)
    metres = ((1.2e16 - 1.0e16) ** 2 + (0.6e16 - 0.5e16) ** 2 + (-1.2e16 + 1.0e16) ** 2) ** 0.5
    assert (gate.distance_ly, gate.to_security) == (pytest.approx(metres / LY), 0.45)
    assert (b.name, b.region_name, b.constellation_name, b.security_class) == ("Bbb", "Alpha", "Alpha One", "")
    assert b.risk_level is None


def test_twice_gives_the_same_rows(tmp_path: Path) -> None:
    """A second ingestion of the same dump changes nothing, reports no changes and keeps the search view."""
    dump = write_dump(tmp_path / "d", base())
    sde_ingest(source=dump)
    first = snapshot(with_run=False)
    view_file = _search_view_file()
    report = sde_ingest(source=dump)
    assert snapshot(with_run=False) == first
    assert set(report.changed.values()) == {0}
    assert set(report.deleted.values()) == {0}
    assert _search_view_file() == view_file  # a REFRESH writes a new file


@pytest.mark.parametrize("extra_types", [0, 60])
def test_changed_tables_are_analyzed_with_the_ingestion(tmp_path: Path, extra_types: int) -> None:
    """The planner's row counts of a table the ingestion changed are its new ones (ANALYZE in the transaction).

    First a dump with ``extra_types`` more types, then the base dump: its ingestion deletes them.
    """
    bigger = base()
    first_type = bigger["invTypes"][1][0]
    bigger["invTypes"][1].extend([900_000 + n, *first_type[1:]] for n in range(extra_types))
    sde_ingest(source=write_dump(tmp_path / "bigger", bigger))
    report = sde_ingest(source=write_dump(tmp_path / "base", base()))
    assert report.deleted["invTypes"] == extra_types
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [m.ItemType._meta.db_table])
        assert cursor.fetchone()[0] == m.ItemType.objects.count() == len(base()["invTypes"][1])


def _search_view_file() -> int:
    """The file node of the name search's materialized view (every refresh gives it a new one)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_filenode('universe_searchname')")
        return int(cursor.fetchone()[0])


def test_a_newer_dump_updates_and_removes(tmp_path: Path) -> None:
    """Changed and removed systems, jumps, gates, stations, types follow a newer dump; routing properties stay."""
    sde_ingest(source=write_dump(tmp_path / "v1", base()))
    aaa, bbb = SolarSystem.nodes.get(system_id=30000001), SolarSystem.nodes.get(system_id=30000002)
    aaa.risk_level = "high"
    aaa.save()
    gate = aaa.gates.relationship(bbb)
    gate.wr_secure = 3.0
    gate.save()
    tables = base()
    systems = tables["mapSolarSystems"][1]
    systems[:] = [row for row in systems if row[2] != 30000004]  # Ddd disappears
    systems[1][3] = "Bbb Renamed"
    systems[1][11] = 0.55
    jumps = tables["mapSolarSystemJumps"][1]
    jumps[:] = [r for r in jumps if 30000004 not in (r[2], r[3])]
    gates = tables["mapDenormalize"][1]
    gates[:] = [r for r in gates if r[3] != 30000004 and r[11] != "Stargate (30000004)"]
    tables["staStations"][1].pop()  # the station in Ddd
    tables["invTypes"][1].pop()  # type 999
    tables["invTypes"][1][0][2] = "Tritanium II"
    report = sde_ingest(source=write_dump(tmp_path / "v2", tables))

    assert set(m.SolarSystem.objects.values_list("id", flat=True)) == {30000001, 30000002, 30000003}
    assert m.SolarSystem.objects.get(id=30000002).name == "Bbb Renamed"
    assert m.SolarSystemJump.objects.count() == 4
    assert m.Stargate.objects.count() == 4
    assert list(m.Station.objects.values_list("id", flat=True)) == [60000001]
    assert set(m.ItemType.objects.values_list("id", flat=True)) == {34, 587}
    assert m.ItemType.objects.get(id=34).name == "Tritanium II"
    assert report.deleted["mapSolarSystems"] == 1
    assert report.deleted["mapSolarSystemJumps"] == 2
    assert report.deleted["invTypes"] == 1
    assert report.changed["invTypes"] == 1
    assert report.changed["mapSolarSystems"] == 1
    # The name search follows the ingestion: renamed, added and removed names.
    assert [(h.id, h.name, h.match) for h in universe_search(q="bbb", kinds=("system",))] == [
        (30000002, "Bbb Renamed", "prefix")
    ]
    assert [h.id for h in universe_search(q="tritanium ii", kinds=("type",))] == [34]
    assert universe_search(q="ddd", kinds=("system",)) == []

    nodes = {n.system_id: n for n in SolarSystem.nodes.all()}
    assert set(nodes) == {30000001, 30000002, 30000003}
    assert nodes[30000002].name == "Bbb Renamed"
    assert nodes[30000001].risk_level == "high"
    edges = {
        (r["f"], r["t"]): r
        for r in graph_query(
            f"MATCH (a:{SYSTEM_LABEL})-[g:{GATE_TYPE}]->(b:{SYSTEM_LABEL}) "
            "RETURN a.system_id AS f, b.system_id AS t, g.wr_secure AS w, g.to_security AS s"
        )
    }
    assert set(edges) == {(30000001, 30000002), (30000002, 30000001), (30000002, 30000003), (30000003, 30000002)}
    assert edges[(30000001, 30000002)]["w"] == 3
    assert edges[(30000001, 30000002)]["s"] == 0.55


def _bad_missing_table(folder: Path) -> str:
    """Delete a required table file.

    Args:
        folder: The dump folder.

    Returns:
        Text the error must contain.
    """
    (folder / "staStations.csv").unlink()
    return "missing table staStations"


def _bad_columns(folder: Path) -> str:
    """Rename a required column.

    Args:
        folder: The dump folder.

    Returns:
        Text the error must contain.
    """
    path = folder / "mapSolarSystems.csv"
    path.write_text(path.read_text(encoding="utf-8-sig").replace('"security"', '"sec"', 1), encoding="utf-8")
    return "mapSolarSystems.csv: wrong columns: missing security"


def _bad_empty_file(folder: Path) -> str:
    """Make a table file empty.

    Args:
        folder: The dump folder.

    Returns:
        Text the error must contain.
    """
    (folder / "invTypes.csv").write_bytes(b"")
    return "invTypes.csv: the file is empty"


def _bad_header_only(folder: Path) -> str:
    """Leave only the header of a table.

    Args:
        folder: The dump folder.

    Returns:
        Text the error must contain.
    """
    path = folder / "mapRegions.csv"
    path.write_text(path.read_text(encoding="utf-8-sig").splitlines()[0] + "\n", encoding="utf-8")
    return "mapRegions.csv: no rows"


def _bad_truncated_bz2(folder: Path) -> str:
    """Replace a table by a bzip2 file cut in half.

    Args:
        folder: The dump folder.

    Returns:
        Text the error must contain.
    """
    path = folder / "mapSolarSystemJumps.csv"
    data = bz2.compress(path.read_bytes() * 50)
    path.unlink()
    (folder / "mapSolarSystemJumps.csv.bz2").write_bytes(data[: len(data) // 2])
    return "mapSolarSystemJumps.csv.bz2: truncated or corrupt"


def _bad_value(folder: Path) -> str:
    """Put text where a number belongs.

    Args:
        folder: The dump folder.

    Returns:
        Text the error must contain.
    """
    path = folder / "mapSolarSystems.csv"
    path.write_text(path.read_text(encoding="utf-8-sig").replace('"0.45"', '"high"'), encoding="utf-8")
    return "mapSolarSystems.csv: row 3, column security"


def _bad_reference(folder: Path) -> str:
    """Add a jump into a system the dump lacks.

    Args:
        folder: The dump folder.

    Returns:
        Text the error must contain.
    """
    with (folder / "mapSolarSystemJumps.csv").open("a", encoding="utf-8") as fh:
        fh.write('"10000001","20000002","30000001","30009999","20000002","10000001"\r\n')
    return "mapSolarSystemJumps.csv: 1 rows name a to_system the dump lacks (e.g. id 30009999)"


def _bad_ragged_row(folder: Path) -> str:
    """Add a row with too few fields.

    Args:
        folder: The dump folder.

    Returns:
        Text the error must contain.
    """
    with (folder / "invGroups.csv").open("a", encoding="utf-8") as fh:
        fh.write('"1","2"\r\n')
    return "invGroups.csv: line 4: 2 fields where the header has 9"


def _bad_overflow(folder: Path) -> str:
    """Put an id too large for PostgreSQL's integer column.

    Args:
        folder: The dump folder.

    Returns:
        Text the error must contain.
    """
    path = folder / "invCategories.csv"
    path.write_text(path.read_text(encoding="utf-8-sig").replace('"6"', '"99999999999"', 1), encoding="utf-8")
    return "rejected by PostgreSQL"


@pytest.mark.parametrize(
    "spoil",
    [
        _bad_overflow,
        _bad_missing_table,
        _bad_columns,
        _bad_empty_file,
        _bad_header_only,
        _bad_truncated_bz2,
        _bad_value,
        _bad_reference,
        _bad_ragged_row,
    ],
)
def test_bad_input_changes_nothing(tmp_path: Path, spoil: Any) -> None:
    """A damaged dump fails with one line naming the file and the problem; PostgreSQL and Neo4j stay as they were."""
    sde_ingest(source=write_dump(tmp_path / "good", base()))
    before = snapshot()
    tables = base()
    tables["mapSolarSystems"][1][0][3] = "Changed"  # would change a row if anything were written
    bad = write_dump(tmp_path / "bad", tables)
    expected = spoil(bad)
    with pytest.raises(DumpFormatError) as err:
        sde_ingest(source=bad)
    message = str(err.value)
    assert "\n" not in message
    assert expected in message
    assert snapshot() == before


@pytest.mark.parametrize("kind", ["empty folder", "missing path", "unknown file", "empty file"])
def test_unusable_sources_change_nothing(tmp_path: Path, kind: str) -> None:
    """An empty folder, a missing path, an unknown or empty file are refused with the path named."""
    sde_ingest(source=write_dump(tmp_path / "good", base()))
    before = snapshot()
    target = tmp_path / "x"
    if kind == "empty folder":
        target.mkdir()
    elif kind == "unknown file":
        target.write_bytes(b"\x00\x01\x02 not a dump \xff" * 100)
    elif kind == "empty file":
        target.write_bytes(b"")
    with pytest.raises(DumpFormatError) as err:
        sde_ingest(source=target)
    assert str(target) in str(err.value)
    assert "\n" not in str(err.value)
    assert snapshot() == before


def test_a_neo4j_failure_rolls_postgresql_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When Neo4j refuses a statement half-way through the graph, neither store changes."""
    sde_ingest(source=write_dump(tmp_path / "good", base()))
    before = snapshot()
    tables = base()
    tables["mapSolarSystems"][1][0][3] = "Changed"
    tables["mapSolarSystems"][1][0][11] = 0.7  # so gates into it change: nodes are written before the failure
    tables["invTypes"][1].pop()
    monkeypatch.setattr(graph_ingest, "_gate_upsert_query", lambda label: "UNWIND $rows AS r RETURN r.f / 0 AS boom")
    with pytest.raises(DumpFormatError, match="Neo4j refused the graph"):
        sde_ingest(source=write_dump(tmp_path / "next", tables))
    assert snapshot() == before


def test_old_fuzzwork_invtypes_parses(shared_dir: Path) -> None:
    """The real 2019 old-style invTypes.csv.bz2 (``None``, ``0E-10``) converts to 35,711 typed rows."""
    dump = CsvFolderDump(shared_dir / "fuzzwork-2019")
    spec = next(s for s in SPECS if s.table == "invTypes")
    columns, rows = dump.rows("invTypes")
    plan, only = columns_plan(spec, columns, "invTypes")
    converted = list(rows_convert(spec=spec, rows=rows, plan=plan, only_index=only, where="invTypes"))
    assert len(converted) == 35711
    by_id = {row[0]: row for row in converted}
    names = [f.column for f in spec.fields]
    corp = dict(zip(names, by_id[2], strict=True))
    assert corp["name"] == "Corporation"
    assert corp["mass"] == 0.0  # 0E-10
    assert corp["market_group_id"] is None  # None
    assert corp["base_price"] is None
    assert corp["published"] is False
    assert dict(zip(names, by_id[34], strict=True))["name"] == "Tritanium"


class _Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        """Claim to be a terminal.

        Returns:
            True.
        """
        return True


@pytest.mark.parametrize(
    ("stream", "quiet", "drawn"), [(_Terminal, False, True), (_Terminal, True, False), (io.StringIO, False, False)]
)
def test_progress_bars_only_on_a_terminal(tmp_path: Path, stream: type[io.StringIO], quiet: bool, drawn: bool) -> None:
    """A bar per table and per graph phase on a terminal; nothing when quiet or not a terminal."""
    out = stream()
    sde_ingest(source=write_dump(tmp_path / "d", base()), quiet=quiet, out=out)
    text = out.getvalue()
    for label in ("invTypes", "mapSolarSystems", "staStations", "graph: systems", "graph: gates", "graph: verify"):
        assert (label in text) is drawn


def test_table_and_column_names_are_case_insensitive(tmp_path: Path) -> None:
    """Lower-case file names and upper-case headers ingest like Fuzzwork's spelling."""
    folder = write_dump(tmp_path / "d", base())
    for path in list(folder.iterdir()):
        text = path.read_text(encoding="utf-8-sig")
        header, rest = text.split("\n", 1)
        path.unlink()
        (folder / path.name.lower()).write_text(header.upper() + "\n" + rest, encoding="utf-8")
    report = sde_ingest(source=folder)
    assert report.rows["mapSolarSystems"] == 4
    assert report.packaged_volumes == 2
    assert m.ItemType.objects.get(id=587).packaged_volume == 2500


def test_system_id_is_unique_in_the_graph(tmp_path: Path) -> None:
    """The constraint neomodel installs for SolarSystem.system_id refuses a second node with the same id."""
    sde_ingest(source=write_dump(tmp_path / "d", base()))
    names = {
        r["name"]
        for r in graph_query("SHOW CONSTRAINTS YIELD name, labelsOrTypes, properties, type")
        if r["labelsOrTypes"] == [SYSTEM_LABEL] and r["properties"] == ["system_id"]
    }
    assert names == {f"constraint_unique_{SYSTEM_LABEL}_system_id"}
    existing = SolarSystem.nodes.get(system_id=30000001)
    props = {p: getattr(existing, p) for p in owned_properties(SolarSystem, sde=True)}
    try:
        with pytest.raises(UniqueProperty):
            SolarSystem(**{**props, "name": "Twin"}).save()
    finally:
        graph_query(f"MATCH (s:{SYSTEM_LABEL} {{name: 'Twin'}}) DETACH DELETE s")
