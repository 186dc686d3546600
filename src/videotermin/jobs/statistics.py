"""The statistics job: every minute in every app process, it counts the outcome of
appointments that are over (:func:`videotermin.services.statistics.record_finished`;
a conditional update makes each count happen once across instances)."""

from __future__ import annotations

from datetime import timedelta

from videotermin.context import AppContext
from videotermin.jobs.periodic import PeriodicJob
from videotermin.services.statistics import record_finished

STATISTICS_INTERVAL = timedelta(minutes=1)


async def count_finished(ctx: AppContext) -> int:
    counted = total = await record_finished(ctx)
    while counted:
        counted = await record_finished(ctx)
        total += counted
    return total


def statistics_job(ctx: AppContext) -> PeriodicJob:
    return PeriodicJob(ctx, "statistics", STATISTICS_INTERVAL, count_finished)
