"""The gettext catalogs match the pages: every template text and code message has its English."""

from __future__ import annotations

import html
import re

from babel.messages.extract import extract_from_dir

from videotermin.web.templating import TEMPLATES, WEB, environment, load_translations, read_catalog

PACKAGE = WEB.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def template_msgids() -> set[str]:
    return {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(TEMPLATES),
            method_map=[("**.html", "jinja2")],
            options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
        )
    }


def code_msgids() -> set[str]:
    """The messages the code marks (``N_``, ``Text``) for pages to translate."""
    return {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(PACKAGE), method_map=[("**.py", "python")], keywords={"N_": None, "Text": (1,)}
        )
    }


def catalog(language: str) -> dict[str, str]:
    return {str(m.id): str(m.string) for m in read_catalog(language) if m.id}


def test_every_template_text_is_in_both_catalogs_and_translated_to_english() -> None:
    used = template_msgids() | code_msgids()
    german, english = catalog("de"), catalog("en")

    assert used, "templates carry msgids"
    assert used == set(german), "de.po lists exactly the msgids the templates use"
    assert used == set(english), "en.po lists exactly the msgids the templates use"
    assert not [msgid for msgid, text in english.items() if not text]


def test_placeholders_survive_translation() -> None:
    for msgid, text in catalog("en").items():
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(text)), msgid


def test_catalogs_load_without_a_compile_step() -> None:
    assert load_translations("en").gettext("Ihr Videotermin") == "Your video appointment"
    assert load_translations("de").gettext("Ihr Videotermin") == "Ihr Videotermin"
    assert environment("en").from_string("{{ _('Datum') }}").render() == "Date"


# Words a template may write as they are: the product's name and each language's own
# name in the language switch (always written in that language).
NOT_TRANSLATED = {"Videotermin", "Deutsch", "English"}
# Attributes a person reads or hears (``data-text-*`` hold what a script shows later);
# their text must be translated like the page's.
READ_ATTRIBUTES = {"aria-label", "title", "alt", "placeholder", "aria-description"}
SCRIPT_TEXT = "data-text-"
WORD = re.compile(r"[A-Za-zÄÖÜäöüß]{2,}")
# Translated blocks, the viewport's settings, then every other Jinja construct.
TRANSLATED = re.compile(
    r"\{%-? trans\b.*?%\}.*?\{%-? endtrans -?%\}|\{% block viewport %\}.*?\{% endblock %\}",
    re.DOTALL,
)
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
ATTRIBUTE = re.compile(r"([\w-]+)=\"([^\"]*)\"")
TAG = re.compile(r"<[^>]*>")


def untranslated_words(source: str) -> list[str]:
    """The words of a template that no gettext call wraps: page text and read attributes."""
    text = JINJA.sub(" ", TRANSLATED.sub(" ", source))
    read = [
        value
        for name, value in ATTRIBUTE.findall(text)
        if name in READ_ATTRIBUTES or name.startswith(SCRIPT_TEXT)
    ]
    # What is left outside attributes and tags is what the page writes as it is.
    written = TAG.sub(" ", ATTRIBUTE.sub(" ", text))
    return [
        word
        for piece in [*read, written]
        for word in WORD.findall(html.unescape(piece))
        if word not in NOT_TRANSLATED
    ]


def test_every_template_text_goes_through_gettext() -> None:
    leftovers = {
        str(path.relative_to(TEMPLATES)): words
        for path in sorted(TEMPLATES.rglob("*.html"))
        if (words := untranslated_words(path.read_text("utf-8")))
    }
    assert leftovers == {}


def test_the_lint_sees_bare_text_and_read_attributes() -> None:
    assert untranslated_words('<p>Termin {{ _("Datum") }}</p>') == ["Termin"]
    assert untranslated_words('<a title="Hilfe" href="/x">{{ _("Mehr") }}</a>') == ["Hilfe"]
    assert untranslated_words("<p>{{ _('Alles gut') }} · Videotermin</p>") == []
    assert untranslated_words('<div data-text-closed="Beendet" data-id="x1">') == ["Beendet"]
