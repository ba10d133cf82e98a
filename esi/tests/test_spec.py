"""The routes and payload models match ESI's OpenAPI spec and the real payloads in ../shared."""

from __future__ import annotations

import json
import re
import types
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from django.conf import settings
from pydantic import BaseModel, TypeAdapter, ValidationError

from esi.models import (
    ROUTE_MODELS,
    ContractItem,
    Killmail,
    MarketOrder,
    PublicContract,
    payload_validate,
    route_template,
)


@cache
def _spec(shared: str) -> dict[str, Any]:
    """Load the spec once.

    Args:
        shared: The shared folder.

    Returns:
        The OpenAPI document.
    """
    return json.loads((Path(shared) / "esi" / "openapi.json").read_text())


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a $ref.

    Args:
        spec: The document.
        node: A schema node.

    Returns:
        The referenced schema (or the node itself).
    """
    if "$ref" in node:
        return spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _object_schema(spec: dict[str, Any], path: str) -> tuple[dict[str, Any], bool]:
    """Find the item schema of a route's 200 answer.

    Args:
        spec: The document.
        path: The route template.

    Returns:
        (object schema, answer is a list).
    """
    schema = _resolve(spec, spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"])
    if schema.get("type") == "array":
        return _resolve(spec, schema["items"]), True
    return schema, False


_JSON_TYPES = {int: "integer", float: "number", bool: "boolean", str: "string"}


def _check_model(spec: dict[str, Any], model: type[BaseModel], schema: dict[str, Any], where: str) -> None:
    """Compare a model's fields with a schema: same names, required ones required, scalar types alike.

    Args:
        spec: The document.
        model: The pydantic model.
        schema: The object schema.
        where: Name for messages.
    """
    props = schema["properties"]
    required = set(schema.get("required", []))
    fields = model.model_fields
    assert set(fields) == set(props), f"{where}: fields differ from the spec: {set(fields) ^ set(props)}"
    for name, info in fields.items():
        assert info.is_required() == (name in required), f"{where}.{name}: required differs"
        prop = _resolve(spec, props[name])
        annotation = info.annotation
        target = annotation
        if isinstance(annotation, types.UnionType):
            (target,) = [a for a in get_args(annotation) if a is not type(None)]
        if get_origin(target) is list:
            item = get_args(target)[0]
            assert prop["type"] == "array", f"{where}.{name}"
            _check_model(spec, item, _resolve(spec, prop["items"]), f"{where}.{name}[]")
        elif isinstance(target, type) and issubclass(target, BaseModel):
            _check_model(spec, target, prop, f"{where}.{name}")
        elif target in _JSON_TYPES:
            assert prop["type"] == _JSON_TYPES[target], f"{where}.{name}: {prop['type']} vs {target}"
        elif prop.get("format") == "date-time":
            assert target is datetime, f"{where}.{name}"
        elif "enum" in prop:
            assert set(get_args(target)) == set(prop["enum"]), f"{where}.{name}: enum differs"
        else:
            raise AssertionError(f"{where}.{name}: unchecked type {target}")


def test_used_paths_exist_in_the_spec(shared_dir: Path) -> None:
    """Every route the project calls is a path of ESI's spec (no /latest/), with a GET."""
    spec = _spec(str(shared_dir))
    for path in ROUTE_MODELS:
        assert not path.startswith("/latest")
        assert path in spec["paths"], path
        assert "get" in spec["paths"][path]
    assert spec["components"]["parameters"]["CompatibilityDate"]["schema"]["enum"] == ["2025-08-26"]


@pytest.mark.parametrize("path", list(ROUTE_MODELS))
def test_models_match_the_spec(shared_dir: Path, path: str) -> None:
    """Each payload model has the spec's field names, required fields and types."""
    spec = _spec(str(shared_dir))
    schema, is_list = _object_schema(spec, path)
    model = ROUTE_MODELS[path]
    assert (get_origin(model) is list) == is_list
    _check_model(spec, get_args(model)[0] if is_list else model, schema, path)


