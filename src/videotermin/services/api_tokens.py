"""API tokens of the integration API: a bearer token is valid while its row exists.

Only the token's SHA-256 hash is stored, so a database dump holds no usable
token; each use records when, so an administrator sees which are still in use.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.domain.tokens import hash_token, looks_like_token, new_token
from videotermin.store.models import ApiToken


async def use_token(db: AsyncSession, token: str, now: datetime) -> ApiToken | None:
    """The token's row, marked as used now; ``None`` for an unknown or malformed token."""
    if not looks_like_token(token):
        return None
    found = await db.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if found is not None:
        found.last_used_at = now
    return found


async def create_token(db: AsyncSession, name: str, now: datetime) -> str | None:
    """Mint a token named ``name`` in the caller's transaction and return it — the only
    time it is seen, since only its hash is stored; ``None`` if the name is taken."""
    if await db.scalar(select(ApiToken).where(ApiToken.name == name)) is not None:
        return None
    token = new_token()
    db.add(ApiToken(name=name, token_hash=hash_token(token), created_at=now))
    return token
