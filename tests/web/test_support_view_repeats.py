"""The support desk's live view is sent when what the supporter sees changes, not for
every event: a repeated change notice or the bus's own resync leaves the socket quiet,
and a real change made on the other instance still arrives."""

from __future__ import annotations

import httpx
import pytest
from device_check_helpers import page_headers
from page_helpers import Booking, login
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support_helpers import SUPPORT, code_of, look_up, support_socket, supporter
from two_instances import Instances, booking, instances, redis_prefix
from waiting_helpers import fast_timing, greet, receive_until, session_cookie

from videotermin.bus.events import appointment_channel, participant_changed
from videotermin.bus.redis_bus import RedisBus
from videotermin.store.models import StaffUser

__all__ = ["booking", "fast_timing", "instances", "redis_prefix", "supporter"]
pytestmark = pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)

REDIS_URL = "redis://127.0.0.1:6379/0"


async def test_notices_that_change_nothing_send_nothing_and_a_change_still_arrives(
    instances: Instances,
    booking: Booking,
    redis_prefix: str,
    supporter: StaffUser,
    db: async_sessionmaker[AsyncSession],
) -> None:
    participant_id, token = booking.participant_ids[0], booking.tokens[0]
    publisher = RedisBus(REDIS_URL, channel_prefix=redis_prefix)
    try:
        async with httpx.AsyncClient(base_url=instances.a.url, timeout=20) as desk:
            await login(desk, SUPPORT)
            await look_up(desk, await code_of(db, participant_id))  # type: ignore[arg-type]
            async with support_socket(instances.a, session_cookie(desk)) as ws:
                await greet(ws, role="support", participant=participant_id)
                first = await receive_until(ws, {"type": "support"})
                assert first["problem"] is False

                channel = appointment_channel(booking.appointment_id)
                for _ in range(3):
                    await participant_changed(publisher, booking.appointment_id, participant_id)
                await publisher.publish(channel, {"type": "resync"})
                with pytest.raises(TimeoutError):
                    await receive_until(ws, {"type": "support"}, timeout=1)

                async with httpx.AsyncClient(base_url=instances.b.url, timeout=20) as citizen:
                    headers = await page_headers(citizen, f"/v/{token}/geraete")
                    blocked = await citizen.post(
                        f"/v/{token}/geraete/stand", json={"step": "blocked"}, headers=headers
                    )
                assert blocked.status_code == 204
                shown = await receive_until(ws, {"type": "support", "problem": True}, timeout=3)
                assert "Kamera und Mikrofon sind im Browser blockiert" in shown["html"]
    finally:
        await publisher.close()
