"""The gettext catalogs match the templates: no citizen text is left untranslated."""

from __future__ import annotations

import re

from babel.messages.extract import extract_from_dir

from videotermin.web.templating import TEMPLATES, environment, load_translations, read_catalog

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


def catalog(language: str) -> dict[str, str]:
    return {str(m.id): str(m.string) for m in read_catalog(language) if m.id}


def test_every_template_text_is_in_both_catalogs_and_translated_to_english() -> None:
    used = template_msgids()
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
