"""Staff accounts, as the command line creates them (``videotermin user add``).

Only the password's argon2 hash is stored; the caller has checked its strength
(:func:`videotermin.domain.passwords.password_problem`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.context import AppContext
from videotermin.domain.passwords import hash_password
from videotermin.domain.staff import StaffRole
from videotermin.store.models import StaffUser, Unit


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
