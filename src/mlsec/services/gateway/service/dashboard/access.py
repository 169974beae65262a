"""The access page (admins only): the API keys and the users of the gateway, and the controls to create and revoke
keys, create users, change their role and disable them.

The `/auth/keys` and `/auth/users` routes are the gateway's own, so the page reads them in process from the
gateway's database, through the same functions and the same response schemas as those routes: a key or a password
hash never reaches a template. Every write goes from the page script to the same JSON routes an application calls.
"""

from __future__ import annotations

from typing import Any

from mlsec.core.auth import Role
from mlsec.services.gateway.schemas.auth import ApiKeyRead, UserRead
from mlsec.services.gateway.service.dashboard.pages import Page, View
from mlsec.services.gateway.service.security import accounts

KEYS_SHOWN = 200
USERS_SHOWN = 200
ROLES = [str(role) for role in Role]


async def keys(view: View) -> dict[str, Any]:
    async with view.ctx.db.session() as session:
        records = [ApiKeyRead.model_validate(record) for record in await accounts.get_all_keys(session)]
    shown = [record.model_dump(mode="json") for record in records[:KEYS_SHOWN]]
    active = sum(1 for record in records if record.revoked_at is None)
    return {
        "keys": shown,
        "keys_total": len(records),
        "keys_active": active,
        "own_key_id": view.principal.key_id,
        "roles": ROLES,
    }


async def users(view: View) -> dict[str, Any]:
    async with view.ctx.db.session() as session:
        records = [UserRead.model_validate(record) for record in await accounts.get_all_users(session)]
    shown = [record.model_dump(mode="json") for record in records[:USERS_SHOWN]]
    own = view.principal.subject if view.principal.kind == "user" else None
    return {"users": shown, "users_total": len(records), "own_username": own, "roles": ROLES}


async def load(view: View) -> dict[str, Any]:
    return {**(await keys(view)), **(await users(view))}


PAGE = Page(
    name="access",
    title="Access",
    need=Role.ADMIN,
    load=load,
    partials={"keys": keys, "users": users},
)
