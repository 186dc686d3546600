"""Who is waiting, and since when — the same answer on every app instance.

A citizen's waiting-room connection lives on one app instance; the advisor may
be connected to another. Presence therefore travels over the bus: every
instance keeps a :class:`PresenceBoard` (participant → entry) and feeds it from
the ``presence`` channel, to which each instance announces the connections it
holds (``presence_enter``/``presence_leave``) and beats every few seconds
(``presence_heartbeat``). A beat carries a fingerprint of what its instance
holds, a few bytes whatever the number of connections; an instance whose view
differs (a message was lost) asks every instance to repeat the whole truth
(``presence_sync``), which replaces what the others knew of it. Entries of an
instance that stops beating (it crashed) are dropped after
``instance_ttl_seconds``. A new instance asks for the whole truth at once.

Rules:

- "waiting since" is the first connect time of a waiting spell: a reload, a
  second tab taking over or a reconnect to another instance keeps it;
- a closed connection keeps its place for ``grace_seconds`` on the app clock;
  only the instance that held it ends the spell, and only if no newer
  connection took over in the meantime;
- the last ``presence_enter`` wins; a heartbeat never takes an entry away from
  another instance;
- during the grace the entry stays but is marked not ``connected`` (the call
  shows "reconnecting", the advisor's waiting list drops the person at once);
- an entry in the call carries its :class:`CallSeat` (peer id and media
  state), so every instance knows who is in which call. The advisor's call
  connection holds an entry too, keyed :func:`advisor_key`.

The board changes only through :meth:`PresenceService` here or bus messages,
and every change is passed to local listeners (the advisors' live lists).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from videotermin.bus.core import Bus
from videotermin.bus.events import (
    EntryWire,
    Event,
    PresenceDrop,
    PresenceEnter,
    PresenceHeartbeat,
    PresenceLeave,
    PresenceSync,
    Resync,
    SeatWire,
    read,
)
from videotermin.domain.clock import Clock
from videotermin.realtime.timing import Timing

log = logging.getLogger(__name__)

CHANNEL = "presence"


def advisor_key(appointment_id: str) -> str:
    """The presence key of an appointment's advisor in its call (one staff seat)."""
    return f"advisor:{appointment_id}"


@dataclass(frozen=True)
class CallSeat:
    """A connection in the call: its opaque peer id and media state (ids and flags only)."""

    peer: str
    audio: bool = False
    video: bool = False
    screen: bool = False

    def wire(self) -> SeatWire:
        return SeatWire(peer=self.peer, audio=self.audio, video=self.video, screen=self.screen)

    @classmethod
    def of(cls, wire: SeatWire | None) -> CallSeat | None:
        if wire is None:
            return None
        return cls(peer=wire.peer, audio=wire.audio, video=wire.video, screen=wire.screen)


@dataclass(frozen=True)
class Entry:
    participant_id: str
    appointment_id: str
    connection_id: str
    instance_id: str
    since: datetime
    connected: bool = True
    call: CallSeat | None = None

    def wire(self) -> EntryWire:
        return EntryWire(
            participant_id=self.participant_id,
            appointment_id=self.appointment_id,
            connection_id=self.connection_id,
            since=self.since,
            connected=self.connected,
            call=self.call.wire() if self.call else None,
        )

    def same_view(self, other: Entry) -> bool:
        """Nothing another connection shows has changed."""
        return (self.connection_id, self.connected, self.call) == (
            other.connection_id,
            other.connected,
            other.call,
        )

    def to_event(self) -> dict[str, Any]:
        """The entry as JSON, the way it travels on the bus."""
        return self.wire().model_dump(mode="json")

    @classmethod
    def from_event(cls, data: object, instance_id: str) -> Entry:
        """An entry from its JSON; ``ValueError`` when it is malformed (a naive time)."""
        return cls.of(EntryWire.model_validate(data), instance_id)

    @classmethod
    def of(cls, wire: EntryWire, instance_id: str) -> Entry:
        return cls(
            participant_id=wire.participant_id,
            appointment_id=wire.appointment_id,
            connection_id=wire.connection_id,
            instance_id=instance_id,
            since=wire.since,
            connected=wire.connected,
            call=CallSeat.of(wire.call),
        )


