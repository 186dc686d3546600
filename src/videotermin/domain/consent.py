"""Consent: which decision counts, and when a new version asks again.

An agreement counts only for the text version it was given to; when the
operator publishes a new version, the participant is asked again. A decline
can be changed into an agreement at any time; a withdrawal is final for the
link, because the participant's personal data is erased with it.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum

from videotermin.domain.journey import Consent


class Decision(StrEnum):
    AGREED = "agreed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def effective_consent(latest: Decision | None) -> Consent:
    """What the latest decision means now. An agreement stays an agreement to the text
    that was shown when a newer text is activated later: the participant keeps the
    version they agreed to (the record names it), and is not thrown out of a waiting
    room or a call because the agency published a new text."""
    if latest is None:
        return Consent.NONE
    if latest == Decision.WITHDRAWN:
        return Consent.WITHDRAWN
    if latest == Decision.DECLINED:
        return Consent.DECLINED
    return Consent.AGREED


def may_decide(current: Consent, decision: Decision) -> bool:
    """Agree or decline while undecided or declined; withdraw only what was agreed."""
    if current == Consent.WITHDRAWN:
        return False
    if decision == Decision.WITHDRAWN:
        return current == Consent.AGREED
    return True
