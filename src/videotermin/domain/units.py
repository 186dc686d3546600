"""A unit's details as an admin enters them: what the citizen's pages, mails and the
support desk show, and the time zone every date of the unit is shown in.

The hotline's hours are free text, so they come in German and, optionally, in English;
:func:`hotline_hours` picks the one a reader of a page or a mail gets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from videotermin.domain.appointments import FieldError, normalise_email
from videotermin.domain.text_input import is_one_line

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,59}$")
LIMITS = {
    "name": 200,
    "address": 300,
    "phone": 60,
    "hotline": 60,
    "hotline_hours": 200,
    "hotline_hours_en": 200,
}
ZONE_NAME = re.compile(r"^[A-Za-z]+(?:[/_+-][A-Za-z0-9]+)*$")


@dataclass(frozen=True)
class UnitDraft:
    slug: str
    name: str
    address: str
    phone: str
    email: str
    hotline: str
    hotline_hours: str
    hotline_hours_en: str
    timezone: str


@dataclass(frozen=True)
class HotlineHours:
    """The hours as shown: the text, the language it is written in, and whether it
    stands in for the reader's language (German hours for an English reader, or the
    other way round), so a page marks it with its ``lang`` and a screen reader
    pronounces it right."""

    text: str
    language: str
    fallback: bool


def hotline_hours(language: str, *, german: str, english: str) -> HotlineHours:
    """The hotline's hours for a reader of ``language``: the text in that language when
    the admin entered one, otherwise the other one (hours in another language say more
    than none), marked as standing in; empty only when neither was entered."""
    own, other = (english, german) if language == "en" else (german, english)
    own_language, other_language = ("en", "de") if language == "en" else ("de", "en")
    if own or not other:
        return HotlineHours(own, own_language, fallback=False)
    return HotlineHours(other, other_language, fallback=True)


def known_zone(name: str) -> bool:
    """An IANA time zone this system knows (``Europe/Berlin``); never a file path."""
    if len(name) > 64 or not ZONE_NAME.fullmatch(name):
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def check_unit(draft: UnitDraft, *, new: bool) -> list[FieldError]:
    """Why the form's unit is refused; the slug (in URLs and the command line) is set
    once, when the unit is created."""
    errors: list[FieldError] = []
    if new and not SLUG.fullmatch(draft.slug):
        errors.append(FieldError("slug", "invalid", "2 to 60 lower-case letters, digits, hyphens"))
    if not draft.name:
        errors.append(FieldError("name", "required", "a name is required"))
    for field, limit in LIMITS.items():
        value = getattr(draft, field)
        # One line as every typed field (a no-break space pasted from a letter is fine).
        if len(value) > limit or not is_one_line(value):
            errors.append(FieldError(field, "invalid", f"at most {limit} characters, one line"))
    if draft.email and normalise_email(draft.email) is None:
        errors.append(FieldError("email", "invalid", "not a valid e-mail address"))
    if not known_zone(draft.timezone):
        errors.append(FieldError("timezone", "invalid", "an IANA time zone such as Europe/Berlin"))
    return errors
