"""Failure class "bad input" in the forms: every form on the staff, admin, support and
citizen pages — found by reading the pages as a browser does, so a new form is fuzzed
without a line here — gets each of its fields, one at a time, as 1 MB of text, empty,
HTML, control characters and right-to-left script, the other fields as the page fills
them (plus valid values where a form needs them to get that far).

Each answer is a clear refusal (a 4xx page that says what is wrong) that changed nothing
in the database, or an acceptance when the input is fine (a name in Arabic script),
never a 5xx; a megabyte is never accepted, and HTML that was accepted comes back
escaped. Runs on PostgreSQL, the stricter store (no NUL in text).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from html.parser import HTMLParser

import httpx
import pytest
from journey_helpers import decide
from page_helpers import TOMORROW_10, VALID, book, count, login, post_form
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW, LiveServer, add_staff
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.domain.tokens import hash_token, new_token
from videotermin.settings import Settings
from videotermin.store.models import ApiToken, Appointment, Base, Participant, StaffUser

pytestmark = pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)

HTML = '<script>alert("x")</script><b onmouseover="alert(1)">fett</b>'
INPUTS = {
    "1 MB": "x" * 1_000_000,
    "empty": "",
    "HTML": HTML,
    "control characters": "a\x00b\r\nc\x1b[31m\x7f\x08",
    "right-to-left": "مريم الحسيني",
}
LONGEST_ADDRESS_VALUE = 32_000
NAME_FIELDS = {
    "participants.0.name",
    "name",
    "display_name",
    "subject",
    "waiting_message",
    "hotline_hours",
    "hotline_hours_en",
}
"""Fields where a right-to-left name is fine: a form that refuses it only there is wrong."""
CHANGING_ON_REFUSAL = {"login_throttle", "staff_sessions"}
"""Tables a refusal may touch: failed logins are counted, sessions are seen."""
AUDITED_REFUSALS = {"/support", "/login"}
"""Forms whose refusals are audited (a support look-up of an unknown code, a failed login)."""
DELIVERED = {"outbox_mails"}
"""The outbox worker delivers mails meanwhile: a refusal must not add one, but the ones
queued before change their state."""
AFTER_THE_CALL = TOMORROW_10 + timedelta(minutes=31)
API_BODY = {
    "start": "2026-12-03T11:00:00+01:00",
    "advisor": "berater",
    "participants": [{"name": "Clara Kundin", "email": "clara@example.org"}],
}


# --- reading forms as a browser does ---------------------------------------------------------


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, str]
    editable: list[str]
    buttons: list[tuple[str, str]]
    """Every submit button with a value: the form is fuzzed as each of them sends it."""


class Forms(HTMLParser):
    """Every ``<form>`` of a page: its method, action, and each control's value as the
    browser would send it untouched (first option, checked radio or first one)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Form] = []
        self.form: Form | None = None
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.form = Form(a.get("method", "get").lower(), a.get("action", ""), {}, [], [])
            self.found.append(self.form)
        if self.form is None or (not a.get("name") and tag != "option"):
            return
        name = a.get("name", "")
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                if kind == "radio" and name not in self.form.fields:
                    self.form.fields[name] = a.get("value", "on")
                return
            self.form.fields[name] = a.get("value", "on" if kind == "checkbox" else "")
            if name != "csrf_token" and name not in self.form.editable:
                self.form.editable.append(name)
        elif tag == "select":
            self.select = name
            self.form.editable.append(name)
        elif tag == "option" and self.select is not None:
            if self.select not in self.form.fields or "selected" in a:
                self.form.fields[self.select] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = name
            self.form.fields[name] = ""
            self.form.editable.append(name)
        elif tag == "button" and a.get("value"):
            self.form.buttons.append((name, a["value"]))
            if name not in self.form.editable:
                self.form.editable.append(name)

    def handle_data(self, data: str) -> None:
        if self.form is not None and self.textarea is not None:
            self.form.fields[self.textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "form":
            self.form = None


def forms_on(html: str) -> list[Form]:
    """The page's forms (logging out aside), one for each submit button that sends a value."""
    parser = Forms()
    parser.feed(html)
    found = []
    for form in parser.found:
        if form.action == "/logout":
            continue
        for name, value in form.buttons or [("", "")]:
            pressed = {name: value} if name else {}
            found.append(
                Form(form.method, form.action, {**form.fields, **pressed}, form.editable, [])
            )
    return found


# --- what must hold ----------------------------------------------------------------------------


async def fingerprint(db: async_sessionmaker[AsyncSession], skip: set[str]) -> dict[str, str]:
    """Every table's rows, hashed by PostgreSQL in one round trip: a refusal must leave
    all of them as they were."""
    names = [t.name for t in Base.metadata.sorted_tables if t.name not in skip]
    parts = [
        f"(SELECT count(*)::text FROM {name})"
        if name in DELIVERED
        else f"(SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {name} t)"
        for name in names
    ]
    async with db() as session:
        row = (await session.execute(text("SELECT " + ", ".join(parts)))).one()
    return dict(zip(names, row, strict=True))


async def holds(db: async_sessionmaker[AsyncSession], value: str) -> bool:
    """Does any row of any table hold ``value``?"""
    async with db() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                if any(isinstance(cell, str) and value in cell for cell in row):
                    return True
    return False


def shows_errors(response: httpx.Response) -> bool:
    """The form again with what is wrong (a wrong password answers 200 this way)."""
    return 'class="error-summary"' in response.text or 'class="field-error"' in response.text


def is_clear_refusal(response: httpx.Response) -> bool:
    """A page that says what is wrong: the form again with its errors, or a message page."""
    page = response.text
    return response.headers.get("content-type", "").startswith("text/html") and (
        'class="error-summary"' in page or 'class="field-error"' in page or "<h1" in page
    )


@dataclass
class Browser:
    who: str
    client: httpx.AsyncClient
    pages: list[str]


@dataclass
class Outcome:
    cases: Counter[str]
    accepted: list[str]


async def fuzz_form(
    db: async_sessionmaker[AsyncSession], browser: Browser, form: Form, outcome: Outcome
) -> None:
    skip = CHANGING_ON_REFUSAL | ({"audit_entries"} if form.action in AUDITED_REFUSALS else set())
    before = await fingerprint(db, skip)
    for name in form.editable:
        for kind, value in INPUTS.items():
            valid = extra(sum(outcome.cases.values()))
            fields = {**form.fields, **{k: v for k, v in valid.items() if k in form.fields}}
            data = {**fields, name: value}
            if form.method == "get":  # an address holds no megabyte: 32 000 characters
                data[name] = value[:LONGEST_ADDRESS_VALUE]
                response = await browser.client.get(form.action, params=data)
            else:
                response = await browser.client.post(form.action, data=data)
            where = f"{browser.who} {form.method.upper()} {form.action} {name}={kind}"
            outcome.cases[f"{browser.who} {form.action}"] += 1
            assert response.status_code < 500, (where, response.text[:300])
            if 400 <= response.status_code < 500 or shows_errors(response):
                assert is_clear_refusal(response), (where, response.status_code, response.text)
                assert await fingerprint(db, skip) == before, f"{where}: refused, yet saved"
                assert not (kind == "right-to-left" and name in NAME_FIELDS), where
                continue
            if kind == "1 MB":
                assert not await holds(db, value), f"{where}: a megabyte was stored"
            outcome.accepted.append(f"{where} {response.status_code}")
            shown = response
            if response.is_redirect:
                shown = await browser.client.get(response.headers["location"])
                assert shown.status_code < 500, where
            assert HTML not in shown.text, f"{where}: HTML shown unescaped"
            before = await fingerprint(db, skip)


# --- the scene ---------------------------------------------------------------------------------


async def browsers(
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> list[Browser]:
    """Berater with three appointments (one to change, one to cancel, one with someone to
    remove), Anna the admin with a colleague to edit and one to deactivate, Sven from
    support who looked Clara up, and three citizens: one deciding on consent, one who
    may withdraw, one whose call is over (the survey)."""
    await add_staff(db, "admin-anna", role="admin", display_name="Anna Admin")
    await add_staff(db, "support-sven", role="support", display_name="Sven Support")
    colleague = await add_staff(db, "kollegin", display_name="Karla Kollegin")
    leaving = await add_staff(db, "geht-bald", display_name="Gero Geht")
    later = TOMORROW_10 + timedelta(days=1)
    ivan = ParticipantDraft(name="Ivan Dolmetscher", email="ivan@example.org", role="interpreter")
    clara = ParticipantDraft(name="Clara Kundin", email="clara@example.org")
    changing = await book(db, settings, clock, start=later)
    cancelling = await book(db, settings, clock, start=later + timedelta(hours=1))
    removing = await book(
        db, settings, clock, start=later + timedelta(hours=2), participants=[clara, ivan]
    )
    deciding = await book(db, settings, clock, start=later + timedelta(hours=3))
    withdrawing = await book(db, settings, clock, start=later + timedelta(hours=4))
    surveyed = await book(db, settings, clock)
    anonymous = httpx.AsyncClient(base_url=live_server.url, timeout=30)
    citizen = httpx.AsyncClient(base_url=live_server.url, timeout=30)
    for booking in (withdrawing, surveyed):
        assert (await decide(citizen, booking.tokens[0], "agree")).status_code == 303
    clock.set(AFTER_THE_CALL)
    staff = {}
    for who, username in (
        ("advisor", "berater"),
        ("admin", "admin-anna"),
        ("support", "support-sven"),
    ):
        staff[who] = httpx.AsyncClient(base_url=live_server.url, timeout=30)
        assert (await login(staff[who], username)).status_code == 303
    async with db() as session:
        code = await session.scalar(
            select(Participant.support_code).where(Participant.id == changing.participant_ids[0])
        )
    found = await post_form(staff["support"], "/support", "/support", {"code": str(code)})
    assert found.status_code == 303
    made = await post_form(
        staff["admin"],
        "/admin/personal/neu",
        "/admin/personal/neu",
        {
            "username": "neu.berater",
            "display_name": "Nina Neu",
            "email": "nina@agentur.example",
            "phone": "",
            "role": "advisor",
            "unit_id": "1",
        },
    )
    link = re.search(r"/passwort/([A-Za-z0-9_-]+)", made.text)
    assert link, made.text
    appointment = f"/termine/{changing.appointment_id}"
    return [
        Browser("anonymous", anonymous, ["/login", link.group(0)]),
        Browser(
            "advisor",
            staff["advisor"],
            [
                "/termine/neu",
                appointment,
                f"/termine/{removing.appointment_id}/teilnehmende/{removing.participant_ids[1]}/entfernen",
                f"/termine/{cancelling.appointment_id}/absagen",
            ],
        ),
        Browser(
            "admin",
            staff["admin"],
            [
                "/admin/personal/neu",
                f"/admin/personal/{colleague.id}",
                "/admin/dienststellen/neu",
                "/admin/dienststellen/1",
                "/admin/api-tokens",
                "/admin/einwilligung",
                "/admin/datenschutz",
                "/admin/statistik",
                "/admin/protokoll",
                f"/admin/personal/{leaving.id}",
            ],
        ),
        Browser(
            "support",
            staff["support"],
            ["/support", f"/support/teilnehmende/{changing.participant_ids[0]}"],
        ),
        Browser(
            "citizen",
            citizen,
            [
                f"/v/{deciding.tokens[0]}",
                f"/v/{surveyed.tokens[0]}/umfrage",
                f"/v/{withdrawing.tokens[0]}/widerruf",
            ],
        ),
    ]


def extra(case: int) -> dict[str, str]:
    """Valid values for the other fields, so a form gets as far as the field under test;
    those that must be unique (a user name, a unit, a text version) differ per case."""
    return {
        **VALID,
        "date": "2026-12-05",
        "username": f"neu.kollege{case}",
        "display_name": "Nora Neu",
        "email": "nora@agentur.example",
        "password": "ein langer neuer Satz 7",
        "password_repeated": "ein langer neuer Satz 7",
        "slug": f"sued{case}",
        "name": f"Dienststelle Süd {case}",
        "version": (date(2027, 1, 1) + timedelta(days=case)).isoformat(),
        "markdown": "# Einwilligung\n\nText.",
        "waiting_message": "Ich komme gleich.",
        "satisfaction": "5",
    }


async def test_every_form_refuses_bad_input_clearly_and_saves_nothing_half(
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    started = time.monotonic()
    outcome = Outcome(Counter(), [])
    forms_seen = 0
    for browser in await browsers(live_server, db, settings, clock):
        try:
            for page in browser.pages:
                shown = await browser.client.get(page)
                assert shown.status_code == 200, (browser.who, page, shown.status_code)
                for form in forms_on(shown.text):
                    forms_seen += 1
                    await fuzz_form(db, browser, form, outcome)
        finally:
            await browser.client.aclose()
    print(
        f"\nform fuzz: {sum(outcome.cases.values())} cases on {forms_seen} forms in "
        f"{time.monotonic() - started:.1f} s; accepted {len(outcome.accepted)}: "
        f"{dict(outcome.cases)}"
    )
    assert forms_seen >= 25


# --- found by the fuzzing, kept ------------------------------------------------------------------


async def test_nul_in_an_address_a_form_or_a_body_is_refused_never_a_500(
    live_server: LiveServer, advisor: StaffUser, db: async_sessionmaker[AsyncSession]
) -> None:
    """Bad input the fuzzing found: PostgreSQL cannot hold NUL, not even in a lookup, so an
    id, a token, a user name or a filter with ``%00`` in it ended in 500 — on every page and
    API path with an id, in the login and in the API's advisor. Now an address holding it
    names nothing (404), an API body holding it is refused by field (422), and a user name
    holding it is no account's (the login fails like any wrong name)."""
    secret = new_token()
    async with db() as session, session.begin():
        session.add(ApiToken(name="fachverfahren", token_hash=hash_token(secret), created_at=NOW))
    async with (
        httpx.AsyncClient(base_url=live_server.url) as browser,
        httpx.AsyncClient(base_url=live_server.url) as stranger,
        httpx.AsyncClient(
            base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}
        ) as api,
    ):
        refused_login = await login(stranger, "ber\x00ater")
        await login(browser)
        pages = [await browser.get(path) for path in ("/termine/a%00b", "/termine?datum=%00")]
        by_id = await api.get("/api/v1/appointments/a%00b")
        body = {**API_BODY, "advisor": "ber\x00ater"}
        by_body = await api.post("/api/v1/appointments", json=body)
    assert "Benutzername oder Passwort stimmen nicht" in refused_login.text
    assert "vt_session" not in refused_login.cookies
    assert [page.status_code for page in pages] == [404, 404]
    assert all("Diese Seite gibt es nicht" in page.text for page in pages)
    assert (by_id.status_code, by_id.json()) == (404, {"detail": "Not Found"})
    assert by_body.status_code == 422
    assert [p["loc"] for p in by_body.json()["detail"]] == [["body", "advisor"]]
    assert await count(db, Appointment) == 0


async def test_a_page_address_that_does_not_fit_its_type_gets_a_page_not_json(
    live_server: LiveServer, advisor: StaffUser, db: async_sessionmaker[AsyncSession]
) -> None:
    """Found by the fuzzing: a query value longer than its limit (or a word where a number
    belongs in the path) was answered with FastAPI's JSON, the whole input echoed back."""
    await add_staff(db, "admin-anna", role="admin", display_name="Anna Admin")
    async with httpx.AsyncClient(base_url=live_server.url) as browser:
        await login(browser, "admin-anna")
        too_long = await browser.get("/admin/datenschutz", params={"language": "x" * 5000})
        not_a_number = await browser.get("/admin/personal/keine-zahl")
    assert too_long.status_code == 422 and too_long.headers["content-type"].startswith("text/html")
    assert "Das hat nicht geklappt" in too_long.text and "x" * 100 not in too_long.text
    assert not_a_number.status_code == 404 and "Diese Seite gibt es nicht" in not_a_number.text


async def test_an_api_path_with_a_line_break_is_answered_by_the_api(
    live_server: LiveServer, advisor: StaffUser, db: async_sessionmaker[AsyncSession]
) -> None:
    """Found by Schemathesis: Starlette's mount stopped at an encoded line break, so
    ``/api/v1/appointments/a%0Ab`` got the pages' HTML 404 instead of the API's JSON."""
    secret = new_token()
    async with db() as session, session.begin():
        session.add(ApiToken(name="fachverfahren", token_hash=hash_token(secret), created_at=NOW))
    async with httpx.AsyncClient(
        base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}
    ) as api:
        answer = await api.get("/api/v1/appointments/a%0Ab")
    assert answer.status_code == 404
    assert answer.json() == {"detail": "no such appointment"}
