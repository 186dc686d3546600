"""Staff authentication: password check with lockout, and server-side sessions.

The session cookie carries a random token; the table keeps only its SHA-256
hash, so a database dump cannot be replayed as logins, and logging out deletes
the row, so the old cookie is worthless at once. The web layer sets the
cookie and checks CSRF; the real-time layer finds the same login for a socket.
"""

from __future__ import annotations

import asyncio
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, literal, null, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.bus.events import staff_changed
from videotermin.context import AppContext
from videotermin.domain import login_throttle
from videotermin.domain.audit import AuditAction
from videotermin.domain.passwords import hash_password, needs_rehash, verify_password
from videotermin.domain.text_input import storable
from videotermin.domain.tokens import hash_token, looks_like_token, new_token
from videotermin.services.audit import Actor, record
from videotermin.store.models import LoginThrottle, StaffSession, StaffUser, UTCDateTime

# Verified when the username is unknown, so that case costs the same argon2 time.
_DUMMY_HASH = hash_password("no such user, no such password")
# argon2 takes ~50 ms of one core per check. It runs in threads of its own, one core
# fewer than the machine has: a burst of logins then leaves the event loop a core (a
# profile of a burst on 2 cores showed the loop waiting for the CPU, not for argon2).
_HASHING = ThreadPoolExecutor(
    max_workers=max(1, (os.cpu_count() or 2) - 1), thread_name_prefix="argon2"
)


@dataclass(frozen=True)
class Login:
    """Who is logged in on this request, and the CSRF token their forms must carry."""

    user: StaffUser
    csrf_token: str
    expires_at: datetime
    """When the session ends by itself (its sockets set an alarm for it)."""

    @property
    def page_context(self) -> dict[str, object]:
        """What the page layout needs to show the navigation and the logout button."""
        return {"user": self.user, "csrf_token": self.csrf_token, "unit_name": self.user.unit.name}


@dataclass(frozen=True)
class LoginAttempt:
    user: StaffUser | None = None
    locked_until: datetime | None = None


def lock_minutes_left(locked_until: datetime, now: datetime) -> int:
    return max(1, math.ceil((locked_until - now).total_seconds() / 60))


# --- authentication ----------------------------------------------------------


async def authenticate(
    db: AsyncSession, ctx: AppContext, username: str, password: str
) -> LoginAttempt:
    """Check a password against the failed-login limit (:mod:`domain.login_throttle`).

    The attempt first takes its number in a transaction of its own (committed before
    the slow hash, so parallel attempts see each other), then the password is checked
    off the event loop, then the outcome is written in the caller's transaction. The
    limit is kept per attempted username, whether or not such an account exists, and
    every path runs one argon2 verification: neither the lock nor the answer time tells
    whether a username is real. A correct password on a locked name is refused too.
    """
    now, settings = ctx.clock(), ctx.settings
    key = hash_token("login:" + username.casefold())
    turn = await _take_turn(ctx, key, now)
    user = (  # a name no database can hold (NUL) is no account's, and cannot be looked up
        await db.scalar(
            select(StaffUser).where(StaffUser.username == username, StaffUser.active.is_(True))
        )
        if storable(username)
        else None
    )
    # A failure names the account when there is one; what was typed for an unknown
    # name is not kept (it may be a password typed into the wrong field).
    failed = Actor(staff_id=user.id if user is not None else None)
    if not login_throttle.may_check(turn, now, settings.login_max_failures):
        await password_verified(_DUMMY_HASH, password)
        record(db, now, failed, AuditAction.LOGIN_FAILED, detail="gesperrt")
        locked = turn.locked_until or now + timedelta(minutes=settings.login_lock_minutes)
        return LoginAttempt(locked_until=locked)
    stored = user.password_hash if user is not None else _DUMMY_HASH
    if await password_verified(stored, password) and user is not None:
        await db.execute(delete(LoginThrottle).where(LoginThrottle.key_hash == key))
        if needs_rehash(user.password_hash):
            user.password_hash = await password_hashed(password)
        record(db, now, failed, AuditAction.LOGIN)
        return LoginAttempt(user=user)
    lock = timedelta(minutes=settings.login_lock_minutes)
    locked_until = login_throttle.lock_after_failure(turn, now, settings.login_max_failures, lock)
    if locked_until is not None:
        await db.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key_hash == key)
            .values(locked_until=locked_until)
        )
    record(db, now, failed, AuditAction.LOGIN_FAILED)
    return LoginAttempt(locked_until=locked_until)


