"""Consent use cases of the personal link: agree, decline, withdraw.

Each runs inside the caller's transaction, which starts with
:func:`lock_participation`, so two decisions on one participant (a double
click, two open tabs) happen one after the other: a withdrawal can never be
overtaken by an agreement that was read before it. The caller commits and then
announces the change with :func:`videotermin.bus.events.participant_changed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.context import AppContext
from videotermin.domain.consent import Decision, may_decide
from videotermin.domain.journey import Consent, Journey
from videotermin.domain.tokens import hash_token, looks_like_token
from videotermin.services import consent_texts
from videotermin.services.consent_texts import ConsentText
from videotermin.services.participation import Participation, participation_for_token
from videotermin.store.models import ConsentRecord, Participant, ParticipantLink
from videotermin.store.personal_data import erase_participant

# The states in which the link takes decisions; cancelled, ended and withdrawn are final.
DECIDING = (
    Journey.CONSENT_NEEDED,
    Journey.CONSENT_DECLINED,
    Journey.BEFORE_WINDOW,
    Journey.WINDOW_OPEN,
)


class Outcome(StrEnum):
    RECORDED = "recorded"
    UNCHANGED = "unchanged"  # the same decision again, e.g. a double click
    TEXT_CHANGED = "text_changed"  # the page showed a text that is no longer current
    REFUSED = "refused"


@dataclass(frozen=True)
class ShownText:
    """Which text the form was shown with, as the page sent it back."""

    version: str
    language: str
    hash: str


async def lock_participation(
    session: AsyncSession, ctx: AppContext, token: str
) -> Participation | None:
    """The participant of ``token``, locked for this transaction.

    A no-op UPDATE as the first statement takes the participant's row lock on
    PostgreSQL and the database's write lock on SQLite; everything read after
    it sees the decisions committed before.
    """
    if looks_like_token(token):
        of_link = select(ParticipantLink.participant_id).where(
            ParticipantLink.token_hash == hash_token(token)
        )
        await session.execute(
            update(Participant)
            .where(Participant.id.in_(of_link))
            .values(language=Participant.language)
            .execution_options(synchronize_session=False)
        )
    return await participation_for_token(session, ctx, token)


async def _current_text(ctx: AppContext, shown: ShownText) -> ConsentText | None:
    """The current text in the language shown, if it is exactly the one on the page
    (a language without a text of its own falls back to German: not what was shown)."""
    text = await consent_texts.current_text(ctx, shown.language)
    if shown.version != text.version:
        return None
    if text.language != shown.language or text.hash != shown.hash:
        return None
    return text


async def decide(
    session: AsyncSession,
    ctx: AppContext,
    participation: Participation,
    decision: Decision,
    shown: ShownText,
) -> Outcome:
    """Record an agreement or a decline of the text the participant was shown.

    Declining what is agreed would keep the data that a withdrawal erases, so
    it is refused here: the way out of an agreement is :func:`withdraw`.
    """
    current = participation.consent
    if participation.state not in DECIDING or not may_decide(current, decision):
        return Outcome.REFUSED
    if current.value == decision.value:
        return Outcome.UNCHANGED
    if current == Consent.AGREED:
        return Outcome.REFUSED
    text = await _current_text(ctx, shown)
    if text is None:
        return Outcome.TEXT_CHANGED
    session.add(
        ConsentRecord(
            participant_id=participation.participant.id,
            version=text.version,
            language=text.language,
            text_hash=text.hash,
            decision=decision.value,
            decided_at=ctx.clock(),
        )
    )
    return Outcome.RECORDED


def may_withdraw(participation: Participation) -> bool:
    return participation.state in DECIDING and may_decide(participation.consent, Decision.WITHDRAWN)


async def withdraw(session: AsyncSession, ctx: AppContext, participation: Participation) -> bool:
    """Withdraw an agreement and erase the participant's personal data at once.

    The record names the agreement it ends (version, language, hash of the text).
    """
    agreed = participation.participant.latest_consent
    if not may_withdraw(participation) or agreed is None:
        return False
    session.add(
        ConsentRecord(
            participant_id=participation.participant.id,
            version=agreed.version,
            language=agreed.language,
            text_hash=agreed.text_hash,
            decision=Decision.WITHDRAWN.value,
            decided_at=ctx.clock(),
        )
    )
    await erase_participant(session, participation.participant.id)
    return True
