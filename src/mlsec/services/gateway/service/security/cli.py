"""What `mlsec auth` does on the gateway's database directly: a way in when no admin key is at hand.

Whoever can write the gateway's database controls its keys anyway, so this adds no new power; it
lets an operator create the first key of a distributed deployment, or a new one after losing the
admin key, without the gateway running.
"""

from __future__ import annotations

from mlsec.core.auth import Role
from mlsec.core.database import Database, ensure_database
from mlsec.core.migrations import upgrade_to_head
from mlsec.core.settings import Settings
from mlsec.services.gateway.models import Base
from mlsec.services.gateway.service.security.accounts import create_key, make_argon2
from mlsec.services.gateway.settings import GatewaySettings


async def create_key_in_database(settings: Settings, name: str, role: Role) -> tuple[str, str]:
    """Create a key in the gateway's database (migrated first); `(key_id, full key)`."""
    url = settings.database_url_for("gateway")
    await ensure_database(url)
    db = Database(url)
    try:
        await upgrade_to_head(db, "gateway", Base.metadata)
        async with db.session() as session:
            created = await create_key(
                session, name=name, role=role, created_by="cli", hasher=make_argon2(GatewaySettings())
            )
        return created.record.key_id, created.api_key
    finally:
        await db.dispose()
