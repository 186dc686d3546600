"""What a participant receives: text, HTML with QR code, and a calendar entry.

These tests build the mail from unsaved model objects, so they read like the
mail itself; delivery through the outbox is tested in ``tests/jobs``.
"""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from icalendar import Calendar

from videotermin.domain.outbox import MailKind
from videotermin.mail.compose import compose_mail, stamp_date
from videotermin.mail.qr import qr_png
from videotermin.settings import Settings
from videotermin.store.models import Appointment, Participant, StaffUser, Unit

START = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
LINK = "https://video.agentur.example/v/Tok3nTok3nTok3nTok3nTok3nTok3nTok3nTok3n"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        public_url="https://video.agentur.example",
        mail_from="Agentur für Arbeit <noreply@agentur.example>",
        retention_days=21,
        join_early_minutes=10,
    )


def make_appointment(**changes: object) -> Appointment:
    unit = Unit(
        name="Agentur für Arbeit Musterstadt",
        address="Hauptstraße 1\n12345 Musterstadt",
        phone="+49 30 5555-0",
        email="musterstadt@agentur.example",
        hotline="0800 123 4567",
        hotline_hours="Mo–Fr 8–18 Uhr",
        timezone="Europe/Berlin",
    )
    advisor = StaffUser(display_name="Bea Berater", email="bea@agentur.example", phone="+49 30 77")
    fields: dict[str, object] = {
        "id": "8d0a4a3e-0000-4000-8000-000000000001",
        "unit": unit,
        "advisor": advisor,
        "start_at": START,
        "duration_minutes": 45,
        "subject": "Weiterbildung",
        "ics_sequence": 0,
        "updated_at": datetime(2026, 12, 2, 9, 0, tzinfo=UTC),
    }
    return Appointment(**{**fields, **changes})


def citizen(language: str = "de", name: str = "Erika Mustermann", address: str = "") -> Participant:
    return Participant(
        name=name, email=address or "erika@example.org", language=language, role="citizen"
    )


def compose(
    kind: MailKind,
    settings: Settings,
    *,
    appointment: Appointment | None = None,
    participant: Participant | None = None,
) -> EmailMessage:
    """Compose, then parse the bytes back: tests see what a mail program sees."""
    link = LINK if kind in (MailKind.INVITATION, MailKind.UPDATE) else None
    message = compose_mail(
        kind,
        appointment=appointment or make_appointment(),
        participant=participant or citizen(),
        link=link,
        settings=settings,
    )
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def part(message: EmailMessage, content_type: str) -> EmailMessage:
    found = [p for p in message.walk() if p.get_content_type() == content_type]
    assert len(found) == 1, f"expected one {content_type} part, found {len(found)}"
    return found[0]


def calendar_of(message: EmailMessage) -> Calendar:
    return Calendar.from_ical(part(message, "text/calendar").get_payload(decode=True))


def test_invitation_is_text_and_html_with_inline_qr_and_a_calendar_attachment(
    settings: Settings,
) -> None:
    message = compose(MailKind.INVITATION, settings)

    structure = [p.get_content_type() for p in message.walk()]
    assert structure == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
        "text/calendar",
    ]
    calendar_part = part(message, "text/calendar")
    assert calendar_part.get_param("method") == "REQUEST"
    assert calendar_part.get_content_disposition() == "attachment"
    assert calendar_part.get_filename() == "videotermin.ics"


def test_headers_name_sender_recipient_and_the_date_in_the_subject(settings: Settings) -> None:
    message = compose(MailKind.INVITATION, settings)

    assert message["From"].addresses[0].addr_spec == "noreply@agentur.example"
    assert message["From"].addresses[0].display_name == "Agentur für Arbeit"
    (to,) = message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Erika Mustermann", "erika@example.org")
    assert message["Subject"] == "Ihr Videotermin am Mittwoch, 9. Dezember 2026, 10:00 Uhr"
    assert message["Message-ID"].endswith("@video.agentur.example>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Reply-To"] == "bea@agentur.example"
    assert message["Content-Language"] == "de"
    assert message["Date"] is None, "the outbox stamps the date when the mail leaves"


