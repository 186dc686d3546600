"""The access matrix of docs/security.md, read from that file and walked against the live app.

The table there lists every HTTP route and every client message of every socket, with the
answer each actor gets; these tests

- fail when a route of the app's route table (the included routers, the API mounted at
  /api/v1, the static files), an endpoint of ``SOCKETS`` or a client message type of
  ``realtime/protocol.py`` (the ``*_MESSAGES`` maps) is missing from the table, or the
  table names one the app does not have;
- send every cell's request as that actor, over real HTTP and WebSocket, and fail on any
  answer other than the cell's, listing every disagreement at once.

What counts as what (the cells' words):

- ``yes`` (HTTP): 2xx, a redirect other than the refusal below (logging out ends on
  ``/login`` itself), or the app's own refusal of the data (400, 409, 422) — the request
  got past every check of who is asking; nothing else (no 404, no 429, no 5xx). Forms carry
  the actor's own CSRF token (the staff session's, the link's, the device check's page
  token, the login form's double-submit cookie); their data fails validation wherever a
  route validates it (an invalid date, an empty name, a decision that is no decision, a
  citizen who cannot be removed). Routes whose action has no invalid form get a target
  made for the cell (:data:`FRESH`), and the test checks the action took effect exactly
  when the answer was ``yes``. What remains harmless by nature: a resent invitation, a
  password link for a spare account, a device-check step, a speed-test upload.
- ``login``: 303 to ``/login?next=…``; ``401``/``403``/``404``: that status. GETs on a
  citizen's link follow the link's own redirects (the waiting room sends an unknown link
  to the link page, which answers 404).
- Sockets: the handshake comes from this site's ``Origin`` with the actor's cookie (or
  bearer token); ``yes`` is a ``welcome`` to ``hello`` and, for other types, no ``error``
  naming the message before the answer to a ``ping`` sent after it (``leave`` and
  ``end`` are answered by their own close codes, 4418 and 4411); ``44xx`` is the code the
  socket was closed with; ``not_allowed``/``unknown_peer`` the ``error`` code.

Each actor's HTTP client comes from a loopback address of its own (127.0.0.2 …), as
people come from theirs: the per-address limits of the public device check and the login
count each actor apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from call_helpers import admitted_at, status_of
from device_check_helpers import page_headers
from page_helpers import Booking, book, csrf_token, login, post_form
from route_helpers import filled
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.routing import Mount, compile_path
from waiting_helpers import IN_WINDOW, receive, record_consent, send, ws_url
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from conftest import NOW, LiveServer, add_staff
from videotermin.app import SOCKETS, create_app
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.domain.tokens import hash_token, new_token
from videotermin.realtime import protocol
from videotermin.realtime.protocol import CloseCode
from videotermin.settings import Settings
from videotermin.store.models import ApiToken, ConsentRecord, Participant, StaffUser, Unit

pytestmark = pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"
COLUMNS = {
    "anonymous": "anonymous",
    "citizen link (own appointment)": "citizen",
    "citizen link (another appointment)": "other_citizen",
    "advisor (own appointment)": "advisor",
    "advisor (another unit's appointment)": "other_advisor",
    "support (own unit)": "support",
    "admin": "admin",
    "API token": "api",
}
STAFF = {
    "advisor": "berater",
    "other_advisor": "nora-nord",
    "support": "support-sven",
    "admin": "admin-anna",
}
SOCKET_MESSAGES: dict[str, Mapping[str, type[protocol.ClientMessage]]] = {
    "/ws/v/{token}": protocol.CITIZEN_MESSAGES,
    "/ws/call/{appointment_id}": protocol.CALL_MESSAGES,
    "/ws/staff": protocol.STAFF_MESSAGES,
    "/ws/support": protocol.SUPPORT_MESSAGES,
}
HTTP_WORDS = {"yes", "login", "401", "403", "404", "–"}
SOCKET_WORDS = {"yes", "omitted", "4401", "4403", "4404", "not_allowed", "unknown_peer", "–"}
NOT_APPLICABLE = "–"

# --- the table ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    message: str | None
    cells: dict[str, str]

    @property
    def key(self) -> tuple[str, str, str | None]:
        return self.method, self.path, self.message


def read_matrix() -> list[Row]:
    """The rows of the one table in docs/security.md whose header names the actors."""
    lines = [line.strip() for line in DOC.read_text(encoding="utf-8").splitlines()]
    header_at = next(i for i, line in enumerate(lines) if line.startswith("| route |"))
    header = [cell.strip() for cell in lines[header_at].strip("|").split("|")]
    assert header[1:] == list(COLUMNS), f"the table's columns are {header[1:]}"
    rows = []
    for line in itertools.takewhile(lambda text: text.startswith("|"), lines[header_at + 2 :]):
        first, *cells = (cell.strip() for cell in line.strip("|").split("|"))
        method, path, *message = first.strip("`").split()
        words = SOCKET_WORDS if method == "WS" else HTTP_WORDS
        assert set(cells) <= words, f"{first}: cells {cells} outside {sorted(words)}"
        assert len(cells) == len(COLUMNS), f"{first}: {len(cells)} cells"
        rows.append(
            Row(
                method,
                path,
                message[0] if message else None,
                dict(zip(COLUMNS.values(), cells, strict=True)),
            )
        )
    return rows


def _flat(routes: list[Any], prefix: str = "") -> list[tuple[str, Any]]:
    """(prefix, route) for every route, with included routers (``original_router``) and
    mounted apps with routes of their own (the API) in their place."""
    found: list[tuple[str, Any]] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        mounted = getattr(getattr(route, "app", None), "routes", None)
        if included is not None:
            found += _flat(included.routes, prefix)
        elif isinstance(route, Mount) and mounted is not None:
            found += _flat(mounted, prefix + route.path)
        else:
            found.append((prefix, route))
    return found


def app_routes(settings: Settings) -> set[tuple[str, str, str | None]]:
    """(method, path template, None) of every HTTP route; a mount without routes of its
    own (the static files) as ``GET <path>/{path}``; ``HEAD`` only where there is no GET."""
    found: set[tuple[str, str, str | None]] = set()
    for prefix, route in _flat(create_app(settings).routes):
        if isinstance(route, Mount):
            found.add(("GET", prefix + route.path + "/{path}", None))
            continue
        methods = set(getattr(route, "methods", None) or ())
        if "GET" in methods:
            methods.discard("HEAD")
        found |= {(method, prefix + route.path, None) for method in methods}
    return found


def socket_messages() -> set[tuple[str, str, str | None]]:
    """("WS", path template, message type) for every endpoint in ``SOCKETS`` and every
    client message its ``*_MESSAGES`` map accepts."""
    templates = {compile_path(path)[0].pattern: path for path in SOCKET_MESSAGES}
    # SocketRoutes keeps only the compiled patterns; each must be one of the paths above.
    served = [route.pattern.pattern for route in SOCKETS._routes]
    unknown = [pattern for pattern in served if pattern not in templates]
    assert not unknown, f"sockets not in SOCKET_MESSAGES (nor the table?): {unknown}"
    assert len(served) == len(SOCKET_MESSAGES)
    return {
        ("WS", templates[pattern], kind)
        for pattern in served
        for kind in SOCKET_MESSAGES[templates[pattern]]
    }


def test_every_route_and_socket_message_is_in_the_matrix(settings: Settings) -> None:
    maps = {
        name: getattr(protocol, name)
        for name in dir(protocol)
        if name.endswith("_MESSAGES") and not name.startswith("_")
    }
    assert {id(m) for m in maps.values()} == {id(m) for m in SOCKET_MESSAGES.values()}, maps
    documented = [row.key for row in read_matrix()]
    assert len(documented) == len(set(documented)), "a row appears twice"
    served = app_routes(settings) | socket_messages()
    assert sorted(served - set(documented), key=str) == [], "missing from docs/security.md"
    assert sorted(set(documented) - served, key=str) == [], "in docs/security.md, not in the app"
    assert len(documented) > 100


# --- the world the actors live in ----------------------------------------------------------


async def make_booking(
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    advisor: str = "berater",
    *,
    companion: bool = False,
) -> Booking:
    """An appointment of ``advisor`` tomorrow at 10:00, everyone in it agreed."""
    drafts = [ParticipantDraft(name="Clara Kundin", email="clara@example.org")]
    if companion:
        drafts.append(
            ParticipantDraft(name="Ina Dolmetscherin", email="ina@example.org", role="interpreter")
        )
    made = await book(db, settings, clock, advisor=advisor, participants=drafts)
    for participant_id in made.participant_ids:
        await record_consent(db, settings, participant_id)
    return made


@dataclass
class Actor:
    key: str
    http: httpx.AsyncClient
    csrf: str = ""
    """The staff session's CSRF token."""
    bearer: str = ""
    check: dict[str, str] = field(default_factory=dict)
    """The headers the device check's script sends (with its page's token)."""

    @property
    def session(self) -> str | None:
        return self.http.cookies.get("vt_session")


