"""A participant without a name in the call, in Debian's Chromium: every page names them by
their role, in the page's own language — "Interpreter" on Clara's English page, "Dolmetschung"
on the advisor's German one — on the tile, in the participant list, in the waiting list, in
the chat and its announcement, on their shared screen, in the question before removing them
and when they leave. The server sends such a participant's name empty
(tests/realtime/test_nameless_participant_socket.py); the name was erased here as the
retention purge and a withdrawal of consent leave it (scheduling needs a name).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from call_pages import (
    CLARA,
    IVO,
    START,
    advisor_call_page,
    appointment_with,
    browser,  # noqa: F401 - the Chromium fixture with fake devices (CALL_ARGS)
    open_page,
    tile,
    waiting,
)
from playwright.async_api import Browser, Page, expect
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import LiveServer
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import Participant, StaffUser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]


async def english_waiting_room(
    browser: Browser,  # noqa: F811 - a helper taking the fixture
    live_server: LiveServer,
    token: str,
) -> tuple[Page, list[str]]:
    room, errors = await open_page(browser, 1024)
    await room.goto(f"{live_server.url}/v/{token}/warteraum?lang=en")
    await expect(room.locator("#connection-state")).to_have_text(
        "Connected. You are in the waiting room."
    )
    return room, errors


async def test_a_nameless_interpreter_is_named_by_the_role_in_each_page_s_language(
    browser: Browser,  # noqa: F811 - the imported fixture
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    appointment_id, [(_, clara_token), (ivo_id, ivo_token)] = await appointment_with(
        db, settings, clock, [CLARA, IVO]
    )
    async with db() as session, session.begin():
        await session.execute(update(Participant).where(Participant.id == ivo_id).values(name=None))
    clock.set(START - timedelta(minutes=2))

    clara, clara_errors = await english_waiting_room(browser, live_server, clara_token)
    ivo, ivo_errors = await waiting(browser, live_server, ivo_token, 1024)
    desk, desk_errors = await advisor_call_page(browser, live_server, appointment_id)

    # The German call page's waiting list: the role, once, and "Abholen" says whom.
    ivo_waits = desk.locator(f'.call-waiting__person[data-participant-id="{ivo_id}"]')
    await expect(ivo_waits.locator(".call-waiting__name")).to_have_text("Dolmetschung")
    await expect(ivo_waits).not_to_contain_text("(Dolmetschung)")
    await desk.get_by_role("button", name="Abholen: Dolmetschung").click()
    await desk.get_by_role("button", name="Abholen: Clara Kundin").click()

    # The tiles and the participant lists, each page in its language.
    await expect(tile(desk, "Dolmetschung").locator(".tile__name")).to_have_text("Dolmetschung")
    await expect(tile(clara, "Interpreter").locator(".tile__name")).to_have_text("Interpreter")
    await expect(tile(clara, "Bea Berater").locator(".tile__name")).to_have_text(
        "Bea Berater (Advisor)"
    )
    await desk.get_by_role("button", name="Teilnehmende").click()
    await expect(desk.locator(".call-participants__name")).to_contain_text(
        ["Bea Berater (Sie)", "Dolmetschung", "Clara Kundin"]
    )
    await clara.get_by_role("button", name="Participants").click()
    clara_people = clara.locator(".call-participants__item")
    await expect(clara_people.filter(has_text="Interpreter")).to_have_count(1)
    await expect(clara_people.filter(has_text="Interpreter")).not_to_contain_text("(")
    # Ivo's own page (German) names him by his role too.
    await ivo.get_by_role("button", name="Teilnehmende").click()
    await expect(ivo.locator(".call-participants__name").first).to_have_text("Dolmetschung (Sie)")

    # Chat: the line and its announcement on Clara's page (her chat panel is closed).
    await ivo.get_by_role("button", name="Chat").click()
    await ivo.get_by_label("Ihre Nachricht").fill("Guten Tag")
    await ivo.get_by_role("button", name="Senden").click()
    await expect(clara.locator(".call-announcer")).to_have_text("New message from Interpreter")
    await clara.get_by_role("button", name="Chat").click()
    await expect(clara.locator(".call-chat__line .call-chat__who").last).to_have_text("Interpreter")

    # His shared screen.
    await ivo.get_by_role("button", name="Bildschirm teilen").click()
    await expect(tile(clara, "Screen of Interpreter")).to_be_visible()
    await expect(tile(desk, "Bildschirm von Dolmetschung")).to_be_visible()

    # The question before removing him (answered "Abbrechen": he stays).
    await desk.get_by_role("button", name="Entfernen: Dolmetschung").click()
    await expect(desk.locator("#confirm-text")).to_have_text(
        "Dolmetschung aus dem Gespräch entfernen? Die Person kommt nur zurück, "
        "wenn Sie sie erneut abholen."
    )
    await desk.get_by_role("button", name="Abbrechen").click()

    # He hangs up: both pages say who left.
    await ivo.get_by_role("button", name="Auflegen").click()
    await expect(clara.locator(".call-announcer")).to_have_text("Interpreter left the call.")
    await expect(desk.locator(".call-announcer")).to_have_text(
        "Dolmetschung hat das Gespräch verlassen."
    )

    assert "Dolmetschung" not in (await clara.locator("body").text_content() or "")
    assert clara_errors == [] and ivo_errors == [] and desk_errors == []
