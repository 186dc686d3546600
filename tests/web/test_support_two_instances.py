"""The support desk's live view across instances: a supporter on instance A watches a
citizen whose pages talk to instance B — the device check's steps and her entering the
waiting room reach the supporter within a second, over Redis."""

from __future__ import annotations

import httpx
import pytest
from device_check_helpers import page_headers
from page_helpers import Booking, login, post_form
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from two_instances import Instances, booking, instances, redis_prefix
from waiting_helpers import citizen, fast_timing, greet, receive_until, session_cookie, socket

from conftest import add_staff
from videotermin.store.models import Participant

__all__ = ["booking", "fast_timing", "instances", "redis_prefix"]
pytestmark = pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)


async def test_a_supporter_on_a_sees_the_citizen_on_b_live(
    instances: Instances, booking: Booking, db: async_sessionmaker[AsyncSession]
) -> None:
    await add_staff(db, "support-sven", role="support")
    participant_id, token = booking.participant_ids[0], booking.tokens[0]
    async with db() as session:
        code = (await session.get_one(Participant, participant_id)).support_code
    async with (
        httpx.AsyncClient(base_url=instances.a.url, timeout=20) as desk,
        httpx.AsyncClient(base_url=instances.b.url, timeout=20) as clara,
    ):
        await login(desk, "support-sven")
        found = await post_form(desk, "/support", "/support", {"code": str(code)})
        assert found.status_code == 303
        async with socket(
            instances.a, "/ws/support", origin=instances.a.url, cookie=session_cookie(desk)
        ) as ws:
            await greet(ws, participant=participant_id)
            await receive_until(ws, {"type": "support"})

            headers = await page_headers(clara, f"/v/{token}/geraete")
            opened = await receive_until(ws, {"type": "support"}, timeout=1)
            assert "Gerätetest: geöffnet" in opened["html"]
            blocked = await clara.post(
                f"/v/{token}/geraete/stand", json={"step": "blocked"}, headers=headers
            )
            assert blocked.status_code == 204
            alert = await receive_until(ws, {"type": "support", "problem": True}, timeout=1)
            assert "im Browser blockiert" in alert["html"]

            async with citizen(instances.b, token) as waiting:
                await greet(waiting)
                entered = await receive_until(ws, {"type": "support", "problem": False}, timeout=1)
                assert 'data-place="waiting"' in entered["html"]
                assert "Ist im Warteraum, seit 09:58 Uhr." in entered["html"]
