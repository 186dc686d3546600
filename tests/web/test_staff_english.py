"""Every staff page in English, walked over the app's own route table: a reader who chose
English sees no German sentence anywhere in the agency's half — pages, refusals, form
errors and notices alike — and the choice holds from page to page.

German sentences are recognised by the catalogs themselves: every msgid whose English
differs. A text that never went through gettext is caught by the template check in
test_i18n_catalogs.py; this walk catches the rest (a Python message shown without the
``t`` filter, a page rendered in the wrong language).
"""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest
from page_helpers import book, csrf_token, login, post_form
from route_helpers import filled, included_routes
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import LiveServer, add_staff
from videotermin.app import create_app
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import Participant, StaffUser
from videotermin.web.language import LANGUAGE_COOKIE
from videotermin.web.templating import read_catalog

pytestmark = pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
STAFF_MODULES = ("videotermin.web.staff.", "videotermin.web.support.", "videotermin.web.admin.")
TAGS = re.compile(r"<[^>]+>")


def german_sentences() -> list[str]:
    """Msgids of two words or more whose English differs, without their placeholders:
    what a German page says that an English one must not."""
    english = {str(m.id): str(m.string) for m in read_catalog("en") if m.id}
    found = []
    for msgid, text in english.items():
        for piece in re.split(r"%\(\w+\)s", msgid):
            piece = piece.strip(" .,:;–")
            if text and msgid != text and " " in piece and len(piece) >= 12:
                found.append(piece)
    return found


GERMAN = german_sentences()


def german_left(page: str) -> list[str]:
    text = " ".join(html.unescape(TAGS.sub(" ", page)).split())
    return [sentence for sentence in GERMAN if sentence in text]


def staff_pages(settings: Settings) -> list[str]:
    """Path templates of every page the staff modules serve by GET (CSV excluded)."""
    return [
        route.path
        for route in included_routes(create_app(settings).routes)
        if "GET" in (getattr(route, "methods", None) or ())
        and getattr(route, "endpoint", None) is not None
        and route.endpoint.__module__.startswith(STAFF_MODULES)
        and not route.path.endswith(".csv")
    ]


async def support_code(db: async_sessionmaker[AsyncSession], participant_id: str) -> str:
    async with db() as session:
        code = await session.scalar(
            select(Participant.support_code).where(Participant.id == participant_id)
        )
    assert code is not None
    return code


def english_client(live_server: LiveServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=live_server.url, cookies={LANGUAGE_COOKIE: "en"})


async def test_every_staff_page_speaks_english_to_who_chose_it(
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    advisor: StaffUser,
) -> None:
    await add_staff(db, "admin-anna", role="admin")
    booking = await book(db, settings, clock)
    ids: dict[str, Any] = {
        "appointment_id": booking.appointment_id,
        "participant_id": booking.participant_ids[0],
        "user_id": str(advisor.id),
        "unit_id": "1",
        "token": "x" * 43,  # an invalid password link: its refusal page
    }
    pages = staff_pages(settings)
    assert len(pages) >= 20, pages
    async with english_client(live_server) as anonymous:
        for path in ("/login", "/passwort/{token}", "/termine"):
            answer = await anonymous.get(filled(path, ids), follow_redirects=True)
            assert '<html lang="en">' in answer.text, path
            assert german_left(answer.text) == [], path
    async with english_client(live_server) as browser:
        await login(browser, "admin-anna")
        code = await support_code(db, booking.participant_ids[0])
        await post_form(browser, "/support", "/support", {"code": code})
        for path in pages:
            answer = await browser.get(filled(path, ids), follow_redirects=True)
            assert answer.status_code in (200, 404), (path, answer.status_code)
            assert '<html lang="en">' in answer.text, path
            assert german_left(answer.text) == [], path


async def test_form_errors_notices_and_refusals_come_in_english(
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    advisor: StaffUser,
) -> None:
    async with english_client(live_server) as browser:
        await login(browser, "berater")
        empty = await post_form(browser, "/termine/neu", "/termine/neu", {})
        assert empty.status_code == 422
        assert "Please" in empty.text
        assert german_left(empty.text) == []

        refused = await browser.get("/admin/personal")
        assert refused.status_code == 403
        assert german_left(refused.text) == []
        assert '<html lang="en">' in refused.text

        page = await browser.get("/termine")
        forged = await browser.post("/logout", data={"csrf_token": "forged"})
        assert forged.status_code == 403
        assert german_left(forged.text) == []
        out = await browser.post(
            "/logout", data={"csrf_token": csrf_token(page.text)}, follow_redirects=True
        )
        assert "You are logged out" in out.text or "logged out" in out.text
        assert german_left(out.text) == []


async def test_the_choice_is_a_link_that_keeps_the_page_and_is_remembered(
    live_server: LiveServer, advisor: StaffUser
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as browser:
        await login(browser, "berater")
        german = await browser.get("/termine?tag=2026-12-03")
        assert '<html lang="de">' in german.text
        assert 'href="/termine?tag=2026-12-03&amp;lang=en"' in german.text

        english = await browser.get("/termine?tag=2026-12-03&lang=en")
        assert '<html lang="en">' in english.text
        assert browser.cookies.get(LANGUAGE_COOKIE) == "en"
        assert '<html lang="en">' in (await browser.get("/termine/neu")).text

        back = await browser.get("/termine?lang=de")
        assert '<html lang="de">' in back.text
        assert "Meine Termine" in back.text