@dataclass
class World:
    server: LiveServer
    db: async_sessionmaker[AsyncSession]
    settings: Settings
    clock: FakeClock
    stack: contextlib.AsyncExitStack
    a: Booking
    """Appointment A: berater's, unit 1; Clara (citizen) and Ina (interpreter)."""
    b: Booking
    """Appointment B: nora-nord's, unit Nord; Clara of B."""
    nord: int
    spare_user: int
    spare_token: int
    actors: dict[str, Actor] = field(default_factory=dict)
    guessed: str = field(default_factory=new_token)
    """A well-formed link that is not A's: all that anyone without A's link can send."""

    def ids(self, actor: Actor, path: str) -> dict[str, str]:
        own_link = actor.key == "citizen" and path.startswith(("/v/", "/ws/v/"))
        return {
            "token": self.a.tokens[0] if own_link else self.guessed,
            "appointment_id": self.a.appointment_id,
            "participant_id": self.a.participant_ids[0],
            "user_id": str(self.spare_user),
            "unit_id": str(self.nord),
            "token_id": str(self.spare_token),
            "version": "2099-12-31",
            "slug": "browser",
            "path": "app.css",
        }

    async def booking(self) -> Booking:
        """A new appointment of A's advisor at A's time: a target made for one cell."""
        return await make_booking(self.db, self.settings, self.clock)

    async def client(self) -> httpx.AsyncClient:
        http = httpx.AsyncClient(base_url=self.server.url, timeout=20)
        return await self.stack.enter_async_context(http)


