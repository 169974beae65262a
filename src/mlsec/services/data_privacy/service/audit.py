"""The audit log: append-only and hash-chained, so that a changed, removed or inserted entry is found.

Each entry's `hash` is the SHA-256 of its fields (sequence number, time, actor, action, target, details) and of
the previous entry's hash, in a canonical JSON form. Appends take the chain's head row with `FOR UPDATE`
(PostgreSQL serialises concurrent appends from every replica on it; SQLite has one writer anyway), so the chain is
one line. `verify` walks it in order and names the first entry whose stored hash is not what its fields give, or
whose `prev_hash` is not the hash of the entry before; the head row catches a removed last entry.

Retention may cut the oldest entries: the cut is recorded on the head row (the last removed entry's sequence
number and hash), and verification starts from there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.core.database import Database
from mlsec.services.data_privacy.models import AuditChain, AuditEntry, utcnow

GENESIS = "0" * 64
CHAIN_ID = 1
VERIFY_PAGE = 5000


def entry_hash(
    *, seq: int, created_at: datetime, actor: str, action: str, target: str | None, details: dict[str, Any], prev: str
) -> str:
    """What an entry's hash must be."""
    canonical = json.dumps(
        {
            "seq": seq,
            "created_at": created_at.isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "target": target,
            "details": details,
            "prev_hash": prev,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def ensure_chain(db: Database) -> None:
    """Create the chain's head row once, at start-up: appends lock it, and a lock needs a row to exist (two
    first appends racing to create it would otherwise collide). Another replica creating it first is fine."""
    with contextlib.suppress(IntegrityError):
        async with db.session() as session:
            if await session.get(AuditChain, CHAIN_ID) is None:
                session.add(AuditChain(id=CHAIN_ID, head_seq=0, head_hash=GENESIS, pruned_seq=0, pruned_hash=GENESIS))


async def _chain(session: AsyncSession) -> AuditChain:
    """The head row, locked until the transaction ends (appends from every replica queue on it)."""
    chain = (await session.execute(select(AuditChain).where(AuditChain.id == CHAIN_ID).with_for_update())).scalar()
    if chain is None:
        raise RuntimeError("the audit chain's head row is missing: it is created at start-up (ensure_chain)")
    return chain


async def create(
    session: AsyncSession, *, actor: str, action: str, target: str | None = None, details: dict[str, Any] | None = None
) -> AuditEntry:
    """Append one entry (in the caller's transaction: the action and its record commit together)."""
    chain = await _chain(session)
    body = json.loads(json.dumps(details or {}, default=str))  # what the database will give back
    created_at = utcnow()
    seq = chain.head_seq + 1
    digest = entry_hash(
        seq=seq, created_at=created_at, actor=actor, action=action, target=target, details=body, prev=chain.head_hash
    )
    entry = AuditEntry(
        seq=seq,
        created_at=created_at,
        actor=actor,
        action=action,
        target=target,
        details=body,
        prev_hash=chain.head_hash,
        hash=digest,
    )
    session.add(entry)
    chain.head_seq, chain.head_hash = seq, digest
    await session.flush()
    return entry


async def get_all(
    session: AsyncSession,
    *,
    action: str | None,
    actor: str | None,
    since: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[AuditEntry], int]:
    """Entries newest first, filtered, with the total that matched."""
    query = select(AuditEntry)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if since is not None:
        query = query.where(AuditEntry.created_at >= since)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(query.order_by(AuditEntry.seq.desc()).limit(limit).offset(offset))
    return list(rows.scalars()), int(total)


@dataclass(frozen=True)
class Verification:
    valid: bool
    entries: int
    first_seq: int | None
    head_seq: int
    broken_seq: int | None = None
    broken_id: int | None = None
    reason: str | None = None


async def _in_order(session: AsyncSession) -> AsyncIterator[AuditEntry]:
    after = -1
    while True:
        page = await session.execute(
            select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(VERIFY_PAGE)
        )
        entries = list(page.scalars())
        for entry in entries:
            yield entry
        if len(entries) < VERIFY_PAGE:
            return
        after = entries[-1].seq


def _break_in(entry: AuditEntry, expected_seq: int, prev: str) -> str | None:
    """Why `entry` breaks the chain, or None."""
    if entry.seq != expected_seq:
        return f"entry {expected_seq} is missing: the chain jumps to {entry.seq}"
    if entry.prev_hash != prev:
        return "its prev_hash is not the previous entry's hash (an entry before it was changed or removed)"
    recomputed = entry_hash(
        seq=entry.seq,
        created_at=entry.created_at,
        actor=entry.actor,
        action=entry.action,
        target=entry.target,
        details=entry.details,
        prev=entry.prev_hash,
    )
    return None if recomputed == entry.hash else "its fields do not give its hash (the entry was changed)"


async def verify(session: AsyncSession) -> Verification:
    """Walk the chain from its start (or retention's cut) to its head; the first broken link, if any."""
    chain = (await session.execute(select(AuditChain).where(AuditChain.id == CHAIN_ID))).scalar()
    head_seq, head_hash = (chain.head_seq, chain.head_hash) if chain else (0, GENESIS)
    expected_seq, prev = (chain.pruned_seq + 1, chain.pruned_hash) if chain else (1, GENESIS)
    count = 0
    first: int | None = None
    async for entry in _in_order(session):
        count += 1
        first = entry.seq if first is None else first
        reason = _break_in(entry, expected_seq, prev)
        if reason is not None:
            return Verification(False, count, first, head_seq, entry.seq, entry.id, reason)
        prev, expected_seq = entry.hash, entry.seq + 1
    if expected_seq - 1 != head_seq or prev != head_hash:
        reason = f"the chain ends at entry {expected_seq - 1}, its head says {head_seq} (entries removed at the end)"
        return Verification(False, count, first, head_seq, expected_seq, None, reason)
    return Verification(True, count, first, head_seq)


async def prune(session: AsyncSession, *, before: datetime, dry_run: bool) -> int:
    """Remove entries older than `before` (retention), recording the cut so verification still holds."""
    chain = await _chain(session)
    last = (
        await session.execute(
            select(AuditEntry).where(AuditEntry.created_at < before).order_by(AuditEntry.seq.desc()).limit(1)
        )
    ).scalar()
    if last is None:
        return 0
    matched = (
        await session.execute(select(func.count()).select_from(AuditEntry).where(AuditEntry.seq <= last.seq))
    ).scalar_one()
    if not dry_run:
        chain.pruned_seq, chain.pruned_hash = last.seq, last.hash
        await session.execute(delete(AuditEntry).where(AuditEntry.seq <= last.seq))
    return int(matched)


async def count_older(session: AsyncSession, before: datetime) -> int:
    query = select(func.count()).select_from(AuditEntry).where(AuditEntry.created_at < before)
    return int((await session.execute(query)).scalar_one())


async def head(session: AsyncSession) -> int:
    """The sequence number of the chain's last entry (0 when empty)."""
    chain = (await session.execute(select(AuditChain).where(AuditChain.id == CHAIN_ID))).scalar()
    return chain.head_seq if chain else 0
