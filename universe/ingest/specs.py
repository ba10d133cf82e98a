"""Which dump tables the ingestion reads and how their columns become model columns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models

from universe import models as m

STARGATE_GROUP_ID = 10


@dataclass(frozen=True)
class Field:
    """One model column and where it comes from in the dump."""

    column: str
    sources: tuple[str, ...]
    kind: str
    nullable: bool = False
    required: bool = True
    default: Any = None


@dataclass(frozen=True)
class Ref:
    """A reference from a staged column to another staged table's ``id``."""

    column: str
    target: type[models.Model]
    nullable: bool = False


@dataclass(frozen=True)
class TableSpec:
    """How one dump table becomes one model's rows."""

    model: type[models.Model]
    table: str
    fields: tuple[Field, ...]
    key: tuple[str, ...] = ("id",)
    refs: tuple[Ref, ...] = ()
    only: tuple[str, int] | None = None  # (dump column, value): keep only matching rows


def _f(column: str, source: str | tuple[str, ...], kind: str, **kw: Any) -> Field:
    """Build a :class:`Field` (short form for the table below)."""
    sources = (source,) if isinstance(source, str) else source
    return Field(column=column, sources=sources, kind=kind, **kw)


_XYZ = (_f("x", "x", "float"), _f("y", "y", "float"), _f("z", "z", "float"))

SPECS: tuple[TableSpec, ...] = (
    TableSpec(
        m.ItemCategory,
        "invCategories",
        (
            _f("id", "categoryID", "int"),
            _f("name", "categoryName", "text", default=""),
            _f("published", "published", "bool", required=False, default=False),
        ),
    ),
    TableSpec(
        m.ItemGroup,
        "invGroups",
        (
            _f("id", "groupID", "int"),
            _f("category_id", "categoryID", "int"),
            _f("name", "groupName", "text", default=""),
            _f("published", "published", "bool", required=False, default=False),
        ),
        refs=(Ref("category_id", m.ItemCategory),),
    ),
    TableSpec(
        m.MarketGroup,
        "invMarketGroups",
        (
            _f("id", "marketGroupID", "int"),
            _f("parent_id", "parentGroupID", "int", nullable=True),
            _f("name", "marketGroupName", "text", default=""),
            _f("description", "description", "text", required=False, default=""),
            _f("has_types", "hasTypes", "bool", required=False, default=False),
        ),
        refs=(Ref("parent_id", m.MarketGroup, nullable=True),),
    ),
    TableSpec(
        m.ItemType,
        "invTypes",
        (
            _f("id", "typeID", "int"),
            _f("group_id", "groupID", "int"),
            _f("name", "typeName", "text", default=""),
            _f("description", "description", "text", required=False, default=""),
            _f("mass", "mass", "float", nullable=True, required=False),
            _f("volume", "volume", "float", nullable=True),
            _f("capacity", "capacity", "float", nullable=True, required=False),
            _f("portion_size", "portionSize", "int", nullable=True, required=False),
            _f("base_price", "basePrice", "decimal", nullable=True, required=False),
            _f("published", "published", "bool", default=False),
            _f("market_group_id", "marketGroupID", "int", nullable=True),
            _f("icon_id", "iconID", "int", nullable=True, required=False),
        ),
        refs=(Ref("group_id", m.ItemGroup), Ref("market_group_id", m.MarketGroup, nullable=True)),
    ),
    TableSpec(
        m.Region,
        "mapRegions",
        (
            _f("id", "regionID", "int"),
            _f("name", "regionName", "text", default=""),
            *_XYZ,
            _f("faction_id", "factionID", "int", nullable=True, required=False),
        ),
    ),
    TableSpec(
        m.Constellation,
        "mapConstellations",
        (
            _f("id", "constellationID", "int"),
            _f("region_id", "regionID", "int"),
            _f("name", "constellationName", "text", default=""),
            *_XYZ,
        ),
        refs=(Ref("region_id", m.Region),),
    ),
    TableSpec(
        m.SolarSystem,
        "mapSolarSystems",
        (
            _f("id", "solarSystemID", "int"),
            _f("name", "solarSystemName", "text", default=""),
            _f("region_id", "regionID", "int"),
            _f("constellation_id", "constellationID", "int"),
            _f("security", "security", "float"),
            _f("security_class", "securityClass", "text", required=False, default=""),
            *_XYZ,
            _f("x_2d", ("position2Dx", "x2D"), "float", nullable=True, required=False),
            _f("y_2d", ("position2Dy", "y2D"), "float", nullable=True, required=False),
        ),
        refs=(Ref("region_id", m.Region), Ref("constellation_id", m.Constellation)),
    ),
    TableSpec(
        m.SolarSystemJump,
        "mapSolarSystemJumps",
        (
            _f("from_system_id", "fromSolarSystemID", "int"),
            _f("to_system_id", "toSolarSystemID", "int"),
        ),
        key=("from_system_id", "to_system_id"),
        refs=(Ref("from_system_id", m.SolarSystem), Ref("to_system_id", m.SolarSystem)),
    ),
    TableSpec(
        m.Stargate,
        "mapDenormalize",
        (
            _f("id", "itemID", "int"),
            _f("system_id", "solarSystemID", "int"),
            _f("type_id", "typeID", "int"),
            _f("name", "itemName", "text", default=""),
            *_XYZ,
        ),
        refs=(Ref("system_id", m.SolarSystem),),
        only=("groupID", STARGATE_GROUP_ID),
    ),
    TableSpec(
        m.Station,
        "staStations",
        (
            _f("id", "stationID", "int"),
            _f("name", "stationName", "text", default=""),
            _f("system_id", "solarSystemID", "int"),
            _f("region_id", "regionID", "int"),
            _f("security", "security", "float", default=0.0),
            _f("type_id", "stationTypeID", "int"),
            _f("corporation_id", "corporationID", "int", nullable=True, required=False),
            *_XYZ,
        ),
        refs=(Ref("system_id", m.SolarSystem), Ref("region_id", m.Region)),
    ),
)
VOLUMES_TABLE = "invVolumes"
REQUIRED_TABLES = tuple(spec.table for spec in SPECS)
