"""One-time links with which staff set their own password.

A link is a random token; the table keeps its hash and when it expires
(``password_link_hours``, default 72). A newer link for the same person replaces
the older ones. Using it sets the password (argon2 in a worker thread, never on the
event loop), deletes the link, ends the person's other sessions and is audited.
Until then the account's hash is :data:`NO_PASSWORD`, which no password matches.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.context import AppContext
from videotermin.domain.audit import AuditAction
from videotermin.domain.staff import password_link_expiry
from videotermin.domain.tokens import hash_token, looks_like_token, new_token
from videotermin.services.audit import Actor, record
from videotermin.services.staff_auth import logins_changed, password_hashed
from videotermin.store.models import StaffPasswordLink, StaffSession, StaffUser

NO_PASSWORD = "!no-password-set"
"""Not an argon2 hash: verification fails for every password."""


async def issue_password_link(db: AsyncSession, ctx: AppContext, user_id: int) -> str:
    """A fresh link for ``user_id`` in the caller's transaction; older ones stop working."""
    await db.execute(delete(StaffPasswordLink).where(StaffPasswordLink.user_id == user_id))
    token = new_token()
    now = ctx.clock()
    db.add(
        StaffPasswordLink(
            token_hash=hash_token(token),
            user_id=user_id,
            created_at=now,
            expires_at=password_link_expiry(now, ctx.settings.password_link_hours),
        )
    )
    return token


async def link_owner(db: AsyncSession, ctx: AppContext, token: str) -> StaffUser | None:
    """Whose the link is, while it works (unused, not expired, account active)."""
    if not looks_like_token(token):
        return None
    link = await db.get(StaffPasswordLink, hash_token(token))
    if link is None or ctx.clock() >= link.expires_at or not link.user.active:
        return None
    return link.user


class PasswordSet(StrEnum):
    DONE = "done"
    LINK_INVALID = "link_invalid"


async def set_password(ctx: AppContext, token: str, password: str) -> PasswordSet:
    """Set the password of the link's owner; the caller has checked its strength."""
    password_hash = await password_hashed(password)
    async with ctx.sessions() as db, db.begin():
        user = await link_owner(db, ctx, token)
        if user is None:
            return PasswordSet.LINK_INVALID
        # Deleting the link first makes a second use of it (a double submit) find nothing.
        deleted = await db.execute(
            delete(StaffPasswordLink)
            .where(StaffPasswordLink.token_hash == hash_token(token))
            .returning(StaffPasswordLink.user_id)
        )
        if deleted.scalar() is None:
            return PasswordSet.LINK_INVALID
        user.password_hash = password_hash
        await db.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
        record(
            db,
            ctx.clock(),
            Actor(staff_id=user.id),
            AuditAction.STAFF_PASSWORD_SET,
            subject_staff_id=user.id,
        )
        user_id = user.id
    await logins_changed(ctx, user_id)
    return PasswordSet.DONE
