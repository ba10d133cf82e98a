"""A small synthetic SDE in Fuzzwork's CSV layout, in the old and the new CSV style, for edge cases.

Four systems A-B-C-D in two regions: gates A<->B, B<->C, C<->D; two
stations; three item types. Tests change copies of :data:`BASE` and write
them with :func:`write_dump`.
"""

from __future__ import annotations

import bz2
import copy
import csv
import io
from pathlib import Path
from typing import Any

from evesite.graph import graph_query
from universe import models as m
from universe.graph import GATE_TYPE, SYSTEM_LABEL

Table = tuple[list[str], list[list[Any]]]

_SYS_COLS = [
    "regionID",
    "constellationID",
    "solarSystemID",
    "solarSystemName",
    "x",
    "y",
    "z",
    "xMin",
    "luminosity",
    "border",
    "hub",
    "security",
    "factionID",
    "radius",
    "sunTypeID",
    "securityClass",
    "position2Dx",
    "position2Dy",
]
LY = 9460730472580800.0


def _system(region: int, const: int, sid: int, name: str, *, x: float, sec: float, cls: str | None) -> list[Any]:
    """One mapSolarSystems row.

    Args:
        region: Region id.
        const: Constellation id.
        sid: System id.
        name: System name.
        x: x position (metres); y and z are derived.
        sec: Security.
        cls: Security class or None.

    Returns:
        The row.
    """
    return [region, const, sid, name, x, x / 2, -x, None, 0.5, True, False, sec, None, 1.0e12, None, cls, x / 3, None]


def _jumps(pairs: list[tuple[int, int]]) -> list[list[Any]]:
    """Directed jump rows for undirected pairs (both directions).

    Args:
        pairs: System id pairs.

    Returns:
        mapSolarSystemJumps rows.
    """
    region = {1: 10000001, 2: 10000001, 3: 10000002, 4: 10000002}
    rows = []
    for a, b in pairs:
        for f, t in ((a, b), (b, a)):
            ra, rb = region[f % 10], region[t % 10]
            rows.append([ra, ra * 2, f, t, rb * 2, rb])
    return rows


def _gates(pairs: list[tuple[int, int]]) -> list[list[Any]]:
    """Stargate rows of mapDenormalize for the jumps (plus a planet row that must be skipped).

    Args:
        pairs: System id pairs.

    Returns:
        mapDenormalize rows.
    """
    rows: list[list[Any]] = []
    item = 50000001
    for a, b in pairs:
        for f, t in ((a, b), (b, a)):
            rows.append(
                [item, 29624, 10, f, None, None, None, 1.0e11 * item % 7, 2.0e10, -3.0e10, None, f"Stargate ({t})", 0.5]
            )
            item += 1
    rows.append([40000001, 11, 7, 30000001, None, None, None, 1.0, 2.0, 3.0, 1000.0, "A I", 0.5])
    return rows


PAIRS = [(30000001, 30000002), (30000002, 30000003), (30000003, 30000004)]

BASE: dict[str, Table] = {
    "invCategories": (
        ["categoryID", "categoryName", "iconID", "published"],
        [[4, "Material", None, True], [6, "Ship", None, True]],
    ),
    "invGroups": (
        [
            "groupID",
            "categoryID",
            "groupName",
            "iconID",
            "useBasePrice",
            "anchored",
            "anchorable",
            "fittableNonSingleton",
            "published",
        ],
        [
            [18, 4, "Mineral", None, True, False, False, False, True],
            [25, 6, "Frigate", None, False, False, False, False, True],
        ],
    ),
    "invMarketGroups": (
        ["marketGroupID", "parentGroupID", "marketGroupName", "description", "iconID", "hasTypes"],
        [
            [4, None, "Ships", "Capsuleer spaceships, of all sizes", 1443, False],
            [1857, 4, "Minerals", None, None, True],
        ],
    ),
    "invTypes": (
        [
            "typeID",
            "groupID",
            "typeName",
            "description",
            "mass",
            "volume",
            "capacity",
            "portionSize",
            "raceID",
            "basePrice",
            "published",
            "marketGroupID",
            "iconID",
            "soundID",
            "graphicID",
        ],
        [
            [
                34,
                18,
                "Tritanium",
                'A metal,\n"the" most common.',
                0.0,
                0.01,
                0.0,
                1,
                None,
                2.0,
                True,
                1857,
                22,
                None,
                None,
            ],
            [587, 25, "Rifter", "A frigate", 1067000.0, 27289.0, 140.0, 1, 2, 400000.0, True, 4, None, None, 46],
            [999, 18, "Unpublished ore", "", None, 1.0, None, 1, None, None, False, 777777, None, None, None],
        ],
    ),
    "invVolumes": (["typeID", "volume"], [[587, 2500], [123456, 10]]),
    "mapRegions": (
        ["regionID", "regionName", "x", "y", "z", "xMin", "factionID", "nebula", "radius"],
        [
            [10000001, "Alpha", 1.0e16, 2.0e16, 3.0e16, None, 500001, 11799, None],
            [10000002, "Beta", -1.0e16, 0.0, 5.0e15, None, None, 11800, None],
        ],
    ),
    "mapConstellations": (
        ["regionID", "constellationID", "constellationName", "x", "y", "z", "factionID", "radius"],
        [
            [10000001, 20000002, "Alpha One", 1.0e16, 2.0e16, 3.0e16, None, None],
            [10000002, 20000004, "Beta One", -1.0e16, 0.0, 5.0e15, None, None],
        ],
    ),
    "mapSolarSystems": (
        _SYS_COLS,
        [
            _system(10000001, 20000002, 30000001, "Aaa", x=1.0e16, sec=0.9, cls="B"),
            _system(10000001, 20000002, 30000002, "Bbb", x=1.2e16, sec=0.45, cls=None),
            _system(10000002, 20000004, 30000003, "Ccc", x=-1.0e16, sec=-0.2, cls="A"),
            _system(10000002, 20000004, 30000004, "Ddd", x=-1.1e16, sec=0.1, cls=None),
        ],
    ),
    "mapSolarSystemJumps": (
        [
            "fromRegionID",
            "fromConstellationID",
            "fromSolarSystemID",
            "toSolarSystemID",
            "toConstellationID",
            "toRegionID",
        ],
        _jumps(PAIRS),
    ),
    "mapDenormalize": (
        [
            "itemID",
            "typeID",
            "groupID",
            "solarSystemID",
            "constellationID",
            "regionID",
            "orbitID",
            "x",
            "y",
            "z",
            "radius",
            "itemName",
            "security",
        ],
        _gates(PAIRS),
    ),
    "staStations": (
        [
            "stationID",
            "security",
            "dockingCostPerVolume",
            "operationID",
            "stationTypeID",
            "corporationID",
            "solarSystemID",
            "constellationID",
            "regionID",
            "stationName",
            "x",
            "y",
            "z",
        ],
        [
            [
                60000001,
                0.9,
                None,
                26,
                1531,
                1000002,
                30000001,
                20000002,
                10000001,
                "Aaa I - Station",
                1.0e10,
                2.0e10,
                3.0e10,
            ],
            [
                60000002,
                0.1,
                None,
                26,
                1531,
                None,
                30000004,
                20000004,
                10000002,
                "Ddd I - Station",
                1.0e10,
                2.0e10,
                3.0e10,
            ],
        ],
    ),
}


