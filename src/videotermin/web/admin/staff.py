"""Staff accounts in the administration: ``/admin/personal`` lists them, creates one,
changes role, unit and contact, resets a password and deactivates.

The use cases and their audit entries are :mod:`videotermin.services.staff_admin`'s.
A new account and a reset answer with a page that shows the one-time link once
(``no-store``); the admin hands it over, and the person sets their own password at
``/passwort/<token>`` (:mod:`videotermin.web.staff.password`).
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from videotermin.domain.appointments import FieldError, RuleViolation
from videotermin.domain.staff import MAX_DISPLAY_NAME, ROLE_LABELS, StaffDraft
from videotermin.domain.text import N_, Text
from videotermin.services import staff_admin, units
from videotermin.services.staff_auth import Login
from videotermin.store.models import StaffUser
from videotermin.web.deps import CheckedForm, Ctx, CurrentAdmin, Db
from videotermin.web.language import chosen_language
from videotermin.web.staff import forms
from videotermin.web.staff.view import redirect, staff_page
from videotermin.web.templating import PageExit, PageRoute, message_page

router = APIRouter(route_class=PageRoute)

FIELDS = ("username", "display_name", "email", "phone", "role", "unit_id")
MESSAGES = {
    ("username", "invalid"): N_(
        "Der Benutzername hat 3 bis 80 Zeichen: Kleinbuchstaben, "
        "Ziffern, Punkt, Bindestrich oder Unterstrich, am Anfang ein Buchstabe oder eine Ziffer."
    ),
    ("username", "taken"): N_("Diesen Benutzernamen gibt es schon."),
    ("display_name", "required"): N_("Bitte geben Sie den Namen an."),
    ("display_name", "invalid"): Text(
        "Der Name darf höchstens %(count)s Zeichen lang sein und keine Steuerzeichen enthalten.",
        count=MAX_DISPLAY_NAME,
    ),
    ("email", "invalid"): N_("Bitte geben Sie eine gültige E-Mail-Adresse an."),
    ("phone", "invalid"): N_("Die Telefonnummer darf höchstens 60 Zeichen lang sein."),
    ("role", "invalid"): N_("Bitte wählen Sie eine Rolle aus der Liste."),
    ("role", "own_account"): N_(
        "Sie können sich die Rolle Administration nicht selbst nehmen. "
        "Bitten Sie eine andere Person mit dieser Rolle."
    ),
    ("unit_id", "required"): N_("Bitte wählen Sie eine Dienststelle."),
    ("unit_id", "unknown"): N_("Bitte wählen Sie eine Dienststelle aus der Liste."),
    ("", "own_account"): N_("Sie können Ihr eigenes Konto nicht deaktivieren."),
}


def _errors(refused: list[FieldError]) -> dict[str, str]:
    errors = forms.FormErrors(("", *FIELDS))
    for error in refused:
        errors.add(error.field, MESSAGES.get((error.field, error.code), forms.MESSAGES["invalid"]))
    return errors.ordered()


def _draft(values: dict[str, str], username: str = "") -> StaffDraft:
    unit = values.get("unit_id", "")
    return StaffDraft(
        username=values.get("username", username).lower(),
        display_name=values.get("display_name", ""),
        email=values.get("email", ""),
        phone=values.get("phone", ""),
        role=values.get("role", ""),
        unit_id=int(unit) if unit.isascii() and unit.isdigit() and len(unit) < 10 else None,
    )


def _choices() -> list[tuple[str, str]]:
    return [(role.value, label) for role, label in ROLE_LABELS.items()]


async def _form_page(
    request: Request,
    ctx: Ctx,
    db: Db,
    login: Login,
    name: str,
    context: Mapping[str, object],
    status: int = 200,
) -> HTMLResponse:
    choices = [(str(u.id), u.name) for u in await units.all_units(db)]
    return staff_page(
        request, ctx, login, name, {"roles": _choices(), "units": choices, **context}, status
    )


def _link_page(
    request: Request, ctx: Ctx, login: Login, token: str, who: str, new: bool
) -> HTMLResponse:
    link = f"{ctx.settings.public_url.rstrip('/')}/passwort/{token}"
    hours = ctx.settings.password_link_hours
    context = {"link": link, "who": who, "new": new, "hours": hours}
    return staff_page(
        request, ctx, login, "admin/password_link.html", context, status=201 if new else 200
    )


@router.get("/admin/personal")
async def staff_list(request: Request, ctx: Ctx, db: Db, login: CurrentAdmin) -> HTMLResponse:
    people = await staff_admin.staff_members(db)
    return staff_page(
        request, ctx, login, "admin/staff_list.html", {"people": people, "labels": ROLE_LABELS}
    )


@router.get("/admin/personal/neu")
async def new_form(request: Request, ctx: Ctx, db: Db, login: CurrentAdmin) -> HTMLResponse:
    values = {"role": "advisor", "unit_id": str(login.user.unit_id)}
    return await _form_page(
        request, ctx, db, login, "admin/staff_new.html", {"values": values, "errors": {}}
    )


@router.post("/admin/personal/neu", response_model=None)
async def create(
    request: Request, ctx: Ctx, db: Db, login: CurrentAdmin, form: CheckedForm
) -> Response:
    values = forms.form_values(form)
    draft = _draft(values)
    try:
        issued = await staff_admin.create_staff(ctx, login.user.id, draft)
    except RuleViolation as refused:
        context = {"values": values, "errors": _errors(refused.errors)}
        return await _form_page(request, ctx, db, login, "admin/staff_new.html", context, 422)
    return _link_page(request, ctx, login, issued.token, draft.display_name, new=True)


async def _person(request: Request, db: Db, login: Login, user_id: int) -> StaffUser:
    person = await staff_admin.staff_member(db, user_id)
    if person is None:
        raise PageExit(
            message_page(
                404,
                N_("Konto nicht gefunden"),
                N_("Dieses Konto gibt es nicht."),
                login.user.unit.name,
                next_step=("/admin/personal", N_("Zur Liste der Konten")),
                staff=login.page_context,
                language=chosen_language(request),
            )
        )
    return person


def _values_of(person: StaffUser) -> dict[str, str]:
    return {
        "display_name": person.display_name,
        "email": person.email,
        "phone": person.phone,
        "role": person.role,
        "unit_id": str(person.unit_id),
    }


@router.get("/admin/personal/{user_id}")
async def edit_form(
    user_id: int, request: Request, ctx: Ctx, db: Db, login: CurrentAdmin
) -> HTMLResponse:
    person = await _person(request, db, login, user_id)
    context = {"person": person, "values": _values_of(person), "errors": {}}
    return await _form_page(request, ctx, db, login, "admin/staff_edit.html", context)


@router.post("/admin/personal/{user_id}", response_model=None)
async def save(
    user_id: int, request: Request, ctx: Ctx, db: Db, login: CurrentAdmin, form: CheckedForm
) -> Response:
    person = await _person(request, db, login, user_id)
    values = forms.form_values(form)
    try:
        changed = await staff_admin.change_staff(
            ctx, login.user.id, user_id, _draft(values, person.username)
        )
    except LookupError:
        return redirect(ctx, f"/admin/personal/{user_id}", "staff_inactive")
    except RuleViolation as refused:
        context = {"person": person, "values": values, "errors": _errors(refused.errors)}
        return await _form_page(request, ctx, db, login, "admin/staff_edit.html", context, 422)
    return redirect(ctx, f"/admin/personal/{user_id}", "staff_saved" if changed else "unchanged")


@router.post("/admin/personal/{user_id}/passwort", response_model=None)
async def reset(
    user_id: int, request: Request, ctx: Ctx, db: Db, login: CurrentAdmin, _: CheckedForm
) -> Response:
    person = await _person(request, db, login, user_id)
    try:
        issued = await staff_admin.reset_password(ctx, login.user.id, user_id)
    except LookupError:
        return redirect(ctx, f"/admin/personal/{user_id}", "staff_inactive")
    return _link_page(request, ctx, login, issued.token, person.display_name, new=False)


@router.post("/admin/personal/{user_id}/deaktivieren", response_model=None)
async def deactivate(
    user_id: int, request: Request, ctx: Ctx, db: Db, login: CurrentAdmin, form: CheckedForm
) -> Response:
    person = await _person(request, db, login, user_id)
    try:
        await staff_admin.deactivate(ctx, login.user.id, user_id)
    except LookupError:
        return redirect(ctx, f"/admin/personal/{user_id}", "staff_inactive")
    except RuleViolation as refused:
        context = {
            "person": person,
            "values": _values_of(person),
            "errors": _errors(refused.errors),
        }
        return await _form_page(request, ctx, db, login, "admin/staff_edit.html", context, 422)
    return redirect(ctx, "/admin/personal", "staff_deactivated")
