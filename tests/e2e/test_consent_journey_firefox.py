"""The consent journeys in Firefox ESR on a 360 px phone, in English.

The twin of test_consent_journey_browser.py's declining and withdrawal journeys, with
the language a citizen picks on the page: she opens her link, switches to English,
declines, reads that this costs her nothing and whom to ask, changes her mind from the
declaration she opens on that page, and lands on the device check. Later she withdraws
her consent from the link page; the page then no longer knows her name and the database
keeps no personal data of hers. Each page passes the layout audit in Firefox's rendering
(screenshots in ``LAYOUT_SHOTS``), and no page reports a script error.
"""

from __future__ import annotations

import pytest
from firefox_driver import firefox
from firefox_pages import looks_right
from journey_pages import add_passed_check, book, decisions_of, personal_data_left
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import LiveServer
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]


async def test_in_english_she_declines_changes_her_mind_and_later_withdraws(
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    _appointment, participant, token = await book(db, settings, clock, "Wanda Widerruf")
    layout: dict[str, list[str]] = {}
    async with firefox() as fox:
        await fox.viewport(360, 740)
        await fox.goto(f"{live_server.url}/v/{token}")
        await fox.wait("h1", "Ihr Videotermin")
        await fox.click("a", "English")
        await fox.wait("h1", "Your video appointment")
        consent_text = await fox.wait(".consent-text", "Which data we store")
        language = await fox.evaluate("document.documentElement.lang")
        layout["consent"] = await looks_right(fox, "consent-en")

        await fox.click("button", "I do not agree")
        await fox.wait("h1", "You have not agreed")
        declined = await fox.evaluate("document.querySelector('main').textContent")
        layout["declined"] = await looks_right(fox, "declined-en")
        await fox.click("summary", "Read the consent declaration")
        await fox.wait(".change-mind .consent-text", "Which data we store")
        await fox.click(".change-mind button", "I agree")
        await fox.wait("h1", "Device check")
        check_path = await fox.evaluate("location.pathname")
        await add_passed_check(db, participant)
        had_personal_data = bool(await personal_data_left(db, participant))

        await fox.goto(f"{live_server.url}/v/{token}")
        await fox.click("a", "Withdraw consent")
        await fox.wait("h1", "Withdraw your consent?")
        layout["withdraw"] = await looks_right(fox, "withdraw-en")
        await fox.click("button", "Yes, withdraw consent")
        await fox.wait("h1", "You have withdrawn your consent")
        withdrawn = await fox.evaluate("document.querySelector('main').textContent")
        withdrawn_path = await fox.evaluate("location.pathname")
        layout["withdrawn"] = await looks_right(fox, "withdrawn-en")
        errors = await fox.errors()

    assert language == "en" and "Which data we store" in consent_text
    assert "it has no disadvantage for you" in declined
    assert "Hauptstraße 1, 12345 Musterstadt" in declined and "+49 30 5555-0" in declined
    assert check_path == f"/v/{token}/geraete"
    assert had_personal_data, "there was personal data to erase"
    assert "Wanda" not in withdrawn and withdrawn_path == f"/v/{token}"
    assert await personal_data_left(db, participant) == {}
    assert await decisions_of(db, participant) == ["declined", "agreed", "withdrawn"]
    problems = {page: found for page, found in layout.items() if found}
    assert problems == {}, "Firefox at 360 px"
    assert errors == [], "no script errors in Firefox"
