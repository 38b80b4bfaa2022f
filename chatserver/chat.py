"""The rules of the chat: what each client frame does to sessions and rooms.

This is the one place that changes membership and session state. It never touches a
socket directly: it sends frames through :meth:`Session.send` and relays room events
through the broker, whose deliveries the hub fans out. The path of a message is
decode -> safety pipeline -> broker (sequence + history + publish) -> hub fan-out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgpack
import structlog

from chatserver.broker.base import Broker, BrokerUnavailable, Claim
from chatserver.handles import candidates, random_handle
from chatserver.hub import Hub, decode_payload
from chatserver.observability import Metrics
from chatserver.safety.base import FilterInput
from chatserver.session import Session, new_resume_token, new_session_id
from protocol import ClientFrame, Codec, ErrorCode, frame_to_dict
from protocol.messages import (
    Ack,
    Error,
    Join,
    Joined,
    Leave,
    Left,
    Member,
    Message,
    Notice,
    Ping,
    Pong,
    Presence,
    Resume,
    Resumed,
    Say,
    Typing,
    TypingEvent,
    Welcome,
)

if TYPE_CHECKING:
    from chatserver.safety.pipeline import Pipeline

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


def pack(frame: Message | Presence | TypingEvent | Notice) -> bytes:
    """A room payload for the broker: the frame's wire map, as MessagePack."""
    data: bytes = msgpack.packb(frame_to_dict(frame))
    return data


def now_ms() -> int:
    return int(time.time() * 1000)


