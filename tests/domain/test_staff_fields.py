"""A staff account's and an API token's typed fields: one line, any script, pasted text.

The admin copies a name or a phone number from a letter or a signature: no-break
spaces and soft hyphens come with it and must be taken, while anything that adds a
line or turns the text around (it ends up in mails, calendar files and logs) is not."""

from __future__ import annotations

from dataclasses import replace

from videotermin.domain.staff import MAX_DISPLAY_NAME, MAX_PHONE, StaffDraft, check_staff
from videotermin.domain.tokens import MAX_TOKEN_NAME, token_name_problem

GOOD = StaffDraft(
    username="bea.berater",
    display_name="Bea Berater",
    email="bea@agentur.example",
    phone="+49 30 1234-567",
    role="advisor",
    unit_id=1,
)


def refused(draft: StaffDraft) -> set[str]:
    return {error.field for error in check_staff(draft, new=True)}


def test_pasted_names_and_numbers_are_taken() -> None:
    assert refused(GOOD) == set()
    assert refused(replace(GOOD, display_name="Dr.\u00a0Bea Berater-\u00adSchmidt")) == set()
    assert refused(replace(GOOD, phone="+49\u00a030\u202f1234-567")) == set()
    assert refused(replace(GOOD, display_name="بيا بيراتر")) == set()


def test_lines_controls_and_turned_text_are_refused() -> None:
    for bad in ("Bea\nBcc: x@example.org", "Bea\x00", "Bea\u2028Berater", "\u202eretareB"):
        assert refused(replace(GOOD, display_name=bad)) == {"display_name"}, repr(bad)
        assert refused(replace(GOOD, phone=bad)) == {"phone"}, repr(bad)


def test_each_field_at_its_length() -> None:
    assert refused(replace(GOOD, display_name="B" * MAX_DISPLAY_NAME)) == set()
    assert refused(replace(GOOD, display_name="B" * (MAX_DISPLAY_NAME + 1))) == {"display_name"}
    assert refused(replace(GOOD, phone="1" * MAX_PHONE)) == set()
    assert refused(replace(GOOD, phone="1" * (MAX_PHONE + 1))) == {"phone"}


def test_a_token_name_is_one_line_of_any_script() -> None:
    assert token_name_problem("Terminbuchung\u00a0Nord") is None
    assert token_name_problem("T" * MAX_TOKEN_NAME) is None
    assert token_name_problem("") == "required"
    assert token_name_problem("T" * (MAX_TOKEN_NAME + 1)) == "invalid"
    for bad in ("Nord\r\nSüd", "Nord\x1b[31m", "\u202eNord"):
        assert token_name_problem(bad) == "invalid", repr(bad)
