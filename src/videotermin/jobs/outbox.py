"""Delivering the outbox: claim due mails, hand them over, record the outcome.

Any number of app instances may run a worker on the same database: a mail is
claimed with a lease (:func:`videotermin.services.outbox.claim_due`), so two
instances never send the same mail. Sending happens outside any database
transaction. Delivery is at least once: a process that dies between handing a
mail over and recording it leaves the lease to expire, and the mail is sent
again rather than lost.

When a mail with a participant's link is sent or finally fails, the worker
announces it on the bus, so the advisor's live list shows the invitation's state
without a reload.

Log lines carry ids, kinds, counts and error classes only: never addresses,
names or links.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from videotermin.bus.events import participant_changed
from videotermin.context import AppContext
from videotermin.domain.outbox import MailKind, MailStatus, after_failure
from videotermin.mail.compose import stamp_date
from videotermin.mail.transport import Transport
from videotermin.services.outbox import ClaimedMail, claim_due, record_outcome, release_leases

log = logging.getLogger("videotermin.outbox")

BATCH_SIZE = 20
# A claim outlives the longest hand-over (SEND_DEADLINE) by far, so a slow
# send is never taken over by a second instance while it is still running.
LEASE = timedelta(minutes=10)
SEND_DEADLINE_SECONDS = 120.0
# How long a stopping instance waits for the mail it is handing over, so that a
# restart sends no mail twice; the server's own graceful shutdown waits longer.
STOP_GRACE_SECONDS = 15.0
# The mails whose state the advisor sees as the participant's invitation.
CARRY_LINKS = (MailKind.INVITATION, MailKind.UPDATE)


def describe_error(exc: BaseException) -> str:
    """The exception class and SMTP code: nothing of the message, which may quote an address."""
    code = getattr(exc, "code", None)
    refused = getattr(exc, "recipients", None)
    if code is None and refused:
        code = getattr(refused[0], "code", None)
    return type(exc).__name__ if code is None else f"{type(exc).__name__} code={code}"


def is_permanent(exc: BaseException) -> bool:
    """A recipient refused with a 5xx code will be refused again: fail at once, so the
    advisor sees the wrong address within seconds instead of after every retry."""
    refused = getattr(exc, "recipients", None)
    if not refused:
        return False
    return all(500 <= getattr(r, "code", 0) < 600 for r in refused)


class OutboxWorker:
    def __init__(self, ctx: AppContext, transport: Transport) -> None:
        self.ctx = ctx
        self.transport = transport
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox-worker")

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Finish the mail being handed over (up to ``grace`` seconds), give the other
        claimed mails back, then end.

        A mail handed over but not yet recorded when the process dies would be
        sent again once its lease expires: so a planned stop waits for it. Only
        past the grace is the loop cancelled (that mail keeps its lease). Besides
        cancelling, the loop is told to stop: on Python 3.11 ``wait_for`` (used by
        aiosmtplib) can swallow a cancellation that races a completing read, and
        the loop must still end.
        """
        if self._task is None:
            return
        self._stopping = True
        self.ctx.outbox_wakeup.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._task), grace)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        """Deliver, then sleep until woken by a new mail or the poll interval passes.

        The loop outlives every error: a database hiccup must not stop all mail
        until the next restart. Only the error class is logged, because driver
        messages may quote parameters (and with them addresses).
        """
        wakeup = self.ctx.outbox_wakeup
        while not self._stopping:
            wakeup.clear()
            try:
                await self.deliver_due()
            except Exception as exc:
                log.error("outbox_loop_failed error=%s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), self.ctx.settings.outbox_poll_seconds)

    async def deliver_due(self) -> int:
        """Send every mail that is due now; return how many were delivered. A stop
        ends it after the mail in hand; the rest of the batch goes back unsent."""
        delivered = 0
        while not self._stopping and (claimed := await self._claim()):
            for index, mail in enumerate(claimed):
                if self._stopping:
                    await self._release(claimed[index:])
                    break
                delivered += await self._deliver(mail)
        return delivered

    async def _claim(self) -> list[ClaimedMail]:
        async with self.ctx.sessions() as session, session.begin():
            return await claim_due(session, self.ctx.clock(), lease=LEASE, limit=BATCH_SIZE)

    async def _deliver(self, mail: ClaimedMail) -> int:
        if mail.message is None or mail.recipient is None:
            # Erased while queued (a withdrawal, or the purge): it fails visibly, and no
            # error text refills a personal column that the erasure has just emptied.
            await self._record_failure(mail, None, final=True)
            return 0
        message = stamp_date(mail.message, self.ctx.clock())
        try:
            async with asyncio.timeout(SEND_DEADLINE_SECONDS):
                await self.transport.send(message, mail.recipient)
        except Exception as exc:
            await self._record_failure(mail, describe_error(exc), final=is_permanent(exc))
            return 0
        await self._record(
            mail.id,
            status=MailStatus.SENT,
            attempts=mail.attempts + 1,
            sent_at=self.ctx.clock(),
            message=None,
            next_attempt_at=None,
            last_error=None,
        )
        log.info("mail_sent mail_id=%d kind=%s attempts=%d", mail.id, mail.kind, mail.attempts + 1)
        self.ctx.metrics.mails.labels(outcome="sent").inc()
        await self._announce(mail)
        return 1

    async def _record_failure(
        self, mail: ClaimedMail, error: str | None, *, final: bool = False
    ) -> None:
        """Count the attempt; schedule the next one or give up and erase the message.
        ``error`` is ``None`` when the message was erased before it could be sent.

        A mail that is given up loses its stored message (and with it the
        link): the advisor sees "failed" and resends, which mints a new link.
        """
        settings = self.ctx.settings
        attempts = mail.attempts + 1
        if final:
            status, next_attempt_at = MailStatus.FAILED, None
        else:
            status, next_attempt_at = after_failure(
                attempts,
                settings.mail_max_attempts,
                settings.mail_retry_base_seconds,
                self.ctx.clock(),
            )
        changes: dict[str, object] = {
            "status": status,
            "attempts": attempts,
            "next_attempt_at": next_attempt_at,
            "last_error": error,
        }
        if next_attempt_at is None:
            changes["message"] = None
            log.error(
                "mail_failed mail_id=%d kind=%s attempts=%d error=%s",
                mail.id,
                mail.kind,
                attempts,
                error or "message_erased",
            )
        else:
            log.warning(
                "mail_retry mail_id=%d kind=%s attempts=%d error=%s retry_at=%s",
                mail.id,
                mail.kind,
                attempts,
                error,
                next_attempt_at.isoformat(),
            )
        await self._record(mail.id, **changes)
        outcome = "failed" if next_attempt_at is None else "retried"
        self.ctx.metrics.mails.labels(outcome=outcome).inc()
        if next_attempt_at is None:
            await self._announce(mail)

    async def _announce(self, mail: ClaimedMail) -> None:
        """Tell the advisor's live list that the invitation's state changed (a retry
        does not: the list shows "wird versendet" before and after it)."""
        if mail.participant_id is not None and mail.kind in CARRY_LINKS:
            await participant_changed(self.ctx.bus, mail.appointment_id, mail.participant_id)

    async def _release(self, mails: list[ClaimedMail]) -> None:
        async with self.ctx.sessions() as session, session.begin():
            await release_leases(session, [mail.id for mail in mails])

    async def _record(self, mail_id: int, **changes: object) -> None:
        """Write the outcome and release the lease in one statement."""
        async with self.ctx.sessions() as session, session.begin():
            await record_outcome(session, mail_id, changes)
