"""Who may use the support desk, and for whom."""

from __future__ import annotations

from videotermin.domain.staff import may_look_up, may_see_appointment, may_support


def test_support_and_admins_look_up_advisors_do_not() -> None:
    assert may_look_up("support") and may_look_up("admin")
    assert not may_look_up("advisor") and not may_look_up("") and not may_look_up("SUPPORT")


def test_support_helps_its_own_unit_admins_every_unit() -> None:
    assert may_support("support", staff_unit_id=1, appointment_unit_id=1)
    assert not may_support("support", staff_unit_id=1, appointment_unit_id=2)
    assert may_support("admin", staff_unit_id=1, appointment_unit_id=2)
    assert not may_support("advisor", staff_unit_id=1, appointment_unit_id=1)


def test_an_appointment_is_its_advisors_and_admins_may_open_any() -> None:
    assert may_see_appointment("advisor", user_id=3, advisor_id=3)
    assert not may_see_appointment("advisor", user_id=3, advisor_id=4)
    assert not may_see_appointment("support", user_id=3, advisor_id=4)
    assert may_see_appointment("admin", user_id=3, advisor_id=4)
