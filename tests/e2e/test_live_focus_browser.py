"""Live updates never take the keyboard away, in Debian's Chromium.

The advisor's list and the support desk swap in rows the server rendered again. An
advisor on the appointment's page who tabbed to Clara's "Einladung erneut senden" stays
on that button when Clara enters the waiting room (her row changes, and "Abholen"
appears above the button); one on "Abholen" when Clara leaves again (the link is gone)
stays on Clara's row instead of being thrown back to the start of the page, and one on
Ina's button when Ina is removed (in another tab) lands on the list of participants. A
supporter on the desk's "Einladung erneut senden" stays there while the citizen's device
check changes the view. On the call page, the advisor on "Abholen: Ina" stays there while
Clara comes into the waiting list and goes again (the page builds the list anew).
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from call_helpers import book_call
from call_pages import advisor_call_page, browser  # noqa: F401
from chromium import new_page
from device_check_helpers import page_headers
from page_helpers import csrf_token, login
from playwright.async_api import Browser, Locator, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support_helpers import SUPPORT, supporter
from waiting_helpers import agreed_in_window, citizen, fast_timing, greet

from conftest import PASSWORD, LiveServer
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

__all__ = ["fast_timing", "supporter"]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]

FOCUSED_IS_BODY = "() => document.activeElement === document.body"


async def logged_in(
    chromium: Browser, server: LiveServer, user: str, landing: str
) -> tuple[Page, list[str]]:
    """``user``'s page at 1280 px, logged in by the form, and its console errors."""
    page, errors = await new_page(chromium, 1280)
    await page.goto(f"{server.url}/login")
    await page.get_by_label("Benutzername").fill(user)
    await page.get_by_label("Passwort").fill(PASSWORD)
    await page.get_by_role("button", name="Anmelden").click()
    await expect(page).to_have_url(f"{server.url}{landing}")
    return page, errors


async def gone_after_the_grace(clock: FakeClock, control: Locator) -> None:
    """Move the clock past the grace a dropped connection gets until ``control`` is gone."""
    for _ in range(50):
        clock.advance(timedelta(seconds=11))
        try:
            await expect(control).to_have_count(0, timeout=500)
            return
        except AssertionError:
            continue
    await expect(control).to_have_count(0)


async def test_the_advisors_focus_stays_on_its_control_or_row_when_the_row_changes(
    fast_timing: object,
    browser: Browser,  # noqa: F811 - the imported fixture
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book_call(db, settings, clock)
    participant_id, token = booking.participant_ids[0], booking.tokens[0]
    desk, errors = await logged_in(browser, live_server, "berater", "/termine")
    await desk.goto(f"{live_server.url}/termine/{booking.appointment_id}")
    await expect(desk.locator("#live-state")).to_have_text("Live-Anzeige: aktiv")
    row = desk.locator(f'[data-participant-id="{participant_id}"]')
    resend = row.get_by_role("button", name=re.compile("^Einladung erneut senden"))
    await resend.focus()

    async with citizen(live_server, token) as ws:
        await greet(ws)
        await expect(row).to_contain_text("wartet seit")
        await expect(desk.get_by_role("alert")).to_contain_text("Clara Kundin")
        await expect(resend).to_be_focused()
        admit = row.get_by_role("link", name=re.compile("^Abholen"))
        await admit.focus()
    await gone_after_the_grace(clock, admit)
    await expect(row).to_be_focused()
    assert not await desk.evaluate(FOCUSED_IS_BODY)
    await desk.keyboard.press("Tab")  # and the keyboard goes on from Clara's row
    await expect(resend).to_be_focused()

    ina = desk.locator(f'[data-participant-id="{booking.participant_ids[1]}"]')
    await ina.get_by_role("button", name=re.compile("^Einladung erneut senden")).focus()
    async with httpx.AsyncClient(base_url=live_server.url) as other_tab:
        await login(other_tab)
        remove = (
            f"/termine/{booking.appointment_id}/teilnehmende/{booking.participant_ids[1]}/entfernen"
        )
        confirmation = await other_tab.get(remove)
        removed = await other_tab.post(remove, data={"csrf_token": csrf_token(confirmation.text)})
        assert removed.status_code == 303
    await expect(ina).to_have_count(0)
    await expect(desk.locator(".participants")).to_be_focused()
    assert errors == []


async def test_the_supporters_focus_stays_on_its_button_while_the_check_changes_the_view(
    browser: Browser,  # noqa: F811 - the imported fixture
    live_server: LiveServer,
    advisor: StaffUser,
    supporter: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await agreed_in_window(db, settings, clock)
    token = booking.tokens[0]
    async with httpx.AsyncClient(base_url=live_server.url) as phone:
        shown = await phone.get(f"/v/{token}")
        code = re.search(r'class="support-code"[^>]*>.*?<strong>([^<]+)</strong>', shown.text, re.S)
        assert code is not None, "the citizen's page shows her support code"
        desk, errors = await logged_in(browser, live_server, SUPPORT, "/support")
        await desk.get_by_label("Support-Code").fill(code.group(1))
        await desk.get_by_role("button", name="Nachschlagen").click()
        resend = desk.get_by_role("button", name="Einladung erneut senden")
        await resend.focus()

        headers = await page_headers(phone, f"/v/{token}/geraete")
        await expect(desk.locator("main")).to_contain_text("Gerätetest: geöffnet")
        await expect(resend).to_be_focused()
        blocked = await phone.post(
            f"/v/{token}/geraete/stand", json={"step": "blocked"}, headers=headers
        )
        assert blocked.status_code == 204
        await expect(desk.get_by_role("alert")).to_contain_text("blockiert")
        await expect(resend).to_be_focused()
    assert errors == []


async def test_the_call_pages_admit_button_keeps_the_focus_while_others_come_and_go(
    fast_timing: object,
    browser: Browser,  # noqa: F811 - the imported fixture
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book_call(db, settings, clock)
    clara_token, ina_token = booking.tokens
    desk, errors = await advisor_call_page(browser, live_server, booking.appointment_id)
    admit_ina = desk.get_by_role("button", name="Abholen: Ina Dolmetscherin")
    admit_clara = desk.get_by_role("button", name="Abholen: Clara Kundin")
    async with citizen(live_server, ina_token) as ina:
        await greet(ina)
        await admit_ina.focus()
        async with citizen(live_server, clara_token) as clara:
            await greet(clara)
            await expect(admit_clara).to_be_visible()
            await expect(admit_ina).to_be_focused()
        await gone_after_the_grace(clock, admit_clara)
        await expect(admit_ina).to_be_focused()
    assert errors == []
