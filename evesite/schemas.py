"""Pydantic schemas as the API's request and response models (drf-pydantic makes DRF and drf-spectacular see them).

Every request body, query string and response body of the API is a :class:`Schema`. Views read input with
:func:`schema_parse` and answer with :func:`schema_dump`; a model's ``drf_serializer`` is what
``extend_schema`` names. Validation errors are raised as ``pydantic.ValidationError`` and answered by
``evesite.exceptions`` in the project's error shape.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, ClassVar, TypeVar

import pydantic
from django.http import QueryDict
from drf_pydantic import BaseModel
from drf_pydantic.base_model import ModelMetaclass
from drf_pydantic.config import DrfConfigDict
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

INT64_MAX = 2**63 - 1
NAME_MAX_LENGTH = 200
ID_OR_NAME: list[dict[str, Any]] = [
    {"type": "integer", "format": "int64", "minimum": 1, "maximum": INT64_MAX},
    {"type": "string", "pattern": r"\S", "maxLength": NAME_MAX_LENGTH},
]


def ref_check(value: int | str) -> int | str:
    """Refuse blank or overlong names and ids outside a bigint."""
    if isinstance(value, str) and not (value.strip() and len(value) <= NAME_MAX_LENGTH):
        raise ValueError(f"must be an id or a name of 1 to {NAME_MAX_LENGTH} characters")
    if isinstance(value, int) and not 0 < value <= INT64_MAX:
        raise ValueError("must be a positive 64-bit id")
    return value


@extend_schema_field({"oneOf": ID_OR_NAME})
class RefField(serializers.Field):
    """An id or a name (documents ``integer | string``; pydantic validates)."""

    def to_internal_value(self, data: Any) -> Any:
        """Pass the value on to pydantic."""
        return data

    def to_representation(self, value: Any) -> Any:
        """Return the value."""
        return value


def id_or_name_type(*, description: str, required: bool = True) -> Any:
    """The type of a field that takes an SDE id or an exact name (one DRF field instance per use).

    Args:
        description: The field's description in the OpenAPI document.
        required: Whether the field must be given (else it may be null).

    Returns:
        ``Annotated[int | str, ...]`` (``| None`` when not required).
    """
    field = extend_schema_field({"oneOf": ID_OR_NAME, "description": description})(type("RefField", (RefField,), {}))
    if required:
        return Annotated[int | str, field(), pydantic.AfterValidator(ref_check)]
    return Annotated[
        int | str | None, field(required=False, allow_null=True), pydantic.AfterValidator(optional_ref_check)
    ]


def optional_ref_check(value: int | str | None) -> int | str | None:
    """:func:`ref_check` for an optional field."""
    return None if value is None else ref_check(value)


def id_field(default: Any = ..., **kwargs: Any) -> Any:
    """A positive id that fits PostgreSQL's bigint (larger ones are 400, never a query)."""
    return pydantic.Field(default, ge=1, le=INT64_MAX, **kwargs)


def count_field(default: Any = ..., **kwargs: Any) -> Any:
    """A count from 0 to the bigint maximum."""
    return pydantic.Field(default, ge=0, le=INT64_MAX, **kwargs)


def percent_field(default: Any = ..., **kwargs: Any) -> Any:
    """A rate in percent (8 = 8 %), from 0 to 99.99."""
    return pydantic.Field(default, ge=0, le=99.99, **kwargs)


S = TypeVar("S", bound="Schema")


class _SchemaMeta(ModelMetaclass):
    """drf-pydantic's metaclass; each generated serializer also gets its model's docstring (for OpenAPI)."""

    def __new__(mcs, *args: Any, **kwargs: Any) -> Any:
        cls = super().__new__(mcs, *args, **kwargs)
        if "drf_serializer" in cls.__dict__:
            cls.drf_serializer.__doc__ = cls.__doc__
        return cls


class Schema(BaseModel, metaclass=_SchemaMeta):
    """Base of every API schema: unknown input fields are ignored, and pydantic validates what DRF parsed."""

    model_config = pydantic.ConfigDict(extra="ignore", from_attributes=True)
    drf_config: ClassVar[DrfConfigDict] = DrfConfigDict(validate_pydantic=True, validation_error="pydantic")


def _plain(data: QueryDict) -> dict[str, Any]:
    """A query string's or form's first value per key."""
    return {key: data.get(key) for key in data}


def _ascii_integers(*, serializer: serializers.Serializer, data: dict[str, Any]) -> None:
    """Refuse integers written with other digits than ASCII ones (``int("٣")`` is 3 in Python)."""
    wrong = {
        name: ["A valid integer is required."]
        for name, field in serializer.fields.items()
        if isinstance(field, serializers.IntegerField) and not str(data.get(name, "")).isascii()
    }
    if wrong:
        raise serializers.ValidationError(wrong)


def _has_nul(value: Any) -> bool:
    """Whether a JSON value holds a NUL in a string or a key (PostgreSQL cannot store one)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def schema_parse(*, schema: type[S], data: Any) -> S:
    """Validate request input (a query string or a JSON body) into a schema.

    DRF's fields (from the model) parse the strings of a query string or a form; pydantic then checks the
    model, its bounds and validators. A JSON body is validated by pydantic alone, strictly.

    Args:
        schema: The schema.
        data: ``request.query_params`` or ``request.data``.

    Returns:
        The validated model.

    Raises:
        rest_framework.exceptions.ValidationError: A field DRF cannot parse.
        pydantic.ValidationError: A value the model refuses.
    """
    if not isinstance(data, QueryDict):
        # A JSON body: its types are the schema's (``false`` is not a number, ``"5"`` is not an integer).
        known = (
            {key: value for key, value in data.items() if key in schema.model_fields}
            if isinstance(data, dict)
            else data
        )
        if _has_nul(known):  # unknown fields are ignored, whatever they hold
            raise serializers.ValidationError({"non_field_errors": ["Null characters are not allowed."]})
        return schema.model_validate_json(json.dumps(data), strict=True)
    plain = _plain(data)
    serializer = schema.drf_serializer(data=plain)
    _ascii_integers(serializer=serializer, data=plain)
    serializer.is_valid(raise_exception=True)
    return serializer.pydantic_instance


def schema_dump(*, schema: type[Schema], value: Any) -> dict[str, Any]:
    """Validate an answer against its schema and return its JSON-ready body.

    Args:
        schema: The response schema.
        value: A dict, a model instance, or an object with the schema's attributes.

    Returns:
        The body.
    """
    return schema.model_validate(value).model_dump(mode="json")
