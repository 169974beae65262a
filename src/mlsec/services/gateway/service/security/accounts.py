"""Keys, users, and the check of a presented credential (the first start: bootstrap.py).

Performance: the gateway may add about 1 ms to a proxied request, and argon2 costs tens of ms by
design. So a presented API key is verified with argon2 once, in a worker thread, and the verified
principal is then cached in this process for `auth_cache_seconds`, keyed by the SHA-256 of the
presented key (the key itself is never kept). A JWT is checked by its signature; the stored role of
its key or user (None once revoked or disabled) is looked up by one indexed query at most once per
`auth_cache_seconds` as well, and the token's role is capped at it: a token never does more than its
key or user may now. Revoking a key or changing a user clears this replica's cache at once; other
replicas follow within `auth_cache_seconds`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TypeVar

import anyio
from argon2 import PasswordHasher
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.core.auth import (
    Principal,
    PrincipalKind,
    Role,
    TokenError,
    decode_token,
    hash_secret,
    issue_token,
    new_api_key,
    parse_api_key,
    role_allows,
    verify_secret,
)
from mlsec.core.database import Database
from mlsec.core.errors import ConflictError, NotFoundError
from mlsec.services.gateway.models import ApiKey, AppUser
from mlsec.services.gateway.settings import GatewaySettings

logger = logging.getLogger("mlsec.gateway.auth")
MAX_CACHED = 10_000
ARGON2_THREADS = 4  # each argon2 run holds 64 MiB by default: bound how many run at once
Guard = Callable[[], Awaitable[None]]
_ROLE_NAMES = frozenset(str(role) for role in Role)
T = TypeVar("T")


def make_argon2(settings: GatewaySettings) -> PasswordHasher:
    """The hasher for new keys and passwords, with the configured cost."""
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )


async def _hash(secret: str, hasher: PasswordHasher) -> str:
    return await anyio.to_thread.run_sync(hash_secret, secret, hasher)


# ----- keys and users ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreatedKey:
    """A new key's record, and the full key, which is shown once and never stored."""

    record: ApiKey
    api_key: str


async def create_key(
    session: AsyncSession, *, name: str, role: Role, created_by: str | None, hasher: PasswordHasher
) -> CreatedKey:
    """Create an API key; only its argon2 hash is stored."""
    key_id, full_key = new_api_key()
    record = ApiKey(
        key_id=key_id, name=name, secret_hash=await _hash(full_key, hasher), role=str(role), created_by=created_by
    )
    session.add(record)
    await session.flush()
    return CreatedKey(record=record, api_key=full_key)


async def get_all_keys(session: AsyncSession) -> list[ApiKey]:
    """Every key, newest first, revoked ones included (their history matters)."""
    return list(await session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())))


async def revoke_key(session: AsyncSession, *, key_id: str) -> ApiKey:
    """Mark a key revoked (idempotent); NotFoundError for an unknown key."""
    record = await session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
    if record is None:
        raise NotFoundError(f"API key {key_id!r} not found")
    if record.revoked_at is None:
        record.revoked_at = datetime.now(UTC)
        await session.flush()
    return record


async def has_active_admin_key(session: AsyncSession) -> bool:
    """Whether some admin key is still usable."""
    query = select(ApiKey.id).where(ApiKey.role == str(Role.ADMIN), ApiKey.revoked_at.is_(None)).limit(1)
    return await session.scalar(query) is not None


async def create_user(
    session: AsyncSession, *, username: str, password: str, role: Role, hasher: PasswordHasher
) -> AppUser:
    """Create a user; ConflictError when the name is taken."""
    if await session.scalar(select(AppUser.id).where(AppUser.username == username)) is not None:
        raise ConflictError(f"user {username!r} exists", details={"username": username})
    user = AppUser(username=username, password_hash=await _hash(password, hasher), role=str(role), disabled=False)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:  # created by a concurrent request between the check and the insert
        raise ConflictError(f"user {username!r} exists", details={"username": username}) from None
    return user


async def get_all_users(session: AsyncSession) -> list[AppUser]:
    """Every user, by name."""
    return list(await session.scalars(select(AppUser).order_by(AppUser.username)))


async def update_user(
    session: AsyncSession, *, username: str, role: Role | None = None, disabled: bool | None = None
) -> AppUser:
    """Change a user's role or disable them (what is None stays); NotFoundError for an unknown user."""
    user = await session.scalar(select(AppUser).where(AppUser.username == username))
    if user is None:
        raise NotFoundError(f"user {username!r} not found")
    if role is not None:
        user.role = str(role)
    if disabled is not None:
        user.disabled = disabled
    await session.flush()
    return user


