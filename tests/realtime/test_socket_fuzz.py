"""Failure class "bad input" on the sockets: Hypothesis generates frames for every message
type of every socket endpoint — the citizen's waiting room ``/ws/v/<token>``, the
advisor's call ``/ws/call/<id>``, the staff's live list ``/ws/staff`` and the support
desk's live view ``/ws/support`` — and sends them to the real app over real sockets:
malformed JSON, wrong types, huge and deeply nested messages, unknown types, valid-looking
messages with wrong values, valid messages, binary frames, floods.

Every frame must get the answer the protocol promises (``docs/signaling.md``): a broken
frame its ``error`` (the code :func:`videotermin.realtime.protocol.parse` names), a
message the connection may not send its refusal, ``ping`` its ``pong``, and a valid
message its effect — never a crash, a 1011 close or silence. The bulk goes through one
long-lived connection per endpoint, before and after ``hello`` (frames pipelined in
batches, each fenced by a message of a unique unknown type, so a missing, extra or
reordered answer shows); valid ``hello`` messages with any values, whose ids reach the
database, each open a fresh connection. After each endpoint, bystander connections of
another appointment still answer and the process is healthy. The protocol has no
rate-limit close: a flooding client is slowed down by TCP (the inbox reads at most
eight frames ahead), and every one of its frames is still answered while others go on.

Hypothesis draws are the costly part, so each generated message also brings a dozen
cheap relatives (cut, wrapped, retyped, each field at an edge value). Runs on
PostgreSQL, the stricter store (no NUL in text).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from page_helpers import book, login, post_form
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from waiting_helpers import IN_WINDOW, record_consent, session_cookie
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from conftest import LiveServer, add_staff
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.realtime import timing
from videotermin.realtime.protocol import (
    CALL_MESSAGES,
    CITIZEN_MESSAGES,
    MAX_FRAME_BYTES,
    MAX_MESSAGE_BYTES,
    MAX_SIGNAL_BYTES,
    STAFF_MESSAGES,
    SUPPORT_MESSAGES,
    Admit,
    Chat,
    ClientMessage,
    End,
    Leave,
    Media,
    Ping,
    ProtocolError,
    Remove,
    Signal,
    parse,
)
from videotermin.settings import Settings
from videotermin.store.models import Participant, StaffUser

pytestmark = [
    pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True),
    # the app, served in this process, draws its own jitter from `random` meanwhile
    pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),
]

BULK_EXAMPLES = 170
"""Batches per endpoint on a greeted connection (about 14 frames each)."""
BEFORE_HELLO_EXAMPLES = 30
"""Batches per endpoint on a connection that has not said hello."""
HELLO_EXAMPLES = 40
"""Valid ``hello`` messages with fuzzed values per endpoint, each on a fresh connection."""
FLOOD = 3000
"""Frames one flooding client sends without reading."""
WANTED_CASES = 10_000
ANSWER_SECONDS = 10.0

Answer = tuple[Any, ...]
"""What a frame gets, reduced to what the test compares: ``("error", code, ref)``,
``("pong", id)``, ``("chat",)``, ``("close", code)``."""


# --- what the protocol promises ---------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    cookie: str | None
    accepted: Mapping[str, type[ClientMessage]]
    hello: dict[str, Any]
    greeting: tuple[str, ...]
    """The messages that follow an accepted ``hello``."""
    pushes: frozenset[str]
    """Messages the server may push at any time (rows, views, relayed chat): not answers."""
    forbidden: tuple[type[ClientMessage], ...] = ()
    answers: Callable[[ClientMessage], list[Answer]] = lambda message: []
    closing: tuple[type[ClientMessage], ...] = ()
    """Valid messages that end the connection (or the call): kept out of the bulk."""


def citizen_answers(message: ClientMessage) -> list[Answer]:
    """A citizen in the waiting room, not admitted: call messages are refused, a
    ``quality`` report outside a call is ignored."""
    if isinstance(message, Signal | Media | Chat | Leave):
        return [("error", "not_admitted", message.type)]
    return []


def advisor_answers(message: ClientMessage) -> list[Answer]:
    """The advisor alone in the call with nobody waiting."""
    if isinstance(message, Admit):
        return [("error", "not_waiting", "admit")]
    if isinstance(message, Remove):
        return [("error", "unknown_peer", "remove")]
    if isinstance(message, Signal):
        return [("error", "unknown_peer", "signal")]
    return []  # media, quality: no answer; chat: relayed back (a push, counted)


def expected(endpoint: Endpoint, frame: str | bytes, greeted: bool) -> list[Answer]:
    """The answers ``frame`` must get, in the order ``docs/signaling.md`` gives: a broken
    frame its error, ``hello`` once, a message the endpoint never allows ``not_allowed``,
    anything before ``hello`` ``hello_required``, ``ping`` its ``pong``, the rest its effect."""
    message = parse(frame, endpoint.accepted)
    if isinstance(message, ProtocolError):
        return [("error", message.code.value, message.ref)]
    if message.type == "hello":
        assert greeted, "a valid hello is not sent in the bulk before hello"
        return [("error", "already_greeted", "hello")]
    if isinstance(message, endpoint.forbidden):
        return [("error", "not_allowed", message.type)]
    if not greeted:
        return [("error", "hello_required", message.type)]
    if isinstance(message, Ping):
        return [("pong", message.id)]
    return endpoint.answers(message)


def sendable(endpoint: Endpoint, greeted: bool) -> Callable[[str | bytes], bool]:
    """Frames the bulk may send without ending its connection: no valid ``hello`` before
    hello (it would greet, or close for its version), no ``end`` or ``leave`` in the call."""

    def check(frame: str | bytes) -> bool:
        message = parse(frame, endpoint.accepted)
        if isinstance(message, ProtocolError):
            return True
        if not greeted and message.type == "hello":
            return False
        return not (greeted and isinstance(message, endpoint.closing))

    return check


# --- frames ---------------------------------------------------------------------------------------

ODD_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\nX-Injected: 1",
    "\u202egnp.exe",
    "\u2028",
    "مرحبا",
    "𝕏" * 9,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "all",
    "x" * 36,
    "x" * 37,
    "x" * 65,
    "00000000-0000-0000-0000-000000000000",
]
texts = st.one_of(
    st.text(max_size=12),
    st.sampled_from(ODD_TEXT),
    st.characters(categories=["Cs"]),  # half a surrogate pair: only as a JSON escape
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 65535, 65536, 2**53 - 1, 2**53, 2**64]),
    st.floats(),  # NaN and Infinity are not JSON; the server must say so
    texts,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=4,
)
EDGE_VALUES = [
    None,
    True,
    False,
    0,
    -1,
    1.0,
    1.5,
    65536,
    2**53,
    "1",
    "",
    " ",
    "x" * 37,
    "x" * 65,
    "x" * 1001,
    [],
    {},
    ["x"] * 201,
    {"type": "offer"},
    {"candidate": None},
]


def dumps(data: Any, ascii_only: bool) -> str:
    """JSON as a client would send it; text with half a surrogate pair only escaped."""
    text = json.dumps(data, ensure_ascii=ascii_only)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(data)
    return text


ids = st.one_of(
    st.text(min_size=1, max_size=36), st.sampled_from([t for t in ODD_TEXT if 0 < len(t) <= 36])
)
descriptions = st.fixed_dictionaries(
    {"type": st.sampled_from(["offer", "answer"]), "sdp": st.text(max_size=200)}
)
candidates = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"candidate": st.text(max_size=120)},
        optional={
            "sdpMid": st.none() | st.text(max_size=64),
            "sdpMLineIndex": st.none() | st.integers(0, 1024),
            "usernameFragment": st.none() | st.text(max_size=256),
        },
    ),
)
chat_text = st.text(min_size=1, max_size=200).filter(lambda text: text.strip() != "")
counts = st.integers(0, 1000)
VALID_BODIES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "ping": st.fixed_dictionaries({}, optional={"id": st.none() | st.integers(0, 2**53 - 1)}),
    "admit": st.fixed_dictionaries({"participant": ids}),
    "remove": st.fixed_dictionaries({"participant": st.text(min_size=1, max_size=64)}),
    "end": st.just({}),
    "leave": st.just({}),
    "signal": st.one_of(
        st.fixed_dictionaries(
            {"to": st.text(min_size=1, max_size=64), "description": descriptions}
        ),
        st.fixed_dictionaries({"to": st.text(min_size=1, max_size=64), "candidate": candidates}),
    ),
    "media": st.fixed_dictionaries(
        {"audio": st.booleans(), "video": st.booleans(), "screen": st.booleans()}
    ),
    "quality": st.fixed_dictionaries({"good": counts, "fair": counts, "poor": counts}),
    "chat": st.fixed_dictionaries({"text": chat_text}),
}


def hello_bodies(role: str, known: tuple[str, ...] = ()) -> st.SearchStrategy[dict[str, Any]]:
    """The fields of a valid ``hello`` for ``role``; ids are any text, or one of ``known``."""
    version = st.integers(1, 65535) | st.just(1)
    some_id = ids | st.sampled_from(known) if known else ids
    optional: dict[str, st.SearchStrategy[Any]] = {"role": st.sampled_from([None, role])}
    if role == "staff":
        optional |= {
            "watch": st.lists(some_id, max_size=12),
            "view": st.sampled_from(["agenda", "appointment"]),
        }
    if role == "support":
        return st.fixed_dictionaries(
            {"version": version, "participant": some_id}, optional=optional
        )
    return st.fixed_dictionaries({"version": version}, optional=optional)


def valid_messages(endpoint: Endpoint) -> st.SearchStrategy[dict[str, Any]]:
    """Messages that pass the parser, of every type the endpoint accepts."""
    role = endpoint.hello.get("role", "citizen")
    kinds = [
        (hello_bodies(role) if kind == "hello" else VALID_BODIES[kind]).map(
            lambda body, kind=kind: {"type": kind, **body}
        )
        for kind in sorted(endpoint.accepted)
    ]
    return st.one_of(kinds)


def wrongly_typed(endpoint: Endpoint) -> st.SearchStrategy[dict[str, Any]]:
    """A known type whose fields (and some unknown ones) hold any JSON value."""

    def shaped(kind: str) -> st.SearchStrategy[dict[str, Any]]:
        names = [name for name in endpoint.accepted[kind].model_fields if name != "type"]
        optional = {name: json_values for name in [*names, "pad", "from", "admin"]}
        return st.fixed_dictionaries({"type": st.just(kind)}, optional=optional)

    return st.one_of([shaped(kind) for kind in sorted(endpoint.accepted)])


def with_edge_value(message: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid message with one field set to a value at or past the edge of its type."""
    return st.builds(
        lambda key, value: {**message, key: value},
        st.sampled_from(sorted(message)),
        st.sampled_from(EDGE_VALUES) | json_values,
    )


