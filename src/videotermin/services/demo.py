"""Demo data for ``make run``: a filled-in default unit, an admin, an advisor, a
supporter and one appointment that starts in ten minutes, so the whole journey can be
tried at once.

Each run sets fresh random passwords for the demo accounts and creates a new
appointment, because links and passwords are stored only as hashes and cannot
be printed again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from videotermin.context import AppContext
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.passwords import hash_password
from videotermin.services import appointments as scheduling
from videotermin.services.staff_accounts import find_user
from videotermin.services.units import default_unit
from videotermin.store.models import StaffUser

DEMO_UNIT = {
    "name": "Agentur für Arbeit Musterstadt",
    "address": "Hauptstraße 1, 12345 Musterstadt",
    "phone": "+49 30 5555-0",
    "email": "musterstadt@agentur.example",
    "hotline": "0800 000 1234",
    "hotline_hours": "Montag bis Freitag, 8 bis 18 Uhr",
    "hotline_hours_en": "Monday to Friday, 8 am to 6 pm",
}
DEMO_STAFF = [
    ("admin", "admin", "Alex Admin"),
    ("berater", "advisor", "Bea Berater"),
    ("support", "support", "Sam Support"),
]


@dataclass(frozen=True)
class DemoResult:
    logins: list[tuple[str, str]]
    citizen_link: str


async def seed_demo(ctx: AppContext) -> DemoResult:
    now = ctx.clock()
    logins: list[tuple[str, str]] = []
    async with ctx.sessions() as session, session.begin():
        unit = await default_unit(session)
        if unit is None:
            raise RuntimeError("run `videotermin migrate` first")
        if not unit.hotline:
            for key, value in DEMO_UNIT.items():
                setattr(unit, key, value)
        for username, role, display_name in DEMO_STAFF:
            password = secrets.token_urlsafe(9)
            user = await find_user(session, username)
            if user is None:
                user = StaffUser(
                    username=username,
                    display_name=display_name,
                    email=f"{username}@agentur.example",
                    phone="+49 30 5555-100",
                    role=role,
                    unit_id=unit.id,
                    created_at=now,
                )
                session.add(user)
            user.password_hash = hash_password(password)
            logins.append((username, password))
        await session.flush()
        advisor = await find_user(session, "berater")
        assert advisor is not None
        _, links = await scheduling.create_appointment(
            session,
            ctx,
            advisor=advisor,
            start=now.replace(second=0, microsecond=0) + timedelta(minutes=10),
            duration_minutes=30,
            subject="Beratung zur beruflichen Orientierung",
            participants=[
                ParticipantDraft(
                    name="Clara Beispiel",
                    email="clara.beispiel@example.org",
                    customer_number="123D456789",
                )
            ],
        )
    return DemoResult(logins=logins, citizen_link=links[0].link)
