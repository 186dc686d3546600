"""What one-line text may hold (domain.text_input)."""

from __future__ import annotations

import json
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from videotermin.domain.text_input import has_lone_surrogate, is_one_line


def test_every_script_and_emoji_is_welcome() -> None:
    for text in ("Clara Kundin", "Çağla Öztürk", "محمد الأحمد", "Ли Вэй", "李伟", "Beratung 😀"):
        assert is_one_line(text), text


def test_what_would_change_how_the_text_around_reads_is_not() -> None:
    for text in ("a\nb", "a\r", "a\x00", "a\x1b[31m", "a\x7f", "a\x85", "a\u2028", "a\u2029"):
        assert not is_one_line(text), repr(text)
    for override in ("\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2069"):
        assert not is_one_line(f"Rechnung {override}gpj.exe"), repr(override)
    assert not is_one_line("a\ud800")


@given(st.text())
def test_one_line_means_no_control_separator_override_or_surrogate(text: str) -> None:
    forbidden = {"Cc", "Zl", "Zp", "Cs"}
    overrides = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    expected = not any(unicodedata.category(c) in forbidden or c in overrides for c in text)
    assert is_one_line(text) == expected


def test_a_lone_surrogate_is_found_and_a_whole_pair_is_not_one() -> None:
    assert has_lone_surrogate(json_decoded('"\\ud800"'))
    assert has_lone_surrogate(json_decoded('"ok \\udfff"'))
    assert not has_lone_surrogate(json_decoded('"\\ud83d\\ude00"'))
    assert not has_lone_surrogate("plain ascii")


def json_decoded(literal: str) -> str:
    value = json.loads(literal)
    assert isinstance(value, str)
    return value
