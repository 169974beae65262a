"""What the gateway's security needs on its first start: the token key, and an admin key for the CLI."""

from __future__ import annotations

import logging
import secrets

from argon2 import PasswordHasher
from sqlalchemy.exc import IntegrityError

from mlsec.core.auth import Role, credentials_path, write_credentials
from mlsec.core.database import Database
from mlsec.core.settings import Settings
from mlsec.services.gateway.models import AuthSecret
from mlsec.services.gateway.service.security.accounts import create_key, has_active_admin_key

logger = logging.getLogger("mlsec.gateway.auth")
BOOTSTRAP_KEY_NAME = "bootstrap-admin"
JWT_SECRET_NAME = "jwt"  # noqa: S105 - the row's name, not the secret


async def load_or_create_jwt_secret(db: Database) -> str:
    """The token key kept in the gateway database, created on first start (replicas share it)."""
    async with db.session() as session:
        stored = await session.get(AuthSecret, JWT_SECRET_NAME)
        if stored is not None:
            return stored.value
    try:
        async with db.session() as session:
            session.add(AuthSecret(name=JWT_SECRET_NAME, value=secrets.token_urlsafe(48)))
    except IntegrityError:  # another replica created it first: use theirs
        pass
    async with db.session() as session:
        stored = await session.get(AuthSecret, JWT_SECRET_NAME)
        assert stored is not None
        return stored.value


async def bootstrap_admin_key(db: Database, settings: Settings, hasher: PasswordHasher) -> str | None:
    """With no active admin key, create one and write it to the credentials file; its key id, else None."""
    path = credentials_path(settings)
    try:
        async with db.session() as session:
            if await has_active_admin_key(session):
                return None
            created = await create_key(
                session, name=BOOTSTRAP_KEY_NAME, role=Role.ADMIN, created_by="bootstrap", hasher=hasher
            )
            # Written before the commit: if writing fails, the key is rolled back, so no key exists that nobody knows.
            write_credentials(path, created.api_key, key_id=created.record.key_id, role=Role.ADMIN)
    except OSError as exc:  # e.g. a read-only home in a container: start anyway, say how to get a key
        logger.warning(
            "auth.bootstrap.skipped",
            extra={"path": str(path), "error_type": type(exc).__name__, "hint": "mlsec auth create-key --role admin"},
        )
        return None
    logger.info("auth.bootstrap.key_created", extra={"key_id": created.record.key_id, "path": str(path)})
    return created.record.key_id
