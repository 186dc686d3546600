"""Known failure classes of comparable systems (issue 13, item 4), each a regression test
named after its class, against the real app over HTTP and WebSocket.

Where an older test already guards a class, docs/known-failure-classes.md names it; the
tests here cover what those left open. The classes that need a browser (a stale frame
after camera off, names and chat links in the call view) are in
tests/e2e/test_known_failure_classes_browser.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from aiortc.rtcicetransport import RTCIceGatherer
from call_helpers import (
    CALL_TYPES,
    CLARA,
    OFFER,
    admit,
    admitted_at,
    advisor_call,
    book_call,
    cookie,
    let_in,
    open_call,
    until_pong,
)
from device_check_helpers import agree, page_config, page_headers
from page_helpers import Booking, book, csrf_token, login, post_form
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from waiting_helpers import (
    IN_WINDOW,
    START,
    citizen,
    closed,
    fast_timing,
    greet,
    receive_until,
    record_consent,
    send,
    session_cookie,
    socket,
    staff,
)
from websockets.asyncio.client import ClientConnection

import videotermin
from conftest import PASSWORD, LiveServer, add_staff, start_server
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.call import admissions_hold
from videotermin.domain.clock import FakeClock
from videotermin.domain.journey import Slot
from videotermin.settings import Settings, load_settings
from videotermin.store.models import Appointment, Participant, StaffUser

__all__ = ["cookie", "fast_timing"]

SQLITE = pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
"""One database is enough: nothing here depends on the store's dialect."""

TURN_SECRET = "geheim-fuer-turn-1234"
ROOT = Path(videotermin.__file__).resolve().parents[2]
CLARA_WITH_NUMBER = replace(CLARA, customer_number="123D456")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "stun_urls": ["stun:127.0.0.1:3478"],
            "turn_urls": ["turn:127.0.0.1:3478"],
            "turn_secret": TURN_SECRET,
        }
    )


