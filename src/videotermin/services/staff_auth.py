"""Staff authentication: password check with lockout, and server-side sessions.

The session cookie carries a random token; the table keeps only its SHA-256
hash, so a database dump cannot be replayed as logins, and logging out deletes
the row, so the old cookie is worthless at once. The web layer sets the
cookie and checks CSRF; the real-time layer finds the same login for a socket.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.bus.events import staff_changed
from videotermin.context import AppContext
from videotermin.domain import login_throttle
from videotermin.domain.audit import AuditAction
from videotermin.domain.passwords import hash_password, needs_rehash, verify_password
from videotermin.domain.tokens import hash_token, looks_like_token, new_token
from videotermin.services.audit import Actor, record
from videotermin.store.models import LoginThrottle, StaffSession, StaffUser

# Verified when the username is unknown, so that case costs the same argon2 time.
_DUMMY_HASH = hash_password("no such user, no such password")


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

    The limit is kept per attempted username, whether or not such an account
    exists, and every path runs one argon2 verification: neither the lock nor
    the answer time tells whether a username is real. A correct password on a
    locked name is refused too, so the lock cannot be guessed around.
    """
    now = ctx.clock()
    key = hash_token("login:" + username.casefold())
    throttle = await db.get(LoginThrottle, key)
    state = (
        login_throttle.LoginFailures(
            throttle.failures, throttle.first_failed_at, throttle.locked_until
        )
        if throttle
        else login_throttle.LoginFailures()
    )
    user = await db.scalar(
        select(StaffUser).where(StaffUser.username == username, StaffUser.active.is_(True))
    )
    # A failure names the account when there is one; what was typed for an unknown
    # name is not kept (it may be a password typed into the wrong field).
    failed = Actor(staff_id=user.id if user is not None else None)
    if login_throttle.is_locked(state, now):
        verify_password(_DUMMY_HASH, password)
        record(db, now, failed, AuditAction.LOGIN_FAILED, detail="gesperrt")
        return LoginAttempt(locked_until=state.locked_until)
    if user is not None and verify_password(user.password_hash, password):
        if throttle is not None:
            await db.delete(throttle)
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        record(db, now, failed, AuditAction.LOGIN)
        return LoginAttempt(user=user)
    if user is None:
        verify_password(_DUMMY_HASH, password)
    settings = ctx.settings
    state = login_throttle.record_failure(
        state, now, settings.login_max_failures, timedelta(minutes=settings.login_lock_minutes)
    )
    if throttle is None:
        throttle = LoginThrottle(key_hash=key, failures=0, first_failed_at=now)
        db.add(throttle)
    throttle.failures = state.count
    throttle.first_failed_at = state.first_at or now
    throttle.locked_until = state.locked_until
    record(db, now, failed, AuditAction.LOGIN_FAILED)
    return LoginAttempt(locked_until=state.locked_until)


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
