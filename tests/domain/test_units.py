"""A unit's details at the edges: slugs, limits, control characters and time zones."""

from __future__ import annotations

from dataclasses import replace

from videotermin.domain.units import UnitDraft, check_unit, known_zone

GOOD = UnitDraft(
    slug="nord",
    name="Dienststelle Nord",
    address="Nordstraße 1, 12345 Musterstadt",
    phone="+49 30 1",
    email="nord@agentur.example",
    hotline="0800 1",
    hotline_hours="Mo–Fr 8–18 Uhr",
    hotline_hours_en="Mon–Fri 8 am–6 pm",
    timezone="Europe/Berlin",
)


def fields(draft: UnitDraft, *, new: bool = True) -> set[str]:
    return {e.field for e in check_unit(draft, new=new)}


def test_a_complete_unit_passes() -> None:
    assert fields(GOOD) == set()
    blank = dict.fromkeys(("phone", "email", "hotline", "hotline_hours", "hotline_hours_en"), "")
    assert fields(replace(GOOD, **blank)) == set()


def test_each_field_at_its_edge() -> None:
    assert fields(replace(GOOD, slug="Nord Ost")) == {"slug"}
    assert fields(replace(GOOD, slug="Nord Ost"), new=False) == set()
    assert fields(replace(GOOD, name="")) == {"name"}
    assert fields(replace(GOOD, name="N" * 201)) == {"name"}
    assert fields(replace(GOOD, address="Zeile\nZeile")) == {"address"}
    assert fields(replace(GOOD, hotline="0800\u202e1")) == {"hotline"}
    assert fields(replace(GOOD, email="nord@")) == {"email"}


def test_text_pasted_from_a_letter_is_taken() -> None:
    """No-break spaces, a narrow one before "Uhr", a soft hyphen and Arabic letters are
    what people paste from letters and web pages: one line, nothing hidden."""
    pasted = replace(
        GOOD,
        name="Dienst\u00adstelle Nord",
        address="Nordstraße\u00a01, 12345\u00a0Musterstadt",
        hotline_hours="Mo–Fr 8–18\u202fUhr",
        hotline_hours_en="مكتب الشمال",
    )
    assert fields(pasted) == set()


def test_only_real_zones_and_never_paths() -> None:
    assert (
        known_zone("Europe/Berlin")
        and known_zone("UTC")
        and known_zone("America/Argentina/Buenos_Aires")
    )
    for bad in (
        "",
        "Mars/Olympus",
        "../../etc/passwd",
        "/etc/localtime",
        "Europe/Berlin\x00",
        "x" * 100,
    ):
        assert not known_zone(bad), bad
