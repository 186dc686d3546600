"""Versioned consent texts: Markdown files ``<language>/<version>.md``.

The shipped texts live in ``videotermin/consent/``; an operator puts their own
into ``VIDEOTERMIN_CONSENT_DIR`` with the same layout, and those win. Versions
sort as strings (name them by date, ``2026-12-01.md``); the newest German
version is the current one, and publishing a newer file asks everybody again
(:func:`videotermin.domain.consent.effective_consent`). A language missing for
a version falls back to German, so nobody is ever shown no text at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from markdown_it import MarkdownIt

from videotermin.domain.consent import text_hash
from videotermin.settings import Settings

SHIPPED = Path(__file__).parent / "consent"
DEFAULT_LANGUAGE = "de"

# Markdown with raw HTML switched off: an operator's text cannot inject markup or scripts.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})


@dataclass(frozen=True)
class ConsentText:
    version: str
    language: str
    markdown: str

    @cached_property
    def html(self) -> str:
        return _markdown.render(self.markdown)

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
    for directory in _directories(settings):
        candidate = directory / language / f"{version}.md"
        if candidate.is_file():
            return candidate
    return None


def versions(settings: Settings) -> list[str]:
    found = {
        path.stem
        for directory in _directories(settings)
        for path in (directory / DEFAULT_LANGUAGE).glob("*.md")
    }
    return sorted(found)


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
    return ConsentText(version=version, language=used_language, markdown=path.read_text("utf-8"))
