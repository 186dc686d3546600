"""Page texts admins edit: the privacy notice (``/datenschutz``), per language.

A text is Markdown with raw HTML switched off (an admin's text cannot inject markup
or scripts); ``{retention_days}`` becomes the configured retention period, so the
notice always states the period the purge applies. Without an admin's text the
shipped one (``videotermin/texts/privacy.<language>.md``) is shown; English falls
back to German.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from videotermin.context import AppContext
from videotermin.domain.appointments import FieldError, RuleViolation
from videotermin.domain.audit import AuditAction
from videotermin.services.audit import Actor, record
from videotermin.services.markdown_text import render_markdown
from videotermin.settings import Settings
from videotermin.store.models import SiteText

PRIVACY = "privacy"
LANGUAGES = ("de", "en")
SHIPPED = Path(__file__).parents[1] / "texts"
MAX_MARKDOWN = 50_000
RETENTION_PLACEHOLDER = "{retention_days}"


def render(settings: Settings, markdown: str) -> str:
    """As the page shows it: under the page's own h1, the text's biggest heading an h2."""
    filled = markdown.replace(RETENTION_PLACEHOLDER, str(settings.retention_days))
    return render_markdown(filled, top=2)


def _shipped(language: str) -> str:
    return (SHIPPED / f"{PRIVACY}.{language}.md").read_text("utf-8")


async def privacy_markdown(ctx: AppContext, language: str) -> str:
    """The notice's Markdown in ``language`` as it is shown now (an admin's, or shipped)."""
    async with ctx.sessions() as db:
        stored = await db.scalar(
            select(SiteText.markdown).where(SiteText.key == PRIVACY, SiteText.language == language)
        )
    if stored is not None:
        return stored
    return _shipped(language if language in LANGUAGES else "de")


async def privacy_html(ctx: AppContext, language: str) -> str:
    return render(ctx.settings, await privacy_markdown(ctx, language))


async def save_privacy(ctx: AppContext, admin_id: int, language: str, markdown: str) -> None:
    errors: list[FieldError] = []
    if language not in LANGUAGES:
        errors.append(FieldError("language", "invalid", "de or en"))
    if not markdown.strip():
        errors.append(FieldError("markdown", "required", "a text is required"))
    elif len(markdown) > MAX_MARKDOWN or "\x00" in markdown:
        errors.append(FieldError("markdown", "invalid", f"at most {MAX_MARKDOWN} characters"))
    if errors:
        raise RuleViolation(errors)
    now = ctx.clock()
    async with ctx.sessions() as db, db.begin():
        row = await db.get(SiteText, (PRIVACY, language))
        markdown = markdown.replace("\r\n", "\n")
        if row is None:
            db.add(
                SiteText(
                    key=PRIVACY,
                    language=language,
                    markdown=markdown,
                    updated_at=now,
                    updated_by=admin_id,
                )
            )
        else:
            row.markdown, row.updated_at, row.updated_by = markdown, now, admin_id
        record(db, now, Actor(staff_id=admin_id), AuditAction.PRIVACY_TEXT_CHANGED, detail=language)