async def add_api_token(db: async_sessionmaker[AsyncSession], name: str) -> tuple[int, str]:
    token = new_token()
    async with db() as session, session.begin():
        row = ApiToken(name=name, token_hash=hash_token(token), created_at=NOW)
        session.add(row)
        await session.flush()
        return row.id, token


async def add_unit_nord(db: async_sessionmaker[AsyncSession], username: str) -> int:
    """Unit Nord, with ``username`` moved there."""
    async with db() as session, session.begin():
        nord = Unit(slug="nord", name="Dienststelle Nord", timezone="Europe/Berlin")
        session.add(nord)
        await session.flush()
        user = await session.scalar(select(StaffUser).where(StaffUser.username == username))
        assert user is not None
        user.unit_id = nord.id
        return nord.id


async def support_code(db: async_sessionmaker[AsyncSession], participant_id: str) -> str:
    async with db() as session:
        code = await session.scalar(
            select(Participant.support_code).where(Participant.id == participant_id)
        )
    assert code is not None
    return code


async def staff_csrf(http: httpx.AsyncClient, username: str) -> str:
    """Log in through the form; the session's CSRF token, read from a form of the start page."""
    landed = await login(http, username)
    assert landed.status_code == 303, landed.text
    form = {"/termine": "/termine/neu", "/support": "/support"}[landed.headers["location"]]
    return csrf_token((await http.get(form)).text)


async def add_actors(world: World, api_token: str) -> None:
    for number, key in enumerate(COLUMNS.values(), start=2):
        transport = httpx.AsyncHTTPTransport(local_address=f"127.0.0.{number}")
        http = httpx.AsyncClient(base_url=world.server.url, transport=transport, timeout=20)
        actor = world.actors[key] = Actor(key, await world.stack.enter_async_context(http))
        actor.check = await page_headers(http, "/check")
        if key in STAFF:
            actor.csrf = await staff_csrf(http, STAFF[key])
    world.actors["api"].bearer = api_token
    for key, booking in (("citizen", world.a), ("other_citizen", world.b)):
        assert (await world.actors[key].http.get(f"/v/{booking.tokens[0]}")).status_code == 200
    code = await support_code(world.db, world.a.participant_ids[0])
    for key in ("support", "admin"):  # the look-up that lets them see A's citizen
        found = await post_form(world.actors[key].http, "/support", "/support", {"code": code})
        assert found.headers["location"] == f"/support/teilnehmende/{world.a.participant_ids[0]}"