def base() -> dict[str, Table]:
    """A deep copy of :data:`BASE` for a test to change.

    Returns:
        Tables by name.
    """
    return copy.deepcopy(BASE)


def _old(value: Any) -> str:
    """Render a value as old Fuzzwork CSVs did (``None``, 0/1, ``0E-10``, ten decimals).

    Args:
        value: The value.

    Returns:
        The text.
    """
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return "0E-10" if value == 0 else f"{value:.10f}"
    return str(value)


def _new(value: Any) -> str:
    """Render a value as current Fuzzwork CSVs do (empty for NULL, 0/1 booleans).

    Args:
        value: The value.

    Returns:
        The text.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_dump(folder: Path, tables: dict[str, Table], *, style: str = "new", bz2_tables: tuple[str, ...] = ()) -> Path:
    """Write tables as a Fuzzwork CSV folder.

    Args:
        folder: Target folder (created).
        tables: Tables by name.
        style: ``new`` (BOM, every field quoted, empty NULL) or ``old`` (minimal quoting, ``None``, ``0E-10``).
        bz2_tables: Tables to write as ``.csv.bz2``.

    Returns:
        The folder.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for name, (columns, rows) in tables.items():
        buffer = io.StringIO(newline="")
        if style == "new":
            buffer.write("\ufeff")
            writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
            writer.writerow(columns)
            writer.writerows([_new(v) for v in row] for row in rows)
        else:
            writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows([_old(v) for v in row] for row in rows)
        data = buffer.getvalue().encode("utf-8")
        if name in bz2_tables:
            (folder / f"{name}.csv.bz2").write_bytes(bz2.compress(data))
        else:
            (folder / f"{name}.csv").write_bytes(data)
    return folder


MODELS = (
    m.ItemCategory,
    m.ItemGroup,
    m.MarketGroup,
    m.ItemType,
    m.Region,
    m.Constellation,
    m.SolarSystem,
    m.Stargate,
    m.Station,
)


def snapshot(*, with_run: bool = True) -> dict[str, Any]:
    """Everything ingestion writes: every universe row and every graph node and relationship with properties.

    Args:
        with_run: Keep the ``ingest_run`` stamp (False to compare two ingestions).

    Returns:
        A comparable structure.
    """
    state: dict[str, Any] = {model.__name__: list(model.objects.order_by("pk").values_list()) for model in MODELS}
    state["jumps"] = list(
        m.SolarSystemJump.objects.order_by("from_system_id", "to_system_id").values_list(
            "from_system_id", "to_system_id"
        )
    )

    def props(p: dict[str, Any]) -> dict[str, Any]:
        """Drop the run stamp when asked.

        Args:
            p: Properties.

        Returns:
            The properties to compare.
        """
        return p if with_run else {k: v for k, v in p.items() if k != "ingest_run"}

    state["nodes"] = [
        (r["id"], props(r["p"]))
        for r in graph_query(f"MATCH (s:{SYSTEM_LABEL}) RETURN s.system_id AS id, properties(s) AS p ORDER BY id")
    ]
    state["gates"] = [
        (r["f"], r["t"], props(r["p"]))
        for r in graph_query(
            f"MATCH (a:{SYSTEM_LABEL})-[g:{GATE_TYPE}]->(b:{SYSTEM_LABEL}) "
            "RETURN a.system_id AS f, b.system_id AS t, properties(g) AS p ORDER BY f, t"
        )
    ]
    return state
