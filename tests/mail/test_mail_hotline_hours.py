"""The hotline's hours in a mail speak the mail's language: an English mail carries the
English hours in its text, its HTML and its calendar entry, or the German ones (marked
German in the HTML) when the unit has none in English; a German mail stays German."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from icalendar import Calendar

from videotermin.domain.outbox import MailKind
from videotermin.mail.compose import compose_mail
from videotermin.settings import Settings
from videotermin.store.models import Appointment, Participant, StaffUser, Unit

GERMAN = "Montag bis Freitag, 8 bis 18 Uhr"
ENGLISH = "Monday to Friday, 8 am to 6 pm"
LINK = "https://video.agentur.example/v/Tok3nTok3nTok3nTok3nTok3nTok3nTok3nTok3n"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        public_url="https://video.agentur.example",
        mail_from="Agentur für Arbeit <noreply@agentur.example>",
    )


def invitation(settings: Settings, language: str, english_hours: str) -> EmailMessage:
    unit = Unit(
        name="Agentur für Arbeit Musterstadt",
        address="Hauptstraße 1, 12345 Musterstadt",
        phone="",
        email="",
        hotline="0800 123 4567",
        hotline_hours=GERMAN,
        hotline_hours_en=english_hours,
        timezone="Europe/Berlin",
    )
    appointment = Appointment(
        id="8d0a4a3e-0000-4000-8000-000000000002",
        unit=unit,
        advisor=StaffUser(display_name="Bea Berater", email="bea@agentur.example"),
        start_at=datetime(2026, 12, 9, 9, 0, tzinfo=UTC),
        duration_minutes=30,
        subject="Beratung",
        ics_sequence=0,
        updated_at=datetime(2026, 12, 2, 9, 0, tzinfo=UTC),
    )
    participant = Participant(
        name="Erika Mustermann", email="erika@example.org", language=language, role="citizen"
    )
    message = compose_mail(
        MailKind.INVITATION,
        appointment=appointment,
        participant=participant,
        link=LINK,
        settings=settings,
    )
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def texts(message: EmailMessage) -> tuple[str, str, str]:
    """The plain text, the HTML and the calendar entry's description, as a reader sees them."""
    by_type = {p.get_content_type(): p for p in message.walk()}
    calendar = Calendar.from_ical(by_type["text/calendar"].get_payload(decode=True))
    description = str(calendar.walk("VEVENT")[0]["DESCRIPTION"])
    return (
        by_type["text/plain"].get_content(),
        by_type["text/html"].get_content(),
        description,
    )


def test_an_english_invitation_carries_the_english_hours(settings: Settings) -> None:
    text, html, description = texts(invitation(settings, "en", ENGLISH))

    assert f"Technical help (hotline): 0800 123 4567, {ENGLISH}" in text
    assert f"Technical help (hotline): 0800 123 4567, {ENGLISH}</p>" in html
    assert f"Technical help: 0800 123 4567 ({ENGLISH})" in description
    for shown in (text, html, description):
        assert GERMAN not in shown


def test_a_german_invitation_keeps_the_german_hours(settings: Settings) -> None:
    text, html, description = texts(invitation(settings, "de", ENGLISH))

    assert f"Technische Hilfe (Hotline): 0800 123 4567, {GERMAN}" in text
    assert f"Technische Hilfe (Hotline): 0800 123 4567, {GERMAN}</p>" in html
    assert f"Technische Hilfe: 0800 123 4567 ({GERMAN})" in description
    for shown in (text, html, description):
        assert ENGLISH not in shown


def test_without_english_hours_an_english_invitation_has_the_german_ones(
    settings: Settings,
) -> None:
    text, html, description = texts(invitation(settings, "en", ""))

    assert f"Technical help (hotline): 0800 123 4567, {GERMAN}" in text
    assert f'Technical help (hotline): 0800 123 4567, <span lang="de">{GERMAN}</span>' in html
    assert f"Technical help: 0800 123 4567 ({GERMAN})" in description
