"""Signaling load: simulated participants speaking the real protocol against one app
process on PostgreSQL, and in the same run a bare uvicorn WebSocket relay as the ceiling.

For each count, half the participants wait in waiting rooms and half are in calls
(pairs of a citizen and the advisor's call page). Every client speaks the protocol of
docs/signaling.md over its own WebSocket: ``hello`` → ``welcome``; the advisor
``admit``s its citizen; the pair exchanges an offer, an answer and ICE candidates; then
waiting clients ``ping`` every 5 s (jittered) and each side of a call sends a ``chat``
line every second. Latency is measured by the clients: ``ping`` → ``pong``, and a chat
line from one side to the other (its send time travels in the text).

The bare relay (:func:`bare_app`, served by uvicorn like the app) answers the same
messages the same way — welcome, pong, admitted, relayed signals and chat — with no
database, no presence and no authority; its throughput is the ceiling. Printed per
count and server: connect time (socket open → ``welcome``) p50/p99, latency p50/p99,
messages per second, errors, server and client CPU; then the largest count held at
p99 < 50 ms and the ratio of the app's message throughput to the relay's.

    .venv/bin/python bench/signaling.py [--counts 1000,2000] [--seconds 20] [--instances 2]

With ``--instances 2`` the app runs as two processes on one PostgreSQL and Redis;
waiting clients take them in turn and every call has its advisor on one and its
citizen on the other, so each chat line crosses Redis. Server CPU is both added up.

Needs PostgreSQL at 127.0.0.1:5432 (a database of its own is made and dropped).
Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from seed import free_port
from videotermin.domain.appointments import Status
from videotermin.domain.passwords import hash_password
from videotermin.domain.support_code import new_support_code
from videotermin.domain.tokens import hash_token, new_token
from videotermin.services.consent_texts import current_version
from videotermin.settings import Settings
from videotermin.store.db import create_engine, session_factory
from videotermin.store.migrate import upgrade
from videotermin.store.models import (
    Appointment,
    ConsentRecord,
    Participant,
    ParticipantLink,
    StaffSession,
    StaffUser,
)

PG_ADMIN = os.environ.get(
    "VIDEOTERMIN_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
PING_SECONDS = 5.0
CHAT_SECONDS = 1.0
CONNECTS_AT_ONCE = 100
RAMP_LIMIT = 120.0
"""Seconds the clients get to connect before the step is measured as it stands."""
SDP = "v=0\r\n" + "a=x-bench:" + "x" * 1500 + "\r\n"  # about an offer's size
CANDIDATE = {"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", "sdpMid": "0"}


# --- the database ---------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    cookie: str
    waiting: list[str]
    """Tokens of citizens who only wait."""
    pairs: list[tuple[str, str, str]]
    """(appointment id, participant id, token) of the calls."""


async def admin(statement: str) -> None:
    engine = create_engine(PG_ADMIN)
    try:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def seed(url: str, settings: Settings, waiting: int, pairs: int) -> Seeded:
    """Appointments in their join window, each with one agreed citizen; rows written
    directly (composing thousands of invitation mails would dominate the run)."""
    engine = create_engine(url)
    await upgrade(engine, settings.timezone)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    version = current_version(settings)
    cookie = new_token()
    made_waiting: list[str] = []
    made_pairs: list[tuple[str, str, str]] = []
    async with sessions() as db, db.begin():
        unit = await db.scalar(text("SELECT id FROM units WHERE is_default")) or 1
        advisor = StaffUser(
            username="bench",
            display_name="Bea Berater",
            role="advisor",
            unit_id=unit,
            password_hash=hash_password("bench-password-1"),
            created_at=now,
        )
        db.add(advisor)
        await db.flush()
        db.add(
            StaffSession(
                token_hash=hash_token(cookie),
                user_id=advisor.id,
                csrf_token=new_token(),
                created_at=now,
                expires_at=now + timedelta(hours=8),
            )
        )
        rows: list[list[Any]] = [[], [], []]
        """Appointments, then participants, then links and consents: each kind is written
        before the rows that point at it (the models declare no such order)."""
        for number in range(waiting + pairs):
            appointment = Appointment(
                id=str(uuid.uuid4()),
                unit_id=unit,
                advisor_id=advisor.id,
                start_at=now + timedelta(minutes=2),
                duration_minutes=120,
                status=Status.SCHEDULED,
                ics_sequence=0,
                created_at=now,
                updated_at=now,
            )
            participant = Participant(
                id=str(uuid.uuid4()),
                appointment_id=appointment.id,
                role="citizen",
                name=f"Person {number}",
                email=f"p{number}@example.org",
                language="de",
                support_code=new_support_code(),
                created_at=now,
            )
            token = new_token()
            rows[0].append(appointment)
            rows[1].append(participant)
            rows[2].append(
                ParticipantLink(
                    token_hash=hash_token(token), participant_id=participant.id, created_at=now
                )
            )
            rows[2].append(
                ConsentRecord(
                    participant_id=participant.id,
                    version=version,
                    language="de",
                    text_hash="0" * 64,
                    decision="agreed",
                    decided_at=now,
                )
            )
            if number < waiting:
                made_waiting.append(token)
            else:
                made_pairs.append((appointment.id, participant.id, token))
        for kind in rows:
            db.add_all(kind)
            await db.flush()
    await engine.dispose()
    return Seeded(cookie, made_waiting, made_pairs)


# --- the clients --------------------------------------------------------------------------


@dataclass
class Tally:
    connect_ms: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    messages: int = 0
    """Messages received by the clients in the measured window."""
    errors: list[str] = field(default_factory=list)
    ready: int = 0
    """Clients connected (and, in calls, negotiated) so far."""
    measuring: bool = False
    connecting: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(CONNECTS_AT_ONCE)
    )
    """At most this many handshakes at a time, as people arrive, not as a flood."""


def error_kind(error: Exception) -> str:
    """What failed, in a few words: the server's error code or close code where it gave one."""
    if isinstance(error, ConnectionClosed):
        frame = error.rcvd
        return f"closed {frame.code if frame else 'without a close frame'}"
    if isinstance(error, RuntimeError):
        return str(error)
    return type(error).__name__


def ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


async def receive(ws: ClientConnection, wanted: str, timeout: float = 30) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            if message.get("type") == wanted:
                return message
            if message.get("type") == "error":
                raise RuntimeError(f"error {message.get('code')}")


async def opened(base: str, path: str, tally: Tally, cookie: str | None = None) -> ClientConnection:
    """A socket that has said hello and been welcomed; the time that took is recorded."""
    async with tally.connecting:
        started = time.perf_counter()
        headers = {"Cookie": f"vt_session={cookie}"} if cookie else None
        ws = await connect(
            base.replace("http", "ws") + path,
            origin=base,  # type: ignore[arg-type]
            additional_headers=headers,
            compression=None,
            max_size=2**20,
            open_timeout=60,
            proxy=None,
        )
        await ws.send(json.dumps({"type": "hello", "version": 1}))
        await receive(ws, "welcome")
        tally.connect_ms.append(ms_since(started))
        return ws


async def waiter(base: str, token: str, tally: Tally, stop: asyncio.Event) -> None:
    ws = await opened(base, f"/ws/v/{token}", tally)
    tally.ready += 1
    try:
        await asyncio.sleep(random.uniform(0, PING_SECONDS))
        number = 0
        while not stop.is_set():
            number += 1
            sent = time.perf_counter()
            await ws.send(json.dumps({"type": "ping", "id": number}))
            await receive(ws, "pong")
            if tally.measuring:
                tally.latency_ms.append(ms_since(sent))
                tally.messages += 1
            await asyncio.sleep(PING_SECONDS * random.uniform(0.9, 1.1))
    finally:
        await ws.close()


async def chatter(ws: ClientConnection, peer: str, tally: Tally, stop: asyncio.Event) -> None:
    """Send a chat line every second; read everything, timing the other side's lines."""

    async def read() -> None:
        async for frame in ws:
            message = json.loads(frame)
            if message.get("type") == "chat" and message.get("from") == peer and tally.measuring:
                tally.latency_ms.append((time.time() - float(message["text"])) * 1000)
                tally.messages += 1
            elif message.get("type") == "error":
                tally.errors.append(str(message.get("code")))

    reading = asyncio.create_task(read())
    try:
        await asyncio.sleep(random.uniform(0, CHAT_SECONDS))
        while not stop.is_set():
            await ws.send(json.dumps({"type": "chat", "text": f"{time.time():.6f}"}))
            await asyncio.sleep(CHAT_SECONDS * random.uniform(0.9, 1.1))
    finally:
        reading.cancel()
        await ws.close()


