"""Units in the administration: ``/admin/dienststellen`` lists them, creates one and
changes name, address, phone, e-mail, hotline and its hours (in German and English), and the
time zone
(:mod:`videotermin.services.units`; every change is an audit entry).
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from videotermin.domain.appointments import FieldError, RuleViolation
from videotermin.domain.text import N_
from videotermin.domain.units import UnitDraft
from videotermin.services import units
from videotermin.services.staff_auth import Login
from videotermin.store.models import Unit
from videotermin.web.deps import CheckedForm, Ctx, CurrentAdmin, Db
from videotermin.web.language import chosen_language
from videotermin.web.staff import forms
from videotermin.web.staff.view import redirect, staff_page
from videotermin.web.templating import PageExit, PageRoute, message_page

router = APIRouter(route_class=PageRoute)

FIELDS = ("slug", *units.EDITABLE)
MESSAGES = {
    ("slug", "invalid"): N_(
        "Das Kürzel hat 2 bis 60 Zeichen: Kleinbuchstaben, Ziffern und Bindestriche."
    ),
    ("slug", "taken"): N_("Dieses Kürzel gibt es schon."),
    ("name", "required"): N_("Bitte geben Sie den Namen an."),
    ("email", "invalid"): N_("Bitte geben Sie eine gültige E-Mail-Adresse an."),
    ("timezone", "invalid"): N_("Bitte geben Sie eine Zeitzone wie „Europe/Berlin“ an."),
}
TOO_LONG = N_("Bitte kürzer und ohne Steuerzeichen (auch keine Zeilenumbrüche).")


def _errors(refused: list[FieldError]) -> dict[str, str]:
    errors = forms.FormErrors(FIELDS)
    for error in refused:
        errors.add(error.field, MESSAGES.get((error.field, error.code), TOO_LONG))
    return errors.ordered()


def _draft(values: dict[str, str], slug: str = "") -> UnitDraft:
    return UnitDraft(
        slug=values.get("slug", slug).lower(),
        **{field: values.get(field, "") for field in units.EDITABLE},
    )


def _values_of(unit: Unit) -> dict[str, str]:
    return {field: getattr(unit, field) for field in ("slug", *units.EDITABLE)}


def _form(
    request: Request,
    ctx: Ctx,
    login: Login,
    context: Mapping[str, object],
    status: int = 200,
) -> HTMLResponse:
    return staff_page(request, ctx, login, "admin/unit_form.html", dict(context), status)


async def _unit(request: Request, db: Db, login: Login, unit_id: int) -> Unit:
    unit = await units.unit_by_id(db, unit_id)
    if unit is None:
        raise PageExit(
            message_page(
                404,
                N_("Dienststelle nicht gefunden"),
                N_("Diese Dienststelle gibt es nicht."),
                login.user.unit.name,
                next_step=("/admin/dienststellen", N_("Zur Liste der Dienststellen")),
                staff=login.page_context,
                language=chosen_language(request),
            )
        )
    return unit


@router.get("/admin/dienststellen")
async def unit_list(request: Request, ctx: Ctx, db: Db, login: CurrentAdmin) -> HTMLResponse:
    context = {"units": await units.all_units(db)}
    return staff_page(request, ctx, login, "admin/units.html", context)


@router.get("/admin/dienststellen/neu")
async def new_form(request: Request, ctx: Ctx, login: CurrentAdmin) -> HTMLResponse:
    values = {"timezone": ctx.settings.timezone}
    return _form(request, ctx, login, {"unit": None, "values": values, "errors": {}})


@router.post("/admin/dienststellen/neu", response_model=None)
async def create(request: Request, ctx: Ctx, login: CurrentAdmin, form: CheckedForm) -> Response:
    values = forms.form_values(form)
    try:
        await units.create_unit(ctx, login.user.id, _draft(values))
    except RuleViolation as refused:
        context = {"unit": None, "values": values, "errors": _errors(refused.errors)}
        return _form(request, ctx, login, context, 422)
    return redirect(ctx, "/admin/dienststellen", "unit_saved")


@router.get("/admin/dienststellen/{unit_id}")
async def edit_form(
    unit_id: int, request: Request, ctx: Ctx, db: Db, login: CurrentAdmin
) -> HTMLResponse:
    unit = await _unit(request, db, login, unit_id)
    return _form(request, ctx, login, {"unit": unit, "values": _values_of(unit), "errors": {}})


@router.post("/admin/dienststellen/{unit_id}", response_model=None)
async def save(
    unit_id: int, request: Request, ctx: Ctx, db: Db, login: CurrentAdmin, form: CheckedForm
) -> Response:
    unit = await _unit(request, db, login, unit_id)
    values = forms.form_values(form)
    try:
        changed = await units.change_unit(ctx, login.user.id, unit_id, _draft(values, unit.slug))
    except RuleViolation as refused:
        context = {"unit": unit, "values": values, "errors": _errors(refused.errors)}
        return _form(request, ctx, login, context, 422)
    return redirect(ctx, "/admin/dienststellen", "unit_saved" if changed else "unchanged")