def unknown_types(endpoint: Endpoint) -> st.SearchStrategy[dict[str, Any]]:
    kinds = st.one_of(
        texts.filter(lambda kind: kind not in endpoint.accepted),
        st.sampled_from(["offer", "answer", "welcome", "pong", "error", "HELLO", "ping "]),
        st.none() | st.integers() | st.booleans() | st.lists(st.just("ping"), max_size=2),
    )
    return st.builds(
        lambda kind, rest: {**rest, "type": kind},
        kinds,
        st.dictionaries(texts, json_values, max_size=3),
    ) | st.dictionaries(texts.filter(lambda key: key != "type"), json_values, max_size=3)


def mutated(text: str, where: int, how: str) -> str:
    """Valid JSON broken by a cut, a deletion or an inserted character."""
    at = where % (len(text) + 1)
    if how == "cut":
        return text[:at]
    if how == "drop":
        return text[:at] + text[at + 1 :]
    return text[:at] + how + text[at:]


def padded(message: dict[str, Any], size: int, unit: str, inside: bool) -> str:
    """``message`` grown to about ``size`` bytes: its longest text field or an extra one."""
    count = max(1, size // len(unit.encode("utf-8")))
    if inside and message.get("type") == "signal" and "description" in message:
        description = {**message["description"], "sdp": unit * count}
        return dumps({**message, "description": description}, False)
    key = "text" if inside and message.get("type") == "chat" else "pad"
    return dumps({**message, key: unit * count}, False)


def nested(kind: str, depth: int, bracket: str, surrogate_after: bool, top: bool) -> str:
    """A message whose value (or the whole frame) is nested ``depth`` levels deep."""
    inner = "[" * depth + "]" * depth if bracket == "[" else '{"a":' * depth + "0" + "}" * depth
    if top:
        return inner
    tail = ',"s":"\\ud800"' if surrogate_after else ""
    return '{"type":' + json.dumps(kind) + ',"x":' + inner + tail + "}"


def variants(message: dict[str, Any], salt: int) -> list[str | bytes]:
    """Cheap relatives of one generated message (Hypothesis draws are the costly part):
    the message as it is, cut, with a character dropped, as bytes, wrapped, with a field
    gone, a field added, its type changed, each field set to an edge value, and too long."""
    text = dumps(message, True)
    at = salt % (len(text) + 1)
    keys = sorted(message)
    found: list[str | bytes] = [
        text,
        dumps(message, False),
        text[:at],
        text[:at] + text[at + 1 :],
        text.encode("utf-8"),
        dumps([message], True),
        dumps({"type": "hello", "version": 1, "message": message}, True),
        dumps({**message, "admin": True, "from": "advisor"}, True),
        dumps({key: value for key, value in message.items() if key != keys[salt % len(keys)]}, True)
        if keys
        else "{}",
        dumps({**message, "type": str(message.get("type", "")).upper()}, True),
        padded(message, MAX_MESSAGE_BYTES + 1 + salt % 512, "x", inside=False),
    ]
    for index, key in enumerate(keys):
        edge = EDGE_VALUES[(salt + index) % len(EDGE_VALUES)]
        found.append(dumps({**message, key: edge}, True))
    return found


def frames(endpoint: Endpoint) -> st.SearchStrategy[str | bytes]:
    valid = valid_messages(endpoint)
    kinds = st.sampled_from([*sorted(endpoint.accepted), "nope"])
    ascii_only = st.booleans()
    big = st.sampled_from(
        [
            MAX_MESSAGE_BYTES - 60,
            MAX_MESSAGE_BYTES + 1,
            MAX_SIGNAL_BYTES - 200,
            MAX_SIGNAL_BYTES + 1,
        ]
    ) | st.integers(MAX_MESSAGE_BYTES - 100, MAX_FRAME_BYTES - 4 * 1024)
    return st.one_of(
        st.builds(dumps, messages(endpoint), ascii_only),  # valid, wrong values, wrong types
        st.builds(dumps, json_values, ascii_only),  # JSON that is no message
        st.builds(
            mutated,
            st.builds(dumps, valid, ascii_only),
            st.integers(0, 400),
            st.sampled_from(["cut", "drop", "{", "}", "[", '"', ",", ":", "\\", "\x00", "NaN"]),
        ),  # malformed JSON
        st.text(max_size=80),  # no JSON at all
        st.binary(max_size=80),  # binary frames
        st.builds(
            padded, valid, big, st.sampled_from(["x", "é", "€", "𝕏", " "]), st.booleans()
        ),  # huge
        st.builds(
            nested,
            kinds,
            st.integers(1, 3000) | st.sampled_from([450, 500, 600, 990, 1000, 1200]),
            st.sampled_from(["[", "{"]),
            st.booleans(),
            st.booleans(),
        ),  # deeply nested
    )


def messages(endpoint: Endpoint) -> st.SearchStrategy[dict[str, Any]]:
    """Valid messages, valid ones with a wrong value, wrongly typed ones, unknown types."""
    valid = valid_messages(endpoint)
    return st.one_of(
        valid, valid.flatmap(with_edge_value), wrongly_typed(endpoint), unknown_types(endpoint)
    )


def batches(endpoint: Endpoint, greeted: bool, most: int) -> st.SearchStrategy[list[str | bytes]]:
    """Up to ``most`` generated frames and the variants of one generated message, minus
    those that would end the connection (:func:`sendable`)."""
    keep = sendable(endpoint, greeted)

    def batch(
        generated: list[str | bytes], message: dict[str, Any], salt: int
    ) -> list[str | bytes]:
        return [frame for frame in [*generated, *variants(message, salt)] if keep(frame)]

    return st.builds(
        batch, st.lists(frames(endpoint), max_size=most), messages(endpoint), st.integers(0, 2**32)
    )


# --- the wire ---------------------------------------------------------------------------------


@dataclass
class Tally:
    """Frames actually sent, per endpoint and phase."""

    sent: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.sent.values())