async def pair(
    bases: tuple[str, str],
    cookie: str,
    call: tuple[str, str, str],
    tally: Tally,
    stop: asyncio.Event,
) -> None:
    """The advisor opens the call (on the first server), the citizen waits (on the second,
    another instance when there are several), is admitted, they negotiate, chat."""
    appointment_id, participant_id, token = call
    advisor = await opened(bases[0], f"/ws/call/{appointment_id}", tally, cookie)
    citizen = await opened(bases[1], f"/ws/v/{token}", tally)
    await advisor.send(json.dumps({"type": "admit", "participant": participant_id}))
    admitted = await receive(citizen, "admitted")
    advisor_peer = (
        admitted["peers"][0]["id"]
        if admitted["peers"]
        else ((await receive(citizen, "peer_joined"))["peer"]["id"])
    )
    citizen_peer = (await receive(advisor, "peer_joined"))["peer"]["id"]
    offer = {"type": "signal", "to": citizen_peer, "description": {"type": "offer", "sdp": SDP}}
    await advisor.send(json.dumps(offer))
    await receive(citizen, "signal")
    answer = {"type": "signal", "to": advisor_peer, "description": {"type": "answer", "sdp": SDP}}
    await citizen.send(json.dumps(answer))
    await receive(advisor, "signal")
    for ws, peer in ((advisor, citizen_peer), (citizen, advisor_peer)):
        for _ in range(2):
            await ws.send(json.dumps({"type": "signal", "to": peer, "candidate": CANDIDATE}))
    tally.ready += 2
    await asyncio.gather(
        chatter(advisor, citizen_peer, tally, stop), chatter(citizen, advisor_peer, tally, stop)
    )


# --- one measured step --------------------------------------------------------------------


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Step:
    server: str
    count: int
    tally: Tally
    seconds: float
    server_cpu: float
    client_cpu: float
    gc: GcPauses | None = None

    @property
    def throughput(self) -> float:
        return self.tally.messages / self.seconds


