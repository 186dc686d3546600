"""The advisor's call page (``GET /appointments/<id>/call``): only the appointment's own
advisor or an admin sees it; everyone else gets what they would get for any foreign page."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import httpx
from page_helpers import book, login
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import add_staff
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

_CONFIG = re.compile(r'<script type="application/json" id="call-config">(.*?)</script>', re.S)


async def test_the_advisor_gets_the_call_page_with_its_controls_and_the_admit_request(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock)
    await login(client)
    page = await client.get(
        f"/appointments/{booking.appointment_id}/call",
        params={"admit": booking.participant_ids[0]},
    )
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    for control in ("Alle abholen", "Gespräch für alle beenden", "Stummschalten", "Auflegen"):
        assert control in page.text
    assert "<script>" not in page.text and ' style="' not in page.text, "CSP: nothing inline"
    match = _CONFIG.search(page.text)
    assert match
    config = json.loads(match.group(1))
    assert config["appointment"] == booking.appointment_id
    assert config["admit"] == booking.participant_ids[0]
    assert config["name"] == "Bea Berater"


async def test_the_appointment_page_links_to_the_call(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock)
    await login(client)
    page = await client.get(f"/termine/{booking.appointment_id}")
    assert f'href="/appointments/{booking.appointment_id}/call">Gespräch öffnen</a>' in page.text


async def test_other_advisors_get_not_found_and_admins_may_open_it(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock)
    await add_staff(db, "kollegin", display_name="Karla Kollegin")
    await add_staff(db, "chefin", role="admin")
    url = f"/appointments/{booking.appointment_id}/call"

    await login(client, "kollegin")
    refused = await client.get(url)
    assert refused.status_code == 404
    assert "Termin nicht gefunden" in refused.text

    client.cookies.clear()
    await login(client, "chefin")
    assert (await client.get(url)).status_code == 200


async def test_without_login_the_page_leads_to_the_login(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock)
    answer = await client.get(f"/appointments/{booking.appointment_id}/call")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


async def test_an_appointment_that_is_over_has_no_call(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock)
    clock.advance(timedelta(days=2))
    await login(client)
    answer = await client.get(f"/appointments/{booking.appointment_id}/call")
    assert answer.status_code == 409
    assert "Dieser Termin ist beendet." in answer.text
    assert f'href="/termine/{booking.appointment_id}"' in answer.text