@dataclass(frozen=True)
class Change:
    """A participant started (``entered``) or stopped waiting, or (``updated``) their
    connection, its connectedness or their call seat changed."""

    appointment_id: str
    participant_id: str
    entered: bool
    updated: bool = False


def fingerprint(entries: list[Entry]) -> int:
    """What a heartbeat says of its instance's entries, the same on every instance (no
    per-process hash seed) and independent of their order."""
    digest = 0
    for e in entries:
        seat = e.call
        key = f"{e.participant_id}|{e.connection_id}|{e.connected}|{seat}"
        digest ^= zlib.crc32(key.encode())
    return digest


class PresenceBoard:
    """The presence this instance knows of; plain data, no I/O. Indexed by appointment
    and by instance, so a call's roster or an instance's share costs what it holds,
    not what the whole board holds."""

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self._by_appointment: dict[str, dict[str, Entry]] = {}
        self._by_instance: dict[str, dict[str, Entry]] = {}

    def get(self, participant_id: str) -> Entry | None:
        return self._entries.get(participant_id)

    def of_instance(self, instance_id: str) -> list[Entry]:
        return list(self._by_instance.get(instance_id, {}).values())

    def held_by(self, instance_id: str, *, in_call: bool) -> int:
        """How many entries ``instance_id`` holds in a call, or waiting (for the metrics)."""
        held = self._by_instance.get(instance_id, {}).values()
        return sum(1 for e in held if (e.call is not None) == in_call)

    def of_appointment(self, appointment_id: str) -> list[Entry]:
        return list(self._by_appointment.get(appointment_id, {}).values())

    def _index(self, entry: Entry) -> None:
        self._by_appointment.setdefault(entry.appointment_id, {})[entry.participant_id] = entry
        self._by_instance.setdefault(entry.instance_id, {})[entry.participant_id] = entry

    def _unindex(self, entry: Entry) -> None:
        for index, key in (
            (self._by_appointment, entry.appointment_id),
            (self._by_instance, entry.instance_id),
        ):
            group = index.get(key)
            if group is not None:
                group.pop(entry.participant_id, None)
                if not group:
                    del index[key]

    def put(self, entry: Entry) -> list[Change]:
        before = self._entries.get(entry.participant_id)
        if before is not None:
            self._unindex(before)
        self._entries[entry.participant_id] = entry
        self._index(entry)
        if before is None:
            return [Change(entry.appointment_id, entry.participant_id, entered=True)]
        if not before.same_view(entry):
            return [Change(entry.appointment_id, entry.participant_id, False, updated=True)]
        return []

    def drop(self, participant_id: str, connection_id: str) -> list[Change]:
        """The holding connection closed; the entry stays, not connected, for the grace."""
        entry = self._entries.get(participant_id)
        if entry is None or entry.connection_id != connection_id or not entry.connected:
            return []
        return self.put(replace(entry, connected=False))

    def remove(self, participant_id: str, connection_id: str) -> list[Change]:
        """Only the connection that holds the entry can end it."""
        entry = self._entries.get(participant_id)
        if entry is None or entry.connection_id != connection_id:
            return []
        del self._entries[participant_id]
        self._unindex(entry)
        return [Change(entry.appointment_id, participant_id, entered=False)]

    def replace_instance(self, instance_id: str, entries: list[Entry]) -> list[Change]:
        """Apply a whole truth: ``entries`` is all that ``instance_id`` holds now."""
        listed = {entry.participant_id for entry in entries}
        changes: list[Change] = []
        for gone in self.of_instance(instance_id):
            if gone.participant_id not in listed:
                changes += self.remove(gone.participant_id, gone.connection_id)
        for entry in entries:
            current = self._entries.get(entry.participant_id)
            if current is None or current.instance_id == instance_id:
                changes += self.put(entry)
        return changes

    def drop_instance(self, instance_id: str) -> list[Change]:
        return self.replace_instance(instance_id, [])


