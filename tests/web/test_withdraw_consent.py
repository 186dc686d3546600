"""Withdrawing consent from the link: a confirmation, then the participant's personal data
is erased at once, the advisor is told, and the link only ever says "withdrawn"."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from journey_helpers import (
    OPENS_AT,
    add_device_check,
    consent_records,
    decide,
    hidden_fields,
    personal_values,
    withdraw,
)
from page_helpers import book
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW, LiveServer
from videotermin.bus.core import MemoryBus, Payload
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

CITIZEN = ParticipantDraft(
    name="Clara Kundin", email="clara@example.org", customer_number="123D456"
)
INTERPRETER = ParticipantDraft(
    name="Ina Dolmetscherin", email="ina@example.org", role="interpreter"
)
WITHDRAWN = "<h1>Sie haben Ihre Einwilligung widerrufen</h1>"


class RecordingBus(MemoryBus):
    """The app's bus, keeping a copy of what was published (the advisor's list listens)."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[tuple[str, Payload]] = []

    async def publish(self, channel: str, event: Payload) -> None:
        self.published.append((channel, event))
        await super().publish(channel, event)


def record_events(live_server: LiveServer) -> RecordingBus:
    bus = RecordingBus()
    live_server.server.config.app.state.ctx.bus = bus  # type: ignore[attr-defined]
    return bus


async def test_the_hub_offers_withdrawal_only_once_consent_is_given(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock)
    token = booking.tokens[0]

    early = await client.get(f"/v/{token}/widerruf")
    await decide(client, token, "agree")
    hub = await client.get(f"/v/{token}")

    assert early.status_code == 303 and early.headers["location"] == f"/v/{token}"
    assert f'<p class="withdraw"><a href="/v/{token}/widerruf">Einwilligung widerrufen</a>' in (
        hub.text
    )


async def test_the_confirmation_explains_what_a_withdrawal_does(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock)
    token = booking.tokens[0]
    await decide(client, token, "agree")

    page = await client.get(f"/v/{token}/widerruf")

    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    html = page.text
    assert "<h1>Einwilligung widerrufen?</h1>" in html
    for consequence in (
        "Wir löschen gleich Ihre persönlichen Daten",
        "Sie können über diesen Link nicht mehr teilnehmen",
        "nicht per Video stattfinden",
        "Ihre Ansprechperson sieht",
        "nicht rückgängig machen",
    ):
        assert consequence in html
    assert '<button type="submit" class="danger">Ja, Einwilligung widerrufen</button>' in html
    assert f'<a class="button secondary" href="/v/{token}">Abbrechen</a>' in html
    assert hidden_fields(html, f"/v/{token}/widerruf")["csrf_token"]


async def test_withdrawal_leaves_no_personal_data_of_the_participant(
    client: httpx.AsyncClient,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    bus = record_events(live_server)
    booking = await book(db, settings, clock, participants=[CITIZEN, INTERPRETER])
    citizen, interpreter = booking.participant_ids
    token = booking.tokens[0]
    await decide(client, token, "agree")
    await add_device_check(db, citizen)
    before = await personal_values(db, citizen)
    assert before["participants.name"] == ["Clara Kundin"]
    assert before["device_checks.ip_address"] == ["203.0.113.7"]
    assert before["outbox_mails.recipient"] == ["clara@example.org"]
    clock.advance(timedelta(minutes=3))

    answer = await withdraw(client, token)

    assert answer.status_code == 303 and answer.headers["location"] == f"/v/{token}"
    after = await personal_values(db, citizen)
    left: dict[str, list[Any]] = {
        column: values for column, values in after.items() if any(v is not None for v in values)
    }
    assert left == {}, "every personal column of every table referring to the participant"
    assert set(after) >= {"participants.customer_number", "device_checks.os_family"}
    assert (await personal_values(db, interpreter))["participants.name"] == ["Ina Dolmetscherin"]
    agreed, withdrawn = await consent_records(db, citizen)
    assert (withdrawn.decision, withdrawn.decided_at) == ("withdrawn", NOW + timedelta(minutes=3))
    assert (withdrawn.version, withdrawn.text_hash) == (agreed.version, agreed.text_hash)
    assert (
        f"appointment:{booking.appointment_id}",
        {
            "type": "participant_changed",
            "appointment_id": booking.appointment_id,
            "participant_id": citizen,
        },
    ) in bus.published


async def test_a_withdrawn_link_only_ever_shows_the_withdrawn_page(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock)
    token = booking.tokens[0]
    page = await client.get(f"/v/{token}")
    consent_form = hidden_fields(page.text, f"/v/{token}/einwilligung")
    await decide(client, token, "agree")
    withdraw_page = await client.get(f"/v/{token}/widerruf")
    withdraw_form = hidden_fields(withdraw_page.text, f"/v/{token}/widerruf")
    await client.post(f"/v/{token}/widerruf", data=withdraw_form)

    shown = await client.get(f"/v/{token}")
    agree_again = await client.post(
        f"/v/{token}/einwilligung", data={**consent_form, "decision": "agree"}
    )
    withdraw_again = await client.post(f"/v/{token}/widerruf", data=withdraw_form)
    confirmation = await client.get(f"/v/{token}/widerruf")
    clock.set(OPENS_AT)
    in_window = await client.get(f"/v/{token}")

    assert shown.status_code == 200 and WITHDRAWN in shown.text
    assert "Ihre persönlichen Daten zu diesem Termin sind gelöscht" in shown.text
    assert "Clara" not in shown.text and "clara@example.org" not in shown.text
    assert "+49 30 5555-0" in shown.text, "how to reach the unit"
    assert agree_again.status_code == withdraw_again.status_code == 409
    assert WITHDRAWN in agree_again.text and WITHDRAWN in withdraw_again.text
    assert confirmation.status_code == 303
    assert WITHDRAWN in in_window.text and "warteraum" not in in_window.text
    records = await consent_records(db, booking.participant_ids[0])
    assert [r.decision for r in records] == ["agreed", "withdrawn"]
