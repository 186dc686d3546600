"""Staff roles and what each may see.

Advisors work on their own appointments; admins may act on any; support staff
look participants up but hold no appointments. Every staff page, socket and
use case asks these rules, so a role means the same everywhere.
"""

from __future__ import annotations

from enum import StrEnum


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
