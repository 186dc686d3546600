"""The hotline's hours in the reader's language when the admin wrote them, otherwise the
other language's, marked as such; the English text obeys the German one's rules."""

from __future__ import annotations

from dataclasses import replace

from videotermin.domain.units import HotlineHours, UnitDraft, check_unit, hotline_hours

GERMAN = "Montag bis Freitag, 8 bis 18 Uhr"
ENGLISH = "Monday to Friday, 8 am to 6 pm"
DRAFT = UnitDraft(
    slug="nord",
    name="Dienststelle Nord",
    address="Nordstraße 1, 12345 Musterstadt",
    phone="",
    email="",
    hotline="0800 1",
    hotline_hours=GERMAN,
    hotline_hours_en=ENGLISH,
    timezone="Europe/Berlin",
)


def test_english_readers_get_the_english_hours_german_readers_the_german_ones() -> None:
    assert hotline_hours("en", german=GERMAN, english=ENGLISH) == HotlineHours(
        ENGLISH, "en", fallback=False
    )
    assert hotline_hours("de", german=GERMAN, english=ENGLISH) == HotlineHours(
        GERMAN, "de", fallback=False
    )


def test_without_english_hours_english_readers_get_the_german_ones_marked_german() -> None:
    assert hotline_hours("en", german=GERMAN, english="") == HotlineHours(
        GERMAN, "de", fallback=True
    )
    assert hotline_hours("de", german=GERMAN, english="") == HotlineHours(
        GERMAN, "de", fallback=False
    )


def test_with_only_english_hours_german_readers_get_them_marked_english() -> None:
    assert hotline_hours("de", german="", english=ENGLISH) == HotlineHours(
        ENGLISH, "en", fallback=True
    )


def test_no_hours_at_all_is_an_empty_text() -> None:
    assert hotline_hours("en", german="", english="").text == ""
    assert hotline_hours("de", german="", english="").text == ""


def test_the_english_hours_follow_the_german_ones_rules() -> None:
    def refused(english: str) -> set[str]:
        return {e.field for e in check_unit(replace(DRAFT, hotline_hours_en=english), new=True)}

    assert refused(ENGLISH) == set()
    assert refused("") == set()
    assert refused("x" * 200) == set()
    assert refused("x" * 201) == {"hotline_hours_en"}
    for bad in ("Monday\r\nFriday", "8 am\x00", "\x1b[31m8 am", "8\u2028am", "8 \u202eam"):
        assert refused(bad) == {"hotline_hours_en"}, repr(bad)
    assert refused("الإثنين إلى الجمعة") == set()
