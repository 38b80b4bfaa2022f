"""The rules of the chat: sessions (open, resume, end) and room membership.

This is the one place that changes room membership and session state. It never touches
a socket directly: it sends frames through :meth:`Session.send` and relays room events
through the broker, whose deliveries the hub fans out. It routes the other frames: the
path of a message (decode -> safety pipeline -> broker -> hub fan-out) is
:mod:`chatserver.messaging`; one-to-one support, :mod:`chatserver.support`; moderation,
:mod:`chatserver.moderation.service`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgpack
import structlog

from chatserver.broker.base import Broker, BrokerUnavailable, Claim, Entry
from chatserver.handles import candidates, random_handle
from chatserver.hub import CONSENT, MARKER, SENDER, Hub, decode_payload
from chatserver.observability import Metrics
from chatserver.resume.base import SessionStore, token_key
from chatserver.resume.memory import MemorySessionStore
from chatserver.session import Session, new_resume_token, new_session_id
from chatserver.tokens import RevocationList, TokenError, verify
from protocol import ClientFrame, Codec, ErrorCode, frame_to_dict
from protocol.messages import (
    Auth,
    Authed,
    Consent,
    Error,
    Join,
    Joined,
    Leave,
    Left,
    Member,
    Notice,
    Ping,
    Pong,
    Presence,
    Resume,
    Resumed,
    RoomMode,
    Say,
    Typing,
    Welcome,
)

if TYPE_CHECKING:
    from chatserver.messaging import Messaging
    from chatserver.moderation.service import Moderation
    from chatserver.support import Support

log = structlog.get_logger("chatserver.chat")

RETRY_AFTER_MS = 2000
UNAVAILABLE_TEXT = (
    "We couldn't send that just now because the service is having a brief hiccup. "
    "Your message is safe with you: please try again in a moment."
)
DEGRADED_TEXT = (
    "We're having a brief connection problem on our side. Messages may not send for a "
    "moment; nothing you've already sent is lost."
)
RESTORED_TEXT = "We're back to normal. Thank you for your patience."
AUTH_TEXT = {
    "bad": "That sign-in code didn't work. Please check it, or ask your coordinator for a new one.",
    "expired": "That sign-in code has expired. Please ask your coordinator for a new one.",
    "revoked": "That sign-in code is no longer active. Please contact your coordinator.",
}
#: Group rooms of a topic: the topic itself, then topic-2, topic-3, ...
GROUP_ROOM = re.compile(r"^(?P<topic>[a-z0-9_]+)(?:-(?P<n>[1-9][0-9]{0,3}))?$")
MAX_GROUP_ROOMS = 1000


class RequestFailed(Exception):
    """A request cannot be carried out; becomes an error frame, the connection stays."""

    def __init__(self, code: ErrorCode, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class ChatConfig:
    node_id: str
    topics: tuple[str, ...]
    max_text: int = 4000
    room_capacity: int = 8
    resume_grace: float = 60.0
    listener_secret: str = ""
    revoked_listeners_file: str = ""


def pack(frame: Any, sender: str | None = None, marker: str | None = None) -> bytes:
    """A room payload for the broker: the frame's wire map, as MessagePack, with the
    sender's session id for mutes and the marker of a client-named message (the hub
    strips both before anything reaches a client)."""
    data = frame_to_dict(frame)
    if sender is not None:
        data[SENDER] = sender
    if marker is not None:
        data[MARKER] = marker
    packed: bytes = msgpack.packb(data)
    return packed


def now_ms() -> int:
    return int(time.time() * 1000)


def locale_of(ws: object) -> str | None:
    """The first language of the socket's Accept-Language header ("en-GB"), if any."""
    request = getattr(ws, "request", None)
    header = request.headers.get("Accept-Language") if request is not None else None
    if not header:
        return None
    first = header.split(",", 1)[0].split(";", 1)[0].strip()
    return first[:35] or None