@pytest.fixture
async def booking(
    fast_timing: object,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> Booking:
    """Clara (citizen, with her customer number) and Ina (interpreter) agreed; the window
    is open."""
    return await book_call(db, settings, clock, clara=CLARA_WITH_NUMBER)


async def refused(ws: ClientConnection, message: dict[str, Any]) -> str:
    """Send ``message``; the code of the ``error`` it is answered with."""
    await send(ws, message)
    return str((await receive_until(ws, {"type": "error"}))["code"])


# --- a secret handed out on admission -----------------------------------------------------


@SQLITE
async def test_a_secret_handed_out_on_admission_only_the_admitted_get_the_calls_turn_key(
    live_server: LiveServer,
    booking: Booking,
    cookie: str,
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
) -> None:
    """Jitsi JSA-2024-0001: a secret handed out on admission. Videotermin's only secret of a
    call is the TURN credential in ``admitted``: the waiting page and ``welcome`` carry none,
    an admission hands it to the admitted person alone, valid until shortly after the call,
    and nothing a participant receives holds a link token, an address, the call key or the
    TURN secret."""
    clara_id, ina_id = booking.participant_ids
    room = await client.get(f"/v/{booking.tokens[0]}/warteraum")
    assert room.status_code == 200
    async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
        await open_call(advisor)
        async with (
            citizen(live_server, booking.tokens[0]) as clara,
            citizen(live_server, booking.tokens[1]) as ina,
        ):
            clara_saw = [await greet(clara)]
            ina_saw = [await greet(ina)]
            clara_saw += await until_pong(clara)
            await admit(advisor, clara_id)
            clara_saw.append(await receive_until(clara, {"type": "admitted"}))
            await receive_until(advisor, {"type": "peer_joined"})
            await send(advisor, {"type": "chat", "text": "Willkommen"})
            clara_saw.append(await receive_until(clara, {"type": "chat"}))
            clara_saw += await until_pong(clara)
            ina_saw += await until_pong(ina)

    admitted = next(m for m in clara_saw if m["type"] == "admitted")
    [turn] = [server for server in admitted["ice_servers"] if server.get("credential")]
    expires = int(turn["username"].split(":")[0])
    assert expires == int((START + timedelta(minutes=30 + 5)).timestamp()), "the call's end"
    before = [m for m in clara_saw[: clara_saw.index(admitted)]]
    for text in (room.text, json.dumps(before), json.dumps(ina_saw)):
        assert "turn:" not in text and "credential" not in text and "ice_servers" not in text
    assert not [m for m in ina_saw if m["type"] in CALL_TYPES], "Ina waits: nothing of it"
    async with db() as session:
        call_key = await session.scalar(
            select(Appointment.call_key).where(Appointment.id == booking.appointment_id)
        )
    assert call_key
    everything = room.text + json.dumps(clara_saw)
    for secret in (
        call_key,
        TURN_SECRET,
        cookie,
        booking.tokens[1],
        ina_id,
        "ina@example.org",
        "clara@example.org",
        "123D456",
    ):
        assert secret not in everything, secret
    assert await admitted_at(db, ina_id) is None


# --- identity taken from a client message --------------------------------------------------


@SQLITE
async def test_identity_taken_from_a_client_message_name_role_and_sender_come_from_the_server(
    live_server: LiveServer, booking: Booking, cookie: str
) -> None:
    """Jitsi JSA-2022-0004: identity taken from a client message. A ``role`` in ``hello``
    other than the endpoint's, and a ``name``, ``role`` or ``from`` in a chat, media or
    signal message, are refused; what the others see names the sender as the server knows
    them."""
    async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
        me, _ = await open_call(advisor)
        async with citizen(live_server, booking.tokens[0]) as clara:
            claims = [
                await refused(clara, {"type": "hello", "version": 1, "role": "advisor"}),
                await refused(clara, {"type": "hello", "version": 1, "role": "staff"}),
            ]
            clara_peer = (await let_in(advisor, clara, booking.participant_ids[0]))["self"]
            await receive_until(advisor, {"type": "peer_joined"})
            for forged in (
                {"type": "chat", "text": "Termin abgesagt", "name": "Bea Berater"},
                {"type": "chat", "text": "Termin abgesagt", "role": "advisor"},
                {"type": "chat", "text": "Termin abgesagt", "from": me["self"]},
                {"type": "media", "audio": True, "video": True, "screen": False, "id": me["self"]},
                {"type": "signal", "to": me["self"], "from": me["self"], "description": OFFER},
            ):
                claims.append(await refused(clara, forged))
            advisor_saw = await until_pong(advisor)
            await send(clara, {"type": "chat", "text": "Hier spricht die Beraterin"})
            line = await receive_until(advisor, {"type": "chat"})

    assert claims == ["invalid_message"] * 7
    assert not [m for m in advisor_saw if m["type"] in ("chat", "signal", "peer_updated")]
    assert (line["from"], line["name"], line["role"]) == (clara_peer, "Clara Kundin", "citizen")


# --- lobby bypass ------------------------------------------------------------------------------


@SQLITE
async def test_lobby_bypass_a_waiting_citizen_cannot_join_the_call_socket(
    live_server: LiveServer,
    booking: Booking,
    cookie: str,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    """Jitsi #7676, BigBlueButton Greenlight #1691: lobby bypass. A waiting citizen gets into
    the call neither through the advisor's socket (no staff login, a made-up one, the
    citizen's link as the session) nor by signalling the advisor directly; a person admitted
    to another appointment reaches nobody of this call."""
    other = await book(
        db,
        settings,
        clock,
        participants=[ParticipantDraft(name="Otto Fremd", email="otto@example.org")],
    )
    await record_consent(db, settings, other.participant_ids[0])
    path = f"/ws/call/{booking.appointment_id}"
    closes = []
    for forged in (None, "A" * 43, booking.tokens[0]):
        async with socket(live_server, path, origin=live_server.url, cookie=forged) as ws:
            closes.append(await closed(ws))

    async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
        me, _ = await open_call(advisor)
        async with advisor_call(live_server, cookie, other.appointment_id) as otto_advisor:
            await open_call(otto_advisor)
            async with (
                citizen(live_server, booking.tokens[0]) as clara,
                citizen(live_server, other.tokens[0]) as otto,
            ):
                await greet(clara)
                await let_in(otto_advisor, otto, other.participant_ids[0])
                codes = [
                    await refused(
                        clara, {"type": "signal", "to": me["self"], "description": OFFER}
                    ),
                    await refused(clara, {"type": "chat", "text": "Ich bin schon drin"}),
                    await refused(otto, {"type": "signal", "to": me["self"], "description": OFFER}),
                ]
                advisor_saw = await until_pong(advisor)
                clara_saw = await until_pong(clara)

    assert closes == [(4401, "login_required")] * 3
    assert codes == ["not_admitted", "not_admitted", "unknown_peer"]
    assert not [m for m in advisor_saw if m["type"] in ("signal", "chat", "peer_joined")]
    assert not [m for m in clara_saw if m["type"] in CALL_TYPES]
    assert await admitted_at(db, booking.participant_ids[0]) is None


@SQLITE
async def test_lobby_bypass_an_admission_does_not_outlive_a_reschedule(
    live_server: LiveServer,
    booking: Booking,
    cookie: str,
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    """Jitsi #7676, BigBlueButton Greenlight #1691: lobby bypass. An admission is for the
    sitting it was given in: when the advisor moves the appointment to another day, the
    citizen admitted today waits in the lobby on the new day until admitted again — and
    does not sit in the call before the advisor has even opened it."""
    clara_id = booking.participant_ids[0]
    async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
        await open_call(advisor)
        async with citizen(live_server, booking.tokens[0]) as clara:
            await let_in(advisor, clara, clara_id)
    page = f"/termine/{booking.appointment_id}"
    moved = await post_form(
        client,
        page,
        f"{page}/verschieben",
        {"date": "2026-12-04", "time": "10:00", "duration_minutes": "30", "subject": "Beratung"},
    )
    assert moved.status_code == 303, moved.text
    clock.set(IN_WINDOW + timedelta(days=1))

    async with citizen(live_server, booking.tokens[0]) as clara:
        await greet(clara)
        early = await until_pong(clara)
        await login(client)  # yesterday's login has expired
        cookie = session_cookie(client)
        async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
            _, waiting = await open_call(advisor)
            await admit(advisor, clara_id)
            again = await receive_until(clara, {"type": "admitted"})

    assert not [m for m in early if m["type"] in CALL_TYPES], "in the lobby, not the call"
    assert [p["id"] for p in waiting["participants"]] == [clara_id]
    assert again["peers"][0]["role"] == "advisor"
    assert await admitted_at(db, clara_id) == IN_WINDOW + timedelta(days=1)


@pytest.mark.parametrize(
    ("minutes", "moved_by", "longer_by", "holds"),
    [
        (-2, timedelta(minutes=3), timedelta(0), True),  # in the call: a little later
        (20, timedelta(0), timedelta(minutes=30), True),  # in the call: longer
        (-2, timedelta(days=1), timedelta(0), False),  # to another day
        (-2, timedelta(minutes=20), timedelta(0), False),  # past the open window
        (45, timedelta(hours=1), timedelta(0), False),  # over, then moved within the hour
        (45, timedelta(0), timedelta(minutes=60), False),  # over, then lengthened
    ],
)
def test_lobby_bypass_an_admission_holds_only_while_its_sitting_goes_on(
    minutes: int, moved_by: timedelta, longer_by: timedelta, holds: bool
) -> None:
    """Jitsi #7676, BigBlueButton Greenlight #1691: the rule behind the test above. Moving or
    lengthening the appointment while its call runs keeps everyone in the call; any other
    move sends the next sitting through the waiting room."""
    before = Slot(START, 30, "scheduled")
    after = Slot(START + moved_by, 30 + int(longer_by.total_seconds() // 60), "scheduled")
    now = START + timedelta(minutes=minutes)
    assert admissions_hold(before, after, now, early_minutes=5) is holds


# --- a moderator action unchecked on the server ------------------------------------------------


@SQLITE
async def test_a_moderator_action_unchecked_on_the_server_nobody_mutes_or_moves_another_peer(
    live_server: LiveServer,
    booking: Booking,
    cookie: str,
    db: async_sessionmaker[AsyncSession],
) -> None:
    """Nextcloud Talk CVE-2026-45266: a participant muted others through a signaling message
    the server did not check. Here ``media`` states only the sender's own devices (a target
    is refused), there is no message to mute or unmute someone else, the staff live list
    and the support view take no call actions, and an admitted interpreter may not admit,
    remove or end."""
    clara_id, ina_id = booking.participant_ids
    async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
        me, _ = await open_call(advisor)
        await send(advisor, {"type": "media", "audio": True, "video": True, "screen": False})
        async with (
            citizen(live_server, booking.tokens[0]) as clara,
            citizen(live_server, booking.tokens[1]) as ina,
        ):
            await greet(clara)
            await greet(ina)
            await admit(advisor, "all")
            clara_peer = (await receive_until(clara, {"type": "admitted"}))["self"]
            ina_admitted = await receive_until(ina, {"type": "admitted"})
            codes = [
                await refused(ina, {"type": "mute", "participant": me["self"]}),
                await refused(ina, {"type": "media", "audio": False, "video": False}),
                await refused(
                    ina,
                    {
                        "type": "media",
                        "audio": False,
                        "video": False,
                        "screen": False,
                        "to": me["self"],
                    },
                ),
                await refused(ina, {"type": "remove", "participant": clara_peer}),
                await refused(ina, {"type": "admit", "participant": "all"}),
                await refused(ina, {"type": "end"}),
            ]
            await send(ina, {"type": "media", "audio": True, "video": False, "screen": False})
            clara_saw = await until_pong(clara)
            while not [m for m in clara_saw if m["type"] == "peer_updated"]:
                clara_saw.append(await receive_until(clara, {"type": "peer_updated"}))
            async with staff(live_server, cookie) as live:
                await greet(live, watch=[booking.appointment_id], view="appointment")
                codes.append(await refused(live, {"type": "admit", "participant": clara_id}))
                codes.append(await refused(live, {"type": "end"}))
            advisor_saw = await until_pong(advisor)

    assert codes == [
        "unknown_type",
        "invalid_message",
        "invalid_message",
        "not_allowed",
        "not_allowed",
        "not_allowed",
        "unknown_type",
        "unknown_type",
    ]
    advisor_seen_by_ina = next(p for p in ina_admitted["peers"] if p["id"] == me["self"])
    assert (advisor_seen_by_ina["audio"], advisor_seen_by_ina["video"]) == (True, True)
    updates = [m["peer"] for m in clara_saw + advisor_saw if m["type"] == "peer_updated"]
    assert updates and {peer["id"] for peer in updates} == {ina_admitted["self"]}
    assert not [m for m in advisor_saw if m["type"] in ("removed", "state", "peer_left")]
    assert await admitted_at(db, clara_id) == await admitted_at(db, ina_id) == IN_WINDOW


# --- password brute force and session fixation ---------------------------------------------


@SQLITE
async def test_session_fixation_a_cookie_planted_before_login_is_replaced_and_worthless(
    live_server: LiveServer, advisor: StaffUser, db: async_sessionmaker[AsyncSession]
) -> None:
    """GHSA-pf36-jvpv-4hwq, CVE-2021-32676: password brute force and session fixation. A
    session cookie set in the victim's browser before the login — made up, or the attacker's
    own valid session — never becomes the victim's session: the login issues a new token,
    and the planted one opens nothing of the victim's."""
    await add_staff(db, "angreifer", display_name="Anton Angreifer")
    async with httpx.AsyncClient(base_url=live_server.url) as attacker:
        await login(attacker, "angreifer")
        attackers_own = session_cookie(attacker)
    for planted in ("Q" * 43, attackers_own):
        async with httpx.AsyncClient(base_url=live_server.url) as victim:
            form = csrf_token((await victim.get("/login")).text)
            victim.cookies.set("vt_session", planted)
            answer = await victim.post(
                "/login", data={"csrf_token": form, "username": "berater", "password": PASSWORD}
            )
        assert answer.status_code == 303
        issued = answer.cookies["vt_session"]
        assert issued and issued != planted
        async with httpx.AsyncClient(
            base_url=live_server.url, cookies={"vt_session": issued}
        ) as victim:
            assert "Bea Berater" in (await victim.get("/termine")).text
        async with httpx.AsyncClient(
            base_url=live_server.url, cookies={"vt_session": planted}
        ) as replay:
            page = await replay.get("/termine")
            assert page.status_code == 303, "the planted cookie is no login"
            assert page.headers["location"].startswith("/login")
            async with staff(live_server, planted) as ws:
                assert await closed(ws) == (4401, "login_required")


# --- XSS through a display name ----------------------------------------------------------------

EVIL = '<img src=x onerror="alert(1)">Eve</b>'
EVIL_HTML = "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;Eve&lt;/b&gt;"


def shown_as_text(html: str, where: str) -> None:
    assert "<img" not in html and "</b>" not in html, f"{where}: markup from a name"
    assert EVIL_HTML in html or EVIL_HTML.replace("&#34;", "&quot;") in html, where


@SQLITE
async def test_xss_through_a_display_name_is_text_in_live_rows_support_view_and_page_data(
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    fast_timing: object,
) -> None:
    """BigBlueButton CVE-2022-31064: XSS through a display name. A citizen's and an advisor's
    name carrying markup stay text where the server renders them for scripts: the staff
    live list's rows and the support view over their sockets, the support desk page, and
    the JSON the call and waiting room pages hand their scripts (which set names as text,
    see the browser test)."""
    await add_staff(db, "eve", display_name=EVIL)
    booking = await book(
        db,
        settings,
        clock,
        advisor="eve",
        participants=[ParticipantDraft(name=EVIL, email="eve@example.org")],
    )
    await record_consent(db, settings, booking.participant_ids[0])
    await add_staff(db, "hilfe", role="support")
    clock.set(IN_WINDOW)
    async with db() as session:
        code = await session.scalar(
            select(Participant.support_code).where(Participant.id == booking.participant_ids[0])
        )
    assert code
    async with (
        httpx.AsyncClient(base_url=live_server.url) as desk,
        httpx.AsyncClient(base_url=live_server.url) as helper,
    ):
        await login(desk, "eve")
        await login(helper, "hilfe")
        call_page = (await desk.get(f"/appointments/{booking.appointment_id}/call")).text
        room_page = (await desk.get(f"/v/{booking.tokens[0]}/warteraum")).text
        found = await post_form(helper, "/support", "/support", {"code": code})
        support_page = (await helper.get(found.headers["location"])).text
        async with (
            staff(live_server, session_cookie(desk)) as live,
            socket(
                live_server, "/ws/support", origin=live_server.url, cookie=session_cookie(helper)
            ) as view,
        ):
            await greet(live, watch=[booking.appointment_id], view="appointment")
            await greet(view, participant=booking.participant_ids[0])
            async with citizen(live_server, booking.tokens[0]) as eve:
                await greet(eve)
                row = await receive_until(live, {"type": "participant", "entered": True})
                details = await receive_until(view, {"type": "support"})
                while "Warteraum" not in details["html"]:
                    details = await receive_until(view, {"type": "support"})

    shown_as_text(row["html"], "the live list's row")
    shown_as_text(details["html"], "the support view")
    shown_as_text(support_page, "the support desk page")
    for page in (call_page, room_page):
        assert "<img" not in page, "a name inside the page's JSON closes no script element"
        assert '"\\u003cimg src=x onerror=\\"alert(1)\\"\\u003eEve\\u003c/b\\u003e"' in page


# --- third-party STUN/TURN by default ----------------------------------------------------------

_ICE_URL = re.compile(r"\b(stuns?|turns?):(?!//)[\w.\[\]-]*[\w\]]")
"""``stun:host`` / ``turn:host`` / ``turns:host`` as an ICE server URL is written."""
_ICE_HOST = re.compile(r"\b(stun|turn)s?[0-9]*\.[a-z0-9.-]+\.[a-z]{2,}\b", re.I)
"""A host named like a STUN/TURN server (``stun.l.google.com``), even without a scheme."""
_PROVIDERS = re.compile(
    r"\b(google\.com|twilio\.com|xirsys\.com|metered\.ca|cloudflare\.com|mozilla\.(com|org)"
    r"|stunprotocol\.org)\b",
    re.I,
)
"""Domains of public STUN/TURN services."""


def shipped_files() -> list[Path]:
    """What is served or deployed: the package's code, templates and static files, and
    the deployment examples."""
    suffixes = {".py", ".js", ".html", ".css", ".txt", ".md", ".conf", ".example", ".service"}
    roots = [ROOT / "src" / "videotermin", ROOT / "deploy"]
    return [
        path
        for root in roots
        for path in sorted(root.rglob("*"))
        if path.is_file() and (path.suffix in suffixes or path.name.endswith(".example"))
    ]


def test_third_party_stun_turn_by_default_no_ice_server_is_built_in_or_shipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CVE-2020-27611: third-party STUN/TURN by default. Unset, there is no STUN or TURN
    server at all; no browser script, template, code or deployment example names one but
    the operator's own placeholder host."""
    for name in ("STUN_URLS", "TURN_URLS", "TURN_SECRET", "ICE_TRANSPORT_POLICY"):
        monkeypatch.delenv(f"VIDEOTERMIN_{name}", raising=False)
    defaults = load_settings()
    assert (defaults.stun_urls, defaults.turn_urls, defaults.turn_secret) == ([], [], None)

    files = shipped_files()
    assert any(path.name == "call.js" for path in files) and any(
        path.name == "env.example" for path in files
    )
    named: set[str] = set()
    hosts: set[str] = set()
    for path in files:
        text = path.read_text("utf-8")
        provider = _PROVIDERS.search(text)
        assert provider is None, f"{path.relative_to(ROOT)} names {provider.group(0)}"
        named |= {match.group(0) for match in _ICE_URL.finditer(text)}
        hosts |= {match.group(0).lower() for match in _ICE_HOST.finditer(text)}
    assert named, "the deployment example names the operator's own server"
    hosts |= {re.split(r"[:?]", url.split(":", 1)[1])[0] for url in named}
    assert hosts == {"turn.example.org"}, named


@SQLITE
async def test_third_party_stun_turn_by_default_pages_calls_and_the_echo_use_none(
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    fast_timing: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CVE-2020-27611: third-party STUN/TURN by default. With STUN and TURN unset the device
    check page and the call's ``admitted`` hand browsers no ICE server, and the echo peer
    answers a test call without falling back on aiortc's built-in Google STUN server."""
    for name in ("STUN_URLS", "TURN_URLS", "TURN_SECRET", "ICE_TRANSPORT_POLICY"):
        monkeypatch.delenv(f"VIDEOTERMIN_{name}", raising=False)
    defaults = load_settings()
    unset = settings.model_copy(
        update={
            "stun_urls": defaults.stun_urls,
            "turn_urls": defaults.turn_urls,
            "turn_secret": defaults.turn_secret,
        }
    )
    fallbacks: list[str] = []
    builtin = RTCIceGatherer.getDefaultIceServers.__func__  # type: ignore[attr-defined]

    def counted(cls: type[RTCIceGatherer]) -> Any:
        fallbacks.append("aiortc's default ICE servers")
        return builtin(cls)

    monkeypatch.setattr(RTCIceGatherer, "getDefaultIceServers", classmethod(counted))
    RTCIceGatherer()
    assert fallbacks, "the watch on aiortc's fallback works"
    fallbacks.clear()

    booking = await book(db, settings, clock)
    await agree(db, settings, booking.participant_ids[0])
    clock.set(IN_WINDOW)
    server = start_server(unset, clock)
    caller = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            check = page_config((await http.get("/check")).text)
            headers = await page_headers(http, f"/v/{booking.tokens[0]}/geraete")
            caller.addTrack(AudioStreamTrack())
            caller.addTrack(VideoStreamTrack())
            await caller.setLocalDescription(await caller.createOffer())
            echo = await http.post(
                f"/v/{booking.tokens[0]}/geraete/anruf",
                json={"type": "offer", "sdp": caller.localDescription.sdp},
                headers=headers,
            )
            await login(http)
            async with advisor_call(server, session_cookie(http), booking.appointment_id) as desk:
                advisors, _ = await open_call(desk)
                async with citizen(server, booking.tokens[0]) as clara:
                    await greet(clara)
                    await admit(desk, booking.participant_ids[0])
                    citizens = await receive_until(clara, {"type": "admitted"})
    finally:
        await caller.close()
        server.stop()

    assert check["iceServers"] == []
    assert advisors["ice_servers"] == citizens["ice_servers"] == []
    assert echo.status_code == 200, echo.text
    assert "a=candidate:" in echo.json()["sdp"]
    assert fallbacks == [], "the echo peer fell back on a third-party STUN server"


# --- media fetched from URLs other participants send --------------------------------------------

_FETCHING = ("img-src", "media-src", "connect-src", "default-src", "font-src", "style-src")


def fetch_sources(policy: str) -> dict[str, set[str]]:
    """The sources each fetch directive allows, read as a browser reads the policy: the
    first of a repeated directive counts, a missing one falls back to ``default-src``."""
    directives: dict[str, set[str]] = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        directives.setdefault(name, set(sources))
    return {name: directives.get(name, directives["default-src"]) for name in _FETCHING}


@SQLITE
async def test_media_fetched_from_urls_other_participants_send_no_url_field_and_self_only(
    live_server: LiveServer, booking: Booking, cookie: str, client: httpx.AsyncClient
) -> None:
    """Jitsi CVE-2024-44080: media fetched from URLs other participants send. A participant
    can attach no URL to themselves (no avatar, picture or link field in any message), a
    chat line arrives as the text it was, and the call pages may fetch images, media and
    connections from this site alone, so no page loads what a participant points at."""
    line = "Mein Bild: https://evil.example/a.png <img src=https://evil.example/p.gif>"
    async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
        await open_call(advisor)
        async with citizen(live_server, booking.tokens[0]) as clara:
            codes = [
                await refused(
                    clara, {"type": "hello", "version": 1, "avatar": "https://evil.example/a.png"}
                )
            ]
            await greet(clara)
            await admit(advisor, booking.participant_ids[0])
            await receive_until(clara, {"type": "admitted"})
            joined = await receive_until(advisor, {"type": "peer_joined"})
            for attached in (
                {"type": "media", "audio": True, "video": True, "screen": False, "avatar": "x"},
                {"type": "chat", "text": "Hallo", "image": "https://evil.example/a.png"},
                {"type": "chat", "text": "Hallo", "html": "<img src=https://evil.example/>"},
            ):
                codes.append(await refused(clara, attached))
            await send(clara, {"type": "chat", "text": line})
            chat = await receive_until(advisor, {"type": "chat"})
    call_page = await client.get(f"/appointments/{booking.appointment_id}/call")
    room_page = await client.get(f"/v/{booking.tokens[0]}/warteraum")

    assert codes == ["invalid_message"] * 4
    assert set(joined["peer"]) == {"id", "name", "role", "audio", "video", "screen", "connection"}
    assert set(chat) == {"type", "from", "name", "role", "text", "at"}
    assert chat["text"] == line, "relayed as the text it was; the page sets it as text"
    allowed = {"'self'", "data:", "blob:"}
    for page in (call_page, room_page):
        assert page.status_code == 200
        for directive, sources in fetch_sources(page.headers["content-security-policy"]).items():
            assert sources and sources <= allowed, (directive, sources)
        assert "https://" not in page.headers["content-security-policy"]
