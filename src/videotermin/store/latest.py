"""A participant's latest record of a kind, as a subquery of the participant's row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ScalarSelect, select
from sqlalchemy.orm import InstrumentedAttribute

from videotermin.store.models import ConsentRecord, DeviceCheck, Participant


def latest(
    record: type[ConsentRecord] | type[DeviceCheck], column: InstrumentedAttribute[Any]
) -> ScalarSelect[Any]:
    """``column`` of the participant's ``record`` with the highest id (the last one made),
    correlated to :class:`Participant` in the enclosing query."""
    return (
        select(column)
        .where(record.participant_id == Participant.id)
        .order_by(record.id.desc())
        .limit(1)
        .correlate(Participant)
        .scalar_subquery()
    )
