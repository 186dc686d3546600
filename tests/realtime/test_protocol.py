"""The protocol's parser refuses everything but valid messages, in words, without raising;
docs/signaling-schemas.md shows exactly the schemas the code enforces, and docs/signaling.md
lists every close and error code and links every message's schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from videotermin.domain.journey import Journey
from videotermin.realtime.protocol import (
    CITIZEN_MESSAGES,
    FINAL_CLOSE_CODES,
    JOURNEY_CLOSE,
    MAX_MESSAGE_BYTES,
    STAFF_MESSAGES,
    CitizenHello,
    CloseCode,
    ErrorCode,
    Ping,
    ProtocolError,
    StaffHello,
    parse,
)
from videotermin.realtime.schemas import schemas

DOCS = Path(__file__).parents[2] / "docs"
SIGNALING = DOCS / "signaling.md"
SCHEMAS = DOCS / "signaling-schemas.md"


def test_valid_messages_parse_into_their_models() -> None:
    assert parse('{"type": "hello", "version": 1}', CITIZEN_MESSAGES) == CitizenHello(
        type="hello", version=1
    )
    assert parse('{"type": "ping", "id": 5}', CITIZEN_MESSAGES) == Ping(type="ping", id=5)
    hello = parse(
        '{"type": "hello", "version": 1, "role": "staff", "watch": ["a"], "view": "appointment"}',
        STAFF_MESSAGES,
    )
    assert isinstance(hello, StaffHello)
    assert hello.watch == ["a"] and hello.view == "appointment"


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (b"{}", ErrorCode.BINARY_FRAME),
        ("x" * (MAX_MESSAGE_BYTES + 1), ErrorCode.TOO_LARGE),
        ('{"type": "ping", "pad": "' + "ä" * 2100 + '"}', ErrorCode.TOO_LARGE),
        ("{", ErrorCode.INVALID_JSON),
        ('{"type": "ping", "id": NaN}', ErrorCode.INVALID_JSON),
        ("[" * 3000 + "]" * 3000, ErrorCode.TOO_LARGE),
        ("[" * 2000, ErrorCode.INVALID_JSON),
        ('"hello"', ErrorCode.NOT_AN_OBJECT),
        ("null", ErrorCode.NOT_AN_OBJECT),
        ('{"type": 3}', ErrorCode.INVALID_MESSAGE),
        ('{"type": "offer"}', ErrorCode.UNKNOWN_TYPE),
        ('{"type": "hello"}', ErrorCode.INVALID_MESSAGE),
        ('{"type": "hello", "version": "1"}', ErrorCode.INVALID_MESSAGE),
        ('{"type": "hello", "version": true}', ErrorCode.INVALID_MESSAGE),
        ('{"type": "hello", "version": 0}', ErrorCode.INVALID_MESSAGE),
        ('{"type": "hello", "version": 1, "role": "staff"}', ErrorCode.INVALID_MESSAGE),
        ('{"type": "hello", "version": 1, "watch": []}', ErrorCode.INVALID_MESSAGE),
        ('{"type": "ping", "id": 1.5}', ErrorCode.INVALID_MESSAGE),
        ('{"type": "ping", "id": 9007199254740992}', ErrorCode.INVALID_MESSAGE),
    ],
)
def test_invalid_frames_are_refused_with_a_reason(frame: str | bytes, code: ErrorCode) -> None:
    refused = parse(frame, CITIZEN_MESSAGES)

    assert isinstance(refused, ProtocolError)
    assert refused.code == code
    assert refused.message


def test_text_that_is_not_unicode_is_refused_and_a_whole_pair_is_welcome() -> None:
    """JSON can spell half a surrogate pair; what it decodes to is not text."""
    for frame in (
        '{"type": "hello", "version": 1, "role": "staff", "watch": ["\\ud800"]}',
        '{"type": "hello", "version": 1, "role": "staff", "watch": ["a"], "\\uDC00": 1}',
    ):
        refused = parse(frame, STAFF_MESSAGES)
        assert isinstance(refused, ProtocolError) and refused.code == ErrorCode.INVALID_MESSAGE
        assert "Unicode" in refused.message
    pair = parse(
        '{"type": "hello", "version": 1, "role": "staff", "watch": ["\\ud83d\\ude00"]}',
        STAFF_MESSAGES,
    )
    assert isinstance(pair, StaffHello) and pair.watch == ["😀"]


def test_the_refusal_names_the_field_but_never_echoes_the_input() -> None:
    refused = parse('{"type": "hello", "version": "geheim-123"}', CITIZEN_MESSAGES)

    assert isinstance(refused, ProtocolError)
    assert refused.ref == "hello"
    assert refused.message.startswith("version:")
    assert "geheim-123" not in refused.message


def test_staff_messages_are_not_citizen_messages() -> None:
    watched = '{"type": "hello", "version": 1, "watch": ["x"]}'
    assert isinstance(parse(watched, CITIZEN_MESSAGES), ProtocolError)
    assert isinstance(parse(watched, STAFF_MESSAGES), StaffHello)
    too_many = json.dumps({"type": "hello", "version": 1, "watch": ["x"] * 201})
    assert isinstance(parse(too_many, STAFF_MESSAGES), ProtocolError)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=64),
        st.text(max_size=200),
        json_values.map(json.dumps),
        st.fixed_dictionaries(
            {"type": st.sampled_from(["hello", "ping", "offer"])},
            optional={"version": json_values, "id": json_values, "role": json_values},
        ).map(json.dumps),
    )
)
def test_no_frame_makes_the_parser_raise(frame: str | bytes) -> None:
    result = parse(frame, CITIZEN_MESSAGES)
    assert isinstance(result, ProtocolError | CitizenHello | Ping)


def test_every_journey_state_but_the_open_window_has_a_close_code() -> None:
    assert set(JOURNEY_CLOSE) == set(Journey) - {Journey.WINDOW_OPEN}
    for state, code in JOURNEY_CLOSE.items():
        assert code.reason == state.value
        assert 4400 <= code < 4500


def test_close_reasons_fit_a_close_frame() -> None:
    for code in CloseCode:
        assert len(code.reason.encode()) <= 123


def documented_schemas() -> dict[str, dict[str, object]]:
    text = SCHEMAS.read_text("utf-8")
    blocks = re.findall(r"^### (.+?)\n\n```json\n(.*?)\n```", text, flags=re.M | re.S)
    return {heading: json.loads(body) for heading, body in blocks}


def test_signaling_schemas_md_shows_the_schemas_the_server_enforces() -> None:
    assert documented_schemas() == schemas(), (
        "docs/signaling-schemas.md is out of date: regenerate the schema blocks with "
        "`python -m videotermin.realtime.schemas`"
    )


def test_signaling_md_links_every_message_schema() -> None:
    text = SIGNALING.read_text("utf-8")
    for heading in schemas():
        anchor = re.sub(r"[^a-z0-9 _-]", "", heading.lower()).replace(" ", "-")
        assert f"[{heading}](signaling-schemas.md#{anchor})" in text, heading


def test_signaling_md_lists_every_close_and_error_code() -> None:
    text = SIGNALING.read_text("utf-8")
    for code in CloseCode:
        final = "yes" if code in FINAL_CLOSE_CODES else "no"
        assert f"| {int(code)} | `{code.reason}` | {final} |" in text, code
    for error in ErrorCode:
        assert f"| `{error.value}` |" in text, error
