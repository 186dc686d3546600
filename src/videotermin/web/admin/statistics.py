"""The statistics dashboard for admins: ``/admin/statistik`` shows every table for a range
of days and a unit (or all), each with a chart drawn on the server as SVG that reads
without JavaScript; ``/admin/statistik/<table>.csv`` is that table exactly as shown.
Small counts are suppressed in all three the same way
(:mod:`videotermin.services.statistics_report`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from videotermin.domain.export import parse_day, spreadsheet_safe
from videotermin.domain.statistics import THRESHOLD
from videotermin.domain.text import N_
from videotermin.services import statistics_report, units
from videotermin.services.staff_auth import Login
from videotermin.services.statistics_report import Table, day_label
from videotermin.store.models import Unit
from videotermin.web.deps import Ctx, CurrentAdmin, Db
from videotermin.web.language import chosen_language
from videotermin.web.staff.view import staff_page
from videotermin.web.templating import NO_STORE, PageExit, PageRoute, message_page, translate

router = APIRouter(route_class=PageRoute)
DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366
Text = Annotated[str, Query(max_length=40)]


@dataclass(frozen=True)
class Range:
    first: date
    last: date
    unit_id: int | None
    values: dict[str, str]
    errors: dict[str, str]

    @property
    def query(self) -> str:
        return urlencode({k: v for k, v in self.values.items() if v})

    @property
    def first_label(self) -> str:
        return day_label(self.first)

    @property
    def last_label(self) -> str:
        return day_label(self.last)


def _range(today: date, first: str, last: str, unit: str, known: set[int]) -> Range:
    values = {"from": first[:10], "to": last[:10], "unit": unit[:12]}
    errors: dict[str, str] = {}
    parsed = []
    for name, text, default in (
        ("from", first, today - timedelta(days=DEFAULT_DAYS - 1)),
        ("to", last, today),
    ):
        day = parse_day(text.strip())
        if isinstance(day, ValueError):
            errors[name] = N_("Bitte geben Sie ein Datum an, zum Beispiel 2.12.2026.")
        parsed.append(day if isinstance(day, date) else default)
    start, end = parsed
    if not errors and start > end:
        errors["to"] = N_("Das Ende liegt vor dem Anfang.")
    if not errors and (end - start).days >= MAX_DAYS:
        errors["from"] = N_("Bitte wählen Sie höchstens drei Jahre.")
    unit_id = int(unit) if unit.isascii() and unit.isdigit() and len(unit) < 10 else None
    if unit and unit_id not in known:
        errors["unit"] = N_("Bitte wählen Sie eine Dienststelle aus der Liste.")
    if errors:
        start, end = today - timedelta(days=DEFAULT_DAYS - 1), today
    values = {
        **values,
        "from": values["from"] or start.isoformat(),
        "to": values["to"] or end.isoformat(),
    }
    return Range(start, end, unit_id if unit_id in known else None, values, errors)


async def _tables(
    ctx: Ctx, db: Db, login: Login, first: str, last: str, unit: str
) -> tuple[Sequence[Unit], Range, list[Table]]:
    choices = await units.all_units(db)
    today = ctx.clock().astimezone(ZoneInfo(login.user.unit.timezone)).date()
    wanted = _range(today, first, last, unit, {u.id for u in choices})
    chosen = None if wanted.unit_id is None else [wanted.unit_id]
    tables = await statistics_report.report(db, chosen, wanted.first, wanted.last)
    return choices, wanted, tables


@router.get("/admin/statistik")
async def dashboard(
    request: Request,
    ctx: Ctx,
    db: Db,
    login: CurrentAdmin,
    first: Annotated[str, Query(alias="from", max_length=40)] = "",
    last: Annotated[str, Query(alias="to", max_length=40)] = "",
    unit: Text = "",
) -> HTMLResponse:
    choices, wanted, tables = await _tables(ctx, db, login, first, last, unit)
    context = {
        "tables": tables,
        "wanted": wanted,
        "values": wanted.values,
        "errors": wanted.errors,
        "units": [("", N_("alle Dienststellen")), *((str(u.id), u.name) for u in choices)],
        "threshold": THRESHOLD,
    }
    return staff_page(
        request, ctx, login, "admin/statistics.html", context, 422 if wanted.errors else 200
    )


@router.get("/admin/statistik/{slug}.csv", response_model=None)
async def table_csv(
    slug: str,
    request: Request,
    ctx: Ctx,
    db: Db,
    login: CurrentAdmin,
    first: Annotated[str, Query(alias="from", max_length=40)] = "",
    last: Annotated[str, Query(alias="to", max_length=40)] = "",
    unit: Text = "",
) -> Response:
    language = chosen_language(request)
    _choices, wanted, tables = await _tables(ctx, db, login, first, last, unit)
    if wanted.errors:
        refused = "\n".join(translate(language, e) for e in wanted.errors.values())
        return Response(refused, status_code=422, media_type="text/plain")
    table = next((t for t in tables if t.slug == slug), None)
    if table is None:
        raise PageExit(
            message_page(
                404,
                N_("Tabelle nicht gefunden"),
                N_("Diese Tabelle gibt es nicht."),
                login.user.unit.name,
                next_step=("/admin/statistik", N_("Zur Statistik")),
                staff=login.page_context,
                language=language,
            )
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    # The CSV reads as the table on the page: in the reader's language, same cells.
    for row in table.csv_rows(lambda text: translate(language, text)):
        writer.writerow(spreadsheet_safe(cell) for cell in row)
    name = f"{slug}_{wanted.first.isoformat()}_{wanted.last.isoformat()}.csv"
    headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'}
    body = ("\ufeff" + out.getvalue()).encode("utf-8")
    return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