class Chat:
    def __init__(
        self,
        config: ChatConfig,
        broker: Broker,
        hub: Hub,
        metrics: Metrics,
        pipeline: Pipeline | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.broker = broker
        self.hub = hub
        self.metrics = metrics
        self.pipeline = pipeline
        self._clock = clock
        self._topics = frozenset(config.topics)
        self.sessions: dict[str, Session] = {}
        self._by_token: dict[str, Session] = {}

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

    async def disconnected(self, session: Session, ws: object, *, clean: bool = False) -> None:
        """The socket ``ws`` is gone. A clean close (the person left) frees the seats now;
        a dropped connection keeps them for the resume grace.

        Nothing to do when another socket has already resumed the session."""
        if session.ws is not ws:
            return
        session.ws = None
        if not clean and session.rooms and self.config.resume_grace > 0 and not session.closing:
            session.detached_at = self._clock()
            return
        await self.end(session)

    async def end(self, session: Session) -> None:
        """Release every seat and forget the session."""
        for room in list(session.rooms):
            await self._leave_room(session, room)
        self.sessions.pop(session.id, None)
        self._by_token.pop(session.resume_token, None)

    async def reap(self) -> int:
        """End sessions detached for longer than the grace. Returns how many ended."""
        horizon = self._clock() - self.config.resume_grace
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

    # ------------------------------------------------------------------ frames

    async def handle(self, session: Session, frame: ClientFrame) -> Session:
        """Carry out one client frame. Returns the session now bound to the socket
        (a different one after a successful resume)."""
        ref = getattr(frame, "ref", None)
        try:
            match frame:
                case Say():
                    await self.say(session, frame)
                case Typing():
                    await self.typing(session, frame)
                case Join():
                    await self.join(session, frame)
                case Leave():
                    await self.leave(session, frame)
                case Ping():
                    session.send(Pong(ref=frame.ref))
                case Resume():
                    return await self.resume(session, frame)
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

    def _member_room(self, session: Session, room: str) -> str:
        handle = session.rooms.get(room)
        if handle is None:
            raise RequestFailed(ErrorCode.NOT_IN_ROOM, "You're not in that room. Join it first.")
        return handle

    async def join(self, session: Session, frame: Join) -> None:
        room = frame.room
        if room in session.rooms:
            raise RequestFailed(ErrorCode.ALREADY_JOINED, "You're already in that room.")
        if room not in self._topics:
            raise RequestFailed(
                ErrorCode.UNKNOWN_ROOM,
                "We couldn't find that room. Please pick a topic from the list.",
            )
        member = msgpack.packb({"role": session.role, "node": self.config.node_id, "s": session.id})
        handle = None
        for candidate in candidates(session.handle):
            if await self.broker.claim(room, candidate, member) is Claim.OK:
                handle = candidate
                break
        if handle is None:  # pragma: no cover - candidates() ends in unique numbered handles
            raise RequestFailed(
                ErrorCode.INTERNAL, "We couldn't find you a seat. Please try again."
            )
        session.rooms[room] = handle
        try:
            await self.hub.attach(room, session)
            members = await self.broker.members(room)
            seq = await self.broker.last_seq(room)
        except BaseException:
            session.rooms.pop(room, None)
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
                ref=frame.ref,
            )
        )
        self.metrics.rooms.set(self.hub.room_count)
        await self._publish_presence(room, "join", handle, session.role)
        log.debug("joined", session=session.id, room=room)

    async def leave(self, session: Session, frame: Leave) -> None:
        self._member_room(session, frame.room)
        await self._leave_room(session, frame.room)
        session.send(Left(room=frame.room, ref=frame.ref))

    async def _leave_room(self, session: Session, room: str) -> None:
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

    async def evicted(self, room: str, handle: str, member: bytes) -> None:
        """Broker callback: a dead node's member was removed; tell the room it left."""
        await self._publish_presence(room, "leave", handle, _role_of(member))

    async def _publish_presence(self, room: str, event: str, handle: str, role: str) -> None:
        payload = pack(Presence(room=room, event=event, handle=handle, role=role))
        await self.broker.publish(room, payload, sequenced=False)

    async def say(self, session: Session, frame: Say) -> None:
        handle = self._member_room(session, frame.room)
        text = frame.text
        if len(text) > self.config.max_text:
            raise RequestFailed(
                ErrorCode.TOO_LARGE,
                f"That message is longer than {self.config.max_text} characters. "
                "Could you split it into a few shorter ones?",
            )
        if not text.strip():
            raise RequestFailed(ErrorCode.INVALID_FRAME, "That message is empty.")
        before = session.remember(frame.room, text)
        cw = frame.cw
        if self.pipeline is not None:
            result = await self.pipeline.run(
                FilterInput(
                    text=text,
                    role=session.role,
                    recent=before,
                    lang=session.locale,
                    confirmed_warning=frame.cw,
                )
            )
            text = result.text
            if result.block:
                raise RequestFailed(ErrorCode.INVALID_FRAME, "That message can't be sent here.")
            cw = result.content_warning or cw
        started = self._clock()
        message = Message(
            room=frame.room,
            id=new_session_id(),
            seq=0,
            handle=handle,
            role=session.role,
            text=text,
            ts=now_ms(),
            cw=cw,
        )
        seq = await self.broker.publish(frame.room, pack(message), sequenced=True)
        self.metrics.relay_latency.observe(self._clock() - started)
        self.metrics.messages.inc()
        session.send(Ack(room=frame.room, id=message.id, seq=seq, ref=frame.ref))

    async def typing(self, session: Session, frame: Typing) -> None:
        handle = self._member_room(session, frame.room)
        payload = pack(TypingEvent(room=frame.room, handle=handle, active=frame.active))
        await self.broker.publish(frame.room, payload, sequenced=False)

    async def resume(self, fresh: Session, frame: Resume) -> Session:
        """Hand the socket of ``fresh`` to the session that ``frame.token`` names.

        Deliveries that arrive while history is fetched are parked in ``pending`` and sent
        after it, skipping what history already covered: exactly once, in order.
        """
        old = self._by_token.get(frame.token)
        if old is None or old is fresh:
            raise RequestFailed(
                ErrorCode.RESUME_FAILED,
                "We couldn't restore your earlier chat (it may have timed out). "
                "You can start again from here.",
            )
        ws = fresh.ws
        await self.end(fresh)
        previous_ws = old.ws
        del self._by_token[old.resume_token]
        old.resume_token = new_resume_token()
        self._by_token[old.resume_token] = old
        old.ws, old.codec, old.detached_at, old.closing = ws, fresh.codec, None, False
        if previous_ws is not None and previous_ws is not ws:
            close = getattr(previous_ws, "close", None)
            if close is not None:
                await close(1000, "resumed elsewhere")
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
        finally:
            pending, old.pending = old.pending, None
        sent: dict[str, int] = {}
        for room, seq, payload in backlog + pending:
            if seq and seq <= sent.get(room, 0):
                continue  # already sent from history
            if seq:
                sent[room] = seq
            self._send_payload(old, seq, payload)
        log.info("resumed", session=old.id, rooms=len(old.rooms))
        return old

    def _send_payload(self, session: Session, seq: int, payload: bytes) -> None:
        session.send_bytes(session.codec.dumps(decode_payload(payload, seq)))


def _role_of(member: bytes) -> str:
    try:
        data = msgpack.unpackb(member, raw=False)
        return str(data.get("role", "seeker"))
    except Exception:
        return "seeker"