# ----- checking a presented credential -----------------------------------------------------------


def _digest(credential: str) -> str:
    return hashlib.sha256(credential.encode()).hexdigest()


def _in_effect(deadlines: dict[str, float], name: str) -> bool:
    """Whether `name` has a mark in `deadlines` that has not run out yet (one that has is dropped)."""
    until = deadlines.get(name)
    if until is None:
        return False
    if until > time.monotonic():
        return True
    del deadlines[name]
    return False


class Authenticator:
    """Turns a presented key, token, password or service token into a Principal, fast on the hot path."""

    def __init__(self, *, db: Database, settings: GatewaySettings, jwt_secret: str, service_token: str | None) -> None:
        self.db = db
        self.settings = settings
        self.hasher = make_argon2(settings)
        self._jwt_secret = jwt_secret
        self._service_token = service_token.encode() if service_token else None
        self._verified: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._tokens: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._roles: OrderedDict[str, tuple[float, Role | None]] = OrderedDict()  # stored role; None: inactive
        self._denied: dict[str, float] = {}  # revoked here: refused even before the revocation commits
        self._changed: dict[str, float] = {}  # changed here: looked up, not cached, until the change commits
        self._inflight: dict[str, asyncio.Task[Principal | None]] = {}
        self._epoch = 0  # bumped by every revocation, so an in-flight check never caches a revoked key
        self._limiter = anyio.CapacityLimiter(ARGON2_THREADS)
        self._dummy_hash: str | None = None

    # --- tokens ---

    def issue(self, principal: Principal, *, ttl_seconds: int | None = None) -> str:
        """A signed token for a verified principal (lifetime: `jwt_ttl_seconds` unless given)."""
        kind: PrincipalKind = "api_key" if principal.kind == "api_key" else "user"
        return issue_token(
            principal.subject,
            principal.role,
            self._jwt_secret,
            ttl_seconds or self.settings.jwt_ttl_seconds,
            kind=kind,
            key_id=principal.key_id,
        )

    def csrf_token(self, session_token: str) -> str:
        """The CSRF token that goes with a session: derived from it with the token key, so nothing is stored and
        a page can only know it if the server rendered it for that session."""
        digest = hmac.new(self._jwt_secret.encode(), b"csrf:" + session_token.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    async def authenticate(self, credential: str, *, guard: Guard | None = None) -> Principal | None:
        """A bearer credential: an API key (`mlsec_...`) or a JWT; None when it is not valid. A token's role
        is capped at the stored role of its key or user, so a demotion applies to tokens issued before it."""
        if parse_api_key(credential) is not None:
            return await self.authenticate_key(credential, guard=guard)
        principal = self._token_principal(credential)
        if principal is None:
            return None
        stored = await self._stored_role(principal.identity)
        if stored is None:
            return None
        return principal if role_allows(stored, principal.role) else replace(principal, role=stored)

    def _token_principal(self, token: str) -> Principal | None:
        """A JWT's principal; decoding costs ~0.2 ms in PyJWT, so a verified token is remembered until
        it expires (at most `auth_cache_seconds`); whether its key or user is still active is checked apart."""
        digest = _digest(token)
        cached = self._tokens.get(digest)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            claims = decode_token(token, self._jwt_secret)
        except TokenError:
            return None
        principal = Principal(subject=claims.subject, role=claims.role, kind=claims.kind, key_id=claims.key_id)
        lifetime = claims.expires_at - time.time()
        self._remember(self._tokens, digest, principal, ttl=min(lifetime, self.settings.auth_cache_seconds))
        return principal

    async def sign_in(self, *, username: str | None, password: str | None, api_key: str | None) -> Principal | None:
        """The principal behind a token request: an API key, or a username and password."""
        if api_key is not None:
            return await self.authenticate_key(api_key)
        if username is not None and password is not None:
            return await self.authenticate_password(username, password)
        return None

    def authenticate_service(self, token: str) -> Principal | None:
        """The internal service token: platform services, with operator rights (POST /events)."""
        if self._service_token is None or not hmac.compare_digest(token.encode(), self._service_token):
            return None
        return Principal(subject="service", role=Role.OPERATOR, kind="service")

    # --- API keys ---

    async def authenticate_key(self, api_key: str, *, guard: Guard | None = None) -> Principal | None:
        """A full API key: from the cache when verified recently, else argon2 once (in a thread)."""
        parsed = parse_api_key(api_key)
        if parsed is None or _in_effect(self._denied, f"api_key:{parsed[0]}"):
            return None
        digest = _digest(api_key)
        cached = self._verified.get(digest)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        task = self._inflight.get(digest)
        if task is None:  # the same key arriving many times at once is verified once, in its own task
            task = asyncio.create_task(self._verify_key(parsed[0], api_key, digest, guard), name="auth-verify-key")
            self._inflight[digest] = task
            task.add_done_callback(lambda done: self._settled(digest, done))
        return await asyncio.shield(task)  # a caller that goes away does not cancel the others' check

    def _settled(self, digest: str, task: asyncio.Task[Principal | None]) -> None:
        self._inflight.pop(digest, None)
        if not task.cancelled():
            task.exception()  # retrieved here, so an error nobody waited for is not reported as lost

    async def _verify_key(self, key_id: str, api_key: str, digest: str, guard: Guard | None) -> Principal | None:
        epoch = self._epoch
        async with self.db.session() as session:
            record = await session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
        if record is None or record.revoked_at is not None:
            return None
        if guard is not None:
            await guard()
        if not await anyio.to_thread.run_sync(verify_secret, record.secret_hash, api_key, limiter=self._limiter):
            return None
        principal = Principal(subject=record.name, role=Role(record.role), kind="api_key", key_id=key_id)
        async with self.db.session() as session:  # accurate to auth_cache_seconds, not to every request
            await session.execute(update(ApiKey).where(ApiKey.key_id == key_id).values(last_used_at=datetime.now(UTC)))
        if epoch == self._epoch:
            self._remember(self._verified, digest, principal)
        return principal

    def forget_key(self, key_id: str) -> None:
        """A key was revoked: refuse it on this replica now (others follow within the cache time)."""
        self._epoch += 1
        name = f"api_key:{key_id}"
        self._denied[name] = time.monotonic() + max(self.settings.auth_cache_seconds, 1.0)
        self._roles.pop(name, None)
        for digest in [d for d, (_, p) in self._verified.items() if p.key_id == key_id]:
            del self._verified[digest]

    def forget_user(self, username: str) -> None:
        """A user's role or state changed: look it up again on the next use of their tokens, on this replica
        now (others follow within the cache time); not cached until the change has surely committed."""
        self._epoch += 1
        name = f"user:{username}"
        self._changed[name] = time.monotonic() + max(self.settings.auth_cache_seconds, 1.0)
        self._roles.pop(name, None)

    # --- users ---

    async def authenticate_password(
        self, username: str, password: str, *, guard: Guard | None = None
    ) -> Principal | None:
        """A user's name and password; the same work is done whether or not the user exists."""
        async with self.db.session() as session:
            user = await session.scalar(select(AppUser).where(AppUser.username == username))
        if guard is not None:
            await guard()
        stored = user.password_hash if user is not None else await self._dummy()
        ok = await anyio.to_thread.run_sync(verify_secret, stored, password, limiter=self._limiter)
        if not ok or user is None or user.disabled:
            return None
        return Principal(subject=user.username, role=Role(user.role), kind="user")

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await _hash(secrets.token_urlsafe(16), self.hasher)
        return self._dummy_hash

    # --- the stored role of a token's subject ---

    async def _stored_role(self, name: str) -> Role | None:
        """The role a key or user (`api_key:<id>`, `user:<name>`) holds now; None when revoked, disabled or
        unknown. One lookup by a unique column, cached for `auth_cache_seconds`."""
        if _in_effect(self._denied, name):
            return None
        cached = self._roles.get(name)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        epoch = self._epoch
        kind, _, ident = name.partition(":")
        async with self.db.session() as session:
            if kind == "api_key":
                query = select(ApiKey.role).where(ApiKey.key_id == ident, ApiKey.revoked_at.is_(None))
            else:
                query = select(AppUser.role).where(AppUser.username == ident, AppUser.disabled.is_(False))
            stored = await session.scalar(query)
        role = Role(stored) if stored in _ROLE_NAMES else None
        if epoch == self._epoch and not _in_effect(self._changed, name):
            self._remember(self._roles, name, role)
        return role

    def _remember(self, cache: OrderedDict[str, tuple[float, T]], key: str, value: T, ttl: float | None = None) -> None:
        ttl = self.settings.auth_cache_seconds if ttl is None else ttl
        if ttl <= 0:
            return
        cache[key] = (time.monotonic() + ttl, value)
        cache.move_to_end(key)
        while len(cache) > MAX_CACHED:
            cache.popitem(last=False)
