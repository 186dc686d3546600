"""Staff roles and what each may see.

Advisors work on their own appointments; admins may act on any; support staff
look participants up but hold no appointments. Every staff page, socket and
use case asks these rules, so a role means the same everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from videotermin.domain.appointments import FieldError, normalise_email
from videotermin.domain.text import N_
from videotermin.domain.text_input import is_one_line


class StaffRole(StrEnum):
    ADVISOR = "advisor"
    SUPPORT = "support"
    ADMIN = "admin"


STAFF_ROLES = tuple(StaffRole)
ADVISOR_ROLES = (StaffRole.ADVISOR, StaffRole.ADMIN)
"""Roles that hold appointments and open their pages."""


def may_see_appointment(role: str, user_id: int, advisor_id: int) -> bool:
    """An appointment is its advisor's; admins may open any."""
    return role == StaffRole.ADMIN or advisor_id == user_id


SUPPORT_ROLES = (StaffRole.SUPPORT, StaffRole.ADMIN)
"""Roles that may look participants up by their support code."""


def may_look_up(role: str) -> bool:
    return role in SUPPORT_ROLES


def may_support(role: str, staff_unit_id: int, appointment_unit_id: int) -> bool:
    """Support staff help the citizens of their own unit; admins help everyone's.

    A unit's hotline knows its own appointments and advisors; a look-up in another
    unit would show a stranger's data to someone with no reason to see it.
    """
    return role == StaffRole.ADMIN or (
        role == StaffRole.SUPPORT and staff_unit_id == appointment_unit_id
    )


def may_administer(role: str) -> bool:
    return role == StaffRole.ADMIN


ROLE_LABELS = {
    StaffRole.ADVISOR: N_("Beratung"),
    StaffRole.SUPPORT: N_("Support"),
    StaffRole.ADMIN: N_("Administration"),
}
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,79}$")
MAX_DISPLAY_NAME = 200
MAX_PHONE = 60


@dataclass(frozen=True)
class StaffDraft:
    """A staff account as the admin's form gives it (already stripped)."""

    username: str
    display_name: str
    email: str
    phone: str
    role: str
    unit_id: int | None


def check_staff(draft: StaffDraft, *, new: bool) -> list[FieldError]:
    """Why the form's account is refused; empty when it may be saved. The username is
    checked only for a new account: it never changes, audit entries name it."""
    errors: list[FieldError] = []
    if new and not USERNAME.fullmatch(draft.username):
        errors.append(
            FieldError(
                "username",
                "invalid",
                "3 to 80 characters: lower-case letters, digits, dot, hyphen, underscore",
            )
        )
    if not draft.display_name:
        errors.append(FieldError("display_name", "required", "a name is required"))
    elif len(draft.display_name) > MAX_DISPLAY_NAME or not is_one_line(draft.display_name):
        errors.append(
            FieldError(
                "display_name", "invalid", f"at most {MAX_DISPLAY_NAME} characters, one line"
            )
        )
    if draft.email and normalise_email(draft.email) is None:
        errors.append(FieldError("email", "invalid", "not a valid e-mail address"))
    if len(draft.phone) > MAX_PHONE or not is_one_line(draft.phone):
        errors.append(FieldError("phone", "invalid", f"at most {MAX_PHONE} characters, one line"))
    if draft.role not in STAFF_ROLES:
        errors.append(FieldError("role", "invalid", "advisor, support or admin"))
    if draft.unit_id is None:
        errors.append(FieldError("unit_id", "required", "a unit is required"))
    return errors


def check_own_account(
    admin_id: int, user_id: int, *, role: str | None, active: bool
) -> list[FieldError]:
    """An admin cannot lock themselves out: not deactivate their own account, nor give
    it another role (another admin can)."""
    if admin_id != user_id:
        return []
    if not active:
        return [FieldError("", "own_account", "you cannot deactivate your own account")]
    if role is not None and role != StaffRole.ADMIN:
        return [FieldError("role", "own_account", "you cannot take the admin role from yourself")]
    return []


def password_link_expiry(now: datetime, hours: int) -> datetime:
    return now + timedelta(hours=hours)
