"""The one list of personal-data columns, read from the models' ``personal`` marker.

The retention purge erases exactly these columns and the tests check that no
personal column is left behind, so a new column marked ``personal`` is covered
everywhere without touching this module.
"""

from __future__ import annotations

from sqlalchemy import Column

from videotermin.store.models import Base


def personal_columns() -> list[Column]:  # type: ignore[type-arg]
    return [
        column
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if column.info.get("personal")
    ]


def personal_column_names() -> list[str]:
    return [f"{column.table.name}.{column.name}" for column in personal_columns()]
