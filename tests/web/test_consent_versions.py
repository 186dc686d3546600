"""Consent text versions: a newer text is what the undecided see, while an agreement keeps
the version it was given to; a text that changed while the page was open is shown again
instead of being agreed to unseen."""

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


async def test_a_newer_version_is_shown_to_the_undecided_and_agreements_keep_theirs(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    earlier, later = (await book(db, settings, clock)), (await book(db, settings, clock))
    await decide(client, earlier.tokens[0], "agree")

    publish(settings, "2027-01-01", NEWER)
    kept = await client.get(f"/v/{earlier.tokens[0]}")
    page = await client.get(f"/v/{later.tokens[0]}")
    answer = await decide(client, later.tokens[0], "agree")

    assert "<h3>Neue Fassung</h3>" not in kept.text and "consent-title" not in kept.text
    assert '<h2 id="consent-title">Einwilligungserklärung</h2>' in page.text
    assert "<h3>Neue Fassung</h3>" in page.text and CHANGED_NOTE not in page.text
    assert answer.headers["location"] == f"/v/{later.tokens[0]}/geraete"
    assert [r.version for r in await consent_records(db, earlier.participant_ids[0])] == [
        "2026-12-01"
    ]
    [record] = await consent_records(db, later.participant_ids[0])
    assert (record.version, record.text_hash) == ("2027-01-01", consent_text(settings, "de").hash)


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
