"""The admin's use cases for staff accounts: create, change, reset the password,
deactivate — each audited in its own transaction.

No password is ever chosen, shown or mailed by anyone but its owner: a new account,
and an account whose password is reset, gets a one-time link
(:mod:`videotermin.services.password_links`) that the admin hands over; until it is
used the account has no password that could match. Whatever may change what a
person's open pages and sockets may do (a role, the unit, a reset, deactivation)
ends or re-reads them at once over the bus (``staff_changed``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.context import AppContext
from videotermin.domain.appointments import FieldError, RuleViolation, normalise_email
from videotermin.domain.audit import AuditAction
from videotermin.domain.staff import StaffDraft, check_own_account, check_staff
from videotermin.services.audit import Actor, record
from videotermin.services.password_links import NO_PASSWORD, issue_password_link
from videotermin.services.staff_auth import logins_changed
from videotermin.store.models import StaffSession, StaffUser, Unit


async def staff_members(db: AsyncSession) -> Sequence[StaffUser]:
    """Everyone, active first, by name."""
    return list(
        await db.scalars(
            select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.display_name)
        )
    )


async def staff_member(db: AsyncSession, user_id: int) -> StaffUser | None:
    return await db.get(StaffUser, user_id)


async def _checked(db: AsyncSession, draft: StaffDraft, *, new: bool) -> None:
    errors = check_staff(draft, new=new)
    if draft.unit_id is not None and await db.get(Unit, draft.unit_id) is None:
        errors.append(FieldError("unit_id", "unknown", "no such unit"))
    if new and not errors:
        taken = await db.scalar(select(StaffUser.id).where(StaffUser.username == draft.username))
        if taken is not None:
            errors.append(FieldError("username", "taken", "this username exists already"))
    if errors:
        raise RuleViolation(errors)


@dataclass(frozen=True)
class PasswordLinkIssued:
    user_id: int
    token: str
    """For the link the admin hands over; only its hash is stored."""


async def create_staff(ctx: AppContext, admin_id: int, draft: StaffDraft) -> PasswordLinkIssued:
    now = ctx.clock()
    async with ctx.sessions() as db, db.begin():
        await _checked(db, draft, new=True)
        user = StaffUser(
            username=draft.username,
            display_name=draft.display_name,
            email=normalise_email(draft.email) or "" if draft.email else "",
            phone=draft.phone,
            role=draft.role,
            unit_id=draft.unit_id,
            password_hash=NO_PASSWORD,
            created_at=now,
        )
        db.add(user)
        await db.flush()
        token = await issue_password_link(db, ctx, user.id)
        record(
            db,
            now,
            Actor(staff_id=admin_id),
            AuditAction.STAFF_CREATED,
            subject_staff_id=user.id,
            detail=f"Rolle {draft.role}",
        )
        user_id = user.id
    return PasswordLinkIssued(user_id, token)


async def change_staff(ctx: AppContext, admin_id: int, user_id: int, draft: StaffDraft) -> bool:
    """Save the form; whether anything changed. The username stays as it was."""
    async with ctx.sessions() as db, db.begin():
        user = await db.get(StaffUser, user_id)
        if user is None or not user.active:
            raise LookupError(user_id)
        await _checked(db, draft, new=False)
        own = check_own_account(admin_id, user_id, role=draft.role, active=True)
        if own:
            raise RuleViolation(own)
        email = (normalise_email(draft.email) or "") if draft.email else ""
        changes = [
            (field, old, new)
            for field, old, new in (
                ("role", user.role, draft.role),
                ("unit", user.unit_id, draft.unit_id),
                ("name", user.display_name, draft.display_name),
                ("email", user.email, email),
                ("phone", user.phone, draft.phone),
            )
            if old != new
        ]
        if not changes:
            return False
        user.role, user.display_name, user.email, user.phone = (
            draft.role,
            draft.display_name,
            email,
            draft.phone,
        )
        assert draft.unit_id is not None
        user.unit_id = draft.unit_id
        # Staff data is the agency's own; the detail names the fields, and the old and
        # new role and unit, which decide what the person may do.
        detail = ", ".join(
            f"{field}: {old} → {new}" if field in ("role", "unit") else field
            for field, old, new in changes
        )
        record(
            db,
            ctx.clock(),
            Actor(staff_id=admin_id),
            AuditAction.STAFF_CHANGED,
            subject_staff_id=user_id,
            detail=detail,
        )
    await logins_changed(ctx, user_id)
    return True


async def reset_password(ctx: AppContext, admin_id: int, user_id: int) -> PasswordLinkIssued:
    """The old password stops working and the person's sessions end at once; they set
    a new one through the link."""
    async with ctx.sessions() as db, db.begin():
        user = await db.get(StaffUser, user_id)
        if user is None or not user.active:
            raise LookupError(user_id)
        user.password_hash = NO_PASSWORD
        await db.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
        token = await issue_password_link(db, ctx, user_id)
        record(
            db,
            ctx.clock(),
            Actor(staff_id=admin_id),
            AuditAction.STAFF_PASSWORD_RESET,
            subject_staff_id=user_id,
        )
    await logins_changed(ctx, user_id)
    return PasswordLinkIssued(user_id, token)


async def deactivate(ctx: AppContext, admin_id: int, user_id: int) -> None:
    """No more logins; sessions, open pages and sockets end at once. The row stays:
    appointments and audit entries still name the person."""
    own = check_own_account(admin_id, user_id, role=None, active=False)
    if own:
        raise RuleViolation(own)
    async with ctx.sessions() as db, db.begin():
        user = await db.get(StaffUser, user_id)
        if user is None or not user.active:
            raise LookupError(user_id)
        user.active = False
        await db.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
        record(
            db,
            ctx.clock(),
            Actor(staff_id=admin_id),
            AuditAction.STAFF_DEACTIVATED,
            subject_staff_id=user_id,
        )
    await logins_changed(ctx, user_id)
