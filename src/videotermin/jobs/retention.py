"""The retention purge, hourly in every app process and on demand (``videotermin purge``).

What is erased, and why running it twice changes nothing, is
:func:`videotermin.services.retention.erase_expired`; this module gives it its
own transaction, logs the counts and keeps it running. Of instances purging at
the same moment one does the work and the others skip
(:func:`~videotermin.services.retention.claim_the_purge`), so the counts in the
logs and metrics are each row once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime, timedelta

from videotermin.context import AppContext
from videotermin.jobs.periodic import PeriodicJob
from videotermin.jobs.statistics import count_finished
from videotermin.mail.transport import delete_mail_files, mail_files_before
from videotermin.services.retention import PurgeReport, claim_the_purge, erase_expired
from videotermin.store.db import flush_erased

log = logging.getLogger("videotermin.retention")
PURGE_INTERVAL = timedelta(hours=1)


def mail_kept_since(now: datetime, retention_days: int) -> datetime:
    """Mail files (the embedded default's outbox folder) are kept this long after writing."""
    return now - timedelta(days=retention_days)


async def purge(ctx: AppContext) -> PurgeReport | None:
    """Erase what has expired; ``None`` when another instance is purging right now."""
    await count_finished(ctx)  # what is about to be erased is counted first
    report = await _erase(ctx, keep=False)
    if report is None:
        return None
    log.info(
        "purge appointments=%d participants=%d device_checks=%d sessions=%d "
        "audit_entries=%d mail_files=%d",
        report.appointments,
        report.participants,
        report.device_checks,
        report.sessions,
        report.audit_entries,
        report.mail_files,
    )
    purged = ctx.metrics.purged_rows
    for table, rows in report.by_kind().items():
        purged.labels(table=table).inc(rows)
    return report


async def would_purge(ctx: AppContext) -> PurgeReport | None:
    """What :func:`purge` would erase now, by kind — erased in a transaction that is then
    rolled back, so the counts come from the very same statements and nothing changes."""
    return await _erase(ctx, keep=True)


async def _erase(ctx: AppContext, *, keep: bool) -> PurgeReport | None:
    settings = ctx.settings
    now = ctx.clock()
    async with ctx.sessions() as session:
        transaction = await session.begin()
        try:
            if not await claim_the_purge(session):
                log.info("purge skipped: another instance is purging")
                return None
            report = await erase_expired(
                session, now, settings.retention_days, settings.audit_retention_days
            )
        finally:
            if keep:
                await transaction.rollback()
            else:
                await transaction.commit()
    if not keep:
        await flush_erased(ctx.engine)
    before = mail_kept_since(now, settings.retention_days)
    if keep:
        mail_files = len(await asyncio.to_thread(mail_files_before, settings.mail_dir, before))
    else:
        mail_files = await asyncio.to_thread(delete_mail_files, settings.mail_dir, before)
    return replace(report, mail_files=mail_files)


def retention_job(ctx: AppContext) -> PeriodicJob:
    """:func:`purge` at start and then every hour."""
    return PeriodicJob(ctx, "purge", PURGE_INTERVAL, purge)
