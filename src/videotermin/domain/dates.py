"""How dates read to people: German long form, local time zone.

"Montag, 6. Dezember 2021, 13:00 Uhr" is how a German letter names an
appointment; English uses "Monday, 6 December 2021, 1:00 pm". Storage is UTC;
only presentation converts to the unit's time zone.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time

_LONG = {"de": "EEEE, d. MMMM y, HH:mm 'Uhr'", "en": "EEEE, d MMMM y, h:mm a"}
_DAY = {"de": "EEEE, d. MMMM y", "en": "EEEE, d MMMM y"}
_TIME = {"de": "HH:mm 'Uhr'", "en": "h:mm a"}
_LOCALE = {"de": "de_DE", "en": "en_GB"}


def long_datetime(moment: datetime, zone: ZoneInfo, language: str = "de") -> str:
    lang = language if language in _LONG else "de"
    return format_datetime(moment.astimezone(zone), _LONG[lang], locale=_LOCALE[lang])


def long_date(moment: datetime | date, zone: ZoneInfo, language: str = "de") -> str:
    lang = language if language in _DAY else "de"
    day = moment.astimezone(zone).date() if isinstance(moment, datetime) else moment
    return format_date(day, _DAY[lang], locale=_LOCALE[lang])


def clock_time(moment: datetime, zone: ZoneInfo, language: str = "de") -> str:
    lang = language if language in _TIME else "de"
    return format_time(moment.astimezone(zone), _TIME[lang], locale=_LOCALE[lang])
