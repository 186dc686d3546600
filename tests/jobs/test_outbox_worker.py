"""The outbox worker across restarts, crashes and concurrent app instances."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta

import pytest
from outbox_helpers import ERIKA, SmtpSink, invite, make_ctx, outbox, with_smtp
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW, free_port
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.jobs.outbox import LEASE, OutboxWorker
from videotermin.mail.compose import stamp_date
from videotermin.mail.transport import FolderTransport, transport_for
from videotermin.settings import Settings
from videotermin.store.db import create_engine, session_factory
from videotermin.store.models import OutboxMail, StaffUser

Sessions = async_sessionmaker[AsyncSession]
PEOPLE = [
    ParticipantDraft(name=f"Person {n}", email=f"person{n}@example.org", role=role)
    for n, role in enumerate(["citizen", "interpreter", "companion", "colleague"])
]


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def second_instance(db_url: str) -> AsyncIterator[Sessions]:
    """Sessions on a separate engine: what a second app process on the same database has."""
    engine = create_engine(db_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 10) -> None:
    """Wait for a background task to reach a state (not for time to pass)."""
    async with asyncio.timeout(seconds):
        while not await check():
            await asyncio.sleep(0.01)


async def test_a_restarted_worker_resumes_the_queue(
    settings: Settings,
    clock: FakeClock,
    db: Sessions,
    second_instance: Sessions,
    advisor: StaffUser,
    sink: SmtpSink,
) -> None:
    down = make_ctx(with_smtp(settings, f"smtp://127.0.0.1:{free_port()}"), clock, db)
    await invite(down, advisor, *PEOPLE)
    assert await OutboxWorker(down, transport_for(down.settings)).deliver_due() == 0

    restarted = make_ctx(with_smtp(settings, sink.url), clock, second_instance)
    clock.advance(timedelta(seconds=30))
    assert await OutboxWorker(restarted, transport_for(restarted.settings)).deliver_due() == 4

    assert sorted(e.rcpt_tos[0] for e in sink.envelopes) == sorted(p.email for p in PEOPLE)
    assert {(m.status, m.attempts) for m in await outbox(db)} == {("sent", 2)}


async def test_a_mail_cut_off_mid_send_is_sent_again_once_its_lease_expires(
    settings: Settings, clock: FakeClock, db: Sessions, advisor: StaffUser, sink: SmtpSink
) -> None:
    hanging = SmtpSink(free_port(), hang_on_data=True)
    hanging.start()
    try:
        ctx = make_ctx(with_smtp(settings, hanging.url), clock, db)
        await invite(ctx, advisor)
        delivery = asyncio.create_task(OutboxWorker(ctx, transport_for(ctx.settings)).deliver_due())
        assert await asyncio.to_thread(hanging.data_started.wait, 10)
        delivery.cancel()  # the process dies while the mail is being handed over
        hanging.release()  # else aiosmtplib's polite QUIT waits for its timeout
        with contextlib.suppress(asyncio.CancelledError):
            await delivery
    finally:
        hanging.stop()

    (row,) = await outbox(db)
    assert (row.status, row.attempts, row.lease_until) == ("queued", 0, NOW + LEASE)

    restarted = make_ctx(with_smtp(settings, sink.url), clock, db)
    worker = OutboxWorker(restarted, transport_for(restarted.settings))
    assert await worker.deliver_due() == 0, "the lease still protects the mail"
    clock.advance(LEASE)
    assert await worker.deliver_due() == 1
    assert len(sink.envelopes) == 1


async def test_two_instances_deliver_each_mail_exactly_once(
    settings: Settings,
    clock: FakeClock,
    db: Sessions,
    second_instance: Sessions,
    advisor: StaffUser,
    sink: SmtpSink,
) -> None:
    smtp = with_smtp(settings, sink.url)
    one, two = make_ctx(smtp, clock, db), make_ctx(smtp, clock, second_instance)
    for day in range(3):
        await invite(one, advisor, *PEOPLE, start=NOW + timedelta(days=day + 1))

    counts = await asyncio.gather(
        OutboxWorker(one, transport_for(smtp)).deliver_due(),
        OutboxWorker(two, transport_for(smtp)).deliver_due(),
    )

    assert sum(counts) == 12
    message_ids = [m["Message-ID"] for m in sink.messages()]
    assert len(message_ids) == len(set(message_ids)) == 12
    assert {m.status for m in await outbox(db)} == {"sent"}


async def test_a_stopping_worker_finishes_the_mail_in_hand_and_gives_the_rest_back(
    settings: Settings,
    clock: FakeClock,
    db: Sessions,
    second_instance: Sessions,
    advisor: StaffUser,
    sink: SmtpSink,
) -> None:
    holding = SmtpSink(free_port(), hold_on_data=True)
    holding.start()
    try:
        ctx = make_ctx(with_smtp(settings, holding.url, outbox_poll_seconds=300), clock, db)
        await invite(ctx, advisor, *PEOPLE)
        worker = OutboxWorker(ctx, transport_for(ctx.settings))
        worker.start()
        assert await asyncio.to_thread(holding.data_started.wait, 10)
        stopping = asyncio.create_task(worker.stop())  # the instance shuts down
        await asyncio.sleep(0.3)
        assert not stopping.done(), "a planned stop waits for the mail being handed over"
        holding.release()
        await stopping
    finally:
        holding.stop()

    rows = await outbox(db)
    assert sorted(r.status for r in rows) == ["queued", "queued", "queued", "sent"]
    assert [r.lease_until for r in rows] == [None] * 4, "nothing waits out a lease"
    assert len(holding.envelopes) == 1

    # Another instance sends the rest at once, and nobody gets a mail twice.
    other = make_ctx(with_smtp(settings, sink.url), clock, second_instance)
    assert await OutboxWorker(other, transport_for(other.settings)).deliver_due() == 3
    recipients = [e.rcpt_tos[0] for e in [*holding.envelopes, *sink.envelopes]]
    assert sorted(recipients) == sorted(p.email for p in PEOPLE)


async def test_the_running_loop_is_woken_by_a_new_mail(
    settings: Settings, clock: FakeClock, db: Sessions, advisor: StaffUser, sink: SmtpSink
) -> None:
    ctx = make_ctx(with_smtp(settings, sink.url, outbox_poll_seconds=300), clock, db)
    worker = OutboxWorker(ctx, transport_for(ctx.settings))
    worker.start()
    try:
        await invite(ctx, advisor)
        ctx.outbox_wakeup.set()

        async def sent() -> bool:
            return [m.status for m in await outbox(db)] == ["sent"]

        await eventually(sent)
    finally:
        await worker.stop()
    assert len(sink.envelopes) == 1
    await worker.stop()  # stopping twice is harmless


async def test_the_loop_survives_an_error_and_logs_only_its_class(
    settings: Settings,
    clock: FakeClock,
    db: Sessions,
    advisor: StaffUser,
    sink: SmtpSink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    class FlakyWorker(OutboxWorker):
        """Fails its first round, like a database that is briefly unreachable."""

        failed = False

        async def deliver_due(self) -> int:
            if not self.failed:
                self.failed = True
                raise ConnectionResetError("erika.mustermann@example.org")
            return await super().deliver_due()

    ctx = make_ctx(with_smtp(settings, sink.url, outbox_poll_seconds=300), clock, db)
    await invite(ctx, advisor)
    worker = FlakyWorker(ctx, transport_for(ctx.settings))

    async def failed_once() -> bool:
        return worker.failed

    async def sent() -> bool:
        return [m.status for m in await outbox(db)] == ["sent"]

    worker.start()
    try:
        await eventually(failed_once)
        ctx.outbox_wakeup.set()
        await eventually(sent)
    finally:
        await worker.stop()

    logged = [r.getMessage() for r in caplog.records if r.name == "videotermin.outbox"]
    assert "outbox_loop_failed error=ConnectionResetError" in logged
    assert not any("erika" in line for line in logged)


async def test_without_smtp_mails_become_eml_files_in_the_mail_folder(
    settings: Settings, clock: FakeClock, db: Sessions, advisor: StaffUser
) -> None:
    ctx = make_ctx(settings, clock, db)
    _, (issued,) = await invite(ctx, advisor, ERIKA)
    (queued,) = await outbox(db)
    assert queued.message is not None
    transport = transport_for(ctx.settings)
    assert isinstance(transport, FolderTransport)

    assert await OutboxWorker(ctx, transport).deliver_due() == 1

    (file,) = settings.mail_dir.glob("*.eml")
    content = file.read_bytes()
    assert content == stamp_date(queued.message, NOW)
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert message["Subject"] == "Ihr Videotermin am Mittwoch, 9. Dezember 2026, 10:00 Uhr"
    assert issued.link in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "erika" not in file.name.lower()
    assert [m.message for m in await outbox(db)] == [None]


async def test_nothing_is_delivered_twice_by_one_worker(
    settings: Settings, clock: FakeClock, db: Sessions, advisor: StaffUser, sink: SmtpSink
) -> None:
    ctx = make_ctx(with_smtp(settings, sink.url), clock, db)
    await invite(ctx, advisor, *PEOPLE)
    worker = OutboxWorker(ctx, transport_for(ctx.settings))

    assert await worker.deliver_due() == 4
    clock.advance(LEASE * 2)
    assert await worker.deliver_due() == 0
    assert len(sink.envelopes) == 4


async def test_a_queued_mail_without_its_message_fails_instead_of_waiting_forever(
    settings: Settings, clock: FakeClock, db: Sessions, advisor: StaffUser, sink: SmtpSink
) -> None:
    """The retention purge or a withdrawal may erase a message the outbox still holds; the
    advisor must see it fail, and no error text may refill the erased personal columns."""
    ctx = make_ctx(with_smtp(settings, sink.url), clock, db)
    await invite(ctx, advisor)
    async with db() as session, session.begin():
        await session.execute(update(OutboxMail).values(message=None))

    assert await OutboxWorker(ctx, transport_for(ctx.settings)).deliver_due() == 0

    (row,) = await outbox(db)
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, None)
    assert sink.envelopes == []