def test_german_invitation_says_everything_the_citizen_needs(settings: Settings) -> None:
    text = part(compose(MailKind.INVITATION, settings), "text/plain").get_content()

    for expected in [
        "Guten Tag Erika Mustermann,",
        "Mittwoch, 9. Dezember 2026, 10:00 Uhr",
        "45 Minuten",
        "Weiterbildung",
        LINK,
        "schon vor dem Termin öffnen und Kamera, Mikrofon und Internetverbindung testen",
        "frühestens 10 Minuten vor Beginn",
        "Spam-Ordner",
        "noreply@agentur.example in Ihren Kontakten",
        "Agentur für Arbeit Musterstadt",
        "Hauptstraße 1",
        "Telefon: +49 30 5555-0",
        "musterstadt@agentur.example",
        "Bea Berater",
        "bea@agentur.example",
        "Telefon: +49 30 77",
        "0800 123 4567, Mo–Fr 8–18 Uhr",
        "nicht aufgezeichnet",
        "21 Tage nach dem Termin automatisch gelöscht",
        "Bitte leiten Sie diese E-Mail nicht weiter",
    ]:
        assert expected in text, expected


def test_english_invitation_for_an_english_speaking_participant(settings: Settings) -> None:
    message = compose(MailKind.INVITATION, settings, participant=citizen("en"))
    text = part(message, "text/plain").get_content()
    html = part(message, "text/html").get_content()

    assert message["Subject"] == "Your video appointment on Wednesday, 9 December 2026, 10:00 am"
    assert message["Content-Language"] == "en"
    assert text.startswith("Hello Erika Mustermann,")
    for expected in ["45 minutes", LINK, "at the earliest 10 minutes", "spam folder", "21 days"]:
        assert expected in text, expected
        assert expected in html, expected
    assert "Guten Tag" not in text
    assert '<html lang="en"' in html
    summary = calendar_of(message).walk("VEVENT")[0]["SUMMARY"]
    assert summary == "Video appointment: Weiterbildung"


def test_html_carries_the_link_and_shows_the_qr_code_by_content_id(settings: Settings) -> None:
    message = compose(MailKind.INVITATION, settings)
    html = part(message, "text/html").get_content()
    image = part(message, "image/png")

    assert f'href="{LINK}"' in html
    content_id = image["Content-ID"].strip("<>")
    assert f'src="cid:{content_id}"' in html
    assert image.get_content_disposition() == "inline"
    assert image.get_content() == qr_png(LINK), "the QR code encodes exactly the personal link"


def test_html_escapes_everything_people_typed(settings: Settings) -> None:
    participant = citizen(name='Eve <script>alert("x")</script>')
    appointment = make_appointment(subject="<img src=x onerror=alert(1)>")
    message = compose(
        MailKind.INVITATION, settings, appointment=appointment, participant=participant
    )
    html = part(message, "text/html").get_content()

    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert message["To"].addresses[0].display_name == 'Eve <script>alert("x")</script>'


def test_invitation_calendar_entry(settings: Settings) -> None:
    calendar = calendar_of(compose(MailKind.INVITATION, settings))
    (event,) = calendar.walk("VEVENT")

    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == "8d0a4a3e-0000-4000-8000-000000000001@videotermin"
    assert event["SEQUENCE"] == 0
    assert event["DTSTART"].dt == START
    assert event["DTEND"].dt == datetime(2026, 12, 9, 9, 45, tzinfo=UTC)
    assert event["STATUS"] == "CONFIRMED"
    assert event["SUMMARY"] == "Videotermin: Weiterbildung"
    assert LINK in event["DESCRIPTION"]
    assert str(event["URL"]) == LINK
    assert str(event["ORGANIZER"]) == "mailto:bea@agentur.example"
    assert event["ORGANIZER"].params["CN"] == "Bea Berater"
    assert str(event["ATTENDEE"]) == "mailto:erika@example.org"
    assert event["ATTENDEE"].params["CN"] == "Erika Mustermann"


