"""API tokens in the administration: ``/admin/api-tokens`` lists them with their last
use, creates one (shown once, on the answer to the form) and revokes one (refused from
the next request on). Both are audit entries (:mod:`videotermin.services.api_tokens`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from videotermin.domain.text import N_, Text
from videotermin.domain.tokens import MAX_TOKEN_NAME, token_name_problem
from videotermin.services import api_tokens
from videotermin.web.deps import CheckedForm, Ctx, CurrentAdmin, Db
from videotermin.web.staff import forms
from videotermin.web.staff.view import redirect, staff_page
from videotermin.web.templating import PageRoute

router = APIRouter(route_class=PageRoute)

MESSAGES = {
    "required": N_(
        "Bitte geben Sie an, wofür der Token ist, zum Beispiel den Namen des Fachverfahrens."
    ),
    "invalid": Text(
        "Der Name darf höchstens %(count)s Zeichen lang sein und keine Steuerzeichen enthalten.",
        count=MAX_TOKEN_NAME,
    ),
    "taken": N_("Einen Token mit diesem Namen gibt es schon."),
}


async def _page(
    request: Request,
    ctx: Ctx,
    db: Db,
    login: CurrentAdmin,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    new_token: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = {
        "tokens": await api_tokens.all_tokens(db),
        "values": values or {},
        "errors": errors or {},
        "new_token": new_token,
        "new_name": (values or {}).get("name", ""),
    }
    return staff_page(request, ctx, login, "admin/tokens.html", context, status)


@router.get("/admin/api-tokens")
async def token_list(request: Request, ctx: Ctx, db: Db, login: CurrentAdmin) -> HTMLResponse:
    return await _page(request, ctx, db, login)


@router.post("/admin/api-tokens", response_model=None)
async def create(
    request: Request, ctx: Ctx, db: Db, login: CurrentAdmin, form: CheckedForm
) -> Response:
    values = forms.form_values(form)
    name = values.get("name", "")
    problem = token_name_problem(name)
    token = None if problem else await api_tokens.issue_token(ctx, login.user.id, name)
    if token is None:
        errors = {"name": MESSAGES[problem or "taken"]}
        return await _page(request, ctx, db, login, values=values, errors=errors, status=422)
    return await _page(request, ctx, db, login, values=values, new_token=token, status=201)


@router.post("/admin/api-tokens/{token_id}/widerrufen", response_model=None)
async def revoke(token_id: int, ctx: Ctx, login: CurrentAdmin, _: CheckedForm) -> Response:
    revoked = await api_tokens.revoke_token(ctx, login.user.id, token_id)
    return redirect(ctx, "/admin/api-tokens", "token_revoked" if revoked else "token_unknown")
