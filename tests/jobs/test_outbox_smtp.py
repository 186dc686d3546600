"""Invitations through the outbox to a real SMTP server (aiosmtpd), on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage

import pytest
from icalendar import Calendar
from outbox_helpers import ERIKA, START, SmtpSink, invite, make_ctx, outbox, with_smtp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW, free_port
from videotermin.context import AppContext
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.jobs.outbox import OutboxWorker
from videotermin.mail.qr import qr_png
from videotermin.mail.transport import transport_for
from videotermin.services import appointments as scheduling
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def ctx(settings: Settings, sink: SmtpSink, clock: FakeClock, db: Sessions) -> AppContext:
    return make_ctx(with_smtp(settings, sink.url), clock, db)


def worker_for(ctx: AppContext) -> OutboxWorker:
    return OutboxWorker(ctx, transport_for(ctx.settings))


def part(message: EmailMessage, content_type: str) -> EmailMessage:
    (found,) = [p for p in message.walk() if p.get_content_type() == content_type]
    return found


def event_of(message: EmailMessage) -> tuple[Calendar, Calendar]:
    calendar = Calendar.from_ical(part(message, "text/calendar").get_payload(decode=True))
    (event,) = calendar.walk("VEVENT")
    return calendar, event


async def test_invitation_arrives_complete(
    ctx: AppContext, sink: SmtpSink, advisor: StaffUser, db: Sessions
) -> None:
    appointment, (issued,) = await invite(ctx, advisor)

    assert await worker_for(ctx).deliver_due() == 1

    (envelope,) = sink.envelopes
    assert envelope.mail_from == "noreply@agentur.example"
    assert envelope.rcpt_tos == ["erika.mustermann@example.org"]
    (message,) = sink.messages()
    assert [p.get_content_type() for p in message.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
        "text/calendar",
    ]
    assert message["Subject"] == "Ihr Videotermin am Mittwoch, 9. Dezember 2026, 10:00 Uhr"
    assert message["To"].addresses[0].display_name == "Erika Mustermann"
    assert message["Date"].datetime == NOW, "stamped by the outbox with the injected clock"

    text = part(message, "text/plain").get_content()
    html = part(message, "text/html").get_content()
    assert text.startswith("Guten Tag Erika Mustermann,")
    assert "Mittwoch, 9. Dezember 2026, 10:00 Uhr" in text
    assert "Agentur für Arbeit Musterstadt" in text and "Bea Berater" in text
    assert issued.link in text
    assert f'href="{issued.link}"' in html

    image = part(message, "image/png")
    assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html
    assert image.get_content() == qr_png(issued.link)

    calendar, event = event_of(message)
    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == appointment.ics_uid
    assert event["SEQUENCE"] == 0
    assert event["DTSTART"].dt == START == appointment.start_at
    assert event["DTEND"].dt == START + timedelta(minutes=30)
    assert issued.link in event["DESCRIPTION"]

    (row,) = await outbox(db)
    assert (row.status, row.attempts, row.sent_at, row.message) == ("sent", 1, NOW, None)
    assert row.lease_until is None and row.last_error is None


async def test_english_invitation(ctx: AppContext, sink: SmtpSink, advisor: StaffUser) -> None:
    english = ParticipantDraft(name="John Smith", email="john@example.org", language="en")
    _, (issued,) = await invite(ctx, advisor, english)

    assert await worker_for(ctx).deliver_due() == 1

    (message,) = sink.messages()
    assert message["Subject"] == "Your video appointment on Wednesday, 9 December 2026, 10:00 am"
    text = part(message, "text/plain").get_content()
    assert text.startswith("Hello John Smith,")
    assert issued.link in text
    assert issued.link in part(message, "text/html").get_content()


async def test_reschedule_then_cancel_update_the_same_calendar_entry(
    ctx: AppContext, sink: SmtpSink, advisor: StaffUser
) -> None:
    appointment, (first,) = await invite(ctx, advisor)
    worker = worker_for(ctx)
    assert await worker.deliver_due() == 1

    async with ctx.sessions() as session, session.begin():
        stored = await scheduling.get_appointment(session, appointment.id)
        assert stored is not None
        (moved,) = await scheduling.reschedule(
            session, ctx, stored, start=START + timedelta(days=1, hours=3)
        )
    assert await worker.deliver_due() == 1
    async with ctx.sessions() as session, session.begin():
        stored = await scheduling.get_appointment(session, appointment.id)
        assert stored is not None
        await scheduling.cancel(session, ctx, stored)
    assert await worker.deliver_due() == 1

    invitation, update, cancellation = sink.messages()
    _, invited = event_of(invitation)
    calendar, updated = event_of(update)
    assert update["Subject"] == (
        "Ihr Videotermin wurde geändert: jetzt am Donnerstag, 10. Dezember 2026, 13:00 Uhr"
    )
    assert calendar["METHOD"] == "REQUEST"
    assert str(updated["UID"]) == str(invited["UID"]) == appointment.ics_uid
    assert updated["SEQUENCE"] == 1
    assert updated["DTSTART"].dt == START + timedelta(days=1, hours=3)
    assert moved.link != first.link
    assert moved.link in part(update, "text/plain").get_content()
    assert moved.link in updated["DESCRIPTION"]

    calendar, cancelled = event_of(cancellation)
    assert cancellation["Subject"].startswith("Abgesagt: Ihr Videotermin am Donnerstag")
    assert calendar["METHOD"] == "CANCEL"
    assert cancelled["STATUS"] == "CANCELLED"
    assert str(cancelled["UID"]) == appointment.ics_uid
    assert cancelled["SEQUENCE"] == 2
    assert "/v/" not in part(cancellation, "text/plain").get_content()


async def test_a_removed_participant_is_told_and_their_entry_cancelled(
    ctx: AppContext, sink: SmtpSink, advisor: StaffUser
) -> None:
    interpreter = ParticipantDraft(
        name="Ivo Dolmetsch", email="ivo@example.org", role="interpreter"
    )
    appointment, _ = await invite(ctx, advisor, ERIKA, interpreter)
    worker = worker_for(ctx)
    assert await worker.deliver_due() == 2

    async with ctx.sessions() as session, session.begin():
        stored = await scheduling.get_appointment(session, appointment.id)
        assert stored is not None
        leaving = next(p for p in stored.participants if p.role == "interpreter")
        await scheduling.remove_participant(session, ctx, stored, leaving)
    assert await worker.deliver_due() == 1

    envelope = sink.envelopes[-1]
    assert envelope.rcpt_tos == ["ivo@example.org"]
    message = sink.messages()[-1]
    assert "nicht mehr teil" in part(message, "text/plain").get_content()
    calendar, event = event_of(message)
    assert calendar["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED"
    assert str(event["UID"]) == appointment.ics_uid


async def test_smtp_down_is_retried_with_backoff_and_nothing_is_lost(
    settings: Settings, clock: FakeClock, db: Sessions, advisor: StaffUser
) -> None:
    port = free_port()  # nothing listens here yet
    ctx = make_ctx(with_smtp(settings, f"smtp://127.0.0.1:{port}"), clock, db)
    await invite(ctx, advisor)
    worker = worker_for(ctx)

    assert await worker.deliver_due() == 0
    (row,) = await outbox(db)
    assert (row.status, row.attempts) == ("queued", 1)
    assert row.next_attempt_at == NOW + timedelta(seconds=30)
    assert row.last_error == "SMTPConnectError"
    assert row.message is not None and row.lease_until is None

    sink = SmtpSink(port)
    sink.start()
    try:
        assert await worker.deliver_due() == 0, "not due before the backoff has passed"
        clock.advance(timedelta(seconds=30))
        assert await worker.deliver_due() == 1
        assert await worker.deliver_due() == 0
    finally:
        sink.stop()

    assert len(sink.envelopes) == 1
    (row,) = await outbox(db)
    assert (row.status, row.attempts, row.message) == ("sent", 2, None)
    assert row.sent_at == NOW + timedelta(seconds=30)
    mails = ctx.metrics.registry.get_sample_value
    assert mails("videotermin_mails_total", {"outcome": "retried"}) == 1
    assert mails("videotermin_mails_total", {"outcome": "sent"}) == 1
    assert mails("videotermin_mails_total", {"outcome": "failed"}) == 0


async def test_after_the_last_attempt_the_mail_fails_and_its_message_is_erased(
    settings: Settings, clock: FakeClock, db: Sessions, advisor: StaffUser
) -> None:
    port = free_port()
    ctx = make_ctx(with_smtp(settings, f"smtp://127.0.0.1:{port}", mail_max_attempts=3), clock, db)
    await invite(ctx, advisor)
    worker = worker_for(ctx)

    for expected_delay in (30, 60):
        assert await worker.deliver_due() == 0
        (row,) = await outbox(db)
        assert row.next_attempt_at == clock() + timedelta(seconds=expected_delay)
        clock.advance(timedelta(seconds=expected_delay))
    assert await worker.deliver_due() == 0

    (row,) = await outbox(db)
    assert (row.status, row.attempts, row.message) == ("failed", 3, None)
    assert row.next_attempt_at is None and row.last_error == "SMTPConnectError"
    mails = ctx.metrics.registry.get_sample_value
    assert mails("videotermin_mails_total", {"outcome": "retried"}) == 2
    assert mails("videotermin_mails_total", {"outcome": "failed"}) == 1
    clock.advance(timedelta(days=1))
    assert await worker.deliver_due() == 0, "a failed mail is never picked up again"


async def test_a_refused_recipient_fails_at_once_with_the_smtp_code_only(
    settings: Settings, clock: FakeClock, db: Sessions, advisor: StaffUser
) -> None:
    sink = SmtpSink(free_port(), refuse_recipients=True)
    sink.start()
    try:
        ctx = make_ctx(with_smtp(settings, sink.url), clock, db)
        await invite(ctx, advisor)
        assert await worker_for(ctx).deliver_due() == 0
    finally:
        sink.stop()

    (row,) = await outbox(db)
    assert row.status == "failed", "a 5xx refusal is not retried"
    assert row.attempts == 1
    assert row.message is None
    assert row.last_error == "SMTPRecipientsRefused code=550"


async def test_delivery_logs_hold_no_address_name_or_link(
    settings: Settings,
    clock: FakeClock,
    db: Sessions,
    advisor: StaffUser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)  # the production level; third-party DEBUG quotes SQL
    caplog.set_level(logging.DEBUG, logger="videotermin")
    port = free_port()
    ctx = make_ctx(with_smtp(settings, f"smtp://127.0.0.1:{port}"), clock, db)
    _, (issued,) = await invite(ctx, advisor)
    worker = worker_for(ctx)
    assert await worker.deliver_due() == 0  # a failed attempt logs too
    sink = SmtpSink(port)
    sink.start()
    try:
        clock.advance(timedelta(minutes=1))
        assert await worker.deliver_due() == 1
    finally:
        sink.stop()

    ours = [r for r in caplog.records if not r.name.startswith("mail.log")]  # aiosmtpd's own
    text = "\n".join(f"{r.name} {r.getMessage()}" for r in ours)
    assert "mail_retry mail_id=" in text and "mail_sent mail_id=" in text
    token = issued.link.rsplit("/", 1)[1]
    for secret in [token, "erika.mustermann@example.org", "Erika", "Mustermann"]:
        assert secret not in text, secret
