"""API tokens of the integration API: a bearer token is valid until it is revoked.

Only the token's SHA-256 hash is stored, so a database dump holds no usable
token; each use records when, so an administrator sees which are still in use.
Revoking keeps the row (the audit log names the token) and refuses it from the next
request on, on every instance: every request reads the row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.context import AppContext
from videotermin.domain.audit import AuditAction
from videotermin.domain.tokens import hash_token, looks_like_token, new_token
from videotermin.services.audit import Actor, record
from videotermin.store.models import ApiToken


async def use_token(db: AsyncSession, token: str, now: datetime) -> ApiToken | None:
    """The token's row, marked as used now; ``None`` for an unknown, malformed or revoked
    token."""
    if not looks_like_token(token):
        return None
    found = await db.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None)
        )
    )
    if found is not None:
        found.last_used_at = now
    return found


async def all_tokens(db: AsyncSession) -> Sequence[ApiToken]:
    """Active ones first, newest first."""
    return list(
        await db.scalars(
            select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
        )
    )


async def issue_token(ctx: AppContext, admin_id: int, name: str) -> str | None:
    """An admin creates a token (audited); ``None`` if the name is taken."""
    async with ctx.sessions() as db, db.begin():
        token = await create_token(db, name, ctx.clock())
        if token is None:
            return None
        await db.flush()
        token_id = await db.scalar(select(ApiToken.id).where(ApiToken.name == name))
        record(
            db,
            ctx.clock(),
            Actor(staff_id=admin_id),
            AuditAction.TOKEN_CREATED,
            detail=f"API-Token {token_id}: {name}",
        )
    return token


async def revoke_token(ctx: AppContext, admin_id: int, token_id: int) -> bool:
    """Refuse the token from now on; ``False`` if there is no such active token."""
    now = ctx.clock()
    async with ctx.sessions() as db, db.begin():
        revoked = await db.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .returning(ApiToken.name)
        )
        name = revoked.scalar()
        if name is None:
            return False
        record(
            db,
            now,
            Actor(staff_id=admin_id),
            AuditAction.TOKEN_REVOKED,
            detail=f"API-Token {token_id}: {name}",
        )
    return True


async def create_token(db: AsyncSession, name: str, now: datetime) -> str | None:
    """Mint a token named ``name`` in the caller's transaction and return it — the only
    time it is seen, since only its hash is stored; ``None`` if the name is taken."""
    if await db.scalar(select(ApiToken).where(ApiToken.name == name)) is not None:
        return None
    token = new_token()
    db.add(ApiToken(name=name, token_hash=hash_token(token), created_at=now))
    return token
