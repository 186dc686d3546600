"""The one list of personal-data columns, read from the models' ``personal`` marker.

The retention purge erases exactly these columns and the tests check that no
personal column is left behind, so a new column marked ``personal`` is covered
everywhere without touching this module.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Table, update
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.store.models import Base


def personal_columns() -> list[Column[Any]]:
    return [
        column
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if column.info.get("personal")
    ]


def personal_column_names() -> list[str]:
    return [f"{column.table.name}.{column.name}" for column in personal_columns()]


def _participant_column(table: Table) -> Column[Any] | None:
    if table.name == "participants":
        return table.c.id
    return table.c.get("participant_id")


async def erase_participant(session: AsyncSession, participant_id: str) -> list[str]:
    """Set every personal column of one participant to NULL, in every table that
    refers to them; returns the columns erased. Used on withdrawal of consent."""
    erased: list[str] = []
    by_table: dict[Table, list[Column[Any]]] = {}
    for column in personal_columns():
        by_table.setdefault(column.table, []).append(column)
    for table, columns in by_table.items():
        owner = _participant_column(table)
        if owner is None:
            continue
        await session.execute(
            update(table).where(owner == participant_id).values({c.name: None for c in columns})
        )
        erased += [f"{table.name}.{c.name}" for c in columns]
    return erased
