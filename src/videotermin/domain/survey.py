"""The voluntary three-question survey after the call.

Three questions, each optional: overall satisfaction (1–5), picture and sound
quality (1–5), and whether one would use a video appointment again (yes / no /
don't know). Answers are kept only with the unit and the month, so they cannot
be linked to a person, an appointment or a time of day. Citizens and other
external participants are asked; colleagues (staff) are not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

SURVEYED_ROLES = ("citizen", "interpreter", "companion")
SCALE = range(1, 6)


class Again(StrEnum):
    YES = "yes"
    NO = "no"
    DONT_KNOW = "dont_know"


@dataclass(frozen=True)
class Answers:
    satisfaction: int | None = None
    av_quality: int | None = None
    use_again: Again | None = None

    @property
    def empty(self) -> bool:
        return self.satisfaction is None and self.av_quality is None and self.use_again is None


class InvalidAnswer(ValueError):
    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def parse_answers(
    satisfaction: str | None, av_quality: str | None, use_again: str | None
) -> Answers:
    """Form values to answers; an empty value is a skipped question, anything else must fit."""

    def scale(field: str, raw: str | None) -> int | None:
        if raw in (None, ""):
            return None
        if raw not in {str(n) for n in SCALE}:
            raise InvalidAnswer(field)
        return int(raw)

    if use_again not in (None, "") and use_again not in Again.__members__.values():
        raise InvalidAnswer("use_again")
    return Answers(
        satisfaction=scale("satisfaction", satisfaction),
        av_quality=scale("av_quality", av_quality),
        use_again=Again(use_again) if use_again else None,
    )


def may_take_survey(role: str, consent_agreed: bool, already_closed: bool) -> bool:
    return role in SURVEYED_ROLES and consent_agreed and not already_closed


def month_bucket(now: datetime, zone: ZoneInfo) -> str:
    """The only time kept with an answer: the month, in the unit's time zone."""
    return now.astimezone(zone).strftime("%Y-%m")