Listener = Callable[[Change], None]


class PresenceService:
    """This instance's side of presence: announces its connections, applies the others'."""

    def __init__(self, bus: Bus, clock: Clock, timing: Timing) -> None:
        self.instance_id = uuid.uuid4().hex
        self.board = PresenceBoard()
        self._bus = bus
        self._clock = clock
        self._timing = timing
        self._listeners: set[Listener] = set()
        self._listeners_of: dict[str, set[Listener]] = {}
        self._asked: dict[str, float] = {}
        """When this instance last asked another one for its whole truth."""
        self._grace: dict[str, tuple[str, datetime]] = {}
        self._heard: dict[str, float] = {}
        self._publishing = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Listen on the bus before asking the other instances to repeat their presence."""
        subscribed = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._follow(subscribed), name="presence-follow"),
            asyncio.create_task(self._sweep(), name="presence-sweep"),
        ]
        await subscribed.wait()
        await self._publish(PresenceSync(instance=self.instance_id))

    async def close(self) -> None:
        """Stop without announcing departures: the connections move to another
        instance, which keeps their "waiting since"; if none does, the others
        drop this instance's entries after ``instance_ttl_seconds``."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def waiting_since(self, participant_id: str) -> datetime | None:
        entry = self.board.get(participant_id)
        return entry.since if entry else None

    def listen(self, listener: Listener, appointment_id: str | None = None) -> Callable[[], None]:
        """Call ``listener`` with every change (of ``appointment_id`` only, when given: a
        call hears its own roster, not the whole board's); returns the callable that stops."""
        if appointment_id is None:
            self._listeners.add(listener)
            return lambda: self._listeners.discard(listener)
        group = self._listeners_of.setdefault(appointment_id, set())
        group.add(listener)

        def stop() -> None:
            group.discard(listener)
            if not group and self._listeners_of.get(appointment_id) is group:
                del self._listeners_of[appointment_id]

        return stop

    async def enter(
        self,
        appointment_id: str,
        participant_id: str,
        connection_id: str,
        call: CallSeat | None = None,
    ) -> datetime:
        """A connection of this instance is waiting (or, with ``call``, in the call; called
        again when its seat or media change); returns since when the participant is."""
        current = self.board.get(participant_id)
        since = current.since if current else self._clock()
        entry = Entry(
            participant_id, appointment_id, connection_id, self.instance_id, since, call=call
        )
        self._grace.pop(participant_id, None)
        self._notify(self.board.put(entry))
        await self._publish(PresenceEnter(instance=self.instance_id, entry=entry.wire()))
        return since

    async def leave(self, participant_id: str, connection_id: str, *, grace: bool) -> None:
        """A connection of this instance closed: after the grace, or at once when the
        participant may no longer wait (window closed, consent withdrawn)."""
        entry = self.board.get(participant_id)
        if entry is None or entry.connection_id != connection_id:
            return
        if grace:
            self._grace[participant_id] = (connection_id, self._clock())
            self._notify(self.board.drop(participant_id, connection_id))
            await self._publish(
                PresenceDrop(
                    instance=self.instance_id,
                    participant_id=participant_id,
                    connection_id=connection_id,
                )
            )
            return
        await self._end(participant_id, connection_id)

    # --- internals -----------------------------------------------------------

    async def _end(self, participant_id: str, connection_id: str) -> None:
        self._grace.pop(participant_id, None)
        changes = self.board.remove(participant_id, connection_id)
        if changes:
            self._notify(changes)
            await self._publish(
                PresenceLeave(
                    instance=self.instance_id,
                    participant_id=participant_id,
                    connection_id=connection_id,
                )
            )

    async def _publish(self, event: Event) -> None:
        """One at a time, so the other instances see this instance's messages in order."""
        async with self._publishing:
            await self._bus.publish(CHANNEL, event.wire())

    async def _heartbeat(self, *, whole: bool = False) -> None:
        held = self.board.of_instance(self.instance_id)
        await self._publish(
            PresenceHeartbeat(
                instance=self.instance_id,
                held=len(held),
                digest=fingerprint(held),
                entries=[entry.wire() for entry in held] if whole else None,
            )
        )

    def _notify(self, changes: list[Change]) -> None:
        for change in changes:
            for listener in list(self._listeners_of.get(change.appointment_id, ())):
                listener(change)
            for listener in list(self._listeners):
                listener(change)

    async def _follow(self, subscribed: asyncio.Event) -> None:
        async with self._bus.subscribe(CHANNEL) as events:
            subscribed.set()
            async for data in events:
                if isinstance(data, dict) and data.get("instance") == self.instance_id:
                    continue  # its own news: the board has it already (no parse)
                event = read(data)
                if event is not None:
                    await self._apply(event)

    async def _compare(self, beat: PresenceHeartbeat) -> None:
        """A light beat: ask the sender for its whole truth when this view of it differs
        (at most once per instance TTL, while the answer travels)."""
        known = self.board.of_instance(beat.instance)
        if (len(known), fingerprint(known)) == (beat.held, beat.digest):
            return
        asked = self._asked.get(beat.instance, -math.inf)
        if time.monotonic() - asked < self._timing.instance_ttl_seconds:
            return
        self._asked[beat.instance] = time.monotonic()
        await self._publish(PresenceSync(instance=self.instance_id, of=beat.instance))

    async def _apply(self, event: Event) -> None:
        if isinstance(event, Resync):
            await self._publish(PresenceSync(instance=self.instance_id))
            return
        if not isinstance(
            event, PresenceSync | PresenceEnter | PresenceDrop | PresenceLeave | PresenceHeartbeat
        ):
            return
        instance = event.instance
        if instance == self.instance_id:
            return
        self._heard[instance] = time.monotonic()
        if isinstance(event, PresenceEnter):
            self._notify(self.board.put(Entry.of(event.entry, instance)))
        elif isinstance(event, PresenceDrop):
            self._notify(self.board.drop(event.participant_id, event.connection_id))
        elif isinstance(event, PresenceLeave):
            self._notify(self.board.remove(event.participant_id, event.connection_id))
        elif isinstance(event, PresenceHeartbeat):
            if event.entries is None:
                await self._compare(event)
                return
            self._asked.pop(instance, None)
            entries = [Entry.of(item, instance) for item in event.entries]
            self._notify(self.board.replace_instance(instance, entries))
        elif event.of in (None, self.instance_id):
            await self._heartbeat(whole=True)

    async def _sweep(self) -> None:
        last_beat = time.monotonic()
        while True:
            await asyncio.sleep(self._timing.sweep_seconds)
            try:
                await self._end_graces()
                self._drop_silent_instances()
                if time.monotonic() - last_beat >= self._timing.heartbeat_seconds:
                    last_beat = time.monotonic()
                    await self._heartbeat()
            except Exception:  # the sweep must outlive a bus hiccup
                log.warning("presence sweep failed", exc_info=True)

    async def _end_graces(self) -> None:
        now = self._clock()
        for participant_id, (connection_id, left_at) in list(self._grace.items()):
            if (now - left_at).total_seconds() >= self._timing.grace_seconds:
                self._grace.pop(participant_id, None)
                await self._end(participant_id, connection_id)

    def _drop_silent_instances(self) -> None:
        deadline = time.monotonic() - self._timing.instance_ttl_seconds
        for instance, heard in list(self._heard.items()):
            if heard < deadline:
                del self._heard[instance]
                self._notify(self.board.drop_instance(instance))
