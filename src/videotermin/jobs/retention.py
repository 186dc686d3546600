"""The retention purge, hourly in every app process and on demand (``videotermin purge``).

What is erased, and why running it twice changes nothing, is
:func:`videotermin.services.retention.erase_expired`; this module gives it its
own transaction, logs the counts and keeps it running. Of instances purging at
the same moment one does the work and the others skip
(:func:`~videotermin.services.retention.claim_the_purge`), so the counts in the
logs and metrics are each row once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from videotermin.context import AppContext
from videotermin.jobs.periodic import PeriodicJob
from videotermin.jobs.statistics import count_finished
from videotermin.services.retention import PurgeReport, claim_the_purge, erase_expired

log = logging.getLogger("videotermin.retention")
PURGE_INTERVAL = timedelta(hours=1)


async def purge(ctx: AppContext) -> PurgeReport | None:
    """Erase what has expired; ``None`` when another instance is purging right now."""
    await count_finished(ctx)  # what is about to be erased is counted first
    async with ctx.sessions() as session, session.begin():
        if not await claim_the_purge(session):
            log.info("purge skipped: another instance is purging")
            return None
        settings = ctx.settings
        report = await erase_expired(
            session, ctx.clock(), settings.retention_days, settings.audit_retention_days
        )
    log.info(
        "purge appointments=%d participants=%d device_checks=%d sessions=%d audit_entries=%d",
        report.appointments,
        report.participants,
        report.device_checks,
        report.sessions,
        report.audit_entries,
    )
    purged = ctx.metrics.purged_rows
    purged.labels(table="appointments").inc(report.appointments)
    purged.labels(table="participants").inc(report.participants)
    purged.labels(table="device_checks").inc(report.device_checks)
    purged.labels(table="sessions").inc(report.sessions)
    purged.labels(table="audit_entries").inc(report.audit_entries)
    return report


def retention_job(ctx: AppContext) -> PeriodicJob:
    """:func:`purge` at start and then every hour."""
    return PeriodicJob(ctx, "purge", PURGE_INTERVAL, purge)
