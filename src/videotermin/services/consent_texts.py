"""Versioned consent texts: Markdown files ``<language>/<version>.md``.

The shipped texts live in ``videotermin/consent/``; an operator puts their own
into ``VIDEOTERMIN_CONSENT_DIR`` with the same layout, and those win. Versions
sort as strings (name them by date, ``2026-12-01.md``); the newest German
version is the current one, and publishing a newer file asks everybody again
(:func:`videotermin.domain.consent.effective_consent`). A language missing for
a version falls back to German, so nobody is ever shown no text at all.

A text may say ``{retention_days}``; it is replaced by the configured retention
period before anything else, so the text shown, its hash and the purge always
agree. Only that one placeholder exists: other braces stay as written.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from videotermin.domain.consent import text_hash
from videotermin.settings import Settings

SHIPPED = Path(__file__).parents[1] / "consent"
DEFAULT_LANGUAGE = "de"

# Markdown with raw HTML switched off: an operator's text cannot inject markup or scripts.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})
# The text sits below the page's h1 and the consent section's h2.
TOP_HEADING_LEVEL = 3
# Languages and versions become file names: plain names only, never a path.
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
RETENTION_PLACEHOLDER = "{retention_days}"


def _nest_headings(tokens: list[Token]) -> None:
    """Shift headings so the text's biggest one becomes an h3, keeping one h1 per page
    whichever levels an operator chose."""
    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    if not levels:
        return
    shift = TOP_HEADING_LEVEL - min(levels)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + shift)}"


@dataclass(frozen=True)
class ConsentText:
    version: str
    language: str
    markdown: str

    @cached_property
    def html(self) -> str:
        tokens = _markdown.parse(self.markdown)
        _nest_headings(tokens)
        html: str = _markdown.renderer.render(tokens, _markdown.options, {})
        return html

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
