"""Builds the analytics app: the common endpoints now, its domain routers as they are built."""

from fastapi import FastAPI

from mlsec.core.app import create_service_app
from mlsec.core.services import get_spec
from mlsec.core.settings import Settings, load_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """The analytics ASGI app for the given settings (the environment's when omitted)."""
    return create_service_app(get_spec("analytics"), settings or load_settings())