@contextlib.asynccontextmanager
async def world_of(
    server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> AsyncIterator[World]:
    """Two units, five staff accounts, appointments A and B in their join window, an API
    token and a spare one, and the eight actors."""
    clock.set(IN_WINDOW)
    for username in ("nora-nord", "support-sven", "admin-anna", "spare"):
        role = {"support-sven": "support", "admin-anna": "admin"}.get(username, "advisor")
        await add_staff(db, username, role=role)
    nord = await add_unit_nord(db, "nora-nord")
    _, api_token = await add_api_token(db, "fachverfahren")
    spare_token, _ = await add_api_token(db, "ersatz")
    async with db() as session:
        spare = await session.scalar(select(StaffUser.id).where(StaffUser.username == "spare"))
    assert spare is not None
    a = await make_booking(db, settings, clock, companion=True)
    b = await make_booking(db, settings, clock, "nora-nord")
    async with contextlib.AsyncExitStack() as stack:
        world = World(server, db, settings, clock, stack, a, b, nord, spare, spare_token)
        await add_actors(world, api_token)
        yield world


# --- HTTP -----------------------------------------------------------------------------------

JUNK_FORM: dict[str, dict[str, str]] = {
    "/login": {"username": "", "password": ""},
    "/passwort/{token}": {"password": "", "password_repeated": ""},
    "/v/{token}/einwilligung": {"decision": "vielleicht"},
    "/v/{token}/umfrage": {"satisfaction": "99"},
    "/termine/neu": {"date": "kein Datum"},
    "/termine/{appointment_id}/verschieben": {"date": "kein Datum"},
    "/termine/{appointment_id}/teilnehmende": {"name": "", "email": "keine Adresse"},
    "/termine/{appointment_id}/warteraum-nachricht": {"waiting_message": "x" * 600},
    "/support": {"code": "kein Code"},
    "/admin/personal/neu": {"username": ""},
    "/admin/personal/{user_id}": {"role": "kaiser"},
    "/admin/dienststellen/neu": {"slug": ""},
    "/admin/dienststellen/{unit_id}": {"name": ""},
    "/admin/api-tokens": {"name": ""},
    "/admin/einwilligung": {"version": ""},
    "/admin/datenschutz": {"language": "xx"},
}
"""Form data each route refuses (422, 400, or a redirect that records nothing)."""
JUNK_JSON: dict[str, Any] = {
    "/v/{token}/geraete/anruf": {"sdp": 1},
    # This handler reads its body before the link: a valid step, or junk would hide the 404.
    "/v/{token}/geraete/stand": {"step": "running"},
    "/v/{token}/geraete/ergebnis": {},
    "/check/speed/up": "0" * 1000,  # read and thrown away: the upload measurement
    "/check/anruf": {"sdp": 1},
    "/check/ergebnis": {},
    "/api/v1/appointments": {},
    "/api/v1/appointments/{appointment_id}": {"duration_minutes": -1},
    "/api/v1/appointments/{appointment_id}/participants": {},
}
QUERY = {"/check/speed/down": "?bytes=1"}
_LINK_FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Target:
    """What a cell acts on when the action has no data to refuse: made for that one cell,
    with the check whether the action took effect."""

    ids: dict[str, str]
    took_effect: Callable[[], Awaitable[bool]]
    client: httpx.AsyncClient | None = None
    csrf: str = ""


async def cancel_target(world: World, actor: Actor) -> Target:
    made = await world.booking()

    async def cancelled() -> bool:
        return await status_of(world.db, made.appointment_id) == "cancelled"

    return Target({"appointment_id": made.appointment_id}, cancelled)


async def withdraw_target(world: World, actor: Actor) -> Target:
    made = await world.booking()

    async def withdrawn() -> bool:
        async with world.db() as session:
            found = await session.scalar(
                select(func.count())
                .select_from(ConsentRecord)
                .where(
                    ConsentRecord.participant_id == made.participant_ids[0],
                    ConsentRecord.decision == "withdrawn",
                )
            )
        return bool(found)

    return Target({"token": made.tokens[0]} if actor.key == "citizen" else {}, withdrawn)


async def logout_target(world: World, actor: Actor) -> Target:
    """The actor's own account in a second browser: logging that one out leaves the
    actor's session for the rest of the walk."""
    if actor.key not in STAFF:
        return Target({}, _nothing)
    http = await world.client()
    csrf = await staff_csrf(http, STAFF[actor.key])

    async def logged_out() -> bool:
        return (await http.get("/")).headers["location"] == "/login"

    return Target({}, logged_out, http, csrf)


async def _nothing() -> bool:
    return False


async def deactivate_target(world: World, actor: Actor) -> Target:
    user = await add_staff(world.db, f"spare-{new_token()[:8].lower()}")

    async def deactivated() -> bool:
        async with world.db() as session:
            return not await session.scalar(select(StaffUser.active).where(StaffUser.id == user.id))

    return Target({"user_id": str(user.id)}, deactivated)


async def revoke_target(world: World, actor: Actor) -> Target:
    token_id, _ = await add_api_token(world.db, f"ersatz-{new_token()[:8]}")

    async def revoked() -> bool:
        async with world.db() as session:
            at = await session.scalar(select(ApiToken.revoked_at).where(ApiToken.id == token_id))
        return at is not None

    return Target({"token_id": str(token_id)}, revoked)


FRESH: dict[tuple[str, str], Callable[[World, Actor], Awaitable[Target]]] = {
    ("POST", "/termine/{appointment_id}/absagen"): cancel_target,
    ("POST", "/api/v1/appointments/{appointment_id}/cancel"): cancel_target,
    ("POST", "/v/{token}/widerruf"): withdraw_target,
    ("POST", "/logout"): logout_target,
    ("POST", "/admin/personal/{user_id}/deaktivieren"): deactivate_target,
    ("POST", "/admin/api-tokens/{token_id}/widerrufen"): revoke_target,
}


async def link_form_token(http: httpx.AsyncClient, token: str) -> str:
    """The token the link's pages put into their forms (none for an unknown link)."""
    page = await http.get(f"/v/{token}/widerruf", follow_redirects=True)
    found = _LINK_FORM_TOKEN.search(page.text)
    return found.group(1) if found else ""


def double_submit(http: httpx.AsyncClient) -> str:
    """The login form's token: whatever this browser's cookie holds, or a new one."""
    kept = next((c.value for c in http.cookies.jar if c.name == "vt_login_csrf"), None)
    if kept:
        return kept
    token = new_token()
    http.cookies.set("vt_login_csrf", token, domain=http.base_url.host)
    return token


async def request(world: World, actor: Actor, row: Row, target: Target | None) -> httpx.Response:
    """The cell's request, as the actor's browser or script would send it."""
    http = target.client if target and target.client else actor.http
    ids = world.ids(actor, row.path) | (target.ids if target else {})
    url = filled(row.path, ids) + QUERY.get(row.path, "")
    method, path = row.method, row.path
    if path.startswith("/api/v1/"):
        headers = {"Authorization": f"Bearer {actor.bearer}"} if actor.bearer else {}
        body = JUNK_JSON.get(path) if method in ("POST", "PATCH") else None
        return await http.request(method, url, json=body, headers=headers)
    if method == "GET":
        return await http.get(url, follow_redirects=path.startswith("/v/"))
    if path.startswith(("/v/{token}/geraete/", "/check/")):
        body = json.dumps(JUNK_JSON[path]).encode()
        return await http.post(url, content=body, headers=actor.check)
    data = dict(JUNK_FORM.get(path, {}))
    if path.startswith("/v/"):
        data["csrf_token"] = await link_form_token(http, ids["token"])
    elif path in ("/login", "/passwort/{token}"):
        data["csrf_token"] = double_submit(http)
    elif target and target.csrf:
        data["csrf_token"] = target.csrf
    elif actor.csrf:
        data["csrf_token"] = actor.csrf
    return await http.post(url, data=data)


def http_answer(response: httpx.Response) -> str:
    status, location = response.status_code, response.headers.get("location", "")
    if status in (302, 303, 307) and location.startswith("/login?"):
        return "login"
    if status in (401, 403, 404):
        return str(status)
    if status < 400 or status in (400, 409, 422):
        return "yes"
    return f"HTTP {status}"


async def http_cell(world: World, actor: Actor, row: Row) -> str:
    make = FRESH.get((row.method, row.path))
    target = await make(world, actor) if make else None
    got = http_answer(await request(world, actor, row, target))
    if target is not None and await target.took_effect() != (got == "yes"):
        return f"{got}, but the action {'did not take' if got == 'yes' else 'took'} effect"
    return got


async def test_every_route_answers_each_actor_as_the_matrix_says(
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    advisor: StaffUser,
) -> None:
    rows = [row for row in read_matrix() if row.method != "WS"]
    wrong, cells = [], 0
    async with world_of(live_server, db, settings, clock) as world:
        for row in rows:
            for key, wanted in row.cells.items():
                if wanted == NOT_APPLICABLE:
                    continue
                cells += 1
                got = await http_cell(world, world.actors[key], row)
                if got != wanted:
                    wrong.append(
                        f"{row.method} {row.path} as {key}: {got}, the table says {wanted}"
                    )
    assert not wrong, "\n".join(["", *wrong])
    assert cells > 500


# --- sockets --------------------------------------------------------------------------------

HELLO = {"type": "hello", "version": 1}
FAREWELL = {"leave": CloseCode.LEFT, "end": CloseCode.ENDED}
"""Messages answered by closing the connection, and the code that says they were done."""
IN_CALL = {"signal", "media", "chat", "quality", "leave"}
"""Citizen messages that do something only in the call: the citizen is admitted first."""


def message(kind: str, *, peer: str = "", participant: str = "") -> dict[str, Any]:
    """A valid message of each client type (a new type needs one here)."""
    return {
        "ping": {"type": "ping", "id": 1},
        "signal": {"type": "signal", "to": peer, "candidate": None},
        "media": {"type": "media", "audio": True, "video": False, "screen": False},
        "chat": {"type": "chat", "text": "Guten Tag"},
        "quality": {"type": "quality", "good": 1, "fair": 0, "poor": 0},
        "leave": {"type": "leave"},
        "admit": {"type": "admit", "participant": participant},
        "remove": {"type": "remove", "participant": participant},
        "end": {"type": "end"},
    }[kind]


@contextlib.asynccontextmanager
async def opened(
    world: World, path: str, actor: Actor | None = None
) -> AsyncIterator[ClientConnection]:
    """A socket from a page of this site, with the actor's cookie or bearer token."""
    headers = {}
    if actor is not None and actor.session:
        headers["Cookie"] = f"vt_session={actor.session}"
    if actor is not None and actor.bearer:
        headers["Authorization"] = f"Bearer {actor.bearer}"
    async with connect(
        ws_url(world.server, path),
        origin=world.server.url,  # type: ignore[arg-type]
        additional_headers=headers,
        proxy=None,
        open_timeout=10,
        max_size=None,
    ) as ws:
        yield ws


def close_code(closed: ConnectionClosed) -> str:
    return str(closed.rcvd.code) if closed.rcvd else "closed without a code"


async def greeted(ws: ClientConnection, hello: dict[str, Any]) -> dict[str, Any] | str:
    """The ``welcome`` to ``hello``, or the close code or error code that came instead."""
    try:
        await send(ws, hello)
        while True:
            answer = await receive(ws)
            if answer["type"] in ("welcome", "error"):
                return answer if answer["type"] == "welcome" else str(answer["code"])
    except ConnectionClosed as closed:
        return close_code(closed)


async def answered(ws: ClientConnection, kind: str) -> str:
    """How the server took the message just sent: ``yes``, or the error or close code."""
    try:
        await send(ws, {"type": "ping", "id": 4711})
        while True:
            answer = await receive(ws)
            if answer == {"type": "pong", "id": 4711}:
                return "still open" if kind in FAREWELL else "yes"
            if answer["type"] == "error" and answer.get("ref") == kind:
                return str(answer["code"])
    except ConnectionClosed as closed:
        done = closed.rcvd is not None and closed.rcvd.code == FAREWELL.get(kind)
        return "yes" if done else close_code(closed)


async def receive_where(ws: ClientConnection, wanted: Callable[[dict[str, Any]], bool]) -> None:
    while not wanted(await receive(ws)):
        pass


async def closed_with(ws: ClientConnection) -> int | None:
    try:
        while True:
            await receive(ws)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


class Held:
    """A connection kept open beside the probes (a call's host, a guest in the call): its
    messages are read as they come, and it pings so the server never closes it as silent."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                try:
                    await asyncio.wait_for(self.ws.recv(), 10)
                except TimeoutError:
                    await send(self.ws, {"type": "ping"})

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@dataclass
class Calls:
    """A's and B's calls with their advisors in them; later A's citizen as a guest."""

    world: World
    host_a: Held
    host_b: Held
    a_advisor: str
    """A's advisor's peer id."""
    guest: str = ""
    """A's citizen's peer id, once in the call for the advisor's rows."""

    async def seat(self, ws: ClientConnection, host: Held, participant_id: str) -> dict[str, Any]:
        """Bring a greeted citizen into the call: back in at once when still admitted
        (a reload), else admitted by the host now."""
        if await admitted_at(self.world.db, participant_id) is None:
            await send(host.ws, {"type": "admit", "participant": participant_id})
        while (answer := await receive(ws))["type"] != "admitted":
            pass
        return answer


async def hold_call(world: World, actor: str, appointment_id: str) -> tuple[Held, str]:
    ws = await world.stack.enter_async_context(
        opened(world, f"/ws/call/{appointment_id}", world.actors[actor])
    )
    welcome = await greeted(ws, HELLO)
    assert not isinstance(welcome, str), welcome
    admitted = await receive(ws)
    held = Held(ws)
    world.stack.push_async_callback(held.stop)
    return held, admitted["self"]


async def citizen_cell(calls: Calls, actor: Actor, kind: str) -> str:
    """``/ws/v/{token}``: A's citizen on A's link; B's citizen on B's link, naming A's people;
    everyone else with a link that is not A's."""
    world = calls.world
    if actor.key == "other_citizen":
        token, me, host = world.b.tokens[0], world.b.participant_ids[0], calls.host_b
        named = world.a.participant_ids[0]
    else:
        token, me, host = (
            world.ids(actor, "/ws/v/")["token"],
            world.a.participant_ids[0],
            calls.host_a,
        )
        named = world.a.participant_ids[1]
    async with opened(world, f"/ws/v/{token}", actor) as ws:
        welcome = await greeted(ws, HELLO)
        if isinstance(welcome, str) or kind == "hello":
            return welcome if isinstance(welcome, str) else "yes"
        if kind in IN_CALL:
            await calls.seat(ws, host, me)
        await send(ws, message(kind, peer=calls.a_advisor, participant=named))
        return await answered(ws, kind)


async def admit_and_remove(calls: Calls, ws: ClientConnection, kind: str) -> str:
    """A's interpreter waits; the advisor's connection admits her, and for ``remove``
    takes her out again. She must see each: ``admitted``, then ``removed`` (4417)."""
    world, ina = calls.world, calls.world.a.participant_ids[1]
    async with opened(world, f"/ws/v/{world.a.tokens[1]}") as companion:
        assert not isinstance(await greeted(companion, HELLO), str)
        await receive_where(
            ws, lambda m: m["type"] == "waiting" and ina in [p["id"] for p in m["participants"]]
        )
        await send(ws, message("admit", participant=ina))
        got = await answered(ws, "admit")
        if got != "yes":
            return got
        await receive_where(companion, lambda m: m["type"] == "admitted")
        if kind == "admit":
            await send(companion, {"type": "leave"})  # waiting again for the next cell
            assert await closed_with(companion) == CloseCode.LEFT
            return got
        await send(ws, message("remove", participant=ina))
        got = await answered(ws, "remove")
        if got == "yes" and await closed_with(companion) != CloseCode.REMOVED:
            return "yes, but she stayed in the call"
        return got


async def call_cell(calls: Calls, actor: Actor, kind: str) -> str:
    """``/ws/call/{appointment_id}``: A's call (``end``: an appointment made for the cell)."""
    world = calls.world
    ended = await world.booking() if kind == "end" else None
    appointment = ended.appointment_id if ended else world.a.appointment_id
    async with opened(world, f"/ws/call/{appointment}", actor) as ws:
        welcome = await greeted(ws, HELLO)
        if isinstance(welcome, str) or kind == "hello":
            got = welcome if isinstance(welcome, str) else "yes"
        elif kind in ("admit", "remove"):
            got = await admit_and_remove(calls, ws, kind)
        else:
            await send(ws, message(kind, peer=calls.guest))
            got = await answered(ws, kind)
    if ended and (await status_of(world.db, ended.appointment_id) == "completed") != (got == "yes"):
        return f"{got}, but the appointment's status says otherwise"
    return got


async def staff_cell(calls: Calls, actor: Actor, kind: str) -> str:
    """``/ws/staff``, asked to watch A."""
    a = calls.world.a.appointment_id
    async with opened(calls.world, "/ws/staff", actor) as ws:
        welcome = await greeted(ws, {**HELLO, "watch": [a]})
        if isinstance(welcome, str):
            return welcome
        if kind == "hello":
            return "yes" if welcome["watching"] == [a] else "omitted"
        await send(ws, message(kind))
        return await answered(ws, kind)


async def support_cell(calls: Calls, actor: Actor, kind: str) -> str:
    """``/ws/support``, asked to show A's citizen."""
    clara = calls.world.a.participant_ids[0]
    async with opened(calls.world, "/ws/support", actor) as ws:
        welcome = await greeted(ws, {**HELLO, "participant": clara})
        if isinstance(welcome, str) or kind == "hello":
            return welcome if isinstance(welcome, str) else "yes"
        await send(ws, message(kind))
        return await answered(ws, kind)


SOCKET_CELLS: dict[str, Callable[[Calls, Actor, str], Awaitable[str]]] = {
    "/ws/v/{token}": citizen_cell,
    "/ws/call/{appointment_id}": call_cell,
    "/ws/staff": staff_cell,
    "/ws/support": support_cell,
}


async def calls_of(world: World) -> Calls:
    """A's and B's advisors in their calls, B's citizen admitted to B's."""
    host_a, a_advisor = await hold_call(world, "advisor", world.a.appointment_id)
    host_b, _ = await hold_call(world, "other_advisor", world.b.appointment_id)
    calls = Calls(world, host_a, host_b, a_advisor)
    async with opened(world, f"/ws/v/{world.b.tokens[0]}") as ws:
        assert not isinstance(await greeted(ws, HELLO), str)
        await calls.seat(ws, host_b, world.b.participant_ids[0])
    return calls


async def seat_guest(calls: Calls) -> None:
    """A's citizen in A's call for the advisor's rows (signals go to her)."""
    world = calls.world
    ws = await world.stack.enter_async_context(opened(world, f"/ws/v/{world.a.tokens[0]}"))
    assert not isinstance(await greeted(ws, HELLO), str)
    calls.guest = (await calls.seat(ws, calls.host_a, world.a.participant_ids[0]))["self"]
    guest = Held(ws)
    world.stack.push_async_callback(guest.stop)


async def test_every_socket_message_answers_each_actor_as_the_matrix_says(
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    advisor: StaffUser,
) -> None:
    rows = [row for row in read_matrix() if row.method == "WS"]
    rows.sort(key=lambda row: list(SOCKET_CELLS).index(row.path))  # the citizens' rows first
    wrong, cells = [], 0
    async with world_of(live_server, db, settings, clock) as world:
        calls = await calls_of(world)
        for row in rows:
            if row.path == "/ws/call/{appointment_id}" and not calls.guest:
                await seat_guest(calls)
            for key, wanted in row.cells.items():
                if wanted == NOT_APPLICABLE:
                    continue
                cells += 1
                assert row.message is not None
                got = await SOCKET_CELLS[row.path](calls, world.actors[key], row.message)
                if got != wanted:
                    wrong.append(
                        f"{row.path} {row.message} as {key}: {got}, the table says {wanted}"
                    )
    assert not wrong, "\n".join(["", *wrong])
    assert cells > 150
