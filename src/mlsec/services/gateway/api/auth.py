"""`/auth/...`: tokens, the caller's identity, API keys and users (who may call what: service/security/policy.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from mlsec.core.app import ContextDep, SessionDep
from mlsec.core.errors import UnauthorizedError
from mlsec.core.openapi import error_responses
from mlsec.services.gateway.schemas.auth import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyRead,
    PrincipalRead,
    TokenRead,
    TokenRequest,
    UserCreate,
    UserList,
    UserRead,
    UserUpdate,
)
from mlsec.services.gateway.service.security import accounts
from mlsec.services.gateway.service.security.announce import announce
from mlsec.services.gateway.service.security.guard import PrincipalDep
from mlsec.services.gateway.service.security.state import SecurityState

router = APIRouter(prefix="/auth", tags=["auth"])


async def get_security(request: Request) -> SecurityState:
    security: SecurityState = request.app.state.security
    return security


SecurityDep = Annotated[SecurityState, Depends(get_security)]
KeyId = Annotated[str, Path(min_length=1, max_length=64)]
UsernamePath = Annotated[str, Path(min_length=1, max_length=64)]


@router.post("/token", response_model=TokenRead, responses=error_responses(401))
async def create_token(body: TokenRequest, security: SecurityDep) -> TokenRead:
    """Trade an API key, or a username and password, for a bearer token (401 without saying what was wrong)."""
    principal = await security.authenticator.sign_in(
        username=body.username,
        password=body.password.get_secret_value() if body.password else None,
        api_key=body.api_key.get_secret_value() if body.api_key else None,
    )
    if principal is None:
        raise UnauthorizedError("invalid credentials")
    token = security.authenticator.issue(principal)
    return TokenRead(access_token=token, expires_in=security.settings.jwt_ttl_seconds, role=principal.role)


@router.get("/me", response_model=PrincipalRead)
async def get_me(principal: PrincipalDep) -> PrincipalRead:
    """Who the gateway takes the caller for, and with which role."""
    return PrincipalRead(subject=principal.subject, role=principal.role, kind=principal.kind, key_id=principal.key_id)


@router.post("/keys", status_code=201, response_model=ApiKeyCreated)
async def create_key(
    body: ApiKeyCreate, session: SessionDep, security: SecurityDep, principal: PrincipalDep, ctx: ContextDep
) -> ApiKeyCreated:
    """Create an API key; the answer holds the full key, this once (only its hash is kept)."""
    created = await accounts.create_key(
        session, name=body.name, role=body.role, created_by=principal.identity, hasher=security.authenticator.hasher
    )
    announce(ctx, "key.created", actor=principal.identity, key_id=created.record.key_id, name=body.name, role=body.role)
    return ApiKeyCreated(**ApiKeyRead.model_validate(created.record).model_dump(), api_key=created.api_key)


@router.get("/keys", response_model=ApiKeyList)
async def get_keys(session: SessionDep) -> ApiKeyList:
    """Every key, revoked ones included; never a key or its hash."""
    keys = [ApiKeyRead.model_validate(record) for record in await accounts.get_all_keys(session)]
    return ApiKeyList(keys=keys, count=len(keys))


@router.delete("/keys/{key_id}", response_model=ApiKeyRead)
async def revoke_key(
    key_id: KeyId, session: SessionDep, security: SecurityDep, principal: PrincipalDep, ctx: ContextDep
) -> ApiKeyRead:
    """Revoke a key: refused here at once, on other gateway replicas within MLSEC_GATEWAY_AUTH_CACHE_SECONDS."""
    record = await accounts.revoke_key(session, key_id=key_id)
    security.authenticator.forget_key(key_id)
    announce(ctx, "key.revoked", actor=principal.identity, key_id=key_id)
    return ApiKeyRead.model_validate(record)


@router.post("/users", status_code=201, response_model=UserRead, responses=error_responses(409))
async def create_user(
    body: UserCreate, session: SessionDep, security: SecurityDep, principal: PrincipalDep, ctx: ContextDep
) -> UserRead:
    """Create a user who signs in with a password (POST /auth/token)."""
    user = await accounts.create_user(
        session,
        username=body.username,
        password=body.password.get_secret_value(),
        role=body.role,
        hasher=security.authenticator.hasher,
    )
    announce(ctx, "user.created", actor=principal.identity, username=body.username, role=body.role)
    return UserRead.model_validate(user)


@router.get("/users", response_model=UserList)
async def get_users(session: SessionDep) -> UserList:
    """Every user (never a password hash)."""
    users = [UserRead.model_validate(user) for user in await accounts.get_all_users(session)]
    return UserList(users=users, count=len(users))


@router.patch("/users/{username}", response_model=UserRead)
async def update_user(
    username: UsernamePath,
    body: UserUpdate,
    session: SessionDep,
    security: SecurityDep,
    principal: PrincipalDep,
    ctx: ContextDep,
) -> UserRead:
    """Change a user's role or disable them; the tokens they hold carry the new role (or are refused) from their
    next use on, on this replica at once, on others within MLSEC_GATEWAY_AUTH_CACHE_SECONDS."""
    user = await accounts.update_user(session, username=username, role=body.role, disabled=body.disabled)
    security.authenticator.forget_user(username)
    announce(ctx, "user.updated", actor=principal.identity, username=username, role=body.role, disabled=body.disabled)
    return UserRead.model_validate(user)
