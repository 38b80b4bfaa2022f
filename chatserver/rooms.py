"""Room membership: seats, handles and presence. The one place that seats and unseats.

A seat is a handle claimed in the broker's member table, plus this node's hub
subscription. ``joined`` goes out through the session's delivery gate
(:meth:`chatserver.session.Session.park`), so nothing of the room reaches the client
before it.

Fair seats, for seekers in group rooms (staff serve rooms and are exempt):

- a connection holds at most ``seats_per_connection`` group seats (``too_many_rooms``);
- one client address holds at most ``address_topic_share`` of a topic's seats on this
  node (counted in memory from the sessions' addresses, never stored or logged; across N
  nodes an address can hold N times its share);
- a node gives out at most ``max_seats`` seats in all, when set;
- a seat kept for a dropped connection's grace is marked held in the broker
  (:meth:`~chatserver.broker.base.Broker.hold`, as the broker itself holds a dead node's
  seats), and does not count against a room's capacity for a newcomer; the returning
  member's reclaim clears the mark and always gets the seat back, even if the room is
  then briefly over capacity.
"""

from __future__ import annotations

import asyncio

import structlog

from chatserver.broker.base import Broker, BrokerError, BrokerUnavailable, Claim, Entry
from chatserver.envelopes import MemberRecord, pack
from chatserver.handles import candidates
from chatserver.hub import CONSENT, Hub
from chatserver.node import ChatConfig
from chatserver.observability import Metrics
from chatserver.presence import listing
from chatserver.room_ids import group_topic
from chatserver.room_names import RoomNames, series
from chatserver.routing import Events, RequestFailed
from chatserver.session import Session
from chatserver.sessions import SessionRegistry
from protocol import ErrorCode, ServerFrame
from protocol.messages import Join, Joined, Leave, Left, Presence, RoomMode

log = structlog.get_logger("chatserver.rooms")

FULL_TEXT = "That room is full right now. Please try the topic again to find a room with space."
TOO_MANY_TEXT = "You're in {n} rooms already. Please leave one to join another."
NETWORK_TEXT = (
    "Many people from your network are in this topic right now. Please try another "
    "topic, or come back in a little while."
)
BUSY_TEXT = (
    "We're very busy right now. Please try again in a minute; if you need someone now, "
    "you can ask for a listener."
)
#: retry hint when the node is at its seat limit (milliseconds)
BUSY_RETRY_MS = 60_000


def role_of(member: bytes) -> str:
    return MemberRecord.decode(member).role


