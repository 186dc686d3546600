"""The SMTP server down for a while under the running app: every mail accepted is delivered
once it returns, each exactly once.

The app runs with its own outbox loop (``live_server``) against a real SMTP server
(aiosmtpd, ``outbox_helpers.SmtpSink``). The advisor books through the "Neuer Termin" form:
while the server is up, the invitations go out at once; then it stops, two more bookings
are accepted (the form does not wait for mail), and their invitations fail and are retried
on the backoff, more than once; the server comes back on its port and, at the next retry,
every invitation arrives — none lost, none twice.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from outbox_helpers import SmtpSink, outbox, with_smtp
from page_helpers import VALID, login, post_form
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import free_port
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import OutboxMail, StaffUser

pytestmark = pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)

Sessions = async_sessionmaker[AsyncSession]
BOOKINGS = [
    {**VALID, "subject": subject, "participants.0.email": f"{who}@example.org"}
    for subject, who in (("Vorher", "clara"), ("Während 1", "carla"), ("Während 2", "klara"))
]
"""Three bookings, each inviting a citizen of its own and the interpreter Ivan."""


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def settings(settings: Settings, smtp_port: int) -> Settings:
    """The app sends to ``smtp_port`` and looks at its outbox ten times a second."""
    return with_smtp(settings, f"smtp://127.0.0.1:{smtp_port}", outbox_poll_seconds=0.1)


@pytest.fixture
def sink(smtp_port: int) -> Iterator[SmtpSink]:
    server = SmtpSink(smtp_port)
    server.start()
    yield server
    server.stop()


async def until(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 15) -> None:
    """Poll ``check`` (the app's own loop does the work) until it holds."""
    for _ in range(int(seconds * 10)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}")


async def book(client: httpx.AsyncClient, form: dict[str, str]) -> None:
    accepted = await post_form(client, "/termine/neu", "/termine/neu", form)
    assert accepted.status_code == 303, accepted.text[:300]


def statuses(rows: list[OutboxMail]) -> Counter[str]:
    return Counter(row.status for row in rows)


async def test_every_mail_accepted_while_smtp_is_down_is_delivered_once_it_returns(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    sink: SmtpSink,
    smtp_port: int,
    db: Sessions,
    clock: FakeClock,
    settings: Settings,
) -> None:
    await login(client)
    await book(client, BOOKINGS[0])
    await until(lambda: _count(sink, 2), "the first invitations arrive while SMTP is up")

    sink.stop()
    for form in BOOKINGS[1:]:
        await book(client, form)

    async def failed_times(attempts: int) -> bool:
        waiting = [row for row in await outbox(db) if row.status == "queued"]
        return len(waiting) == 4 and all(row.attempts == attempts for row in waiting)

    await until(lambda: failed_times(1), "each new invitation tried once and queued again")
    clock.advance(timedelta(seconds=settings.mail_retry_base_seconds))
    await until(lambda: failed_times(2), "tried again after the backoff, still down")
    queued = [row for row in await outbox(db) if row.status == "queued"]

    back = SmtpSink(smtp_port)
    back.start()
    try:
        clock.advance(timedelta(seconds=2 * settings.mail_retry_base_seconds))
        await until(lambda: _count(back, 4), "the queued invitations arrive once SMTP is back")
        await asyncio.sleep(0.5)  # several more looks at the outbox: nothing goes twice
        delivered_after = [rcpt for envelope in back.envelopes for rcpt in envelope.rcpt_tos]
    finally:
        back.stop()

    delivered_before = [rcpt for envelope in sink.envelopes for rcpt in envelope.rcpt_tos]
    assert sorted(delivered_before) == ["clara@example.org", "ivan@example.org"]
    assert {row.last_error for row in queued} == {"SMTPConnectError"}
    assert all(row.message is not None for row in queued), "kept for the next attempt"
    assert Counter(delivered_after) == Counter(
        {"carla@example.org": 1, "klara@example.org": 1, "ivan@example.org": 2}
    )
    rows = await outbox(db)
    assert statuses(rows) == Counter({"sent": 6})
    assert all(row.message is None for row in rows), "a sent mail keeps no copy"
    assert sorted(row.attempts for row in rows) == [1, 1, 3, 3, 3, 3]


async def _count(sink: SmtpSink, wanted: int) -> bool:
    return len(sink.envelopes) >= wanted
