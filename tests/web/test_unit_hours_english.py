"""The hotline's hours in English, over real HTTP: an admin enters them beside the German
ones, English pages and English mails show them, German ones keep the German hours, an
empty English text falls back to the German one, and control characters are refused
with a clear message and change nothing."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import httpx
import pytest
from admin_helpers import admin_browser
from page_helpers import book, post_form
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from waiting_helpers import eventually

from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.services.units import EDITABLE
from videotermin.settings import Settings
from videotermin.store.models import AuditEntry, Unit

GERMAN = "Mo–Fr 8–16 Uhr"
ENGLISH = "Mon–Fri 8 am–4 pm"
CLARA = ParticipantDraft(name="Clara Kundin", email="clara@example.org", language="de")
ERIN = ParticipantDraft(
    name="Erin English", email="erin@example.org", role="companion", language="en"
)

__all__ = ["admin_browser"]


async def default_unit(db: async_sessionmaker[AsyncSession]) -> Unit:
    async with db() as session:
        unit = await session.scalar(select(Unit).where(Unit.is_default.is_(True)))
    assert unit is not None
    return unit


async def save_hours(
    browser: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], **hours: str
) -> httpx.Response:
    """Submit the default unit's form as the page fills it, with ``hours`` typed in."""
    unit = await default_unit(db)
    page = f"/admin/dienststellen/{unit.id}"
    values = {field: getattr(unit, field) for field in EDITABLE}
    return await post_form(browser, page, page, {**values, **hours})


async def unit_audit(db: async_sessionmaker[AsyncSession]) -> list[str | None]:
    async with db() as session:
        entries = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "unit_changed").order_by(AuditEntry.id)
        )
        return [entry.detail for entry in entries]


async def invitations(settings: Settings, count: int) -> dict[str, str]:
    """The plain text of each invitation the app wrote, by recipient address."""

    async def written() -> bool:
        return len(list(settings.mail_dir.glob("*.eml"))) >= count

    assert await eventually(written, timeout=20), "the invitations were written"
    texts = {}
    for path in settings.mail_dir.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        texts[message["To"].addresses[0].addr_spec] = body.get_content()
    return texts


async def test_admins_enter_english_hours_and_each_reader_gets_their_language(
    admin_browser: httpx.AsyncClient,
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    unit = await default_unit(db)
    form = await admin_browser.get(f"/admin/dienststellen/{unit.id}")
    assert '<label for="f-hotline_hours_en">Erreichbarkeit der Hotline auf Englisch</label>' in (
        form.text
    )
    assert "Bleibt das Feld leer, zeigen sie die Angabe auf Deutsch." in form.text
    assert 'name="hotline_hours_en" type="text"' in form.text and 'lang="en"' in form.text
    english_form = await admin_browser.get(f"/admin/dienststellen/{unit.id}?lang=en")
    assert "Hotline hours in English" in english_form.text
    assert "If you leave it empty, they show the German hours." in english_form.text

    saved = await save_hours(admin_browser, db, hotline_hours=GERMAN, hotline_hours_en=ENGLISH)
    assert saved.status_code == 303
    listing = await admin_browser.get("/admin/dienststellen?lang=de")  # the cookie said en
    assert f'({GERMAN})<br>Auf Englisch: <span lang="en">{ENGLISH}</span>' in listing.text
    assert await unit_audit(db) == ["default: hotline_hours, hotline_hours_en"]

    booking = await book(db, settings, clock, participants=[CLARA, ERIN])
    clara, erin = booking.tokens
    german_pages = [
        await client.get(f"/v/{clara}"),
        await client.get("/check?lang=de"),
    ]
    english_pages = [
        await client.get(f"/v/{clara}?lang=en"),
        await client.get(f"/v/{erin}"),  # Erin chose English when she was invited
        await client.get("/check?lang=en"),
    ]
    for page in german_pages:
        assert f"Erreichbar: {GERMAN}" in page.text, page.url
        assert ENGLISH not in page.text, page.url
    for page in english_pages:
        assert f"Available: {ENGLISH}" in page.text, page.url
        assert GERMAN not in page.text, page.url
    # The device check's help for a blocked camera names the hotline and its hours too.
    assert f"({ENGLISH})" in english_pages[2].text and f"({GERMAN})" in german_pages[1].text

    mails = await invitations(settings, 2)
    assert f"Technical help (hotline): 0800 123 4567, {ENGLISH}" in mails[ERIN.email]
    assert GERMAN not in mails[ERIN.email]
    assert f"Technische Hilfe (Hotline): 0800 123 4567, {GERMAN}" in mails[CLARA.email]
    assert ENGLISH not in mails[CLARA.email]


async def test_without_english_hours_english_readers_get_the_german_ones(
    admin_browser: httpx.AsyncClient,
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    saved = await save_hours(admin_browser, db, hotline_hours=GERMAN, hotline_hours_en="")
    assert saved.status_code == 303
    assert (await default_unit(db)).hotline_hours_en == ""
    listing = await admin_browser.get("/admin/dienststellen")
    assert f"({GERMAN})</td>" in listing.text and "Auf Englisch:" not in listing.text

    booking = await book(db, settings, clock, participants=[CLARA, ERIN])
    page = await client.get(f"/v/{booking.tokens[1]}")
    # Marked German, so a screen reader on the English page reads the hours as German.
    assert f'Available: <span lang="de">{GERMAN}</span>' in page.text
    german = await client.get(f"/v/{booking.tokens[0]}")
    assert f"Erreichbar: {GERMAN}" in german.text and "<span lang" not in german.text

    mails = await invitations(settings, 2)
    assert f"Technical help (hotline): 0800 123 4567, {GERMAN}" in mails[ERIN.email]


@pytest.mark.parametrize(
    "typed", ["Monday\r\nto Friday", "8 am\x1b[31m to 6 pm", "8 am\u202e to 6 pm", "x" * 201]
)
async def test_control_characters_and_overlong_english_hours_are_refused(
    admin_browser: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], typed: str
) -> None:
    before = await default_unit(db)

    refused = await save_hours(
        admin_browser, db, hotline_hours=GERMAN, hotline_hours_en=typed, hotline="0800 999"
    )

    assert refused.status_code == 422
    assert (
        '<p class="field-error" id="f-hotline_hours_en-error"><span class="visually-hidden">'
        "Fehler: </span>Bitte kürzer und ohne Steuerzeichen (auch keine Zeilenumbrüche).</p>"
    ) in refused.text
    assert 'aria-describedby="f-hotline_hours_en-hint f-hotline_hours_en-error"' in refused.text
    assert '<a href="#f-hotline_hours_en">' in refused.text, "the summary links to the field"
    after = await default_unit(db)
    assert [getattr(after, f) for f in EDITABLE] == [getattr(before, f) for f in EDITABLE]
    assert await unit_audit(db) == []
