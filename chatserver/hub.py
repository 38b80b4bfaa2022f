"""This node's registry of room -> local sessions, and fan-out of pre-encoded bytes.

The broker hands every room payload to :meth:`Hub.deliver` once per node. The hub decodes
it once, encodes it once per wire encoding in use in the room, and writes the same bytes
to every local member with :func:`chatserver.fanout.send` (websockets' ``broadcast``
with the frame built once and one write per connection per loop turn), which does not
wait on any socket.
A member whose socket buffer is over the limit is closed as a slow consumer instead of
slowing the room (websockets' own docstring names this trade-off).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

import structlog

from chatserver import fanout as writes
from chatserver.broker.base import Broker
from chatserver.envelopes import pack, signal_of, unpack
from chatserver.presence import Gather
from chatserver.session import Session
from protocol import CODECS, CloseCode

log = structlog.get_logger("chatserver.hub")

Fanout = Callable[..., None]
SlowConsumer = Callable[[Session], None]
Control = Callable[[bytes], None]
#: A feature's handler of a room signal: (room, key)
Signal = Callable[[str, str], None]
#: Room events only listeners and moderators receive.
STAFF_ONLY = frozenset({"escalation"})
STAFF = frozenset({"listener", "moderator"})
#: Room flag prefix: ``consent:<handle>`` while that member's consent stands.
CONSENT = "consent:"


class Hub:
    def __init__(
        self,
        broker: Broker,
        *,
        send_limit: int = 1_048_576,
        on_slow: SlowConsumer | None = None,
        fanout: Fanout = writes.send,
    ) -> None:
        self._broker = broker
        self._rooms: dict[str, dict[Session, None]] = {}
        self._send_limit = send_limit
        self._on_slow = on_slow
        self._fanout = fanout
        self.frames_out = 0
        self.delivered = 0
        #: local seats in all rooms (a member of two rooms counts twice)
        self.seat_count = 0
        #: room -> members present who said "I'm ready to hear it" (relaxes the trauma
        #: hold while one of them is in the room)
        self.consented: dict[str, set[str]] = {}
        #: room -> seconds between a seeker's messages (slow mode), when on
        self.slow: dict[str, int] = {}
        #: called after a room-ended event was fanned out, to drop its local members
        self.on_room_ended: Callable[[str], None] | None = None
        self._control: dict[str, Control] = {}
        #: rooms being attached -> settings whose events arrived meanwhile
        self._heard: dict[str, set[str]] = {}
        #: presence gathered per room and window (see chatserver/presence.py)
        self.presence = Gather(self._presence_due)
        #: room signal kind -> the feature's handler (signals never reach a client)
        self.signals: dict[str, Signal] = {}

    @property
    def room_count(self) -> int:
        return len(self._rooms)

    def sessions(self, room: str) -> Iterable[Session]:
        return tuple(self._rooms.get(room, ()))

    def local_rooms(self) -> list[str]:
        return list(self._rooms)

    async def listen_control(self, channel: str, callback: Control) -> None:
        """Deliver payloads of a node-level control channel (``@...``) to ``callback``."""
        self._control[channel] = callback
        await self._broker.subscribe(channel)

    async def attach(self, room: str, session: Session) -> None:
        """Add a local member; the first one subscribes this node to the room and reads
        the room's settings (slow mode, consent), which may have changed while this node
        had no member there to hear the event."""
        members = self._rooms.get(room)
        if members is None:
            members = self._rooms[room] = {}
            members[session] = None
            self.seat_count += 1
            self._heard[room] = set()
            try:
                await self._broker.subscribe(room)
                flags = await self._broker.flags(room)
            except BaseException:
                if self._rooms.pop(room, None) is not None:
                    self.seat_count -= len(members)
                raise
            finally:
                heard = self._heard.pop(room, set())
            # an event heard meanwhile is newer than what was read (set before published)
            self._adopt_settings(room, flags, keep=heard)
        elif session not in members:
            members[session] = None
            self.seat_count += 1

    async def refresh_settings(self) -> None:
        """After the broker reconnected: read back the settings of every local room (an
        event sent while this node was cut off never reached it), and write back what
        this node knows where Redis has none (a Redis restart without persistence)."""
        for room in list(self._rooms):
            flags = await self._broker.flags(room)
            if not flags:
                if self.slow.get(room):
                    await self._broker.set_flag(room, "slow", self.slow[room])
                for handle in self.consented.get(room, ()):
                    await self._broker.set_flag(room, CONSENT + handle, 1)
                continue
            self._adopt_settings(room, flags)

    def _adopt_settings(
        self, room: str, flags: Mapping[str, int], keep: Collection[str] = ()
    ) -> None:
        """Make this node's view of ``room``'s settings what the broker holds, except the
        settings named in ``keep`` (their events arrived after the read: newer)."""
        if "slow" not in keep:
            slow = int(flags.get("slow", 0))
            if slow:
                self.slow[room] = slow
            else:
                self.slow.pop(room, None)
        current = self.consented.get(room, set())
        consented = {h for h in current if CONSENT + h in keep}
        consented |= {
            name[len(CONSENT) :]
            for name, value in flags.items()
            if name.startswith(CONSENT) and value and name not in keep
        }
        self.consented[room] = consented

    async def detach(self, room: str, session: Session) -> None:
        """Remove a local member; the last one unsubscribes this node from the room."""
        members = self._rooms.get(room)
        if members is None:
            return
        if session in members:
            del members[session]
            self.seat_count -= 1
        if not members:
            del self._rooms[room]
            self.presence.drop(room)
            self.consented.pop(room, None)
            self.slow.pop(room, None)
            await self._broker.unsubscribe(room)

    def forget(self, room: str, session: Session) -> None:
        """Drop a local member whose seat moved to another node: no unsubscribe round trip
        is owed to anyone, so this does not wait (the next sweep or leave tidies up)."""
        members = self._rooms.get(room)
        if members is not None and session in members:
            del members[session]
            self.seat_count -= 1

    def _presence_due(self, room: str) -> None:
        """Send ``room``'s gathered presence, if any (chatserver/presence.py)."""
        frame = self.presence.flush(room)
        if frame is not None:
            self.deliver(room, 0, pack(frame), gather=False)

    def deliver(self, room: str, seq: int, payload: bytes, *, gather: bool = True) -> None:
        """Broker callback: fan one room payload out to local members. Never blocks."""
        members = self._rooms.get(room)
        if not members:
            control = self._control.get(room)
            if control is not None:
                control(payload)
            return
        self.delivered += 1
        frame, sender = unpack(payload, seq)
        if not seq and self._signalled(room, frame):
            return
        staff_only = False
        kind = frame.get("type")
        if not seq:  # events: a few change room state or reach only some members
            staff_only = kind in STAFF_ONLY
            self._room_event(room, kind, frame)
            if gather and kind == "presence" and self.presence.take(room, frame, len(members)):
                return  # kept for the room's batch (``gather`` is False for the batch itself)
        self._presence_due(room)  # nothing of a room overtakes its presence
        groups: dict[str, list[Any]] = {}
        for session in members:
            if staff_only and session.role not in STAFF:
                continue
            if sender is not None and sender in session.muted:
                continue
            if session.pending is not None:  # the gate: not before `joined` (see session.py)
                session.hold(room, seq, payload)
                continue
            ws = session.ws
            if ws is None or session.closing:
                continue
            if self._too_slow(ws):
                self._slow(session)
                continue
            groups.setdefault(session.codec.subprotocol, []).append(ws)
        for subprotocol, sockets in groups.items():
            codec = CODECS[subprotocol]
            self._fanout(sockets, codec.dumps(frame), text=codec.text)
            self.frames_out += len(sockets)
        if kind == "chat_ended" and frame.get("reason") == "room_ended" and self.on_room_ended:
            self.on_room_ended(room)

    def _room_event(self, room: str, kind: Any, frame: dict[str, Any]) -> None:
        """The events that change what this node knows of a room (consent, slow mode)."""
        if kind == "consent":
            handle = str(frame.get("handle"))
            self.consented.setdefault(room, set()).add(handle)
            self._hear(room, CONSENT + handle)
        elif kind == "presence" and frame.get("event") == "leave":
            handle = str(frame.get("handle"))
            self.consented.get(room, set()).discard(handle)
            self._hear(room, CONSENT + handle)
        elif kind == "room_mode":
            self.slow[room] = int(frame.get("slow") or 0)
            self._hear(room, "slow")

    def _signalled(self, room: str, frame: dict[str, Any]) -> bool:
        """A room signal goes to the feature that listens for it, never to a client."""
        signal = signal_of(frame)
        if signal is None:
            return False
        handler = self.signals.get(signal[0])
        if handler is not None:
            handler(room, signal[1])
        return True

    def _hear(self, room: str, flag: str) -> None:
        heard = self._heard.get(room)
        if heard is not None:
            heard.add(flag)

    def _too_slow(self, ws: Any) -> bool:
        transport = getattr(ws, "transport", None)
        return transport is not None and transport.get_write_buffer_size() > self._send_limit

    def _slow(self, session: Session) -> None:
        session.stop_sending()
        log.info("slow_consumer", session=session.id, code=int(CloseCode.SLOW_CONSUMER))
        if self._on_slow is not None:
            self._on_slow(session)
