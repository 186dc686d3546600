"""Versioned consent texts: Markdown files ``<language>/<version>.md``, and versions
admins write in the administration.

The shipped texts live in ``videotermin/consent/``; an operator puts their own
into ``VIDEOTERMIN_CONSENT_DIR`` with the same layout, and those win. Versions
sort as strings (name them by date, ``2026-12-01.md``); the newest German file
is the current one — unless an admin has activated a version of their own
(``consent_versions``): then the one activated last is current (:func:`current`,
:func:`current_text`), on every instance within :data:`ACTIVE_TTL` seconds. A
newer text is what the undecided see; an agreement keeps the version it was
given to (:func:`videotermin.domain.consent.effective_consent`). A language
missing for a version falls back to German, so nobody is ever shown no text at all.

A text may say ``{retention_days}``; it is replaced by the configured retention
period before anything else, so the text shown, its hash and the purge always
agree. Only that one placeholder exists: other braces stay as written.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

from sqlalchemy import func, select, update

from videotermin.context import AppContext
from videotermin.domain.appointments import FieldError, RuleViolation
from videotermin.domain.audit import AuditAction
from videotermin.domain.consent import text_hash
from videotermin.services.audit import Actor, record
from videotermin.services.markdown_text import render_markdown
from videotermin.settings import Settings
from videotermin.store.models import ConsentVersion

SHIPPED = Path(__file__).parents[1] / "consent"
DEFAULT_LANGUAGE = "de"

# The text sits below the page's h1 and the consent section's h2.
TOP_HEADING_LEVEL = 3
# Languages and versions become file names: plain names only, never a path.
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
RETENTION_PLACEHOLDER = "{retention_days}"
ACTIVE_TTL = 2.0
"""Seconds an instance keeps the active version before reading it again."""
LANGUAGES = ("de", "en")
MAX_MARKDOWN = 50_000


@dataclass(frozen=True)
class ConsentText:
    version: str
    language: str
    markdown: str

    @cached_property
    def html(self) -> str:
        return render_markdown(self.markdown, TOP_HEADING_LEVEL)

    @cached_property
    def hash(self) -> str:
        return text_hash(self.markdown)


def _directories(settings: Settings) -> list[Path]:
    """Operator directory first: its files override shipped files of the same name."""
    dirs = [SHIPPED]
    if settings.consent_dir is not None:
        dirs.insert(0, settings.consent_dir)
    return dirs


def _find(settings: Settings, language: str, version: str) -> Path | None:
    if not (_PLAIN_NAME.match(language) and _PLAIN_NAME.match(version)):
        return None
    for directory in _directories(settings):
        candidate = directory / language / f"{version}.md"
        if candidate.is_file():
            return candidate
    return None


def versions(settings: Settings) -> list[str]:
    """Every version, oldest first. Asked at each socket's connect, so the folders are
    listed again only when one of them changed (an operator added a text)."""
    folders = tuple(directory / DEFAULT_LANGUAGE for directory in _directories(settings))
    return list(_versions_in(tuple((folder, _changed_at(folder)) for folder in folders)))


def _changed_at(folder: Path) -> int | None:
    try:
        return folder.stat().st_mtime_ns
    except OSError:
        return None


@functools.lru_cache(maxsize=16)
def _versions_in(folders: tuple[tuple[Path, int | None], ...]) -> tuple[str, ...]:
    return tuple(sorted({path.stem for folder, _ in folders for path in folder.glob("*.md")}))


def current_version(settings: Settings) -> str:
    available = versions(settings)
    if not available:
        raise RuntimeError("no consent text found; the shipped texts are missing")
    return available[-1]


def consent_text(settings: Settings, language: str, version: str | None = None) -> ConsentText:
    version = version or current_version(settings)
    path = _find(settings, language, version) or _find(settings, DEFAULT_LANGUAGE, version)
    if path is None:
        raise LookupError(f"consent text version {version!r} does not exist")
    used_language = language if path.parent.name == language else DEFAULT_LANGUAGE
    markdown = path.read_text("utf-8").replace(RETENTION_PLACEHOLDER, str(settings.retention_days))
    return ConsentText(version=version, language=used_language, markdown=markdown)


def _filled(settings: Settings, markdown: str) -> str:
    return markdown.replace(RETENTION_PLACEHOLDER, str(settings.retention_days))


def render_preview(settings: Settings, language: str, markdown: str) -> ConsentText:
    """A text as the consent page would show it, for the admin's preview."""
    return ConsentText(version="preview", language=language, markdown=_filled(settings, markdown))


async def _active(ctx: AppContext) -> tuple[str | None, dict[str, str]]:
    cache = ctx.consent
    if time.monotonic() - cache.read_at < ACTIVE_TTL:
        return cache.version, cache.texts
    async with ctx.read_sessions() as db:
        latest = await db.scalar(
            select(ConsentVersion.version)
            .where(ConsentVersion.activated_at.is_not(None))
            .order_by(ConsentVersion.activated_at.desc(), ConsentVersion.id.desc())
            .limit(1)
        )
        texts: dict[str, str] = {}
        if latest is not None:
            rows = await db.execute(
                select(ConsentVersion.language, ConsentVersion.markdown).where(
                    ConsentVersion.version == latest
                )
            )
            texts = {row.language: row.markdown for row in rows}
    cache.version, cache.texts, cache.read_at = latest, texts, time.monotonic()
    return latest, texts