async def step(
    name: str,
    bases: list[str],
    pids: list[int],
    seeded: Seeded,
    count: int,
    seconds: float,
    profile: Path | None = None,
    first_pair: int = 0,
) -> Step:
    """One server (its instances), one count: ramp up, settle, measure ``seconds``
    (sampling the first instance with py-spy into ``profile`` meanwhile, when given), then
    hang up. The calls use appointments from ``first_pair`` on: an earlier step's were
    admitted and are over. Waiting clients take the instances in turn; each call has its
    advisor on one instance and its citizen on the next."""
    tally = Tally()
    stop = asyncio.Event()
    waiting = seeded.waiting[: count // 2]
    calls = seeded.pairs[first_pair : first_pair + count // 4]

    async def run(work: Callable[[], Awaitable[None]]) -> None:
        try:
            await work()
        except Exception as error:  # a failed client is counted, the others go on
            tally.errors.append(error_kind(error))

    tasks = []
    n = len(bases)
    for i, token in enumerate(waiting):
        base = bases[i % n]
        tasks.append(asyncio.create_task(run(lambda b=base, t=token: waiter(b, t, tally, stop))))
    for i, call in enumerate(calls):
        ends = (bases[i % n], bases[(i + 1) % n])
        tasks.append(
            asyncio.create_task(run(lambda e=ends, c=call: pair(e, seeded.cookie, c, tally, stop)))
        )
    expected = len(waiting) + 2 * len(calls)
    ramp = time.perf_counter()
    while tally.ready + len(tally.errors) < expected and time.perf_counter() - ramp < RAMP_LIMIT:
        await asyncio.sleep(0.2)
    await asyncio.sleep(PING_SECONDS)  # every waiting client has pinged once: steady state
    tally.measuring = True
    print(
        f"  {name}: {tally.ready} of {expected} clients up"
        f" after {time.perf_counter() - ramp:.1f} s",
        flush=True,
    )
    sampler = None
    if profile is not None:
        spy = str(Path(sys.executable).with_name("py-spy"))
        sampler = subprocess.Popen(
            [
                *(spy, "record", "--pid", str(pids[0]), "--duration", str(int(seconds))),
                *("--format", "raw", "--output", str(profile)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    gc_before = [await asyncio.to_thread(gc_buckets, b) for b in bases] if name == "app" else []
    cpu_server = sum(map(process_cpu, pids))
    cpu_client, started = client_cpu(), time.perf_counter()
    await asyncio.sleep(seconds)
    tally.measuring = False
    elapsed = time.perf_counter() - started
    server_cpu = (sum(map(process_cpu, pids)) - cpu_server) / elapsed
    used_client_cpu = (client_cpu() - cpu_client) / elapsed
    if sampler is not None:
        sampler.wait(30)
    pauses = None
    if gc_before:
        gc_after = [await asyncio.to_thread(gc_buckets, b) for b in bases]
        pauses = gc_pauses(merged(gc_before), merged(gc_after))
    result = Step(name, count, tally, elapsed, server_cpu, used_client_cpu, pauses)
    stop.set()
    await asyncio.wait(tasks, timeout=15)
    for task in tasks:
        task.cancel()
    return result


@dataclass(frozen=True)
class GcPauses:
    """The app's garbage-collector pauses during a step, from its ``/metrics`` histogram
    (``videotermin_gc_pause_seconds``): how many, and a bound on the longest."""

    collections: int
    full: int
    longest_ms: float
    """The histogram's smallest bucket bound that holds every pause of the step."""


def gc_buckets(base: str) -> dict[tuple[str, float], float]:
    """Cumulative bucket counts by (generation, upper bound) as the app reports them now."""
    text_page = httpx.get(f"{base}/metrics", timeout=10).text
    counts: dict[tuple[str, float], float] = {}
    for family in text_string_to_metric_families(text_page):
        if family.name != "videotermin_gc_pause_seconds":
            continue
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                key = (sample.labels["generation"], float(sample.labels["le"]))
                counts[key] = sample.value
    return counts


def merged(per_instance: list[dict[tuple[str, float], float]]) -> dict[tuple[str, float], float]:
    """The instances' bucket counts added up (the longest pause of any of them)."""
    total: dict[tuple[str, float], float] = {}
    for counts in per_instance:
        for key, value in counts.items():
            total[key] = total.get(key, 0.0) + value
    return total


def gc_pauses(
    before: dict[tuple[str, float], float], after: dict[tuple[str, float], float]
) -> GcPauses:
    delta = {key: after[key] - before.get(key, 0.0) for key in after}
    bounds = sorted({bound for _, bound in delta})
    total = sum(v for (_, bound), v in delta.items() if bound == float("inf"))
    full = sum(v for (gen, bound), v in delta.items() if bound == float("inf") and gen == "2")
    longest = next(
        (b for b in bounds if sum(v for (_, bound), v in delta.items() if bound == b) >= total),
        float("inf"),
    )
    return GcPauses(int(total), int(full), longest * 1000 if total else 0.0)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


def describe(result: Step) -> str:
    t = result.tally
    return (
        f"{result.server:5} {result.count:6}  connect p50 {percentile(t.connect_ms, 0.5):6.0f} ms"
        f" p99 {percentile(t.connect_ms, 0.99):6.0f} ms   latency p50 "
        f"{percentile(t.latency_ms, 0.5):7.1f} ms p99 {percentile(t.latency_ms, 0.99):7.1f} ms"
        f"   {result.throughput:7.0f} msg/s   errors {len(t.errors):4}"
        f"   CPU server {result.server_cpu:4.0%} client {result.client_cpu:4.0%}"
        + (
            "   errors by kind: "
            + ", ".join(f"{kind} {n}" for kind, n in Counter(t.errors).most_common(3))
            if t.errors
            else ""
        )
        + (
            f"   GC {result.gc.collections} pauses ({result.gc.full} full),"
            f" longest <= {result.gc.longest_ms:g} ms"
            if result.gc
            else ""
        )
    )


# --- the two servers -----------------------------------------------------------------------


def bare_app() -> Any:
    """The ceiling: the same messages answered with no database, presence or authority."""
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    sockets: dict[str, WebSocket] = {}

    async def serve(websocket: WebSocket, key: str, other: str, advisor: bool) -> None:
        await websocket.accept()
        sockets[key] = websocket
        try:
            while True:
                message = json.loads(await websocket.receive_text())
                kind = message.get("type")
                if kind == "hello":
                    await websocket.send_text(json.dumps({"type": "welcome", "version": 1}))
                    if advisor:
                        await websocket.send_text(json.dumps({"type": "admitted", "peers": []}))
                elif kind == "ping":
                    await websocket.send_text(json.dumps({"type": "pong", "id": message.get("id")}))
                elif kind == "admit" and other in sockets:
                    peer = {"type": "admitted", "peers": [{"id": key}]}
                    await sockets[other].send_text(json.dumps(peer))
                    await websocket.send_text(
                        json.dumps({"type": "peer_joined", "peer": {"id": other}})
                    )
                elif kind in ("signal", "chat") and other in sockets:
                    await sockets[other].send_text(json.dumps({**message, "from": key}))
        except WebSocketDisconnect:
            pass
        finally:
            sockets.pop(key, None)

    async def citizen(websocket: WebSocket) -> None:
        token = websocket.path_params["token"]
        await serve(websocket, f"c:{token}", f"a:{token}", advisor=False)

    async def call(websocket: WebSocket) -> None:
        # The bench's advisor for a call sends its citizen's token as the appointment id.
        token = websocket.path_params["appointment"]
        await serve(websocket, f"a:{token}", f"c:{token}", advisor=True)

    return Starlette(
        routes=[
            WebSocketRoute("/ws/v/{token}", citizen),
            WebSocketRoute("/ws/call/{appointment}", call),
        ]
    )


def started(command: list[str], env: dict[str, str], probe: str) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(probe, timeout=1)
            return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit(f"{command[0]} did not answer within 30 s")


def raise_open_files() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1000,2000", help="participants per step")
    parser.add_argument("--seconds", type=float, default=20, help="measured time per step")
    parser.add_argument(
        "--instances",
        type=int,
        default=1,
        help="app processes sharing PostgreSQL and Redis (127.0.0.1:6379) when more than one",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="folder for py-spy samples of the app during each measured step (collapsed stacks)",
    )
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    raise_open_files()
    database = f"vt_bench_{uuid.uuid4().hex[:10]}"
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{database}"
    ports, bare_port = [free_port() for _ in range(args.instances)], free_port()
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    bare_base = f"http://127.0.0.1:{bare_port}"
    settings = Settings(database_url=url, public_url=bases[0])
    asyncio.run(admin(f'CREATE DATABASE "{database}"'))
    try:
        biggest = max(counts)
        seeded = asyncio.run(seed(url, settings, biggest // 2, sum(c // 4 for c in counts)))
        shared = {**os.environ, "VIDEOTERMIN_DATABASE_URL": url}
        if args.instances > 1:
            shared["VIDEOTERMIN_REDIS_URL"] = "redis://127.0.0.1:6379/0"
            shared["VIDEOTERMIN_REDIS_CHANNEL_PREFIX"] = database
        apps = [
            started(
                [str(Path(sys.executable).with_name("videotermin")), "serve", "--port", str(port)],
                {**shared, "VIDEOTERMIN_PUBLIC_URL": base},
                f"{base}/login",
            )
            for port, base in zip(ports, bases, strict=True)
        ]
        bare = started(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(Path(__file__).parent),
                "--factory",
                "signaling:bare_app",
                "--port",
                str(bare_port),
                "--log-level",
                "warning",
                "--ws-max-size",
                "65536",
            ],
            dict(os.environ),
            f"{bare_base}/",
        )
        bare_seeded = Seeded(
            seeded.cookie, seeded.waiting, [(t, f"c:{t}", t) for _, _, t in seeded.pairs]
        )
        results: list[Step] = []
        first_pair = 0
        try:
            for count in counts:
                for name, addresses, pids, data in (
                    ("bare", [bare_base], [bare.pid], bare_seeded),
                    ("app", bases, [app.pid for app in apps], seeded),
                ):
                    profile = None
                    if args.profile and name == "app":
                        profile = args.profile / f"app-{count}.txt"
                    result = asyncio.run(
                        step(name, addresses, pids, data, count, args.seconds, profile, first_pair)
                    )
                    print(describe(result), flush=True)
                    results.append(result)
                first_pair += count // 4
        finally:
            for server in (*apps, bare):
                server.terminate()
                server.wait(10)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    print("half waiting (ping every 5 s), half in calls (a chat line per second each side)")
    print(f"app: {args.instances} process(es); bare relay: 1 process")
    held = [
        r.count for r in results if r.server == "app" and percentile(r.tally.latency_ms, 0.99) < 50
    ]
    print(f"largest count held by the app at p99 < 50 ms: {max(held) if held else 'none'}")
    for count in counts:
        app_step = next(r for r in results if r.server == "app" and r.count == count)
        bare_step = next(r for r in results if r.server == "bare" and r.count == count)
        ratio = app_step.throughput / bare_step.throughput if bare_step.throughput else float("nan")
        print(f"  {count}: app throughput / bare relay = {ratio:.2f}")


if __name__ == "__main__":
    main()