class Chat:
    def __init__(
        self,
        config: ChatConfig,
        broker: Broker,
        hub: Hub,
        metrics: Metrics,
        *,
        store: SessionStore | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.store: SessionStore = store if store is not None else MemorySessionStore()
        self.broker = broker
        self.hub = hub
        self.metrics = metrics
        self.support: Support | None = None
        self.moderation: Moderation | None = None
        self.messaging: Messaging  # set by Messaging(chat, ...)
        self.clock = clock
        self._topics = frozenset(config.topics)
        self._revoked = RevocationList(config.revoked_listeners_file or None)
        self.sessions: dict[str, Session] = {}
        self._by_token: dict[str, Session] = {}
        #: topic -> index of the group room where this node last found a seat: joins
        #: start there instead of knocking on every full room (reset when a seat frees)
        self._first_open: dict[str, int] = {}

    # ------------------------------------------------------------------ lifecycle

    def open(self, ws: object, codec: Codec) -> Session:
        """A new connection: a fresh anonymous session and its welcome frame."""
        session = Session(
            id=new_session_id(),
            handle=random_handle(),
            role="seeker",
            codec=codec,
            resume_token=new_resume_token(),
            ws=ws,
            locale=locale_of(ws),
        )
        self.sessions[session.id] = session
        self._by_token[session.resume_token] = session
        session.send(
            Welcome(
                session=session.id,
                handle=session.handle,
                role=session.role,
                resume_token=session.resume_token,
                topics=self.config.topics,
                max_text=self.config.max_text,
            )
        )
        return session

    def _ttl(self) -> float:
        return max(self.config.resume_grace, 1.0) * 2

    async def persist(self, session: Session) -> None:
        """Save the session's snapshot so any node can resume it (after state changes,
        and periodically while it has something to resume)."""
        if session.id not in self.sessions:
            return  # ended (or moved) meanwhile: nothing to resume here
        session.saved_at = self.clock()
        key = token_key(session.resume_token)
        try:
            await self.store.save(key, session.snapshot(self.config.node_id), self._ttl())
            if session.id not in self.sessions or token_key(session.resume_token) != key:
                await self.store.delete(key)  # it ended, or its token rotated, meanwhile
        except BrokerUnavailable:
            log.warning("persist_failed", session=session.id)

    async def refresh(self) -> None:
        """Keep the snapshots of sessions with seats fresh (their TTL is twice the grace)."""
        horizon = self.clock() - self._ttl() / 4
        for session in list(self.sessions.values()):
            busy = session.rooms or (self.support is not None and self.support.is_busy(session))
            if busy and session.saved_at < horizon:
                await self.persist(session)

    async def disconnected(self, session: Session, ws: object, *, clean: bool = False) -> None:
        """The socket ``ws`` is gone. A clean close (the person left) frees the seats now;
        a dropped connection keeps them for the resume grace.

        Nothing to do when another socket has already resumed the session."""
        if session.ws is not ws:
            return
        session.ws = None
        keep = session.rooms or (self.support is not None and self.support.is_busy(session))
        if not clean and keep and self.config.resume_grace > 0 and not session.closing:
            session.detached_at = self.clock()
            await self.persist(session)
            return
        await self.end(session)

    async def end(self, session: Session) -> None:
        """Release every seat, queue place and pairing, and forget the session."""
        if self.support is not None:
            await self.support.session_ended(session)
        for room in list(session.rooms):
            await self._leave_room(session, room)
        self.sessions.pop(session.id, None)
        self._by_token.pop(session.resume_token, None)
        if session.saved_at:
            # on failure the snapshot expires on its own
            with contextlib.suppress(BrokerUnavailable):
                await self.store.delete(token_key(session.resume_token))

    def moved(self, session_id: str) -> None:
        """Another node resumed this session: forget it here without freeing its seats."""
        session = self.sessions.pop(session_id, None)
        if session is None:
            return
        self._by_token.pop(session.resume_token, None)
        for room in session.rooms:
            members = self.hub.sessions(room)
            if session in members:
                self.hub.forget(room, session)
        if self.support is not None:
            self.support.forget(session.id)
        session.closing = True
        log.info("moved", session=session.id)

    async def reap(self) -> int:
        """End sessions detached for longer than the grace. Returns how many ended."""
        horizon = self.clock() - self.config.resume_grace
        expired = [
            s
            for s in self.sessions.values()
            if s.detached_at is not None and s.detached_at < horizon
        ]
        for session in expired:
            await self.end(session)
        return len(expired)

    def broker_health(self, healthy: bool) -> None:
        """Tell everyone on this node when the relay between nodes goes down or comes back."""
        notice = (
            Notice(code="restored", text=RESTORED_TEXT, level="info")
            if healthy
            else Notice(code="degraded", text=DEGRADED_TEXT, level="warning")
        )
        for session in self.sessions.values():
            if session.ws is not None:
                session.send(notice)

    async def evicted(self, room: str, handle: str, member: bytes) -> None:
        """A member of a dead node was removed from ``room``: tell the room it left."""
        await self._publish_presence(room, "leave", handle, _role_of(member))

    # ------------------------------------------------------------------ frames

    async def handle(self, session: Session, frame: ClientFrame) -> Session:
        """Carry out one client frame. Returns the session now bound to the socket
        (a different one after a successful resume)."""
        ref = getattr(frame, "ref", None)
        try:
            match frame:
                case Say():
                    await self.messaging.say(session, frame)
                case Typing():
                    await self.messaging.typing(session, frame)
                case Join():
                    await self.join(session, frame)
                case Leave():
                    await self.leave(session, frame)
                case Ping():
                    session.send(Pong(ref=frame.ref))
                case Resume():
                    return await self.resume(session, frame)
                case Auth():
                    await self.auth(session, frame)
                case Consent():
                    await self.messaging.consent(session, frame)
                case _:
                    if self.moderation is not None and await self.moderation.handle(session, frame):
                        pass
                    elif self.support is not None:
                        await self.support.handle(session, frame)
                    else:
                        raise RequestFailed(
                            ErrorCode.UNKNOWN_TYPE, "That request isn't offered here."
                        )
        except RequestFailed as exc:
            self.fail(session, exc.code, exc.message, ref, exc.retry_after)
        except BrokerUnavailable:
            self.fail(session, ErrorCode.UNAVAILABLE, UNAVAILABLE_TEXT, ref, RETRY_AFTER_MS)
        return session

    def fail(
        self,
        session: Session,
        code: ErrorCode,
        message: str,
        ref: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        self.metrics.errors.labels(code.value).inc()
        session.send(Error(code=code.value, message=message, ref=ref, retry_after=retry_after))

    def member_handle(self, session: Session, room: str) -> str:
        handle = session.rooms.get(room)
        if handle is None:
            raise RequestFailed(ErrorCode.NOT_IN_ROOM, "You're not in that room. Join it first.")
        return handle

    async def auth(self, session: Session, frame: Auth) -> None:
        if session.rooms:
            raise RequestFailed(ErrorCode.FORBIDDEN, "Please sign in before joining any rooms.")
        try:
            claims = verify(frame.token, self.config.listener_secret, revoked=self._revoked)
        except TokenError as exc:
            log.info("auth_failed", session=session.id, reason=exc.reason)
            raise RequestFailed(ErrorCode.AUTH_FAILED, AUTH_TEXT[exc.reason]) from exc
        session.role = claims.role
        session.display_name = claims.name
        session.handle = claims.name
        session.listener_id = claims.lid
        session.listener_topics = tuple(t for t in claims.topics if t in self._topics)
        log.info("authed", session=session.id, role=claims.role)
        await self.persist(session)
        session.send(
            Authed(
                role=claims.role,
                display_name=claims.name,
                topics=session.listener_topics,
                ref=frame.ref,
            )
        )

    def _group_rooms(self, requested: str, role: str) -> list[str]:
        """Room ids to try for a ``join``: a topic means its group rooms in order."""
        match = GROUP_ROOM.match(requested)
        if match is None or match["topic"] not in self._topics:
            raise RequestFailed(
                ErrorCode.UNKNOWN_ROOM,
                "We couldn't find that room. Please pick a topic from the list.",
            )
        if match["n"] is not None or role != "seeker":
            return [requested]
        topic = match["topic"]
        return [topic] + [f"{topic}-{n}" for n in range(2, MAX_GROUP_ROOMS + 1)]

    async def join(self, session: Session, frame: Join) -> None:
        if frame.room in session.rooms:
            raise RequestFailed(ErrorCode.ALREADY_JOINED, "You're already in that room.")
        rooms = self._group_rooms(frame.room, session.role)
        if self.moderation is not None:
            self.moderation.check_can_join(session, rooms[0])
        capacity = self.config.room_capacity if session.role == "seeker" else 0
        topic = rooms[0]
        start = self._first_open.get(topic, 0) if len(rooms) > 1 else 0
        for index in range(start, len(rooms)):
            room = rooms[index]
            if room in session.rooms:
                continue
            if await self.seat(session, room, capacity=capacity, ref=frame.ref):
                if len(rooms) > 1:
                    self._first_open[topic] = index
                return
        self._first_open.pop(topic, None)
        raise RequestFailed(
            ErrorCode.ROOM_FULL,
            "That room is full right now. Please try the topic again to find a room with space.",
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
        member = msgpack.packb({"role": session.role, "node": self.config.node_id, "s": session.id})
        handle = None
        for candidate in candidates(session.handle):
            claim = await self.broker.claim(
                room, candidate, member, capacity=capacity, owner=session.id,
                flags=(CONSENT + candidate,),
            )  # fmt: skip
            if claim is Claim.FULL:
                return False
            if claim is Claim.OK:
                handle = candidate
                break
        if handle is None:  # pragma: no cover - candidates() ends in unique numbered handles
            raise RequestFailed(
                ErrorCode.INTERNAL, "We couldn't find you a seat. Please try again."
            )
        session.rooms[room] = handle
        # Deliveries wait until ``joined`` is out: one of this room could otherwise reach
        # the client before it, carrying a seq above the one ``joined`` then announces.
        parked = session.pending is None
        if parked:
            session.pending = []
        try:
            await self.hub.attach(room, session)
            members, seq = await asyncio.gather(  # one round trip's wait, not two
                self.broker.members(room), self.broker.last_seq(room)
            )
        except BaseException:
            session.rooms.pop(room, None)
            if parked:
                self.flush(session, [], drop=room)
            await self.hub.detach(room, session)
            await self.broker.release(room, handle)
            raise
        session.send(
            Joined(
                room=room,
                handle=handle,
                role=session.role,
                members=tuple(Member(h, _role_of(m)) for h, m in sorted(members.items())),
                seq=seq,
                ref=ref,
            )
        )
        self.metrics.rooms.set(self.hub.room_count)
        if replay:
            entries: list[Entry] = []
            try:
                entries = await self.broker.history(room, 0)
            finally:  # whatever happens, parked deliveries go out
                self.flush(session, [(room, e.seq, e.payload) for e in entries])
        elif parked:
            self.flush(session, [], floor={room: seq})
        slow = self.hub.slow.get(room)
        if slow:  # slow mode set before this member came
            session.send(RoomMode(room=room, slow=slow))
        await self._publish_presence(room, "join", handle, session.role)
        await self.persist(session)
        log.debug("joined", session=session.id, room=room)
        return True

    def flush(
        self,
        session: Session,
        backlog: list[tuple[str, int, bytes]],
        *,
        floor: dict[str, int] | None = None,
        drop: str | None = None,
    ) -> None:
        """Send ``backlog`` then what was parked meanwhile, each message once, in order.
        Messages at or below ``floor[room]`` are not owed (the client starts after it);
        nothing of room ``drop`` is sent (its join failed)."""
        pending, session.pending = session.pending or [], None
        sent: dict[str, int] = dict(floor or {})
        for room, seq, payload in backlog + pending:
            if room == drop:
                continue
            if seq and seq <= sent.get(room, 0):
                continue  # already sent from history
            if seq:
                sent[room] = seq
            data, sender = decode_payload(payload, seq)
            if sender is None or sender not in session.muted:
                session.send_bytes(session.codec.dumps(data))

    async def leave(self, session: Session, frame: Leave) -> None:
        self.member_handle(session, frame.room)
        if self.support is not None:
            await self.support.leaving(session, frame.room)
        await self._leave_room(session, frame.room)
        session.send(Left(room=frame.room, ref=frame.ref))
        await self.persist(session)

    async def leave_room(self, session: Session, room: str) -> None:
        await self._leave_room(session, room)

    async def _leave_room(self, session: Session, room: str) -> None:
        match = GROUP_ROOM.match(room)
        if match is not None:
            self._first_open.pop(match["topic"], None)  # a seat may be free in a lower room
        handle = session.rooms.pop(room, None)
        session.recent.pop(room, None)
        if handle is None:
            return
        await self.hub.detach(room, session)
        self.metrics.rooms.set(self.hub.room_count)
        try:
            closed = await self.broker.release(room, handle)
            if not closed:
                await self._publish_presence(room, "leave", handle, session.role)
        except BrokerUnavailable:
            log.warning("leave_unrelayed", room=room, session=session.id)
        log.debug("left", session=session.id, room=room)

    async def _publish_presence(self, room: str, event: str, handle: str, role: str) -> None:
        payload = pack(Presence(room=room, event=event, handle=handle, role=role))
        await self.broker.publish(room, payload, sequenced=False)

    async def publish_event(self, room: str, frame: Any) -> None:
        """Relay an unsequenced event (notice, escalation, ...) to a room's members."""
        await self.broker.publish(room, pack(frame), sequenced=False)

    # ------------------------------------------------------------------ resume

    async def resume(self, fresh: Session, frame: Resume) -> Session:
        """Hand the socket of ``fresh`` to the session that ``frame.token`` names, held
        here or (through the session store) by any node.

        Deliveries that arrive while history is fetched are parked in ``pending`` and sent
        after it, skipping what history already covered: exactly once, in order.
        """
        old = self._by_token.get(frame.token)
        if old is fresh:
            old = None
        if old is None:
            old = await self._adopt(frame.token, fresh)
        if old is None:
            raise RequestFailed(
                ErrorCode.RESUME_FAILED,
                "We couldn't restore your earlier chat (it may have timed out). "
                "You can start again from here.",
            )
        ws = fresh.ws
        await self.end(fresh)
        previous_ws = old.ws
        self._by_token.pop(old.resume_token, None)
        with contextlib.suppress(BrokerUnavailable):
            await self.store.delete(token_key(old.resume_token))
        old.resume_token = new_resume_token()
        self._by_token[old.resume_token] = old
        old.ws, old.codec, old.detached_at, old.closing = ws, fresh.codec, None, False
        old.locale = fresh.locale or old.locale
        if previous_ws is not None and previous_ws is not ws:
            close = getattr(previous_ws, "close", None)
            if close is not None:
                await close(1000, "resumed elsewhere")
        if old.pending is None:
            old.pending = []
        try:
            rooms: dict[str, int] = {}
            backlog: list[tuple[str, int, bytes]] = []
            for room in old.rooms:
                after = frame.last_seq.get(room, 0)
                for entry in await self.broker.history(room, after):
                    backlog.append((room, entry.seq, entry.payload))
                rooms[room] = await self.broker.last_seq(room)
            old.send(
                Resumed(
                    session=old.id,
                    handle=old.handle,
                    role=old.role,
                    resume_token=old.resume_token,
                    rooms=rooms,
                    ref=frame.ref,
                )
            )
        except BaseException:
            old.pending = None
            raise
        self.flush(old, backlog)
        await self.persist(old)
        if self.support is not None:
            self.support.resumed(old)
        log.info("resumed", session=old.id, rooms=len(old.rooms))
        return old

    async def _adopt(self, token: str, fresh: Session) -> Session | None:
        """Take a session from the store (another node held it): move its seats here."""
        snapshot = await self.store.take(token_key(token))
        if snapshot is None:
            return None
        session, node = Session.restore(snapshot, fresh.codec, None, token)
        session.pending = []  # park deliveries until the replay is done
        member = msgpack.packb({"role": session.role, "node": self.config.node_id, "s": session.id})
        for room, handle in list(session.rooms.items()):
            flags = (CONSENT + handle,)
            if await self.broker.reclaim(room, handle, member, session.id, flags=flags) is Claim.OK:
                await self.hub.attach(room, session)
            else:
                del session.rooms[room]
        self.sessions[session.id] = session
        if node and node != self.config.node_id and self.support is not None:
            await self.support.tell(node, {"k": "moved", "s": session.id})
        if self.support is not None:
            await self.support.adopt(session)
        log.info("adopted", session=session.id, rooms=len(session.rooms))
        return session


def _role_of(member: bytes) -> str:
    try:
        data = msgpack.unpackb(member, raw=False)
        return str(data.get("role", "seeker"))
    except Exception:
        return "seeker"
