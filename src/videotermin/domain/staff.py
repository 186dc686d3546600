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
