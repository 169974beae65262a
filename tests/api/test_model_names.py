"""A model name is one thing across the platform: every request that names a model is checked against the
one pattern of `mlsec.core.limits`, so a name one service accepts is never refused by another.

Two documented exceptions: a monitoring config's name may also be "*" (the defaults; its pattern is built from
the one pattern), and the gateway's forwarded routes (`api: <service>` tags) relay the service's own check
rather than repeating it."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

import mlsec.services
from mlsec.core.limits import NAME_PATTERN
from mlsec.core.settings import Settings
from mlsec.services.analytics.schemas.configs import CONFIG_NAME_PATTERN

SERVICES = sorted(p.parent.parent.name for p in (Path(mlsec.services.__file__).parent).glob("*/api/__init__.py"))
MODEL_NAME_FIELDS = {"model_name"}
ACCEPTED = ({NAME_PATTERN}, {CONFIG_NAME_PATTERN})
TAKE_NO_MODEL_NAME = {
    "data_privacy",  # its requests name people, texts and data categories, never a model
    "tracing",  # a model is searched as a span tag (`tag=mlsec.model.name=...`), never named by a parameter
}


def _openapi(service: str, home: Path) -> dict[str, Any]:
    app = importlib.import_module(f"mlsec.services.{service}.app").create_app(Settings(home=home))
    document: dict[str, Any] = app.openapi()
    return document


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _patterns(schema: dict[str, Any]) -> set[str | None]:
    """The patterns a (possibly optional) string schema allows: `anyOf [string, null]` included."""
    options = schema.get("anyOf", [schema])
    return {option.get("pattern") for option in options if option.get("type") == "string"}


def _request_model_names(document: dict[str, Any]) -> list[tuple[str, set[str | None]]]:
    found: list[tuple[str, set[str | None]]] = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if any(tag.startswith("api: ") for tag in operation.get("tags", [])):
                continue  # relayed to the service, which checks the name itself
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                if parameter["name"] in MODEL_NAME_FIELDS:
                    found.append((f"{where} ?{parameter['name']}", _patterns(parameter["schema"])))
            for media in operation.get("requestBody", {}).get("content", {}).values():
                body = _resolve(document, media.get("schema", {}))
                for name, prop in body.get("properties", {}).items():
                    if name in MODEL_NAME_FIELDS:
                        found.append((f"{where} body.{name}", _patterns(_resolve(document, prop))))
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_every_request_naming_a_model_uses_the_one_pattern(service: str, tmp_path: Path) -> None:
    named = _request_model_names(_openapi(service, tmp_path))
    if service in TAKE_NO_MODEL_NAME:
        assert not named, f"{service} now takes a model name: check it against the one pattern, drop the exception"
        return
    assert named, f"{service} takes no model name anywhere?"
    different = {where: patterns for where, patterns in named if patterns not in ACCEPTED}
    assert not different, f"{service}: model names checked differently: {different}"
