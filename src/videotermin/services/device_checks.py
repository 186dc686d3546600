"""Recording a device check made on a personal link.

The row holds the verdict, the figures and the device's parameters (personal
data, erased by the retention purge) and the hash of the ``vt_device`` key, by
which the link page recognises the device that passed.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.context import AppContext
from videotermin.domain.device import DeviceParameters
from videotermin.domain.quality import Measurements, Verdict
from videotermin.domain.tokens import hash_token
from videotermin.services import statistics
from videotermin.store.models import DeviceCheck

IP_ADDRESS_CHARS = 45


async def record_device_check(
    session: AsyncSession,
    ctx: AppContext,
    participant_id: str,
    verdict: Verdict,
    measurements: Measurements,
    *,
    findings: str,
    device: DeviceParameters,
    device_key: str,
    ip_address: str,
) -> None:
    """Add the check, and its anonymous counts, to the caller's transaction; ``findings``
    is the stored JSON."""
    now = ctx.clock()
    facts = statistics.CheckFacts(
        verdict=verdict.grade.label,
        reasons=[f.item.value for f in verdict.problems],
        browser=device.browser_family,
        system=device.os_family,
    )
    await statistics.device_checked(session, participant_id, now, facts)
    session.add(
        DeviceCheck(
            participant_id=participant_id,
            checked_at=now,
            verdict=verdict.grade.label,
            device_key_hash=hash_token(device_key),
            findings=findings,
            os_family=device.os_family,
            os_version=device.os_version,
            device_type=device.device_type.value,
            device_model=device.device_model,
            browser_family=device.browser_family,
            browser_version=device.browser_version,
            upload_kbps=measurements.upload_kbps,
            download_kbps=measurements.download_kbps,
            round_trip_ms=measurements.round_trip_ms,
            packet_loss_pct=measurements.packet_loss_pct,
            jitter_ms=measurements.jitter_ms,
            bitrate_kbps=measurements.bitrate_kbps,
            ip_address=ip_address[:IP_ADDRESS_CHARS],
        )
    )
