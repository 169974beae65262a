"""Request field types that accept what their JSON schema says, and nothing pydantic would coerce besides.

Pydantic's lax mode reads `0` as false, `false` as 0, `"7"` as 7 and a number as seconds since 1970, all of
which the OpenAPI schema calls invalid; a request body then means something its sender did not write. Strict
mode goes too far the other way for integers: JSON Schema's `integer` includes `7.0`. Use these in request
bodies; the OpenAPI schema they render is the plain type's (`boolean`, `number`, `integer`). Times: `UtcDatetime`
of mlsec.core.limits.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, StrictBool, StrictFloat

__all__ = ["JsonBool", "JsonFloat", "JsonInt"]

JsonBool = StrictBool
"""`true` or `false`."""
JsonFloat = StrictFloat
"""A JSON number (an integer too), never a boolean or a string."""


def _json_int(value: Any) -> Any:
    if isinstance(value, bool | str | bytes):
        raise ValueError("expected a JSON integer")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


JsonInt = Annotated[int, BeforeValidator(_json_int)]
"""A JSON integer (`7` or `7.0`), never a boolean or a string."""
