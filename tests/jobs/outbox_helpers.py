"""Shared pieces for the outbox tests: a real SMTP server, a context, an invitation.

Kept as a plain module (not a ``conftest.py``): the test tree has no packages,
and a second ``conftest`` module would shadow the root one that tests import.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from videotermin.context import AppContext
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.services.appointments import IssuedLink, create_appointment
from videotermin.settings import Settings
from videotermin.store.models import Appointment, OutboxMail, StaffUser

# Wednesday 9 December 2026, 10:00 in Berlin: a week after the tests' NOW.
START = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)
ERIKA = ParticipantDraft(name="Erika Mustermann", email="erika.mustermann@example.org")


class SmtpSink:
    """A real SMTP server (aiosmtpd, in its own thread) that keeps every mail it accepts."""

    def __init__(
        self,
        port: int,
        *,
        refuse_recipients: bool = False,
        hang_on_data: bool = False,
        hold_on_data: bool = False,
    ) -> None:
        self.port = port
        self.refuse_recipients = refuse_recipients
        self.hang_on_data = hang_on_data
        self.hold_on_data = hold_on_data
        self.data_started = threading.Event()
        self._release = threading.Event()
        self.envelopes: list[Envelope] = []
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def release(self) -> None:
        """Let a hanging DATA command end (with a temporary failure), a held one accept."""
        self._release.set()

    def stop(self) -> None:
        self.release()
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.refuse_recipients:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.hang_on_data:  # the mail is handed over, the answer never comes
            self.data_started.set()
            await asyncio.to_thread(self._release.wait, 60)
            return "451 4.3.0 gave up"
        if self.hold_on_data:  # a slow server: the answer comes once released
            self.data_started.set()
            await asyncio.to_thread(self._release.wait, 60)
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def messages(self) -> list[EmailMessage]:
        parsed = []
        for envelope in self.envelopes:
            assert isinstance(envelope.content, bytes)
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed


def with_smtp(settings: Settings, url: str, **changes: Any) -> Settings:
    """A fresh Settings (not a copy: ``smtp`` is a cached property) that sends to ``url``."""
    return Settings(**{**settings.model_dump(), "smtp_url": url, **changes})


def make_ctx(
    settings: Settings, clock: FakeClock, sessions: async_sessionmaker[AsyncSession]
) -> AppContext:
    return AppContext(settings=settings, clock=clock, engine=sessions.kw["bind"], sessions=sessions)


async def invite(
    ctx: AppContext,
    advisor: StaffUser,
    *participants: ParticipantDraft,
    start: datetime = START,
) -> tuple[Appointment, list[IssuedLink]]:
    """Create an appointment the way the advisor pages do; its mails land in the outbox."""
    async with ctx.sessions() as session, session.begin():
        staff = await session.get(StaffUser, advisor.id)
        assert staff is not None
        return await create_appointment(
            session,
            ctx,
            advisor=staff,
            start=start,
            duration_minutes=30,
            subject="Beratung zur Weiterbildung",
            participants=list(participants or [ERIKA]),
        )


async def outbox(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMail]:
    async with sessions() as session:
        return list(await session.scalars(select(OutboxMail).order_by(OutboxMail.id)))
