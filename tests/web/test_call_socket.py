"""The call over raw WebSockets against the real app: admission, the relay with server-set
senders, authority on the server (citizens cannot admit, remove or end; the not admitted
get nothing of the call), removal, ending, reloads, drops, takeover and the mesh limit."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta

import httpx
import pytest
from call_helpers import (
    CALL_TYPES,
    OFFER,
    admit,
    admitted_at,
    advisor_call,
    booking,
    collect,
    cookie,
    let_in,
    open_call,
    status_of,
    until_pong,
)
from page_helpers import Booking, login
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from waiting_helpers import (
    IN_WINDOW,
    START,
    after_the_grace,
    citizen,
    closed,
    fast_timing,
    greet,
    receive,
    receive_until,
    send,
    session_cookie,
    socket,
    staff,
)
from websockets.exceptions import InvalidStatus

from conftest import LiveServer, add_staff, start_server
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import DeviceCheck

__all__ = ["booking", "cookie", "fast_timing"]

TURN_SECRET = "geheim-fuer-turn"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "stun_urls": ["stun:127.0.0.1:3478"],
            "turn_urls": ["turn:127.0.0.1:3478"],
            "turn_secret": TURN_SECRET,
            "turn_credential_ttl_seconds": 6 * 3600,
        }
    )


# --- admission -----------------------------------------------------------------------------


async def test_admission_hands_the_citizen_ice_servers_and_both_sides_the_peers(
    live_server: LiveServer,
    booking: Booking,
    cookie: str,
    db: async_sessionmaker[AsyncSession],
) -> None:
    clara = booking.participant_ids[0]
    async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
        me, waiting = await open_call(advisor)
        assert me["peers"] == [] and me["max_participants"] == 4
        assert waiting["participants"] == []

        async with citizen(live_server, booking.tokens[0]) as ws:
            welcome = await greet(ws)
            assert "ice_servers" not in welcome
            listed = await receive_until(advisor, {"type": "waiting"})
            assert [(p["id"], p["name"], p["role"]) for p in listed["participants"]] == [
                (clara, "Clara Kundin", "citizen")
            ]
            assert not [m for m in await until_pong(ws) if m["type"] in CALL_TYPES]

            await admit(advisor, clara)
            admitted = await receive_until(ws, {"type": "admitted"})
            seen = await collect(advisor, "peer_joined", "waiting")
            joined, emptied = seen["peer_joined"], seen["waiting"]

    assert admitted["peers"] == [
        {
            "id": me["self"],
            "name": "Bea Berater",
            "role": "advisor",
            "audio": False,
            "video": False,
            "screen": False,
            "connection": "connected",
        }
    ]
    assert joined["peer"]["id"] == admitted["self"] != me["self"]
    assert joined["peer"]["name"] == "Clara Kundin"
    assert emptied["participants"] == []
    assert admitted["ice_transport_policy"] == "all"
    stun, turn = admitted["ice_servers"]
    assert stun["urls"] == ["stun:127.0.0.1:3478"]
    # Valid for the call and five minutes more, not the six hours a device check gets.
    call_over = START + timedelta(minutes=30 + 5)
    for ice_servers in (admitted["ice_servers"], me["ice_servers"]):
        expiry, _ = ice_servers[1]["username"].split(":")
        assert int(expiry) == int(call_over.timestamp())
    expected = hmac.new(TURN_SECRET.encode(), turn["username"].encode(), hashlib.sha1).digest()
    assert turn["credential"] == base64.b64encode(expected).decode()
    assert await admitted_at(db, clara) == IN_WINDOW


async def test_signal_chat_and_media_are_relayed_with_the_sender_set_by_the_server(
    live_server: LiveServer, booking: Booking, cookie: str
) -> None:
    async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
        me, _ = await open_call(advisor)
        async with citizen(live_server, booking.tokens[0]) as ws:
            clara = (await let_in(advisor, ws, booking.participant_ids[0]))["self"]

            forged = {"type": "signal", "to": me["self"], "from": me["self"], "description": OFFER}
            await send(ws, forged)
            refused = await receive_until(ws, {"type": "error"})
            big_sdp = {"type": "offer", "sdp": "a=x\r\n" * 3000}
            await send(ws, {"type": "signal", "to": me["self"], "description": big_sdp})
            offer = await receive_until(advisor, {"type": "signal"})
            await send(advisor, {"type": "signal", "to": clara, "candidate": {"candidate": "c"}})
            candidate = await receive_until(ws, {"type": "signal"})

            await send(ws, {"type": "chat", "text": "  <b>Hallo</b>  "})
            chat_advisor = await receive_until(advisor, {"type": "chat"})
            chat_echo = await receive_until(ws, {"type": "chat"})
            await send(ws, {"type": "media", "audio": False, "video": True, "screen": False})
            updated = await receive_until(advisor, {"type": "peer_updated"})
            await send(ws, {"type": "media", "audio": True, "video": True, "pad": "x" * 5000})
            too_large = await receive_until(ws, {"type": "error"})

    assert refused["code"] == "invalid_message" and refused["ref"] == "signal"
    assert offer == {"type": "signal", "from": clara, "description": big_sdp, "candidate": None}
    assert candidate["from"] == me["self"] and candidate["description"] is None
    assert candidate["candidate"]["candidate"] == "c"
    assert chat_advisor == chat_echo
    assert chat_advisor["from"] == clara and chat_advisor["name"] == "Clara Kundin"
    assert chat_advisor["role"] == "citizen" and chat_advisor["text"] == "<b>Hallo</b>"
    assert updated["peer"]["id"] == clara
    assert (updated["peer"]["audio"], updated["peer"]["video"]) == (False, True)
    assert too_large["code"] == "too_large"


# --- authority ---------------------------------------------------------------------------------


async def test_a_citizen_never_admitted_gets_nothing_of_the_call(
    live_server: LiveServer, booking: Booking, cookie: str
) -> None:
    async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
        me, _ = await open_call(advisor)
        async with citizen(live_server, booking.tokens[0]) as clara_ws:
            clara = (await let_in(advisor, clara_ws, booking.participant_ids[0]))["self"]
            async with citizen(live_server, booking.tokens[1]) as ina:
                await greet(ina)
                attempts = [
                    {"type": "signal", "to": me["self"], "description": OFFER},
                    {"type": "signal", "to": clara, "candidate": None},
                    {"type": "media", "audio": True, "video": True, "screen": True},
                    {"type": "chat", "text": "Ich bin der Berater"},
                    {"type": "leave"},
                ]
                answers = []
                for attempt in attempts:
                    await send(ina, attempt)
                    answers.append(await receive_until(ina, {"type": "error"}))
                await send(clara_ws, {"type": "chat", "text": "nur für den Anruf"})
                await send(advisor, {"type": "signal", "to": clara, "description": OFFER})
                await receive_until(clara_ws, {"type": "signal"})
                ina_saw = await until_pong(ina)
                advisor_saw = await until_pong(advisor)

    assert [a["code"] for a in answers] == ["not_admitted"] * 5
    assert not [m for m in ina_saw if m["type"] in CALL_TYPES], ina_saw
    assert not [m for m in advisor_saw if m["type"] == "signal"], advisor_saw
    assert [m["text"] for m in advisor_saw if m["type"] == "chat"] == ["nur für den Anruf"]


async def test_a_citizen_claiming_to_be_the_advisor_is_refused_and_nothing_changes(
    live_server: LiveServer,
    booking: Booking,
    cookie: str,
    db: async_sessionmaker[AsyncSession],
) -> None:
    clara_id, ina_id = booking.participant_ids
    async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
        me, _ = await open_call(advisor)
        async with citizen(live_server, booking.tokens[0]) as clara:
            clara_peer = (await let_in(advisor, clara, clara_id))["self"]
            async with citizen(live_server, booking.tokens[1]) as ina:
                await greet(ina)
                claims = [
                    (clara, {"type": "admit", "participant": ina_id}),
                    (clara, {"type": "admit", "participant": "all"}),
                    (clara, {"type": "remove", "participant": me["self"]}),
                    (ina, {"type": "remove", "participant": clara_peer}),
                    (ina, {"type": "remove", "participant": clara_id}),
                    (ina, {"type": "admit", "participant": ina_id}),
                    (clara, {"type": "end"}),
                    (ina, {"type": "end"}),
                ]
                codes = []
                for ws, claim in claims:
                    await send(ws, claim)
                    codes.append((await receive_until(ws, {"type": "error"}))["code"])
                clara_saw = await until_pong(clara)
                advisor_saw = await until_pong(advisor)
                ina_saw = await until_pong(ina)

    assert codes == ["not_allowed"] * len(claims)
    assert await admitted_at(db, ina_id) is None
    assert await admitted_at(db, clara_id) == IN_WINDOW
    assert await status_of(db, booking.appointment_id) == "scheduled"
    for seen in (clara_saw, advisor_saw, ina_saw):
        assert not [m for m in seen if m["type"] in ("peer_left", "removed", "state", "admitted")]


async def test_a_removed_participant_must_be_admitted_again(
    live_server: LiveServer,
    booking: Booking,
    cookie: str,
    db: async_sessionmaker[AsyncSession],
) -> None:
    clara_id = booking.participant_ids[0]
    async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
        await open_call(advisor)
        async with citizen(live_server, booking.tokens[0]) as clara:
            peer = (await let_in(advisor, clara, clara_id))["self"]
            await receive_until(advisor, {"type": "peer_joined"})

            await send(advisor, {"type": "remove", "participant": peer})
            assert await receive(clara) == {"type": "removed"}
            assert await closed(clara) == (4417, "removed")
        left = await receive_until(advisor, {"type": "peer_left"})
        assert await admitted_at(db, clara_id) is None

        async with citizen(live_server, booking.tokens[0]) as again:
            await greet(again)
            await send(again, {"type": "chat", "text": "bin wieder da"})
            refused = await receive_until(again, {"type": "error"})
            listed = await receive_until(advisor, {"type": "waiting"})
            assert not [m for m in await until_pong(again) if m["type"] in CALL_TYPES]

            await admit(advisor, clara_id)
            readmitted = await receive_until(again, {"type": "admitted"})

    assert left == {"type": "peer_left", "id": peer, "reason": "removed"}
    assert refused["code"] == "not_admitted"
    assert [p["id"] for p in listed["participants"]] == [clara_id]
    assert readmitted["self"] == peer


async def test_ending_the_call_ends_it_for_everyone(
    live_server: LiveServer,
    booking: Booking,
    cookie: str,
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
) -> None:
    async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
        await open_call(advisor)
        async with (
            citizen(live_server, booking.tokens[0]) as clara,
            citizen(live_server, booking.tokens[1]) as ina,
        ):
            await greet(clara)
            await greet(ina)
            await admit(advisor, booking.participant_ids[0])
            await receive_until(clara, {"type": "admitted"})

            await send(advisor, {"type": "end"})

            for ws in (advisor, clara, ina):
                assert await receive_until(ws, {"type": "state"}) == {
                    "type": "state",
                    "state": "ended",
                }
                assert await closed(ws) == (4411, "ended")

    assert await status_of(db, booking.appointment_id) == "completed"
    link = await client.get(f"/v/{booking.tokens[0]}")
    assert "Dieser Termin ist vorbei" in link.text


async def test_hanging_up_ends_the_admission(
    live_server: LiveServer,
    booking: Booking,
    cookie: str,
    db: async_sessionmaker[AsyncSession],
) -> None:
    async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
        await open_call(advisor)
        async with citizen(live_server, booking.tokens[0]) as clara:
            peer = (await let_in(advisor, clara, booking.participant_ids[0]))["self"]
            await send(clara, {"type": "leave"})
            assert await closed(clara) == (4418, "left")
        left = await receive_until(advisor, {"type": "peer_left"})

    assert left == {"type": "peer_left", "id": peer, "reason": "left"}
    assert await admitted_at(db, booking.participant_ids[0]) is None


# --- reloads, drops, takeover --------------------------------------------------------------


async def test_a_reload_rejoins_with_the_same_peer_id_without_admission(
    live_server: LiveServer, booking: Booking, cookie: str
) -> None:
    async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
        me, _ = await open_call(advisor)
        async with citizen(live_server, booking.tokens[0]) as clara:
            first = await let_in(advisor, clara, booking.participant_ids[0])
            await receive_until(advisor, {"type": "peer_joined"})

        async with citizen(live_server, booking.tokens[0]) as reloaded:
            await greet(reloaded)
            again = await receive(reloaded)
            joined = await receive_until(advisor, {"type": "peer_joined"})

    assert again["type"] == "admitted"
    assert again["self"] == first["self"]
    assert [p["id"] for p in again["peers"]] == [me["self"]]
    assert joined["peer"]["id"] == first["self"]
    assert joined["peer"]["connection"] == "connected"


async def test_a_dropped_participant_is_reconnecting_then_gone_after_the_grace(
    live_server: LiveServer, booking: Booking, cookie: str, clock: FakeClock
) -> None:
    async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
        await open_call(advisor)
        async with citizen(live_server, booking.tokens[0]) as clara:
            peer = (await let_in(advisor, clara, booking.participant_ids[0]))["self"]
            await receive_until(advisor, {"type": "peer_joined"})

        dropped = await receive_until(advisor, {"type": "peer_updated"})
        left = await after_the_grace(clock, advisor, {"type": "peer_left"})

    assert dropped["peer"]["id"] == peer
    assert dropped["peer"]["connection"] == "reconnecting"
    assert left == {"type": "peer_left", "id": peer, "reason": "left"}


async def test_a_second_tab_takes_the_call_seat(
    live_server: LiveServer, booking: Booking, cookie: str
) -> None:
    async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
        await open_call(advisor)
        async with citizen(live_server, booking.tokens[0]) as first:
            peer = (await let_in(advisor, first, booking.participant_ids[0]))["self"]
            await receive_until(advisor, {"type": "peer_joined"})
            async with citizen(live_server, booking.tokens[0]) as second:
                await greet(second)
                seat = await receive(second)
                assert await receive_until(first, {"type": "replaced"}) == {"type": "replaced"}
                assert await closed(first) == (4409, "replaced")
                rejoined = await receive_until(advisor, {"type": "peer_joined"})
                await send(advisor, {"type": "chat", "text": "Hallo zweiter Tab"})
                chat = await receive_until(second, {"type": "chat"})

    assert seat["type"] == "admitted" and seat["self"] == peer
    assert rejoined["peer"]["id"] == peer
    assert chat["text"] == "Hallo zweiter Tab"


async def test_the_advisors_second_tab_takes_the_staff_seat(
    live_server: LiveServer, booking: Booking, cookie: str
) -> None:
    async with advisor_call(live_server, cookie, booking.appointment_id) as first:
        me, _ = await open_call(first)
        async with advisor_call(live_server, cookie, booking.appointment_id) as second:
            again, _ = await open_call(second)
            assert await receive_until(first, {"type": "replaced"}) == {"type": "replaced"}
            assert await closed(first) == (4409, "replaced")

    assert again["self"] == me["self"]


# --- limits and who may open the call -------------------------------------------------------


async def test_the_mesh_limit_refuses_admission_with_call_full(
    live_server: LiveServer,
    booking: Booking,
    cookie: str,
    settings: Settings,
    db: async_sessionmaker[AsyncSession],
) -> None:
    assert settings.call_max_participants == 4
    clara_id, ina_id = booking.participant_ids
    async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
        await open_call(advisor)
        async with (
            citizen(live_server, booking.tokens[0]) as clara,
            citizen(live_server, booking.tokens[1]) as ina,
        ):
            await greet(clara)
            await greet(ina)
            await receive_until(advisor, {"type": "waiting"})
            await receive_until(advisor, {"type": "waiting"})
            await send(advisor, {"type": "admit", "participant": "nobody-waits-by-this-id"})
            nobody = await receive_until(advisor, {"type": "error"})
            await admit(advisor, "all")
            await receive_until(clara, {"type": "admitted"})
            await receive_until(ina, {"type": "admitted"})

    assert nobody["code"] == "not_waiting"
    assert await admitted_at(db, clara_id) == await admitted_at(db, ina_id) == IN_WINDOW


@pytest.fixture
def small_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"call_max_participants": 2})


async def test_a_full_call_admits_nobody_more(
    booking: Booking,
    small_settings: Settings,
    clock: FakeClock,
    db: async_sessionmaker[AsyncSession],
) -> None:
    server = start_server(small_settings, clock)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            await login(http)
            cookie = session_cookie(http)
            async with advisor_call(server, cookie, booking.appointment_id) as advisor:
                me, _ = await open_call(advisor)
                async with (
                    citizen(server, booking.tokens[0]) as clara,
                    citizen(server, booking.tokens[1]) as ina,
                ):
                    await greet(clara)
                    await greet(ina)
                    await receive_until(advisor, {"type": "waiting"})
                    await receive_until(advisor, {"type": "waiting"})
                    await admit(advisor, "all")
                    all_refused = await receive_until(advisor, {"type": "error"})
                    await admit(advisor, booking.participant_ids[0])
                    await receive_until(clara, {"type": "admitted"})
                    await admit(advisor, booking.participant_ids[1])
                    one_refused = await receive_until(advisor, {"type": "error"})
                    ina_saw = await until_pong(ina)
    finally:
        server.stop()

    assert me["max_participants"] == 2
    assert all_refused["code"] == one_refused["code"] == "call_full"
    assert await admitted_at(db, booking.participant_ids[1]) is None
    assert not [m for m in ina_saw if m["type"] in CALL_TYPES]


async def test_only_the_appointments_advisor_opens_its_call(
    live_server: LiveServer, booking: Booking, cookie: str, db: async_sessionmaker[AsyncSession]
) -> None:
    await add_staff(db, "kollegin", role="advisor")
    async with httpx.AsyncClient(base_url=live_server.url) as other:
        await login(other, "kollegin")
        async with advisor_call(live_server, session_cookie(other), booking.appointment_id) as ws:
            assert await closed(ws) == (4403, "forbidden")
    async with advisor_call(live_server, cookie, "no-such-appointment") as ws:
        assert await closed(ws) == (4403, "forbidden")
    async with socket(
        live_server, f"/ws/call/{booking.appointment_id}", origin=live_server.url
    ) as ws:
        assert await closed(ws) == (4401, "login_required")
    with pytest.raises(InvalidStatus) as refused:
        async with advisor_call(
            live_server, cookie, booking.appointment_id, origin="http://evil.example"
        ):
            pass
    assert refused.value.response.status_code == 403


# --- the waiting list on the advisor's call socket ---------------------------------------------


async def test_a_waiting_person_who_leaves_disappears_from_the_list_at_once(
    live_server: LiveServer, booking: Booking, cookie: str
) -> None:
    async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
        await open_call(advisor)
        async with citizen(live_server, booking.tokens[0]) as clara:
            await greet(clara)
            listed = await receive_until(advisor, {"type": "waiting"})
        gone = await receive_until(advisor, {"type": "waiting"})

    assert [p["id"] for p in listed["participants"]] == [booking.participant_ids[0]]
    assert listed["participants"][0]["since"] == IN_WINDOW.isoformat().replace("+00:00", "Z")
    assert gone["participants"] == []


async def test_the_advisors_reconnect_restores_the_list_and_admits_nobody(
    live_server: LiveServer,
    booking: Booking,
    cookie: str,
    db: async_sessionmaker[AsyncSession],
) -> None:
    async with citizen(live_server, booking.tokens[0]) as clara:
        await greet(clara)
        async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
            _, first = await open_call(advisor)
        async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
            _, again = await open_call(advisor)
        clara_saw = await until_pong(clara)

    assert [p["id"] for p in first["participants"]] == [booking.participant_ids[0]]
    assert again["participants"] == first["participants"]
    assert await admitted_at(db, booking.participant_ids[0]) is None
    assert not [m for m in clara_saw if m["type"] in CALL_TYPES]


async def test_the_advisors_list_offers_abholen_and_shows_im_gespraech(
    live_server: LiveServer, booking: Booking, cookie: str
) -> None:
    clara_id = booking.participant_ids[0]
    async with staff(live_server, cookie) as rows:
        await greet(rows, watch=[booking.appointment_id], view="appointment")
        async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
            await open_call(advisor)
            async with citizen(live_server, booking.tokens[0]) as clara:
                await greet(clara)
                waiting = await receive_until(rows, {"type": "participant", "entered": True})
                await admit(advisor, clara_id)
                await receive_until(clara, {"type": "admitted"})
                for _ in range(10):
                    row = await receive_until(
                        rows, {"type": "participant", "participant_id": clara_id}
                    )
                    if "im Gespräch" in row["html"]:
                        break

    link = f'href="/appointments/{booking.appointment_id}/call?admit={clara_id}"'
    assert link in waiting["html"] and "Abholen" in waiting["html"]
    assert "im Gespräch" in row["html"]
    assert "Abholen" not in row["html"] and "wartet seit" not in row["html"]


# --- metrics -------------------------------------------------------------------------------


async def test_an_admission_and_the_call_sockets_show_in_the_metrics(
    live_server: LiveServer, booking: Booking, cookie: str, client: httpx.AsyncClient
) -> None:
    def value(text: str, sample: str) -> float | None:
        for line in text.splitlines():
            if line.startswith(sample + " "):
                return float(line.rsplit(" ", 1)[1])
        return None

    async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
        await open_call(advisor)
        async with citizen(live_server, booking.tokens[0]) as clara:
            await let_in(advisor, clara, booking.participant_ids[0])
            await receive_until(advisor, {"type": "peer_joined"})
            text = (await client.get("/metrics")).text

    assert value(text, "videotermin_admissions_total") == 1
    assert value(text, 'videotermin_websocket_connections{kind="advisor_call"}') == 1
    assert value(text, 'videotermin_websocket_connections{kind="citizen"}') == 1
    assert value(text, "videotermin_call_seats") == 2
    assert value(text, "videotermin_waiting_participants") == 0
    assert booking.tokens[0] not in text and "Clara" not in text and "@" not in text


async def test_the_waiting_list_shows_each_persons_latest_device_check(
    live_server: LiveServer,
    booking: Booking,
    cookie: str,
    db: async_sessionmaker[AsyncSession],
) -> None:
    clara, ina = booking.participant_ids
    async with db() as session, session.begin():
        for verdict, minutes_ago in (("red", 20), ("yellow", 5)):
            session.add(
                DeviceCheck(
                    participant_id=clara,
                    checked_at=IN_WINDOW - timedelta(minutes=minutes_ago),
                    verdict=verdict,
                    findings="[]",
                )
            )
    async with advisor_call(live_server, cookie, booking.appointment_id) as advisor:
        await open_call(advisor)
        async with citizen(live_server, booking.tokens[0]) as first:
            await greet(first)
            await receive_until(advisor, {"type": "waiting"})
            async with citizen(live_server, booking.tokens[1]) as second:
                await greet(second)
                listed = await receive_until(advisor, {"type": "waiting"})
                while len(listed["participants"]) < 2:  # Ina's arrival is on its way
                    listed = await receive_until(advisor, {"type": "waiting"})

    verdicts = {p["id"]: p["verdict"] for p in listed["participants"]}
    assert verdicts == {clara: "yellow", ina: None}, "the later check counts; none is none"
