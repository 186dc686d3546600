"""Rendering a mail to a participant: plain text, HTML with the QR code, iCalendar.

The wording lives in ``templates/<language>/`` (German by default, English when
the participant chose it), one folder per language so a translator finds every
sentence of a mail in one place. HTML templates escape every value, because
names and subjects are typed by people. Dates read in the unit's time zone in
the long form a letter uses ("Montag, 6. Dezember 2021, 13:00 Uhr").

The message is complete except for its ``Date`` header: time is injected, and
the outbox stamps the moment of hand-over (:func:`stamp_date`).
"""

from __future__ import annotations

import email.policy
from collections.abc import Callable
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from videotermin.domain.dates import long_datetime
from videotermin.domain.outbox import MailKind
from videotermin.domain.units import hotline_hours
from videotermin.mail.ics import Method, Person, calendar_bytes
from videotermin.mail.qr import qr_png
from videotermin.mail.transport import smtp_address
from videotermin.settings import Settings
from videotermin.store.models import Appointment, Participant

LANGUAGES = ("de", "en")
LINK_KINDS = ("invitation", "update")

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def compose_mail(
    kind: MailKind,
    *,
    appointment: Appointment,
    participant: Participant,
    link: str | None,
    settings: Settings,
) -> EmailMessage:
    """The mail of ``kind`` for one participant; invitations and updates carry ``link``."""
    if (link is not None) != (kind in LINK_KINDS):
        raise ValueError(f"a {kind} mail must {'' if kind in LINK_KINDS else 'not '}carry a link")
    language = participant.language if participant.language in LANGUAGES else "de"
    host = urlsplit(settings.public_url).hostname or "localhost"
    qr_cid = make_msgid("qr", domain=host) if link else None
    facts = _facts(kind, appointment, participant, link, settings, language)
    facts["qr_cid"] = qr_cid.strip("<>") if qr_cid else None

    def render(name: str) -> str:
        return _templates.get_template(f"{language}/{name}").render(facts)

    recipient = _recipient(participant)
    message = EmailMessage(policy=_policy_for(recipient))
    message["From"] = settings.mail_from
    message["To"] = recipient
    reply_to = appointment.advisor.email or appointment.unit.email
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = " ".join(render("subject.txt").split())
    message["Message-ID"] = make_msgid(domain=host)
    message["Auto-Submitted"] = "auto-generated"

    message.set_content(render("mail.txt"), cte="quoted-printable")
    message.add_alternative(render("mail.html"), subtype="html", cte="quoted-printable")
    if link is not None and qr_cid is not None:
        html_part = list(message.iter_parts())[1]  # multipart/alternative: text, then HTML
        html_part.add_related(
            qr_png(link),
            maintype="image",
            subtype="png",
            cid=qr_cid,
            disposition="inline",
            filename="videotermin-qr.png",
        )
    _attach_calendar(message, appointment, participant, link, settings, render)
    message["Content-Language"] = language  # after the parts: setting content clears Content-*
    return message


def stamp_date(message: bytes, moment: datetime) -> bytes:
    """``message`` with a ``Date`` header of ``moment``, added when it leaves the outbox.

    Prepending a header line is what a mail submission agent does for a
    message without a date (RFC 6409, 8.1); the rest stays byte for byte.
    """
    return f"Date: {format_datetime(moment)}\r\n".encode("ascii") + message


def _attach_calendar(
    message: EmailMessage,
    appointment: Appointment,
    participant: Participant,
    link: str | None,
    settings: Settings,
    render: Callable[[str], str],
) -> None:
    """A mail with a link requests the calendar entry; one without withdraws it."""
    method = Method.REQUEST if link else Method.CANCEL
    ics = calendar_bytes(
        method,
        appointment=appointment,
        organizer=_organizer(appointment, settings),
        attendee=Person(participant.name or "", smtp_address(participant.email or "")),
        summary=" ".join(render("summary.txt").split()),
        description=render("calendar.txt").strip(),
        link=link,
    )
    message.add_attachment(
        ics,
        maintype="text",
        subtype="calendar",
        params={"method": method.value, "charset": "utf-8"},
        filename="videotermin.ics",
    )


def _facts(
    kind: MailKind,
    appointment: Appointment,
    participant: Participant,
    link: str | None,
    settings: Settings,
    language: str,
) -> dict[str, Any]:
    """Everything a template may say; templates decide what to show for each kind."""
    return {
        "kind": str(kind),
        "name": participant.name or "",
        "when": long_datetime(appointment.start_at, _zone(appointment, settings), language),
        "duration_minutes": appointment.duration_minutes,
        "subject": appointment.subject or "",
        "link": link or "",
        "unit": appointment.unit,
        "hotline_hours": hotline_hours(
            language,
            german=appointment.unit.hotline_hours,
            english=appointment.unit.hotline_hours_en,
        ),
        "advisor": appointment.advisor,
        "sender": parseaddr(settings.mail_from)[1],
        "join_early_minutes": settings.join_early_minutes,
        "retention_days": settings.retention_days,
    }


def _zone(appointment: Appointment, settings: Settings) -> ZoneInfo:
    try:
        return ZoneInfo(appointment.unit.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return settings.zone


def _recipient(participant: Participant) -> Address:
    local, _, domain = smtp_address(participant.email or "").rpartition("@")
    return Address(display_name=participant.name or "", username=local, domain=domain)


def _policy_for(recipient: Address) -> email.policy.EmailPolicy[EmailMessage]:
    """SMTP's policy (CRLF, 7-bit headers); SMTPUTF8 only for a non-ASCII local part."""
    return email.policy.SMTP if recipient.username.isascii() else email.policy.SMTPUTF8


def _organizer(appointment: Appointment, settings: Settings) -> Person:
    """The advisor organises; without an address of theirs the unit or the sender does."""
    advisor = appointment.advisor
    if advisor.email:
        return Person(advisor.display_name, advisor.email)
    if appointment.unit.email:
        return Person(appointment.unit.name, appointment.unit.email)
    name, address = parseaddr(settings.mail_from)
    return Person(name, address)
