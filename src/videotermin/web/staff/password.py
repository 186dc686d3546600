"""``/passwort/<token>``: a staff member sets their own password through the one-time
link an admin handed them (:mod:`videotermin.services.password_links`).

The token in the path is the capability, like a citizen's link: the page is
``no-store``, the form carries a double-submit CSRF token like the login form, and an
unknown, used or expired link gets one and the same answer.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from videotermin.domain.passwords import MAX_PASSWORD, MIN_LENGTH, password_problem
from videotermin.domain.text import N_, Text
from videotermin.services.password_links import PasswordSet, link_owner, set_password
from videotermin.services.units import default_unit_name
from videotermin.web.cookies import login_csrf_token, remember_login_csrf
from videotermin.web.deps import Ctx, Db, LoginForm
from videotermin.web.language import chosen_language
from videotermin.web.staff.view import redirect, staff_render
from videotermin.web.templating import NO_STORE, PageRoute, message_page

router = APIRouter(route_class=PageRoute)


def _invalid_link(request: Request, unit_name: str) -> HTMLResponse:
    return message_page(
        404,
        N_("Dieser Link gilt nicht (mehr)"),
        N_(
            "Der Link zum Setzen des Passworts ist abgelaufen, wurde schon benutzt oder ist "
            "unvollständig. Bitte bitten Sie Ihre Administration um einen neuen Link."
        ),
        unit_name,
        next_step=("/login", N_("Zur Anmeldung")),
        language=chosen_language(request),
    )


async def _form(
    request: Request, ctx: Ctx, db: Db, token: str, who: str, errors: dict[str, str], status: int
) -> HTMLResponse:
    csrf = login_csrf_token(request)
    context = {
        "unit_name": await default_unit_name(db),
        "csrf_token": csrf,
        "token": token,
        "who": who,
        "errors": errors,
        "values": {},
        "min_length": MIN_LENGTH,
    }
    response = staff_render(
        request, ctx, "staff/password_set.html", context, status=status, headers=NO_STORE
    )
    remember_login_csrf(response, ctx.settings, csrf)
    return response


@router.get("/passwort/{token}")
async def password_form(token: str, request: Request, ctx: Ctx, db: Db) -> HTMLResponse:
    owner = await link_owner(db, ctx, token)
    if owner is None:
        return _invalid_link(request, await default_unit_name(db))
    return await _form(request, ctx, db, token, owner.display_name, {}, 200)


@router.post("/passwort/{token}", response_model=None)
async def password_submit(
    token: str, request: Request, ctx: Ctx, db: Db, form: LoginForm
) -> Response:
    owner = await link_owner(db, ctx, token)
    if owner is None:
        return _invalid_link(request, await default_unit_name(db))
    password = form.get("password")
    repeated = form.get("password_repeated")
    password = password if isinstance(password, str) else ""
    errors: dict[str, str] = {}
    if len(password) > MAX_PASSWORD or password_problem(password):
        errors["password"] = Text(
            "Bitte wählen Sie ein Passwort mit mindestens %(min)s und höchstens %(max)s Zeichen.",
            min=MIN_LENGTH,
            max=MAX_PASSWORD,
        )
    elif repeated != password:
        errors["password_repeated"] = N_("Die beiden Eingaben stimmen nicht überein.")
    if errors:
        return await _form(request, ctx, db, token, owner.display_name, errors, 422)
    if await set_password(ctx, token, password) is PasswordSet.LINK_INVALID:
        return _invalid_link(request, await default_unit_name(db))
    return redirect(ctx, "/login", "password_set")
