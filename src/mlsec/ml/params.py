"""Strict parsing of hyper-parameter mappings into frozen dataclasses.

Parameters arrive as JSON from users; a typo (`"C"` for `"c"`) or a string where a number belongs must be
refused with a message naming the key, not silently ignored or cast, or a job would train with defaults
the user did not ask for.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


def parse_params(cls: type[T], values: Mapping[str, Any]) -> T:
    """Build the dataclass `cls` from `values`: unknown keys and wrongly typed values raise ValueError."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__} is not a dataclass")
    if not isinstance(values, Mapping):
        raise ValueError(f"parameters must be a mapping, got {type(values).__name__}")
    fields = {field.name for field in dataclasses.fields(cls)}
    unknown = sorted(str(key) for key in values if key not in fields)
    if unknown:
        raise ValueError(f"unknown parameter(s): {', '.join(unknown)}; known: {', '.join(sorted(fields))}")
    hints = typing.get_type_hints(cls)
    converted = {name: _check(name, value, hints[name]) for name, value in values.items()}
    return cls(**converted)


def _check(name: str, value: Any, hint: Any) -> Any:
    """Return `value` (ints widened to float where a float is expected) or raise ValueError."""
    allowed = _alternatives(hint)
    for option in allowed:
        if option is type(None) and value is None:
            return None
        if typing.get_origin(option) is typing.Literal and any(
            type(value) is type(choice) and value == choice for choice in typing.get_args(option)
        ):
            return value
        if option is bool and isinstance(value, bool):
            return value
        if option is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if option is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if option is str and isinstance(value, str):
            return value
    raise ValueError(f"parameter {name!r} must be {_describe(allowed)}, got {value!r}")


def _alternatives(hint: Any) -> list[Any]:
    """The members of a union (`int | None` -> [int, NoneType]); a single type otherwise."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return list(typing.get_args(hint))
    return [hint]


def _describe(options: list[Any]) -> str:
    words: list[str] = []
    for option in options:
        if option is type(None):
            words.append("null")
        elif typing.get_origin(option) is typing.Literal:
            words.append("one of " + ", ".join(repr(choice) for choice in typing.get_args(option)))
        else:
            words.append(getattr(option, "__name__", str(option)))
    return " or ".join(words)
