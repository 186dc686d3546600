"""Support codes (domain.support_code)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from videotermin.domain.support_code import (
    ALPHABET,
    format_support_code,
    new_support_code,
    parse_support_code,
)


def test_codes_avoid_look_alikes() -> None:
    for ambiguous in "0O1IL2Z5S8B":
        assert ambiguous not in ALPHABET
    code = new_support_code()
    assert len(code) == 6 and set(code) <= set(ALPHABET)


def test_typed_codes_are_forgiving() -> None:
    code = new_support_code()
    shown = format_support_code(code)
    assert shown[3] == "-"
    assert parse_support_code(shown.lower()) == code
    assert parse_support_code(" ".join(code)) == code
    assert parse_support_code("OOOOOO") is None
    assert parse_support_code("ACD") is None


@given(st.text(max_size=20))
def test_parse_never_accepts_garbage(typed: str) -> None:
    parsed = parse_support_code(typed)
    assert parsed is None or (len(parsed) == 6 and set(parsed) <= set(ALPHABET))
