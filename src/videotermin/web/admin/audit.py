"""The audit log for admins: ``/admin/protokoll`` filters by person, action and days
(in the admin's unit's time zone), newest first, 100 at a time;
``/admin/protokoll.csv`` exports exactly what the same filter shows, all of it, and
is itself an audit entry.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from videotermin.domain.audit import ACTION_LABELS, AuditAction
from videotermin.domain.export import day_range, parse_day, spreadsheet_safe
from videotermin.domain.text import N_
from videotermin.services import audit, staff_admin
from videotermin.services.audit import AuditFilter, AuditLine
from videotermin.web.deps import Ctx, CurrentAdmin, Db
from videotermin.web.language import chosen_language
from videotermin.web.staff.view import staff_page
from videotermin.web.templating import NO_STORE, PageRoute, translate

router = APIRouter(route_class=PageRoute)
MAX_PAGE = 10_000


@dataclass(frozen=True)
class Wanted:
    """The filter as typed, what it means, and what was wrong with it."""

    values: dict[str, str]
    filter: AuditFilter
    errors: dict[str, str]

    @property
    def query(self) -> str:
        return urlencode({k: v for k, v in self.values.items() if v})


def _wanted(person: str, action: str, first: str, last: str, zone: ZoneInfo) -> Wanted:
    values = {"person": person[:12], "action": action[:40], "from": first[:10], "to": last[:10]}
    errors: dict[str, str] = {}
    actor = int(person) if person.isascii() and person.isdigit() and len(person) < 10 else None
    if person and actor is None:
        errors["person"] = N_("Bitte wählen Sie eine Person aus der Liste.")
    chosen = AuditAction(action) if action in set(AuditAction) else None
    if action and chosen is None:
        errors["action"] = N_("Bitte wählen Sie eine Aktion aus der Liste.")
    days: list[date | None] = []
    for name, text in (("from", first), ("to", last)):
        day = parse_day(text.strip())
        if isinstance(day, ValueError):
            errors[name] = N_("Bitte geben Sie ein Datum an, zum Beispiel 2.12.2026.")
            day = None
        days.append(day)
    span = day_range(days[0], days[1], zone)
    return Wanted(values, AuditFilter(actor, chosen, span.since, span.until), errors)


Text = Annotated[str, Query(max_length=40)]


@router.get("/admin/protokoll")
async def audit_log(
    request: Request,
    ctx: Ctx,
    db: Db,
    login: CurrentAdmin,
    person: Text = "",
    action: Text = "",
    first: Annotated[str, Query(alias="from", max_length=40)] = "",
    last: Annotated[str, Query(alias="to", max_length=40)] = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> HTMLResponse:
    zone = ZoneInfo(login.user.unit.timezone)
    wanted = _wanted(person, action, first, last, zone)
    size = audit.PAGE_SIZE
    lines = await audit.entries(db, wanted.filter, limit=size + 1, offset=(page - 1) * size)
    people = [
        (str(p.id), f"{p.display_name} ({p.username})") for p in await staff_admin.staff_members(db)
    ]
    context = {
        "lines": lines[:size],
        "more": len(lines) > size,
        "page": page,
        "wanted": wanted,
        "values": wanted.values,
        "errors": wanted.errors,
        "people": [("", N_("alle")), *people],
        "actions": [("", N_("alle")), *((a.value, label) for a, label in ACTION_LABELS.items())],
        "labels": ACTION_LABELS,
    }
    status = 422 if wanted.errors else 200
    return staff_page(request, ctx, login, "admin/audit.html", context, status)


# The export's columns: the page's, in the reader's language.
COLUMNS = (
    N_("Zeitpunkt"),
    N_("Person"),
    N_("Aktion"),
    N_("Termin"),
    N_("Betroffenes Konto"),
    N_("Detail"),
)


def _csv(lines: Sequence[AuditLine], zone: ZoneInfo, language: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(translate(language, column) for column in COLUMNS)
    for line in lines:
        writer.writerow(
            spreadsheet_safe(cell)
            for cell in (
                line.at.astimezone(zone).isoformat(timespec="seconds"),
                line.actor,
                translate(language, ACTION_LABELS[line.action]),
                line.appointment_id or "",
                line.subject,
                line.detail,
            )
        )
    # A byte-order mark, so spreadsheet programs read the umlauts as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@router.get("/admin/protokoll.csv", response_model=None)
async def audit_csv(
    request: Request,
    ctx: Ctx,
    db: Db,
    login: CurrentAdmin,
    person: Text = "",
    action: Text = "",
    first: Annotated[str, Query(alias="from", max_length=40)] = "",
    last: Annotated[str, Query(alias="to", max_length=40)] = "",
) -> Response:
    zone = ZoneInfo(login.user.unit.timezone)
    wanted = _wanted(person, action, first, last, zone)
    language = chosen_language(request)
    if wanted.errors:
        refused = "\n".join(translate(language, e) for e in wanted.errors.values())
        return Response(refused, status_code=422, media_type="text/plain")
    lines = await audit.entries(db, wanted.filter, limit=None)
    await audit.record_export(ctx, login.user.id, wanted.query)
    body = await asyncio.to_thread(_csv, lines, zone, language)
    headers = {**NO_STORE, "Content-Disposition": 'attachment; filename="protokoll.csv"'}
    return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