async def current(ctx: AppContext) -> str:
    """The version new decisions are made on."""
    version, _texts = await _active(ctx)
    return version or current_version(ctx.settings)


async def current_text(ctx: AppContext, language: str) -> ConsentText:
    """The current text in ``language`` (German when it has none)."""
    version, texts = await _active(ctx)
    if version is None:
        return consent_text(ctx.settings, language)
    used = language if language in texts else DEFAULT_LANGUAGE
    return ConsentText(version, used, _filled(ctx.settings, texts[used]))


@dataclass(frozen=True)
class VersionRow:
    version: str
    languages: tuple[str, ...]
    source: str
    """``file`` (shipped or the operator's folder) or ``admin``."""
    activated_at: datetime | None
    current: bool


async def overview(ctx: AppContext) -> Sequence[VersionRow]:
    """Every version, newest first, with where it comes from and whether it is current."""
    now_current = await current(ctx)
    rows: list[VersionRow] = []
    async with ctx.sessions() as db:
        stored = await db.execute(
            select(
                ConsentVersion.version,
                func.min(ConsentVersion.created_at).label("created"),
                func.max(ConsentVersion.activated_at).label("activated"),
            ).group_by(ConsentVersion.version)
        )
        languages = await db.execute(select(ConsentVersion.version, ConsentVersion.language))
    by_version: dict[str, list[str]] = {}
    for pair in languages:
        by_version.setdefault(pair.version, []).append(pair.language)
    for row in sorted(stored, key=lambda r: r.created, reverse=True):
        rows.append(
            VersionRow(
                row.version,
                tuple(sorted(by_version[row.version])),
                "admin",
                row.activated,
                row.version == now_current,
            )
        )
    for version in reversed(versions(ctx.settings)):
        if version in by_version:
            continue
        found = tuple(lang for lang in LANGUAGES if _find(ctx.settings, lang, version))
        rows.append(VersionRow(version, found, "file", None, version == now_current))
    return rows


def _check(version: str, language: str, markdown: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if not _PLAIN_NAME.match(version):
        errors.append(FieldError("version", "invalid", "letters, digits, dot, hyphen"))
    if language not in LANGUAGES:
        errors.append(FieldError("language", "invalid", "de or en"))
    if not markdown.strip():
        errors.append(FieldError("markdown", "required", "a text is required"))
    elif len(markdown) > MAX_MARKDOWN or "\x00" in markdown:
        errors.append(FieldError("markdown", "invalid", f"at most {MAX_MARKDOWN} characters"))
    return errors


async def save_draft(
    ctx: AppContext, admin_id: int, version: str, language: str, markdown: str
) -> None:
    """Add (or, while its version is not yet active, replace) one language of a version.
    A version that is or was active keeps its texts: participants' records hash them."""
    errors = _check(version, language, markdown)
    if errors:
        raise RuleViolation(errors)
    markdown = markdown.replace("\r\n", "\n")
    now = ctx.clock()
    async with ctx.sessions() as db, db.begin():
        activated = await db.scalar(
            select(ConsentVersion.id).where(
                ConsentVersion.version == version, ConsentVersion.activated_at.is_not(None)
            )
        )
        if activated is not None or version in versions(ctx.settings):
            raise RuleViolation([FieldError("version", "active", "this version is published")])
        existing = await db.scalar(
            select(ConsentVersion).where(
                ConsentVersion.version == version, ConsentVersion.language == language
            )
        )
        if existing is None:
            db.add(
                ConsentVersion(
                    version=version,
                    language=language,
                    markdown=markdown,
                    created_at=now,
                    created_by=admin_id,
                )
            )
        else:
            existing.markdown, existing.created_at, existing.created_by = markdown, now, admin_id
        record(
            db,
            now,
            Actor(staff_id=admin_id),
            AuditAction.CONSENT_TEXT_ADDED,
            detail=f"{version}/{language}",
        )


async def activate(ctx: AppContext, admin_id: int, version: str) -> None:
    """Make ``version`` the current one (it needs a German text, the fallback of every
    language); on this instance at once, on the others within :data:`ACTIVE_TTL`."""
    now = ctx.clock()
    async with ctx.sessions() as db, db.begin():
        german = await db.scalar(
            select(ConsentVersion.id).where(
                ConsentVersion.version == version, ConsentVersion.language == DEFAULT_LANGUAGE
            )
        )
        if german is None:
            raise RuleViolation([FieldError("version", "no_german", "a German text is needed")])
        await db.execute(
            update(ConsentVersion).where(ConsentVersion.version == version).values(activated_at=now)
        )
        record(
            db, now, Actor(staff_id=admin_id), AuditAction.CONSENT_TEXT_ACTIVATED, detail=version
        )
    ctx.consent.read_at = float("-inf")


async def stored_text(ctx: AppContext, version: str, language: str) -> str | None:
    async with ctx.sessions() as db:
        return await db.scalar(
            select(ConsentVersion.markdown).where(
                ConsentVersion.version == version, ConsentVersion.language == language
            )
        )