class Rooms:
    def __init__(
        self,
        config: ChatConfig,
        broker: Broker,
        hub: Hub,
        metrics: Metrics,
        sessions: SessionRegistry,
        events: Events,
    ) -> None:
        self.config = config
        self.broker = broker
        self.hub = hub
        self.metrics = metrics
        self.sessions = sessions
        self.events = events
        self._topics = frozenset(config.topics)
        #: group rooms of a topic: the topic itself, then topic-2, ...; per language
        self.names = RoomNames(
            self._topics, config.default_language, frozenset(config.room_languages),
            config.max_group_rooms,
        )  # fmt: skip
        #: topic -> index of the group room where this node last found a seat: joins
        #: start there instead of knocking on every full room (reset when a seat frees)
        self._first_open: dict[str, int] = {}

    def member_record(self, session: Session) -> bytes:
        return MemberRecord(session.role, self.config.node_id, session.id).encode()

    def topic_of(self, room: str) -> str | None:
        """The topic of a group room (``anxiety-2`` -> ``anxiety``); None for others."""
        return group_topic(room, self._topics)

    def member_handle(self, session: Session, room: str) -> str:
        handle = session.rooms.get(room)
        if handle is None:
            raise RequestFailed(ErrorCode.NOT_IN_ROOM, "You're not in that room. Join it first.")
        return handle

    # ------------------------------------------------------------------ join

    def _group_rooms(self, requested: str, role: str, language: str | None) -> list[str]:
        """Room ids to try for a ``join``: a topic means its group rooms in order, in
        ``language`` where the topic has rooms in it."""
        rooms = self.names.candidates(requested, language, seeker=role == "seeker")
        if rooms is None:
            raise RequestFailed(
                ErrorCode.UNKNOWN_ROOM,
                "We couldn't find that room. Please pick a topic from the list.",
            )
        return rooms

    async def join(self, session: Session, frame: Join) -> None:
        if frame.room in session.rooms:
            raise RequestFailed(ErrorCode.ALREADY_JOINED, "You're already in that room.")
        rooms = self._group_rooms(frame.room, session.role, frame.language)
        for check in self.events.join_checks:
            check(session, rooms[0])
        seeker = session.role == "seeker"
        if seeker:
            self._check_fair(session, rooms[0])
        capacity = self.config.room_capacity if seeker else 0
        named = len(rooms) == 1  # a room id, not a topic
        topic = rooms[0]
        start = self._first_open.get(topic, 0) if not named else 0
        for index in range(start, len(rooms)):
            room = rooms[index]
            if room in session.rooms:
                continue
            if await self.seat(session, room, capacity=capacity, ref=frame.ref):
                if not named:
                    self._first_open[topic] = index
                return
        self._first_open.pop(topic, None)
        if named:
            raise RequestFailed(ErrorCode.ROOM_FULL, FULL_TEXT)
        raise RequestFailed(ErrorCode.ROOM_FULL, BUSY_TEXT, BUSY_RETRY_MS)  # every room full

    def _check_fair(self, session: Session, topic: str) -> None:
        """The fair-seat limits of a seeker joining a group room of ``topic``."""
        config = self.config
        seats = sum(1 for room in session.rooms if self.topic_of(room) is not None)
        if seats >= config.seats_per_connection:
            n = config.seats_per_connection
            raise RequestFailed(ErrorCode.TOO_MANY_ROOMS, TOO_MANY_TEXT.format(n=n))
        share = int(config.address_topic_share * config.max_group_rooms * config.room_capacity)
        address = session.address
        if address and self.sessions.address_seats(address, topic) >= max(
            config.room_capacity, share
        ):
            raise RequestFailed(ErrorCode.ROOM_FULL, NETWORK_TEXT, BUSY_RETRY_MS)
        if config.max_seats and self.hub.seat_count >= config.max_seats:
            raise RequestFailed(ErrorCode.ROOM_FULL, BUSY_TEXT, BUSY_RETRY_MS)

    async def _claim(self, session: Session, room: str, capacity: int) -> str | None:
        """A handle in ``room`` for ``session``, its own if free; None when full (seats
        held for dropped members don't count against ``capacity``)."""
        member = self.member_record(session)
        for candidate in candidates(session.handle):
            claim = await self.broker.claim(
                room, candidate, member, capacity=capacity, owner=session.id,
                flags=(CONSENT + candidate,),  # a member's consent leaves with them
            )  # fmt: skip
            if claim is Claim.FULL:
                return None
            if claim is Claim.OK:
                return candidate
        raise RequestFailed(  # pragma: no cover - candidates() ends in unique numbered handles
            ErrorCode.INTERNAL, "We couldn't find you a seat. Please try again."
        )

    async def seat(
        self,
        session: Session,
        room: str,
        *,
        capacity: int = 0,
        ref: str | None = None,
        replay: bool = False,
    ) -> bool:
        """Give ``session`` a seat in ``room`` and send it ``joined``; False when full.
        With ``replay``, the room's history follows ``joined`` (a listener taking a
        one-to-one chat sees what the seeker already wrote), exactly once."""
        handle = await self._claim(session, room, capacity)
        if handle is None:
            return False
        self.sessions.seated(session, room, handle)
        # Deliveries wait until ``joined`` is out: one of this room could otherwise reach
        # the client before it, carrying a seq above the one ``joined`` then announces.
        parked = session.park()
        try:
            await self.hub.attach(room, session)
            members, seq = await asyncio.gather(  # one round trip's wait, not two
                self.broker.members(room), self.broker.last_seq(room)
            )
        except BaseException:
            self.sessions.unseated(session, room)
            if parked:
                session.release([], drop=room)
            await self.hub.detach(room, session)
            await self.broker.release(room, handle)
            raise
        listed = listing(members, handle)
        language = self.names.language(room)
        # saved before `joined`: whoever has it can resume the seat on any node at once
        await self.sessions.persist(session)
        session.send(
            Joined(room, handle, session.role, listed, seq, ref, language, count=len(members))
        )
        self.metrics.rooms.set(self.hub.room_count)
        await self._catch_up(session, room, seq, parked=parked, replay=replay)
        await self.publish_presence(room, "join", handle, session.role)
        log.debug("joined", session=session.id, room=room)
        return True

    async def _catch_up(
        self, session: Session, room: str, seq: int, *, parked: bool, replay: bool
    ) -> None:
        """After ``joined``: history when asked for, what was parked, the room's mode."""
        if replay:
            entries: list[Entry] = []
            try:
                entries = await self.broker.history(room, 0)
            finally:  # whatever happens, parked deliveries go out
                session.release([(room, e.seq, e.payload) for e in entries])
        elif parked:
            session.release([], floor={room: seq})
        slow = self.hub.slow.get(room)
        if slow:  # slow mode set before this member came
            session.send(RoomMode(room=room, slow=slow))

    # ------------------------------------------------------------------ leave

    async def leave(self, session: Session, frame: Leave) -> None:
        self.member_handle(session, frame.room)
        for listener in self.events.leaving:
            await listener(session, frame.room)
        await self.leave_room(session, frame.room)
        session.send(Left(room=frame.room, ref=frame.ref))
        await self.sessions.persist(session)

    async def leave_room(self, session: Session, room: str) -> None:
        """Free ``session``'s seat in ``room`` and tell the room (if anyone is left)."""
        self._first_open.pop(series(room), None)  # a seat may be free in a lower room
        handle = self.sessions.unseated(session, room)
        if handle is None:
            return
        await self.hub.detach(room, session)
        self.metrics.rooms.set(self.hub.room_count)
        try:
            closed = await self.broker.release(room, handle)
            if not closed:
                await self.publish_presence(room, "leave", handle, session.role)
        except BrokerUnavailable:
            log.warning("leave_unrelayed", room=room, session=session.id)
        log.debug("left", session=session.id, room=room)

    async def leave_all(self, session: Session) -> None:
        for room in list(session.rooms):
            await self.leave_room(session, room)

    async def reclaim(self, session: Session) -> None:
        """Move the seats of a session adopted from another node's snapshot to this node;
        a seat the room gave away meanwhile is dropped."""
        member = self.member_record(session)
        for room, handle in list(session.rooms.items()):
            claimed = await self.broker.reclaim(
                room, handle, member, session.id, flags=(CONSENT + handle,)
            )
            if claimed is Claim.OK:
                await self.hub.attach(room, session)
            else:
                self.sessions.unseated(session, room)

    async def hold(self, session: Session, held: bool = True) -> None:
        """Mark the group seats of a seeker whose connection dropped as held in the
        broker: still theirs, no longer counted against the rooms' capacity. ``held``
        False: they came back on this node, and a reclaim clears the marks (a resume on
        another node reclaims every seat anyway). Best effort: a seat left unmarked just
        counts as taken, and one left marked is cleared by the next reclaim."""
        if session.role != "seeker":
            return
        member = self.member_record(session)
        try:
            for room, handle in list(session.rooms.items()):
                if self.topic_of(room) is None:
                    continue
                if held:
                    await self.broker.hold(room, handle)
                else:
                    await self.broker.reclaim(
                        room, handle, member, session.id, flags=(CONSENT + handle,)
                    )
        except BrokerError:
            log.warning("hold_failed", session=session.id)

    def forget(self, session: Session) -> None:
        """The session moved to another node: drop it from local rooms, keep its seats."""
        for room in session.rooms:
            if session in self.hub.sessions(room):
                self.hub.forget(room, session)

    # ------------------------------------------------------------------ events

    async def evicted(self, room: str, handle: str, member: bytes) -> None:
        """A member of a dead node was removed from ``room``: tell the room it left."""
        await self.publish_presence(room, "leave", handle, role_of(member))

    async def publish_presence(self, room: str, event: str, handle: str, role: str) -> None:
        payload = pack(Presence(room=room, event=event, handle=handle, role=role))
        await self.broker.publish(room, payload, sequenced=False)

    async def publish_event(self, room: str, frame: ServerFrame) -> None:
        """Relay an unsequenced event (notice, escalation, ...) to a room's members."""
        await self.broker.publish(room, pack(frame), sequenced=False)
