"""The waiting room in Debian's Chromium with a fake camera: the citizen waits and sees
themselves, the advisor's list shows it live (alert, highlighted row, tone), a message
reaches the waiting room without a reload, and closing the tab ends the waiting after
the grace. Both pages pass axe-core. The server's clock is the fake one."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from call_pages import START, axe_violations
from chromium import ARGS, FAKE_MEDIA, launch_chromium, new_page
from playwright.async_api import Browser, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW, LiveServer
from videotermin.context import AppContext
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.realtime import timing
from videotermin.services import appointments as scheduling
from videotermin.services.consent_texts import current_version
from videotermin.settings import Settings
from videotermin.store.models import ConsentRecord, StaffUser

MESSAGE = "Ich komme 5 Minuten später. <b>Bitte</b> bleiben Sie im Warteraum."

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]


@pytest.fixture
def fast_loops(monkeypatch: pytest.MonkeyPatch) -> None:
    """Re-checks and sweeps in tenths of seconds; requested before the server starts."""
    monkeypatch.setattr(timing, "DEFAULT", timing.Timing(recheck_seconds=0.5, sweep_seconds=0.1))


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with launch_chromium([*ARGS, *FAKE_MEDIA]) as browser:
        yield browser


async def waiting_citizen(
    db: async_sessionmaker[AsyncSession], settings: Settings, clock: FakeClock
) -> tuple[str, str]:
    """An appointment tomorrow at 10:00 whose citizen agreed; returns participant id and token."""
    ctx = AppContext(settings=settings, clock=clock, engine=db.kw["bind"], sessions=db)
    async with db() as session, session.begin():
        advisor = await scheduling.find_advisor(session, "berater")
        assert advisor is not None
        _appointment, links = await scheduling.create_appointment(
            session,
            ctx,
            advisor=advisor,
            start=START,
            duration_minutes=30,
            subject="Beratung",
            participants=[ParticipantDraft(name="Clara Kundin", email="clara@example.org")],
        )
        participant = links[0].participant
        session.add(
            ConsentRecord(
                participant_id=participant.id,
                version=current_version(settings),
                language="de",
                text_hash="0" * 64,
                decision="agreed",
                decided_at=NOW,
            )
        )
    return participant.id, links[0].link.rsplit("/", 1)[1]


async def test_waiting_room_seen_live_by_the_advisor(
    fast_loops: None,
    browser: Browser,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    participant_id, token = await waiting_citizen(db, settings, clock)
    clock.set(START - timedelta(minutes=2))

    desk, desk_errors = await new_page(browser, 1024)
    await desk.goto(f"{live_server.url}/login")
    await desk.get_by_label("Benutzername").fill("berater")
    await desk.get_by_label("Passwort").fill("richtig-geheim-42")
    await desk.get_by_role("button", name="Anmelden").click()
    await expect(desk).to_have_url(re.compile(r"/termine$"))
    await expect(desk.locator("#live-state")).to_have_text("Live-Anzeige: aktiv")
    sound = desk.locator("#live-sound-button")
    await expect(sound).to_have_text("Töne aktivieren")
    await sound.click()
    await expect(sound).to_have_text("Töne sind aktiv")
    await expect(sound).to_be_disabled()
    row = desk.locator(f'[data-participant-id="{participant_id}"]')
    await expect(row).not_to_contain_text("wartet seit")

    room, room_errors = await new_page(browser, 360)
    await room.goto(f"{live_server.url}/v/{token}/warteraum")
    await expect(room.get_by_role("heading", level=1)).to_have_text("Warteraum")
    await expect(room.locator("main")).to_contain_text(
        "Ihre Ansprechpartnerin / Ihr Ansprechpartner holt Sie gleich ab."
    )
    await expect(room.locator("#connection-state")).to_have_text(
        "Verbunden. Sie sind im Warteraum."
    )
    await room.wait_for_function(
        "() => { const v = document.getElementById('self-view');"
        " return v.videoWidth > 0 && !v.paused && v.currentTime > 0; }"
    )
    for device in ("Kamera", "Mikrofon"):
        await expect(room.get_by_label(device, exact=True).locator("option")).not_to_have_count(0)
    await room.evaluate("window.stayedOnThisPage = true")

    await expect(row).to_contain_text("wartet seit 09:58 Uhr")
    await expect(row).to_have_class(re.compile(r"\bparticipant--entered\b"))
    await expect(desk.get_by_role("alert")).to_contain_text(
        "Clara Kundin (Kundin/Kunde) wartet im Warteraum – Termin um 10:00 Uhr."
    )
    await expect(desk.locator("#live")).to_have_attribute("data-tones-played", "1")

    assert await axe_violations(room) == [], "the waiting room"
    assert await axe_violations(desk) == [], "the live list with its alert"

    await desk.get_by_text("Nachricht an den Warteraum", exact=True).first.click()
    await desk.get_by_label("Nachricht an den Warteraum").fill(MESSAGE)
    await desk.get_by_role("button", name="Nachricht senden").click()
    await expect(desk.get_by_role("status").first).to_contain_text(
        "Die Nachricht ist jetzt im Warteraum zu sehen."
    )
    await expect(room.locator("#advisor-message")).to_contain_text(MESSAGE)
    await expect(room.locator("#advisor-message")).to_contain_text("Gesendet um 09:58 Uhr")
    assert await room.evaluate("window.stayedOnThisPage === true"), "no reload"
    assert await room.locator("#advisor-message b").count() == 0, "text, never HTML"

    await expect(desk.locator("#live-state")).to_have_text("Live-Anzeige: aktiv")
    await room.context.close()
    for _ in range(50):
        clock.advance(timedelta(seconds=11))
        try:
            await expect(row).not_to_contain_text("wartet seit", timeout=500)
            break
        except AssertionError:
            continue
    await expect(row).not_to_contain_text("wartet seit")
    await expect(row).to_contain_text("Einwilligung: zugestimmt")

    assert desk_errors == [] and room_errors == [], "no script errors, no CSP refusals"
