"""What text can be stored or looked up at all (domain.text_input.storable): the rule
applied where addresses, API bodies and socket frames arrive, and to typed user names."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from videotermin.domain.text_input import storable


def test_any_script_line_breaks_and_controls_but_nul_can_be_stored() -> None:
    for text in ("Clara Kundin", "محمد الأحمد", "李伟 😀", "Zeile 1\r\nZeile 2", "a\x1b[31m", ""):
        assert storable(text), repr(text)


def test_nul_and_half_a_surrogate_pair_cannot() -> None:
    for text in ("\x00", "Clara\x00", "a\ud800", "\udfffb", "ok\ud83d"):
        assert not storable(text), repr(text)


@given(st.text(alphabet=st.characters(codec="utf-8")))
def test_storable_is_what_encodes_as_utf8_without_nul(text: str) -> None:
    assert storable(text) == ("\x00" not in text)
    assert storable(text + "\ud800") is False
