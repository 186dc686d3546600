"""The link page as the journey's hub: after consent, the next step depends on the join
window and on whether this device has passed the device check; every state shows the
support code."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from journey_helpers import (
    DEVICE_KEY,
    OPENS_AT,
    add_device_check,
    cancel,
    decide,
    withdraw,
)
from page_helpers import book
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.domain.support_code import format_support_code
from videotermin.settings import Settings
from videotermin.store.models import Participant, StaffUser, Unit
from videotermin.web.static_files import static_url

DISABLED = re.compile(
    r'<button type="button" class="enter" disabled aria-describedby="opens-at" '
    r'data-opens-at="(\d+)" data-server-now="(\d+)">Beratungsraum betreten</button>'
)
OPENER = f'<script type="module" src="{static_url("js/window_opener.js")}"></script>'


async def agreed_with_check(
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    verdict: str = "green",
) -> str:
    """A participant who agreed and passed the device check in this client; their token."""
    booking = await book(db, settings, clock)
    await decide(client, booking.tokens[0], "agree")
    await add_device_check(db, booking.participant_ids[0], verdict)
    client.cookies.set("vt_device", DEVICE_KEY, path="/v/")
    return booking.tokens[0]


async def test_before_the_window_the_enter_button_is_disabled_and_says_from_when(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    token = await agreed_with_check(client, db, settings, clock)

    day_before = await client.get(f"/v/{token}")
    clock.set(OPENS_AT - timedelta(seconds=1))
    same_day = await client.get(f"/v/{token}")

    assert (
        '<p id="opens-at">Den Beratungsraum können Sie am Donnerstag, 3. Dezember 2026 ab '
        "09:55 Uhr betreten, kurz vor Beginn Ihres Termins.</p>" in day_before.text
    )
    assert "heute ab 09:55 Uhr betreten" in same_day.text
    for page, now in ((day_before, NOW), (same_day, OPENS_AT - timedelta(seconds=1))):
        match = DISABLED.search(page.text)
        assert match, "a disabled button, described by the opening time"
        assert int(match[1]) == int(OPENS_AT.timestamp() * 1000)
        assert int(match[2]) == int(now.timestamp() * 1000), "the server's clock, for skew"
        assert OPENER in page.text
        assert f'<a class="button secondary" href="/v/{token}/geraete">' in page.text
        assert f"/v/{token}/warteraum" not in page.text


async def test_exactly_when_the_window_opens_the_button_leads_into_the_waiting_room(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    token = await agreed_with_check(client, db, settings, clock)
    clock.set(OPENS_AT)

    page = await client.get(f"/v/{token}")

    html = page.text
    assert f'<a class="button" href="/v/{token}/warteraum">Beratungsraum betreten</a>' in html
    assert "Der Beratungsraum ist geöffnet." in html
    assert f'<a class="button secondary" href="/v/{token}/geraete">Geräte erneut prüfen</a>' in (
        html
    )
    assert not DISABLED.search(html) and OPENER not in html


async def test_a_yellow_check_lets_the_citizen_in_and_says_so(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    token = await agreed_with_check(client, db, settings, clock, verdict="yellow")
    clock.set(OPENS_AT)

    page = await client.get(f"/v/{token}")

    assert "mit kleinen Einschränkungen" in page.text
    assert f'href="/v/{token}/warteraum"' in page.text


@pytest.mark.parametrize(
    ("checks", "cookie"),
    [
        ([], DEVICE_KEY),
        ([("red", DEVICE_KEY)], DEVICE_KEY),
        ([("green", "another-browser-device-key-00000")], DEVICE_KEY),
        ([("green", DEVICE_KEY), ("red", DEVICE_KEY)], DEVICE_KEY),
        ([("green", DEVICE_KEY)], None),
    ],
    ids=["no check", "red", "other device", "green then red", "no device cookie"],
)
async def test_without_a_passed_check_on_this_device_the_next_step_is_the_check(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    checks: list[tuple[str, str]],
    cookie: str | None,
) -> None:
    booking = await book(db, settings, clock)
    token = booking.tokens[0]
    await decide(client, token, "agree")
    for verdict, key in checks:
        await add_device_check(db, booking.participant_ids[0], verdict, key)
    if cookie:
        client.cookies.set("vt_device", cookie, path="/v/")
    clock.set(OPENS_AT)

    page = await client.get(f"/v/{token}")

    assert f'<a class="button" href="/v/{token}/geraete">Geräte prüfen</a>' in page.text
    assert "Beratungsraum betreten" not in page.text
    assert "Den Beratungsraum" in page.text or "Der Beratungsraum ist geöffnet." in page.text


async def test_every_state_page_shows_the_support_code_while_it_works_and_the_hotline(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    people = [
        ParticipantDraft(
            name=f"Person {state}",
            email=f"{state}@example.org",
            role="citizen" if state == "needed" else "companion",
        )
        for state in ("needed", "declined", "agreed", "withdrawn")
    ]
    async with db() as session, session.begin():
        unit = await session.scalar(select(Unit).where(Unit.is_default.is_(True)))
        assert unit is not None
        unit.hotline_hours = "Montag bis Freitag, 8 bis 18 Uhr"
    booking = await book(db, settings, clock, participants=people)
    needed, declined, agreed, withdrawn = booking.tokens
    await decide(client, declined, "decline")
    await decide(client, agreed, "agree")
    await decide(client, withdrawn, "agree")
    await withdraw(client, withdrawn)
    async with db() as session:
        codes = {
            token: format_support_code((await session.get_one(Participant, pid)).support_code)
            for token, pid in zip(booking.tokens, booking.participant_ids, strict=True)
        }

    pages = {
        "consent": await client.get(f"/v/{needed}"),
        "declined": await client.get(f"/v/{declined}"),
        "before window": await client.get(f"/v/{agreed}"),
        "withdrawal": await client.get(f"/v/{agreed}/widerruf"),
        "withdrawn": await client.get(f"/v/{withdrawn}"),
    }
    clock.set(OPENS_AT)
    pages["window open"] = await client.get(f"/v/{agreed}")
    clock.set(OPENS_AT + timedelta(hours=1))
    pages["ended"] = await client.get(f"/v/{agreed}")
    clock.set(NOW)
    await cancel(db, settings, clock, booking.appointment_id)
    pages["cancelled"] = await client.get(f"/v/{agreed}")

    tokens = {"consent": needed, "declined": declined, "withdrawn": withdrawn}
    # Withdrawal erased the person's data, the support code with it: the page shows the
    # hotline, but no code that would find nobody.
    assert codes[withdrawn] is None
    for name, page in pages.items():
        code = codes[tokens.get(name, agreed)]
        assert page.status_code == 200, name
        if code is None:
            assert "Support-Code" not in page.text, name
        else:
            assert f'<p class="support-code">Ihr Support-Code: <strong>{code}</strong></p>' in (
                page.text
            ), name
        assert '<a href="tel:08001234567">0800 123 4567</a>' in page.text, name
        assert "Erreichbar: Montag bis Freitag, 8 bis 18 Uhr" in page.text, name
        assert page.text.count("<h1>") == 1, name
        assert page.headers["cache-control"] == "no-store", name
    assert "Person withdrawn" not in pages["withdrawn"].text


async def test_the_token_appears_only_in_this_sites_own_link_paths(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    token = await agreed_with_check(client, db, settings, clock)
    consent_page = await client.get(f"/v/{(await book(db, settings, clock)).tokens[0]}")
    clock.set(OPENS_AT)

    hub = await client.get(f"/v/{token}")

    for html in (hub.text, consent_page.text):
        for place in re.findall(r'(?:href|action)="([^"]*/v/[^"]*)"', html):
            assert re.fullmatch(r"/v/[A-Za-z0-9_-]{32}(/[a-z]+)?", place), place
    assert len(re.findall(token, hub.text)) == 3  # waiting room, device check, withdrawal


async def test_the_window_opener_is_served_as_a_module(client: httpx.AsyncClient) -> None:
    script = await client.get("/static/js/window_opener.js")

    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "location.reload()" in script.text
