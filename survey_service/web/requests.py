"""The app's Request: a JSON body bounded in depth, and refused plainly (400) when it is not JSON.

Litestar decodes a JSON body untyped, so that a body nested a thousand deep raised RecursionError and
one byte that is not UTF-8 raised UnicodeDecodeError: both were answered 500. Here the body (already
bounded in size by the app's request_max_body_size, SURVEY_MAX_BODY_BYTES: 413 beyond it) is decoded
by msgspec against a type that admits JSON values nested at most MAX_JSON_DEPTH deep: msgspec stops
at the first level too deep, and every failure is an InvalidJson (400, in Chinese)."""

from __future__ import annotations

from typing import Any, Union

import msgspec
from litestar import Request

from survey_service.core.errors import InvalidJson

# Nesting no request of the service needs (a submission is 2 deep: the object, its answers). Kept
# small: msgspec builds the decoder for this type when the module is imported, in every process
# (each CLI command, each web worker), and that took 0.94 s at 16 levels against 2 ms at 8.
MAX_JSON_DEPTH = 8

_Scalar = Union[str, int, float, bool, None]  # noqa: UP007 - a runtime type for msgspec, built below


def _bounded_json_type(depth: int) -> Any:
    """Any JSON value nested at most `depth` arrays or objects deep."""
    value: Any = _Scalar
    for _ in range(depth):
        value = Union[_Scalar, list[value], dict[str, value]]  # noqa: UP007
    return value


_DECODER: msgspec.json.Decoder[Any] = msgspec.json.Decoder(_bounded_json_type(MAX_JSON_DEPTH))


def decode_json_body(body: bytes) -> Any:
    """The body's JSON value (None for an empty body, as Litestar reads it); InvalidJson otherwise."""
    try:
        return _DECODER.decode(body or b"null")
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError, ValueError) as exc:
        raise InvalidJson() from exc


class BoundedJsonRequest(Request[Any, Any, Any]):
    """Request.json() through decode_json_body: the same values, bounded, never a server error."""

    async def json(self) -> Any:
        if not hasattr(self, "_bounded_json"):
            self._bounded_json = decode_json_body(await self.body())
        return self._bounded_json
