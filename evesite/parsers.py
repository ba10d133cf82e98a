"""Request body parsers of the API (DRF's ``DEFAULT_PARSER_CLASSES``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with a body nested past Python's recursion limit refused as malformed (400).

    Python's decoder raises ``RecursionError`` for deep nesting (``[[[[...`` of a few thousand levels fits
    in any allowed body); DRF turns only ``ValueError`` into a parse error, so the rest became a 500.
    """

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Parse the body as JSON.

        Args:
            stream: The request body.
            media_type: Its media type.
            parser_context: DRF's context.

        Returns:
            The decoded value.

        Raises:
            ParseError: For malformed JSON, nesting too deep included.
        """
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the body is nested too deeply.") from exc