_fence_ids = itertools.count()


def answer_of(message: dict[str, Any]) -> Answer:
    if message["type"] == "error":
        assert isinstance(message["message"], str) and message["message"], message
        return ("error", message["code"], message["ref"])
    if message["type"] == "pong":
        return ("pong", message["id"])
    return (message["type"],)


class Wire:
    """One connection to an endpoint, driven synchronously from the fuzzing thread."""

    def __init__(self, base_url: str, endpoint: Endpoint) -> None:
        self.base_url = base_url
        self.endpoint = endpoint
        self.ws: ClientConnection | None = None
        self.opened = 0.0
        self.pushed: Counter[str] = Counter()
        self.stack = ExitStack()

    def connect(self) -> ClientConnection:
        headers = {"Cookie": f"vt_session={self.endpoint.cookie}"} if self.endpoint.cookie else {}
        self.close()
        self.ws = self.stack.enter_context(
            connect(
                self.base_url.replace("http://", "ws://") + self.endpoint.path,
                origin=self.base_url,  # type: ignore[arg-type]
                additional_headers=headers,
                max_size=None,
                open_timeout=10,
                proxy=None,
            )
        )
        self.opened = time.monotonic()
        return self.ws

    def close(self) -> None:
        self.stack.close()
        self.ws = None

    def receive(self) -> dict[str, Any]:
        assert self.ws is not None
        message = json.loads(self.ws.recv(timeout=ANSWER_SECONDS))
        assert isinstance(message, dict)
        return message

    def greet(self, hello: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Say hello (the endpoint's own by default) and read its greeting."""
        ws = self.connect()
        ws.send(json.dumps(hello or self.endpoint.hello))
        seen = [self.receive()]
        wanted = set(self.endpoint.greeting)
        while wanted - {message["type"] for message in seen}:
            seen.append(self.receive())
        self.exchange([])  # the rows or views that follow the greeting
        return seen

    def exchange(self, frames: list[str | bytes]) -> list[Answer]:
        """Send the frames and a fence behind them (a message of a type nobody knows,
        named uniquely); everything answered before the fence's own ``unknown_type``
        error (the server handles one frame at a time, in order), pushes set aside."""
        assert self.ws is not None
        fence = f"fence-{next(_fence_ids)}"
        for frame in frames:
            self.ws.send(frame)
        self.ws.send(json.dumps({"type": fence}))
        answers: list[Answer] = []
        while True:
            try:
                message = self.receive()
            except (TimeoutError, ConnectionClosed) as gone:
                raise AssertionError(
                    f"{self.endpoint.name}: {gone!r} after {answers} for "
                    f"{[repr(frame)[:200] for frame in frames]}"
                ) from None
            if message["type"] in self.endpoint.pushes:
                self.pushed[message["type"]] += 1
                continue
            answer = answer_of(message)
            if answer == ("error", "unknown_type", fence):
                return answers
            answers.append(answer)


def check_answers(
    endpoint: Endpoint, frames: list[str | bytes], got: list[Answer], greeted: bool
) -> None:
    want = [answer for frame in frames for answer in expected(endpoint, frame, greeted)]
    if got == want:
        return
    mismatch = next(
        (i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b),
        min(len(got), len(want)),
    )
    raise AssertionError(
        f"{endpoint.name}: answer {mismatch} differs: got {got[mismatch : mismatch + 3]}, "
        f"wanted {want[mismatch : mismatch + 3]} (of {len(want)} for {len(frames)} frames: "
        f"{[repr(frame)[:120] for frame in frames]})"
    )


FUZZ_SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    phases=(Phase.explicit, Phase.generate),  # no shrinking: a failure names its frame
    suppress_health_check=list(HealthCheck),
)


def fuzz_greeted(wire: Wire, tally: Tally, examples: int) -> None:
    endpoint = wire.endpoint
    wire.greet()

    @settings(FUZZ_SETTINGS, max_examples=examples)
    @given(batches(endpoint, greeted=True, most=12))
    def every_frame_is_answered(batch: list[str | bytes]) -> None:
        got = wire.exchange(batch)
        tally.sent[endpoint.name] += len(batch)
        check_answers(endpoint, batch, got, greeted=True)
        chats[0] += sum(isinstance(parse(frame, endpoint.accepted), Chat) for frame in batch)

    chats = [0]
    every_frame_is_answered()
    if "chat" in endpoint.pushes:  # the call relays every chat line, the sender's too
        for _ in range(5):
            if wire.pushed["chat"] >= chats[0]:
                break
            wire.exchange([])
        assert wire.pushed["chat"] == chats[0] > 0, (wire.pushed, chats)


def fuzz_before_hello(wire: Wire, tally: Tally, examples: int) -> None:
    """Frames on a connection that has not said hello; a fresh one well before the hello
    timeout closes it."""
    endpoint = wire.endpoint

    @settings(FUZZ_SETTINGS, max_examples=examples)
    @given(batches(endpoint, greeted=False, most=8))
    def every_frame_is_answered(batch: list[str | bytes]) -> None:
        if wire.ws is None or time.monotonic() - wire.opened > 4:
            wire.connect()
        got = wire.exchange(batch)
        tally.sent[f"{endpoint.name} before hello"] += len(batch)
        check_answers(endpoint, batch, got, greeted=False)

    every_frame_is_answered()
    wire.close()


def opening(scene: Scene, endpoint: Endpoint, hello: dict[str, Any]) -> list[Answer]:
    """How a fresh connection answers a valid ``hello``: a version this server does not
    speak is told and closed (4426); the support view shows only the participant the
    supporter looked up (4403 otherwise); the live list watches only Berater's own
    appointments among those named; everyone else is welcomed."""
    if hello["version"] != 1:
        return [("error", "unsupported_version", "hello"), ("close", 4426)]
    if endpoint.name == "support view" and hello["participant"] != scene.participant:
        return [("close", 4403)]
    watching = sorted({scene.appointment, scene.other_appointment} & set(hello.get("watch", [])))
    return [("welcome", tuple(watching))]


def read_opening(wire: Wire) -> list[Answer]:
    """The answers to ``hello`` up to ``welcome`` or the close."""
    got: list[Answer] = []
    while True:
        try:
            message = wire.receive()
        except ConnectionClosed as done:
            got.append(("close", done.rcvd.code if done.rcvd else None))
            return got
        if message["type"] == "welcome":
            got.append(("welcome", tuple(message.get("watching", ()))))
            return got
        if message["type"] not in wire.endpoint.pushes:
            got.append(answer_of(message))


def fuzz_hellos(scene: Scene, wire: Wire, tally: Tally, examples: int) -> None:
    """Valid ``hello`` messages with any values, each on a fresh connection: their ids
    reach the database (the watched appointments, the supporter's participant)."""
    endpoint = wire.endpoint
    known = (scene.appointment, scene.other_appointment, scene.participant)
    hellos = hello_bodies(endpoint.hello["role"], known)

    @settings(FUZZ_SETTINGS, max_examples=examples)
    @given(hellos.map(lambda body: {"type": "hello", **body}))
    def opens_or_refuses(hello: dict[str, Any]) -> None:
        frame = json.dumps(hello)
        ws = wire.connect()
        tally.sent[f"{endpoint.name} hello"] += 1
        refused = parse(frame, endpoint.accepted)
        if isinstance(refused, ProtocolError):  # an id that is not text (NUL): told, still open
            assert wire.exchange([frame]) == [("error", refused.code.value, refused.ref)]
            wire.close()
            return
        ws.send(frame)
        want = opening(scene, endpoint, hello)
        got = read_opening(wire)
        assert got == want, (endpoint.name, hello, got)
        if got[-1][0] == "welcome":
            rest = [answer for answer in wire.exchange([]) if answer[0] not in endpoint.greeting]
            assert rest == [], "the welcomed connection answers"
        wire.close()

    opens_or_refuses()


# --- the scene ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scene:
    url: str
    endpoints: dict[str, Endpoint]
    bystanders: list[Endpoint]
    appointment: str
    participant: str
    other_appointment: str


async def support_code(db: async_sessionmaker[AsyncSession], participant_id: str) -> str:
    async with db() as session:
        code = await session.scalar(
            select(Participant.support_code).where(Participant.id == participant_id)
        )
    assert code is not None
    return code


@pytest.fixture
def unlimited_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fuzzing sends thousands of frames a second on one connection: the flood limit
    (a 4429 close, tested in test_waiting_socket.py) is lifted so that every frame is
    parsed and answered. Request it before ``live_server``: the app reads it at start."""
    lifted = dataclasses.replace(timing.DEFAULT, frames_burst=1e9, frames_per_second=1e9)
    monkeypatch.setattr(timing, "DEFAULT", lifted)


@pytest.fixture
async def scene(
    unlimited_frames: None,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    live_server: LiveServer,
) -> Scene:
    """Berater's appointment A with Clara (agreed, in the window) and appointment B with
    Nora, whose connections are the bystanders; a supporter has looked Clara up."""
    ours = await book(db, settings, clock)
    nora = ParticipantDraft(name="Nora Nachbar", email="nora@example.org")
    theirs = await book(db, settings, clock, participants=[nora])
    for booking in (ours, theirs):
        await record_consent(db, settings, booking.participant_ids[0])
    clock.set(IN_WINDOW)
    await add_staff(db, "support-sven", role="support", display_name="Sven Support")
    clara = ours.participant_ids[0]
    async with (
        httpx.AsyncClient(base_url=live_server.url) as advisor_browser,
        httpx.AsyncClient(base_url=live_server.url) as support_browser,
    ):
        await login(advisor_browser)
        await login(support_browser, "support-sven")
        found = await post_form(
            support_browser, "/support", "/support", {"code": await support_code(db, clara)}
        )
        assert found.status_code == 303, found.text
        staff_cookie = session_cookie(advisor_browser)
        support_cookie = session_cookie(support_browser)
    hello = {"type": "hello", "version": 1}
    citizen = Endpoint(
        "citizen",
        f"/ws/v/{ours.tokens[0]}",
        None,
        CITIZEN_MESSAGES,
        {**hello, "role": "citizen"},
        ("welcome",),
        frozenset({"message"}),
        forbidden=(Admit, Remove, End),
        answers=citizen_answers,
    )
    call = Endpoint(
        "advisor call",
        f"/ws/call/{ours.appointment_id}",
        staff_cookie,
        CALL_MESSAGES,
        {**hello, "role": "advisor"},
        ("welcome", "admitted", "waiting"),
        frozenset({"chat", "waiting"}),
        answers=advisor_answers,
        closing=(End, Leave),
    )
    staff = Endpoint(
        "staff list",
        "/ws/staff",
        staff_cookie,
        STAFF_MESSAGES,
        {**hello, "role": "staff", "watch": [ours.appointment_id]},
        ("welcome",),
        frozenset({"participant"}),
    )
    support = Endpoint(
        "support view",
        "/ws/support",
        support_cookie,
        SUPPORT_MESSAGES,
        {**hello, "role": "support", "participant": clara},
        ("welcome", "support"),
        frozenset({"support"}),
    )
    bystanders = [
        Endpoint(
            "bystander citizen",
            f"/ws/v/{theirs.tokens[0]}",
            None,
            CITIZEN_MESSAGES,
            hello,
            ("welcome",),
            frozenset({"message"}),
        ),
        Endpoint(
            "bystander call",
            f"/ws/call/{theirs.appointment_id}",
            staff_cookie,
            CALL_MESSAGES,
            hello,
            ("welcome", "admitted", "waiting"),
            frozenset({"waiting", "peer_joined", "peer_left", "peer_updated"}),
        ),
        Endpoint(
            "bystander list",
            "/ws/staff",
            staff_cookie,
            STAFF_MESSAGES,
            {**hello, "watch": [theirs.appointment_id]},
            ("welcome",),
            frozenset({"participant"}),
        ),
    ]
    return Scene(
        live_server.url,
        {e.name: e for e in (citizen, call, staff, support)},
        bystanders,
        ours.appointment_id,
        clara,
        theirs.appointment_id,
    )


@contextmanager
def bystanders_of(scene: Scene) -> Iterator[Callable[[], None]]:
    """Greeted connections of appointment B; the callable checks each still answers
    ``ping`` with nothing but ``pong`` (and its pushes)."""
    wires = [Wire(scene.url, endpoint) for endpoint in scene.bystanders]
    for wire in wires:
        wire.greet()

    def still_answer() -> None:
        for wire in wires:
            assert wire.exchange([]) == [], wire.endpoint.name

    try:
        yield still_answer
    finally:
        for wire in wires:
            wire.close()


def healthy(url: str) -> None:
    response = httpx.get(url + "/healthz", timeout=10)
    assert response.status_code == 200, response.text


# --- the tests ------------------------------------------------------------------------------


async def test_every_frame_on_every_socket_gets_its_answer_and_others_go_on(
    scene: Scene,
) -> None:
    tally = Tally()

    def run() -> None:
        with bystanders_of(scene) as still_answer:
            for endpoint in scene.endpoints.values():
                fuzz_before_hello(Wire(scene.url, endpoint), tally, BEFORE_HELLO_EXAMPLES)
                wire = Wire(scene.url, endpoint)
                fuzz_greeted(wire, tally, BULK_EXAMPLES)
                assert wire.exchange([]) == [], "nothing answered twice"
                wire.close()
                still_answer()
                healthy(scene.url)

    started = time.monotonic()
    await asyncio.to_thread(run)
    print(
        f"\nsocket fuzz: {tally.total} frames in {time.monotonic() - started:.1f} s: "
        + ", ".join(f"{name} {count}" for name, count in sorted(tally.sent.items()))
    )
    assert tally.total >= WANTED_CASES, tally.sent


async def test_hello_with_any_values_opens_or_refuses_each_socket_cleanly(scene: Scene) -> None:
    tally = Tally()

    def run() -> None:
        with bystanders_of(scene) as still_answer:
            for endpoint in scene.endpoints.values():
                fuzz_hellos(scene, Wire(scene.url, endpoint), tally, HELLO_EXAMPLES)
            still_answer()
            healthy(scene.url)

    await asyncio.to_thread(run)
    print(f"\nhello fuzz: {tally.total} connections: {dict(sorted(tally.sent.items()))}")


FLOOD_FRAMES: list[tuple[str, Answer]] = [
    ('{"type":"ping","id":%d}', ("pong", None)),
    ("not json %d", ("error", "invalid_json", None)),
    ('{"type":"chat","text":"flood %d"}', ("error", "not_admitted", "chat")),
    ('{"type":"admit","participant":"%d"}', ("error", "not_allowed", "admit")),
    ("[%d]", ("error", "not_an_object", None)),
    (
        '{"type":"ping","id":%d,"pad":"' + "x" * MAX_MESSAGE_BYTES + '"}',
        ("error", "too_large", None),
    ),
]


def flood_of(count: int) -> tuple[list[str], list[Answer]]:
    frames, answers = [], []
    for n in range(count):
        template, answer = FLOOD_FRAMES[n % len(FLOOD_FRAMES)]
        frames.append(template % n)
        answers.append(("pong", n) if answer[0] == "pong" else answer)
    return frames, answers


async def test_a_flood_is_answered_frame_by_frame_while_the_others_go_on(scene: Scene) -> None:
    """With the flood limit lifted (see ``unlimited_frames``), a client that sends without
    reading is slowed down by TCP (the server reads at most eight frames ahead), every
    frame of its flood is answered in order, and the bystanders answer their pings in
    between."""
    frames, want = flood_of(FLOOD)
    flooder = Wire(scene.url, scene.endpoints["citizen"])

    def run() -> list[Answer]:
        got: list[Answer] = []
        with bystanders_of(scene) as still_answer:
            flooder.greet()
            assert flooder.ws is not None
            reader = threading.Thread(target=lambda: got.extend(flooded(flooder, len(frames))))
            reader.start()
            for n, frame in enumerate(frames):
                flooder.ws.send(frame)
                if n % 500 == 0:
                    still_answer()
            reader.join(timeout=60)
            assert flooder.exchange([]) == [], "the flooder's connection stays"
            still_answer()
            healthy(scene.url)
        flooder.close()
        return got

    got = await asyncio.to_thread(run)
    assert got == want
    print(f"\nflood: {len(frames)} frames answered")


def flooded(wire: Wire, count: int) -> Iterator[Answer]:
    for _ in range(count):
        yield answer_of(wire.receive())


# --- found by the fuzzing, kept ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "answer"),
    [
        (
            '{"type":"ping","x":' + "[" * 500 + "]" * 500 + ',"s":"\\ud800"}',
            ("error", "invalid_message", "ping"),
        ),
        (
            '{"type":"signal","x":' + '{"a":' * 3000 + "0" + "}" * 3000 + ',"s":"\\udc00"}',
            ("error", "invalid_json", None),
        ),
        ('{"type":"\\ud8d8"}', ("error", "invalid_message", None)),
        ('{"type":"ping\\udfff"}', ("error", "invalid_message", None)),
    ],
)
async def test_deep_nesting_and_half_surrogates_are_answered_not_fatal(
    scene: Scene, frame: str, answer: Answer
) -> None:
    """Bad input the fuzzing found: a frame nested a few hundred levels deep with half a
    surrogate pair behind it made the parser recurse past Python's limit and the
    connection's reader die — the client heard nothing until the silence timeout; a type
    that is half a surrogate pair was refused with an error the server could not encode,
    so the client heard nothing either. Both are answered now, and the connection goes on."""
    wire = Wire(scene.url, scene.endpoints["citizen"])

    def run() -> list[Answer]:
        wire.greet()
        try:
            return wire.exchange([frame, '{"type":"ping","id":5}'])
        finally:
            wire.close()

    assert await asyncio.to_thread(run) == [answer, ("pong", 5)]


@pytest.mark.parametrize(
    ("endpoint", "hello"),
    [
        ("staff list", {"type": "hello", "version": 1, "watch": ["a\x00b"]}),
        ("support view", {"type": "hello", "version": 1, "participant": "a\x00b"}),
    ],
)
async def test_nul_in_a_socket_message_or_path_is_refused_before_the_database(
    scene: Scene, endpoint: str, hello: dict[str, Any]
) -> None:
    """Bad input the fuzzing found: PostgreSQL cannot hold NUL, not even in a lookup, so a
    ``hello`` naming an appointment or participant with ``\\u0000`` in it crashed the
    connection, and so did ``/ws/call/a%00b`` before it opened. The message is refused
    like text that is not Unicode, and the path names no socket."""
    wire = Wire(scene.url, scene.endpoints[endpoint])

    def run() -> tuple[list[Answer], list[dict[str, Any]]]:
        wire.connect()
        try:
            refused = wire.exchange([json.dumps(hello)])
            greeted = wire.greet()
        finally:
            wire.close()
        return refused, greeted

    refused, greeted = await asyncio.to_thread(run)
    assert refused == [("error", "invalid_message", "hello")]
    assert greeted[0]["type"] == "welcome"
    call = scene.endpoints["advisor call"]
    nowhere = Wire(scene.url, dataclasses.replace(call, path="/ws/call/a%00b"))
    with pytest.raises(InvalidStatus) as refusal:
        await asyncio.to_thread(nowhere.connect)
    assert refusal.value.response.status_code == 403
    await asyncio.to_thread(healthy, scene.url)
