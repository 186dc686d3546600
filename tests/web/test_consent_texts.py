"""The shipped consent texts and how any text becomes a page section (consent_texts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from videotermin.services.consent_texts import SHIPPED, consent_text, current_version, versions
from videotermin.settings import Settings

# What the declaration must cover, in both languages (PRODUCT.md, the citizen's journey, 3).
COVERS = {
    "de": [
        "freiwillig",
        "vertraulich",
        "prüfen wir technisch",
        "Kundennummer",
        "Vornamen und Nachnamen",
        "IP-Adresse",
        "Betriebssystem",
        "Art des Geräts",
        "Browser",
        "Upload- und Download-Rate",
        "wie gut die Übertragung ist",
        "nach 14 Tagen",
        "vorher einverstanden",
        "statistisch",
        "drei kurze Fragen",
        "an jeder Stelle beenden",
        "weder in Bild noch in Ton auf",
        "greifen wir nicht zu",
        "jederzeit widerrufen",
        "keine Nachteile",
        "nicht per Video stattfinden",
        "unbemerkt mitverfolgen",
        "nicht aufnehmen oder mitschneiden",
    ],
    "en": [
        "voluntary",
        "confidential",
        "technical check",
        "customer number",
        "first name and last name",
        "IP address",
        "operating system",
        "kind of device",
        "browser",
        "upload and download rate",
        "how good the transmission is",
        "after 14 days",
        "agreed to beforehand",
        "statistically",
        "three short questions",
        "stop at any point",
        "do not record the conversation",
        "do not access the data",
        "withdraw your consent at any time",
        "no disadvantages",
        "cannot take place by video",
        "follow the conversation unnoticed",
        "must not record or capture",
    ],
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, consent_dir=tmp_path / "consent")


def operator_text(settings: Settings, text: str, version: str = "2099-01-01") -> None:
    assert settings.consent_dir is not None
    (settings.consent_dir / "de").mkdir(parents=True, exist_ok=True)
    (settings.consent_dir / "de" / f"{version}.md").write_text(text, "utf-8")


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_shipped_text_covers_every_point_of_the_declaration(
    settings: Settings, language: str
) -> None:
    text = consent_text(settings, language)

    assert text.language == language and text.version == current_version(settings)
    flowing = " ".join(text.markdown.split())
    missing = [point for point in COVERS[language] if point not in flowing]
    assert missing == []


def test_every_shipped_version_has_an_english_translation() -> None:
    german = sorted(p.name for p in (SHIPPED / "de").glob("*.md"))
    english = sorted(p.name for p in (SHIPPED / "en").glob("*.md"))

    assert german and german == english


def test_the_retention_period_comes_from_the_settings(settings: Settings) -> None:
    longer = settings.model_copy(update={"retention_days": 30})

    default, changed = consent_text(settings, "de"), consent_text(longer, "de")

    assert "nach 30 Tagen" in changed.markdown and "{retention_days}" not in changed.html
    assert changed.hash != default.hash, "the hash pins the text as it was shown"


def test_headings_sit_below_the_page_headings_whatever_levels_the_operator_used(
    settings: Settings,
) -> None:
    operator_text(settings, "# Erstens\n\nText\n\n## Zweitens\n\nText\n")

    html = consent_text(settings, "de").html

    assert "<h3>Erstens</h3>" in html and "<h4>Zweitens</h4>" in html
    assert "<h1>" not in html and "<h2>" not in html


def test_an_operator_text_cannot_carry_markup_or_scripts(settings: Settings) -> None:
    operator_text(settings, '<script>alert(1)</script>\n\n<img src=x onerror="alert(1)">\n')

    html = consent_text(settings, "de").html

    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


def test_languages_and_versions_are_names_never_paths(settings: Settings) -> None:
    assert consent_text(settings, "../de").language == "de", "falls back to German"
    with pytest.raises(LookupError):
        consent_text(settings, "de", version="../../etc/passwd")


def test_a_newer_operator_version_becomes_current(settings: Settings) -> None:
    operator_text(settings, "## Neu\n")

    assert versions(settings)[-1] == current_version(settings) == "2099-01-01"