async def _take_turn(ctx: AppContext, key: str, now: datetime) -> login_throttle.Turn:
    """Count this attempt for ``key`` in one atomic statement (an upsert, committed at
    once): two parallel attempts can never read the same count, and neither can fail
    on the row the other just inserted."""
    lock = timedelta(minutes=ctx.settings.login_lock_minutes)
    row = LoginThrottle.__table__.c
    # domain.login_throttle.starts_new_period, as SQL over the stored row.
    fresh = and_(
        row.first_failed_at < literal(now - lock, UTCDateTime),
        or_(row.locked_until.is_(None), row.locked_until <= literal(now, UTCDateTime)),
    )
    async with ctx.sessions() as db, db.begin():
        insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = insert(LoginThrottle).values(
            key_hash=key, failures=1, first_failed_at=now, locked_until=None
        )
        taken = await db.execute(
            statement.on_conflict_do_update(
                index_elements=["key_hash"],
                set_={
                    "failures": case((fresh, 1), else_=row.failures + 1),
                    "first_failed_at": case(
                        (fresh, literal(now, UTCDateTime)), else_=row.first_failed_at
                    ),
                    "locked_until": case((fresh, null()), else_=row.locked_until),
                },
            ).returning(row.failures, row.locked_until)
        )
        number, locked_until = taken.one()
    return login_throttle.Turn(number, locked_until)


async def password_verified(password_hash: str, password: str) -> bool:
    """argon2 in the hashing threads: a burst of logins never stalls the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_HASHING, verify_password, password_hash, password)


async def password_hashed(password: str) -> str:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_HASHING, hash_password, password)


# --- sessions ----------------------------------------------------------------


@dataclass(frozen=True)
class NewSession:
    token: str
    """For the cookie; only its hash is stored."""
    ended_for: int | None
    """The user whose session this one replaced, to be told with :func:`logins_changed`."""


async def open_session(
    db: AsyncSession, ctx: AppContext, user: StaffUser, replacing: str | None
) -> NewSession:
    """A fresh session for ``user``.

    A session the browser still presented is ended (no fixation), and expired
    sessions of anyone are cleared on the way, so the table does not grow.
    """
    now = ctx.clock()
    ended_for = await close_session(db, replacing) if replacing else None
    await db.execute(delete(StaffSession).where(StaffSession.expires_at <= now))
    token = new_token()
    db.add(
        StaffSession(
            token_hash=hash_token(token),
            user_id=user.id,
            csrf_token=new_token(),
            created_at=now,
            expires_at=now + timedelta(hours=ctx.settings.session_hours),
        )
    )
    return NewSession(token, ended_for)


async def close_session(db: AsyncSession, token: str) -> int | None:
    """End the session of ``token``; whose it was, if it existed."""
    if not looks_like_token(token):
        return None
    ended: int | None = await db.scalar(
        delete(StaffSession)
        .where(StaffSession.token_hash == hash_token(token))
        .returning(StaffSession.user_id)
    )
    return ended


async def logins_changed(ctx: AppContext, user_id: int | None) -> None:
    """After the commit: the user's open sockets read their login again, on every instance
    (their live list and call close at once when it ended)."""
    if user_id is not None:
        await staff_changed(ctx.bus, user_id)


async def log_out(ctx: AppContext, token: str) -> None:
    """End the session everywhere at once: the table row, and every socket it opened."""
    async with ctx.sessions() as db, db.begin():
        ended_for = await close_session(db, token)
        if ended_for is not None:
            record(db, ctx.clock(), Actor(staff_id=ended_for), AuditAction.LOGOUT)
    await logins_changed(ctx, ended_for)


async def current_login(ctx: AppContext, token: str | None) -> Login | None:
    """The login of ``token`` now, read in a session of its own (for sockets)."""
    async with ctx.sessions() as db:
        return await find_login(db, token, ctx.clock())


async def find_login(db: AsyncSession, token: str | None, now: datetime) -> Login | None:
    if not token or not looks_like_token(token):
        return None
    row = await db.get(StaffSession, hash_token(token))
    if row is None or now >= row.expires_at or not row.user.active:
        return None
    return Login(user=row.user, csrf_token=row.csrf_token, expires_at=row.expires_at)
