"""Consent text versions: a newer text asks again; a text that changed while the page was
open is shown again instead of being agreed to unseen."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from journey_helpers import consent_records, decide, hidden_fields
from page_helpers import book
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.services.consent_texts import consent_text
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

CHANGED_NOTE = "Die Einwilligungserklärung hat sich geändert."
NEWER = "## Neue Fassung\n\nWir haben die Erklärung überarbeitet.\n"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The operator's consent directory, empty until a test publishes a text."""
    (tmp_path / "consent" / "de").mkdir(parents=True)
    return settings.model_copy(update={"consent_dir": tmp_path / "consent"})


def publish(settings: Settings, version: str, text: str, language: str = "de") -> None:
    assert settings.consent_dir is not None
    folder = settings.consent_dir / language
    folder.mkdir(exist_ok=True)
    (folder / f"{version}.md").write_text(text, "utf-8")


async def test_a_newer_version_asks_again_and_says_why(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock)
    token = booking.tokens[0]
    await decide(client, token, "agree")
    assert CHANGED_NOTE not in (await client.get(f"/v/{token}")).text

    publish(settings, "2027-01-01", NEWER)
    page = await client.get(f"/v/{token}")
    answer = await decide(client, token, "agree")

    assert '<h2 id="consent-title">Einwilligungserklärung</h2>' in page.text
    assert CHANGED_NOTE in page.text and "<h3>Neue Fassung</h3>" in page.text
    assert answer.headers["location"] == f"/v/{token}/geraete"
    records = await consent_records(db, booking.participant_ids[0])
    assert [r.version for r in records] == ["2026-12-01", "2027-01-01"]
    assert records[1].text_hash == consent_text(settings, "de").hash


async def test_a_version_without_a_translation_is_shown_and_recorded_in_german(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    publish(settings, "2027-01-01", NEWER)
    english = ParticipantDraft(name="Emma English", email="emma@example.org", language="en")
    booking = await book(db, settings, clock, participants=[english])

    page = await client.get(f"/v/{booking.tokens[0]}")
    await decide(client, booking.tokens[0], "agree")

    assert '<html lang="en">' in page.text and '<div class="consent-text" lang="de">' in page.text
    [record] = await consent_records(db, booking.participant_ids[0])
    assert (record.version, record.language) == ("2027-01-01", "de")


@pytest.mark.parametrize("change", ["newer version", "same version edited"])
async def test_a_text_that_changed_while_the_page_was_open_is_shown_again(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    change: str,
) -> None:
    booking = await book(db, settings, clock)
    token = booking.tokens[0]
    old_page = await client.get(f"/v/{token}")
    old_form = hidden_fields(old_page.text, f"/v/{token}/einwilligung")
    if change == "newer version":
        publish(settings, "2027-01-01", NEWER)
    else:
        publish(settings, "2026-12-01", NEWER)

    answer = await client.post(f"/v/{token}/einwilligung", data={**old_form, "decision": "agree"})

    assert answer.status_code == 409
    assert CHANGED_NOTE in answer.text and "<h3>Neue Fassung</h3>" in answer.text
    assert await consent_records(db, booking.participant_ids[0]) == []
    assert (await decide(client, token, "agree")).status_code == 303, "the new form works"
