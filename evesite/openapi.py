"""Declare, on every operation of the OpenAPI document, the error answers it can give, with their body.

drf-spectacular documents what a view's ``extend_schema`` says; the errors that come from the layers
around every view (validation, lookups, permissions, throttles, request-body bounds, datastores) are
added here from what the operation and its view are: parameters or a body → 400; a path parameter →
404; a permission to check → 403; a throttle → 429; a body → 411, 413, 415; always 503; and a view's own
``error_statuses``.
"""

from __future__ import annotations

from decimal import Decimal
from http import HTTPStatus
from typing import Any

from django.conf import settings
from rest_framework.permissions import AllowAny

ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error answer: a stable code, a human-readable text, and sometimes more fields.",
    "properties": {
        "error": {"type": "string", "example": "not_found"},
        "detail": {"type": "string", "example": "Unknown solar system 'Jota'."},
        "retry_after": {"type": "integer", "description": "Seconds to wait (429)."},
        "fields": {
            "type": "object",
            "description": "400: each invalid field's messages (``non_field_errors``: the input as a whole).",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["error", "detail"],
    "additionalProperties": True,
}
DESCRIPTIONS = {
    400: "Invalid input (a parameter or the body).",
    401: "This needs a logged-in character (EVE SSO).",
    403: "Login required, or not allowed.",
    404: "What the path names does not exist.",
    411: "A body sent without Content-Length.",
    413: "The body is larger than API_MAX_BODY_BYTES.",
    409: "The request clashes with what is stored (e.g. a name already taken).",
    414: "The URL is longer than the server reads (gunicorn's HTML answer, 4094-byte request line).",
    415: "The body's media type is not JSON or a form.",
    429: "Throttled, or the site is busy; see Retry-After.",
    502: "An outside service (ESI, the image server) answered badly or not at all.",
    503: "A datastore is down or a query ran past its time limit.",
}
_METHODS = {"get", "put", "post", "patch", "delete"}
# Real values for the parameters that name things in EVE (from the SDE): Jita, Amarr and Niarja, The Forge,
# Jita IV - Moon 4 - Caldari Navy Assembly Plant, Tritanium. Swagger UI fills them in; the fuzzer tries them.
PARAMETER_EXAMPLES: dict[str, Any] = {
    "origin": "Jita",
    "destination": "Amarr",
    "avoid": "Niarja",
    "region_id": 10000002,
    "station_id": "60003760",
    "resource_id": 34,
    "sales_tax": 3.6,
    "broker_fee": 1.5,
}
INT64_MAX = 2**63 - 1


def _bounds(path: str, parameter: dict[str, Any]) -> None:
    """State the bounds the code enforces on an integer parameter: 64 bits, and ``limit``'s cap."""
    schema = parameter.get("schema", {})
    if schema.get("type") != "integer":
        return
    schema.setdefault("format", "int64")
    if parameter["name"] == "limit":
        cap = settings.MARKET_SCAN_MAX_LIMIT if "/scan/" in path else settings.API_MAX_PAGE_SIZE
        schema.setdefault("minimum", 1)
        schema["maximum"] = min(int(schema.get("maximum", cap)), int(cap))
    elif parameter["name"] == "offset":
        schema.setdefault("minimum", 0)
    schema.setdefault("maximum", INT64_MAX)


# Strings never carry NUL (DRF refuses it in query strings, schema_parse in bodies; PostgreSQL cannot store it).
NO_NUL = "^[^\\x00]*$"
NOT_BLANK_NO_NUL = "^[^\\x00]*\\S[^\\x00]*$"


# What Swagger UI shows for a string in bodies and answers (from the NUL pattern it would draw random characters).
# Not on query parameters: "Try it out" would send it.
_EXAMPLE = "string"


def _no_nul(node: Any, *, examples: bool = False) -> None:
    """State on every free-text string schema that it may not contain NUL (``examples``: with a readable one)."""
    if isinstance(node, list):
        for item in node:
            _no_nul(item, examples=examples)
    elif isinstance(node, dict):
        if node.get("type") == "string" and "enum" not in node and "format" not in node:
            pattern = node.get("pattern")
            if pattern is None:
                node["pattern"] = NO_NUL
            elif pattern == "\\S":
                node["pattern"] = NOT_BLANK_NO_NUL
            if examples and node["pattern"] in {NO_NUL, NOT_BLANK_NO_NUL} and _fits(node, _EXAMPLE):
                node.setdefault("example", _EXAMPLE)
        for value in node.values():
            _no_nul(value, examples=examples)


def _fits(schema: dict[str, Any], text: str) -> bool:
    """Whether ``text`` keeps a string schema's length bounds."""
    return int(schema.get("minLength", 0)) <= len(text) <= int(schema.get("maxLength", len(text)))


def _exact_numbers(node: Any) -> None:
    """Write bounds exactly: drf-pydantic's Decimals render as floats (2**63 for the int64 maximum)."""
    if isinstance(node, list):
        for item in node:
            _exact_numbers(item)
    elif isinstance(node, dict):
        for key in ("minimum", "maximum"):
            value = node.get(key)
            if isinstance(value, Decimal):
                node[key] = int(value) if node.get("type") == "integer" else float(value)
        for value in node.values():
            _exact_numbers(value)


def _view(callback: Any, method: str) -> Any:
    """The view that answers an operation, as for a request (a viewset action's kwargs set its attributes)."""
    cls = getattr(callback, "cls", None)
    if cls is None:
        return None
    view = cls(**getattr(callback, "initkwargs", {}))
    view.action = getattr(callback, "actions", {}).get(method)
    return view


def _codes(operation: dict[str, Any], view: Any) -> set[int]:
    parameters = operation.get("parameters", [])
    codes = {503}
    if parameters or "requestBody" in operation:
        codes.add(400)
    if any(p.get("in") == "path" for p in parameters):
        codes.add(404)
    if any(p.get("in") == "query" for p in parameters):
        codes.add(414)
    if "requestBody" in operation:
        codes |= {411, 413, 415}
    if view is not None and any(not isinstance(p, AllowAny) for p in view.get_permissions()):
        codes.add(403)
    if view is not None and view.get_throttles():
        codes.add(429)
    # What only the view knows (e.g. 502 from an upstream, 401 for a character's own data).
    return codes | set(getattr(view, "error_statuses", ()))


def error_responses_postprocess(result: dict[str, Any], generator: Any, **_: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: add the ``Error`` schema and each operation's error answers.

    Args:
        result: The generated document.
        generator: drf-spectacular's generator (its endpoints name each operation's view).

    Returns:
        The document.
    """
    _exact_numbers(result)
    _no_nul(result.get("paths", {}))
    _no_nul(result.get("components", {}).get("schemas", {}), examples=True)
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    views = {(path, method.lower()): _view(view, method.lower()) for path, _, method, view in generator.endpoints}
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            for parameter in operation.get("parameters", []):
                _bounds(path, parameter)
                if parameter["name"] in PARAMETER_EXAMPLES and "examples" not in parameter:
                    parameter.setdefault("example", PARAMETER_EXAMPLES[parameter["name"]])
            responses = operation.setdefault("responses", {})
            for code in sorted(_codes(operation, views.get((path, method)))):
                responses.setdefault(str(code), {"description": DESCRIPTIONS[code]})
            for code, response in responses.items():
                if (
                    code.isdigit()
                    and int(code) >= HTTPStatus.BAD_REQUEST
                    and code != "414"
                    and "content" not in response
                ):
                    response["content"] = {"application/json": {"schema": ERROR_REF}}
    return result
