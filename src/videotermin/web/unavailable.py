"""The answer while the database cannot be reached (stopped, restarting, the connection
lost): 503 with ``Retry-After`` — a calm page, or the API's JSON — never a 500 with a
trace. A request whose transaction could not commit wrote nothing, so trying again later
is safe. Any other error stays what it was.

Registered in ``app.py`` and ``api/v1.py`` for :data:`CLASSES`; the handler
asks :func:`videotermin.store.db.unreachable` whether the error really is the database's
absence and lets every other one through.
"""

from __future__ import annotations

import logging

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from videotermin.domain.text import N_
from videotermin.store.db import UNREACHABLE_CLASSES, unreachable
from videotermin.web.language import chosen_language
from videotermin.web.templating import message_page

log = logging.getLogger("videotermin.web")

CLASSES = UNREACHABLE_CLASSES
"""What an unreachable database raises (:func:`unreachable` decides each one)."""
RETRY_AFTER_SECONDS = 30
_HEADERS = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}


def _checked(error: Exception) -> None:
    """Re-raise ``error`` unless the database is unreachable; log the outage in one line
    (the access log names the request)."""
    if not unreachable(error):
        raise error
    log.warning("database_unreachable error=%s", type(error).__name__)


async def page(request: Request, error: Exception) -> Response:
    _checked(error)
    response = message_page(
        503,
        N_("Gerade nicht erreichbar"),
        N_(
            "Wir können Ihre Anfrage gerade nicht bearbeiten. Bitte versuchen Sie es in einer "
            "Minute noch einmal. Was Sie zuvor gespeichert haben, bleibt erhalten; eine gerade "
            "abgeschickte Eingabe senden Sie bitte noch einmal."
        ),
        language=chosen_language(request),
    )
    response.headers.update(_HEADERS)
    return response


async def api_answer(request: Request, error: Exception) -> Response:
    _checked(error)
    return JSONResponse({"detail": "unavailable"}, status_code=503, headers=_HEADERS)
