"""Failure class "the calendar file of the first invitation is not valid": every ICS the
product sends — the first invitation, an update, a cancellation — passes a strict reading
of RFC 5545 and gives the same instants in two independent parsers (icalendar and
vobject, as two calendar programs would), whatever time zone the start was given in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
import vobject
from icalendar import Calendar
from outbox_helpers import SmtpSink, invite, make_ctx, with_smtp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import free_port
from videotermin.context import AppContext
from videotermin.domain.clock import FakeClock
from videotermin.jobs.outbox import OutboxWorker
from videotermin.mail.transport import transport_for
from videotermin.services import appointments as scheduling
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

# Wednesday 9 December 2026, 10:00 in Berlin, given as each caller gives it.
INSTANT = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)
STARTS = {
    "the form (a named zone)": INSTANT.astimezone(ZoneInfo("Europe/Berlin")),
    "the API (a fixed offset)": INSTANT.astimezone(timezone(timedelta(hours=1))),
    "the API (far east)": INSTANT.astimezone(timezone(timedelta(hours=14))),
    "UTC": INSTANT,
}
DATE_TIME = re.compile(r"^(DTSTART|DTEND|DTSTAMP|CREATED|LAST-MODIFIED)([;:].*)$")


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def ctx(
    settings: Settings,
    sink: SmtpSink,
    clock: FakeClock,
    db: async_sessionmaker[AsyncSession],
) -> AppContext:
    return make_ctx(with_smtp(settings, sink.url), clock, db)


def calendar_file(message: EmailMessage) -> bytes:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload
    raise AssertionError("no calendar part")


def strict_problems(ics: bytes) -> list[str]:
    """What a strict RFC 5545 reader refuses: bare LF, long lines, a time zone named but
    never defined, a floating time, required properties missing."""
    problems = []
    if b"\n" in ics.replace(b"\r\n", b""):
        problems.append("lines must end in CRLF")
    lines = ics.split(b"\r\n")
    problems += [f"longer than 75 octets: {line[:30]!r}" for line in lines if len(line) > 75]
    text = re.sub(r"\r\n[ \t]", "", ics.decode("utf-8"))  # unfold
    defined = set(re.findall(r"^TZID:(.+)$", text, re.MULTILINE))
    for line in text.splitlines():
        if match := DATE_TIME.match(line):
            name, rest = match.groups()
            zone = re.search(r";TZID=([^:;]+)", rest)
            if zone and zone.group(1).strip('"') not in defined:
                problems.append(f"{name} names time zone {zone.group(1)} but no VTIMEZONE")
            if not zone and not rest.endswith("Z"):
                problems.append(f"{name} is a floating time: {rest}")
    for required in ("BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:", "METHOD:", "UID:", "DTSTAMP"):
        if required not in text:
            problems.append(f"missing {required}")
    return problems


def instants(ics: bytes) -> list[tuple[datetime, datetime]]:
    """(start, end) in UTC, read by two independent parsers."""
    (event,) = Calendar.from_ical(ics).walk("VEVENT")
    by_icalendar = (event.decoded("DTSTART"), event.decoded("DTEND"))
    parsed = vobject.readOne(ics.decode("utf-8"))
    by_vobject = (parsed.vevent.dtstart.value, parsed.vevent.dtend.value)
    return [(a.astimezone(UTC), b.astimezone(UTC)) for a, b in (by_icalendar, by_vobject)]


@pytest.mark.parametrize("given", list(STARTS))
async def test_every_calendar_file_is_strictly_valid_and_names_one_instant(
    ctx: AppContext, sink: SmtpSink, advisor: StaffUser, given: str
) -> None:
    appointment, _ = await invite(ctx, advisor, start=STARTS[given])
    worker = OutboxWorker(ctx, transport_for(ctx.settings))
    assert await worker.deliver_due() == 1
    moved_to = INSTANT + timedelta(days=1, hours=3)
    async with ctx.sessions() as session, session.begin():
        stored = await scheduling.get_appointment(session, appointment.id)
        assert stored is not None
        await scheduling.reschedule(
            session, ctx, stored, start=moved_to.astimezone(STARTS[given].tzinfo)
        )
    assert await worker.deliver_due() == 1
    async with ctx.sessions() as session, session.begin():
        stored = await scheduling.get_appointment(session, appointment.id)
        assert stored is not None
        await scheduling.cancel(session, ctx, stored)
    assert await worker.deliver_due() == 1

    expected = [INSTANT, moved_to, moved_to]
    for message, start in zip(sink.messages(), expected, strict=True):
        ics = calendar_file(message)
        assert strict_problems(ics) == [], ics.decode()
        span = (start, start + timedelta(minutes=30))
        assert instants(ics) == [span, span]
