"""Helpers for the statistics tests: counts put straight into the table the dashboard
reads, and the cells of one table as the page shows them."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from videotermin.store.models import StatCount, Unit


async def seed_counts(
    db: async_sessionmaker[AsyncSession], rows: dict[tuple[str, str], int]
) -> None:
    async with db() as session, session.begin():
        unit = await session.scalar(select(Unit.id).where(Unit.is_default.is_(True)))
        assert unit is not None
        for (metric, key), n in rows.items():
            session.add(
                StatCount(unit_id=unit, day=date(2026, 12, 1), metric=metric, key=key, count=n)
            )


def table_cells(html: str, slug: str) -> list[list[str]]:
    section = html[html.index(f'<section class="stat" id="{slug}"') :]
    section = section[: section.index("</section>")]
    body = section[section.index("<tbody>") : section.index("</tfoot>")]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).replace("&lt;", "<").strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]
