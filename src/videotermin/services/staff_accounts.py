"""Staff accounts, as the command line creates and deactivates them
(``videotermin user add``, ``videotermin user deactivate``).

Only the password's argon2 hash is stored; the caller has checked its strength
(:func:`videotermin.domain.passwords.password_problem`).
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.context import AppContext
from videotermin.domain.passwords import hash_password
from videotermin.domain.staff import StaffRole
from videotermin.services.staff_auth import logins_changed
from videotermin.store.models import StaffSession, StaffUser, Unit


async def find_user(session: AsyncSession, username: str) -> StaffUser | None:
    return await session.scalar(select(StaffUser).where(StaffUser.username == username))


async def add_staff_user(
    session: AsyncSession,
    ctx: AppContext,
    *,
    username: str,
    password: str,
    role: StaffRole,
    unit: Unit,
    display_name: str | None = None,
    email: str = "",
    phone: str = "",
) -> StaffUser | None:
    """Add the account to the caller's transaction; ``None`` if the username is taken."""
    if await find_user(session, username) is not None:
        return None
    user = StaffUser(
        username=username,
        display_name=display_name or username,
        email=email,
        phone=phone,
        role=role,
        unit_id=unit.id,
        password_hash=hash_password(password),
        created_at=ctx.clock(),
    )
    session.add(user)
    return user


async def deactivate_staff_user(ctx: AppContext, username: str) -> bool:
    """The account can no longer log in, its sessions end, and its open pages and sockets
    are told at once (on every instance that hears this context's bus); ``False`` if there
    is no such user. The row stays: appointments still name their advisor."""
    async with ctx.sessions() as db, db.begin():
        user = await find_user(db, username)
        if user is None:
            return False
        user.active = False
        await db.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
        user_id = user.id
    await logins_changed(ctx, user_id)
    return True