def test_route_template_matches_concrete_paths() -> None:
    """Concrete paths map to their template; others to nothing."""
    assert route_template("/markets/10000002/orders") == "/markets/{region_id}/orders"
    assert route_template("/killmails/134265477/aa93") == "/killmails/{killmail_id}/{killmail_hash}"
    assert route_template("/contracts/public/items/190123693") == "/contracts/public/items/{contract_id}"
    assert route_template("/markets/10000002/history") is None


def test_real_samples_validate(shared_dir: Path) -> None:
    """The real payloads in ../shared/samples fit the models."""
    samples = shared_dir / "samples"
    orders = 0
    for file in sorted((samples / "marketorders").glob("market-orders-*.json")):
        orders += len(TypeAdapter(list[MarketOrder]).validate_python(json.loads(file.read_text())))
    assert orders > 0
    contracts = 0
    for file in sorted((samples / "contracts").glob("contracts-*.json")):
        region = file.name.split("-")[1]
        validated = payload_validate(path=f"/contracts/public/{region}", data=json.loads(file.read_text()))
        assert all(isinstance(c, PublicContract) for c in validated)
        contracts += len(validated)
    assert contracts > 0
    items = 0
    for file in sorted((samples / "contracts").glob("items-*.json")):
        contract = file.stem.split("-")[1]
        validated = payload_validate(path=f"/contracts/public/items/{contract}", data=json.loads(file.read_text()))
        assert all(isinstance(i, ContractItem) for i in validated)
        items += len(validated)
    assert items > 0
    record = json.loads((samples / "killmails" / "r2z2_134265477.json").read_text())
    kill = payload_validate(path=f"/killmails/{record['killmail_id']}/{record['hash']}", data=record["esi"])
    assert isinstance(kill, Killmail)
    assert kill.solar_system_id == 30000743
    assert kill.attackers[0].final_blow is True
    assert kill.victim.items


def test_invalid_payload_is_refused() -> None:
    """A wrong type or a missing required field fails validation (the check can fail)."""
    with pytest.raises(ValidationError):
        payload_validate(path="/universe/system_kills", data=[{"system_id": 1, "ship_kills": "many"}])
    with pytest.raises(ValidationError):
        payload_validate(path="/characters/1/location", data={"station_id": 60003760})


_PATH_LITERAL = re.compile(r"""f?["'](/[a-z_]+(?:/[A-Za-z0-9_{}.]+)*/?)["']""")
_APPS = ("universe", "esi", "market", "routing", "contracts", "imagecache", "accounts")


def _normalise(path: str) -> str:
    """Reduce a path to its shape: every ``{...}`` becomes ``{}``, no trailing slash.

    Args:
        path: A path template or f-string body.

    Returns:
        The shape.
    """
    return re.sub(r"\{[^}]*\}", "{}", path).rstrip("/")


def test_every_esi_path_in_the_project_is_in_the_spec(shared_dir: Path) -> None:
    """Each ESI path literal in the apps' code (outside tests) is a path of the spec, without /latest/."""
    spec = _spec(str(shared_dir))
    shapes = {_normalise(p) for p in spec["paths"]}
    roots = {p.split("/")[1] for p in spec["paths"]}
    found: dict[str, str] = {}
    for app in _APPS:
        for file in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            if "tests" in file.parts or "migrations" in file.parts:
                continue
            for match in _PATH_LITERAL.finditer(file.read_text()):
                path = match.group(1)
                root = path.split("/")[1]
                versioned = root == "latest" and path.rstrip("/") != "/latest"
                if versioned or (root in roots and not path.startswith("/api/")):
                    found[path] = str(file)
    assert "/markets/{region_id}/orders" in found, f"the scan should see the market orders route: {found}"
    wrong = {path: where for path, where in found.items() if _normalise(path) not in shapes}
    assert wrong == {}, f"paths missing from ESI's spec: {wrong}"