def test_update_names_the_change_keeps_the_uid_and_raises_the_sequence(
    settings: Settings,
) -> None:
    moved = make_appointment(start_at=datetime(2026, 12, 10, 13, 0, tzinfo=UTC), ics_sequence=1)
    message = compose(MailKind.UPDATE, settings, appointment=moved)
    text = part(message, "text/plain").get_content()
    (event,) = calendar_of(message).walk("VEVENT")

    assert message["Subject"] == (
        "Ihr Videotermin wurde geändert: jetzt am Donnerstag, 10. Dezember 2026, 14:00 Uhr"
    )
    assert "wurde geändert" in text
    assert "Donnerstag, 10. Dezember 2026, 14:00 Uhr" in text
    assert LINK in text
    assert "Links aus früheren E-Mails zu diesem Termin gelten weiterhin" in text
    assert str(event["UID"]) == "8d0a4a3e-0000-4000-8000-000000000001@videotermin"
    assert event["SEQUENCE"] == 1
    assert event["DTSTART"].dt == datetime(2026, 12, 10, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "subject", "sentence"),
    [
        (
            MailKind.CANCEL,
            "Abgesagt: Ihr Videotermin am Mittwoch, 9. Dezember 2026, 10:00 Uhr",
            "wurde abgesagt und findet nicht statt",
        ),
        (
            MailKind.REMOVED,
            "Sie nehmen nicht mehr teil: Videotermin am Mittwoch, 9. Dezember 2026, 10:00 Uhr",
            "Sie nehmen an diesem Videotermin mit Agentur für Arbeit Musterstadt nicht mehr teil",
        ),
    ],
)
def test_cancel_and_removal_withdraw_the_calendar_entry(
    settings: Settings, kind: MailKind, subject: str, sentence: str
) -> None:
    message = compose(kind, settings, appointment=make_appointment(ics_sequence=2))
    text = part(message, "text/plain").get_content()
    calendar = calendar_of(message)
    (event,) = calendar.walk("VEVENT")

    assert message["Subject"] == subject
    assert sentence in text
    assert "/v/" not in text, "no link in a mail that takes the appointment away"
    assert "musterstadt@agentur.example" in text and "Bea Berater" in text
    assert not [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert part(message, "text/calendar").get_param("method") == "CANCEL"
    assert calendar["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert str(event["UID"]) == "8d0a4a3e-0000-4000-8000-000000000001@videotermin"
    assert event["SEQUENCE"] == 2
    assert "URL" not in event


def test_a_mail_carries_a_link_exactly_when_its_kind_promises_one(settings: Settings) -> None:
    appointment, participant = make_appointment(), citizen()
    with pytest.raises(ValueError, match="must carry a link"):
        compose_mail(
            MailKind.INVITATION,
            appointment=appointment,
            participant=participant,
            link=None,
            settings=settings,
        )
    with pytest.raises(ValueError, match="must not carry a link"):
        compose_mail(
            MailKind.CANCEL,
            appointment=appointment,
            participant=participant,
            link=LINK,
            settings=settings,
        )


def test_missing_contact_details_leave_no_empty_lines(settings: Settings) -> None:
    appointment = make_appointment(subject=None)
    appointment.unit.phone = appointment.unit.hotline = appointment.unit.address = ""
    appointment.advisor.phone = ""
    text = part(compose(MailKind.INVITATION, settings, appointment=appointment), "text/plain")
    content = text.get_content()

    assert "Thema" not in content
    assert "Telefon:" not in content
    assert "Hotline" not in content


def test_organizer_falls_back_to_the_unit_without_an_advisor_address(settings: Settings) -> None:
    appointment = make_appointment()
    appointment.advisor.email = ""
    message = compose(MailKind.INVITATION, settings, appointment=appointment)
    (event,) = calendar_of(message).walk("VEVENT")

    assert str(event["ORGANIZER"]) == "mailto:musterstadt@agentur.example"
    assert message["Reply-To"] == "musterstadt@agentur.example"


def test_the_unit_time_zone_decides_the_clock_time(settings: Settings) -> None:
    appointment = make_appointment()
    appointment.unit.timezone = "Europe/London"
    message = compose(MailKind.INVITATION, settings, appointment=appointment)

    assert message["Subject"] == "Ihr Videotermin am Mittwoch, 9. Dezember 2026, 09:00 Uhr"


def test_an_internationalised_domain_is_addressed_in_ascii(settings: Settings) -> None:
    message = compose(MailKind.INVITATION, settings, participant=citizen(address="max@müller.de"))
    (event,) = calendar_of(message).walk("VEVENT")

    assert message["To"].addresses[0].addr_spec == "max@xn--mller-kva.de"
    assert str(event["ATTENDEE"]) == "mailto:max@xn--mller-kva.de"


def test_a_non_ascii_local_part_is_sent_as_utf8(settings: Settings) -> None:
    """Such an address needs SMTPUTF8 (RFC 6532), where headers are plain UTF-8."""
    message = compose_mail(
        MailKind.INVITATION,
        appointment=make_appointment(),
        participant=citizen(address="jörg@example.org"),
        link=LINK,
        settings=settings,
    )
    parsed = email.message_from_string(
        message.as_bytes().decode("utf-8"), policy=email.policy.default
    )

    assert parsed["To"].addresses[0].addr_spec == "jörg@example.org"


def test_stamp_date_adds_the_moment_of_hand_over_and_keeps_the_rest() -> None:
    original = b"Subject: x\r\n\r\nbody\r\n"
    stamped = stamp_date(original, datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    parsed = email.message_from_bytes(stamped, policy=email.policy.default)

    assert stamped.endswith(original)
    assert parsed["Date"].datetime == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
