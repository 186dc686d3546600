"""API tokens of the integration API: a bearer token is valid while its row exists.

Only the token's SHA-256 hash is stored, so a database dump holds no usable
token; each use records when, so an administrator sees which are still in use.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.domain.tokens import hash_token, looks_like_token
from videotermin.store.models import ApiToken


async def use_token(db: AsyncSession, token: str, now: datetime) -> ApiToken | None:
    """The token's row, marked as used now; ``None`` for an unknown or malformed token."""
    if not looks_like_token(token):
        return None
    found = await db.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if found is not None:
        found.last_used_at = now
    return found
