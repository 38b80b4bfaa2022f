"""Moderation: what seekers, listeners and moderators can do to keep rooms safe.

Seekers mute (their choice, kept across resume) and block (a one-to-one chat ends for
them) and report. Listeners remove participants from rooms they serve, set slow mode and
end rooms. Moderators drain the report queue and remove or suspend sessions. Actions on a
session travel on ``@mod``, which every node hears, so they reach it on whatever node it
sits (or waits, detached, for its resume). Nothing here logs text or identities beyond
random session ids.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

import msgpack
import structlog

from chatserver.chat import Chat, RequestFailed
from chatserver.moderation.store import ReportStore
from chatserver.session import Session
from protocol import ClientFrame, ErrorCode
from protocol.messages import (
    Block,
    ChatEnded,
    Done,
    EndRoom,
    Moderate,
    Mute,
    NextReport,
    Notice,
    Remove,
    Report,
    ReportedMessage,
    ReportItem,
    RoomMode,
    SlowMode,
)

log = structlog.get_logger("chatserver.moderation")

MOD_CHANNEL = "@mod"
REASONS = ("harassment", "self_harm_encouragement", "sexual_content", "spam", "other")
CONTEXT_MESSAGES = 5
MAX_NOTE = 500
STAFF = ("listener", "moderator")

REMOVED_TEXT = (
    "You've been removed from this room by the person looking after it. You can come back "
    "to this topic a little later, or pick another topic now."
)
ROOM_ENDED_TEXT = "This room has been closed. Thank you for being here; you can join another."
SUSPENDED_TEXT = (
    "Your messages are paused for a while by our moderators. You can still read. If you're "
    "in crisis, the resources in the help menu are there for you right now."
)
BLOCKED_TEXT = "You've left this chat, and you won't hear from that person again. Take care."


def topic_of(room: str) -> str:
    """The topic of a group room id (``anxiety-2`` -> ``anxiety``)."""
    return room.rsplit("-", 1)[0] if room.rsplit("-", 1)[-1].isdigit() else room


class Moderation:
    def __init__(
        self,
        chat: Chat,
        store: ReportStore,
        *,
        cooldown: float = 900.0,
        retention: float = 72 * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.chat = chat
        self.store = store
        self.cooldown = cooldown
        self.retention = retention
        self._clock = clock
        chat.moderation = self

    async def start(self) -> None:
        await self.chat.hub.listen_control(MOD_CHANNEL, self._receive)

    def _receive(self, payload: bytes) -> None:
        if self.chat.support is not None:
            self.chat.support.enqueue({"k": "mod", **msgpack.unpackb(payload, raw=False)})

    async def broadcast(self, message: dict[str, Any]) -> None:
        await self.chat.broker.publish(MOD_CHANNEL, msgpack.packb(message), sequenced=False)

    def count(self, kind: str) -> None:
        self.chat.metrics.moderation.labels(kind).inc()

    # ------------------------------------------------------------------ frames

    async def handle(self, session: Session, frame: ClientFrame) -> bool:
        """Carry out a moderation frame; False when ``frame`` is not one."""
        match frame:
            case Mute():
                await self.mute(session, frame)
            case Block():
                await self.block(session, frame)
            case Report():
                await self.report(session, frame)
            case Remove():
                await self.remove(session, frame)
            case SlowMode():
                await self.slow_mode(session, frame)
            case EndRoom():
                await self.end_room(session, frame)
            case NextReport():
                await self.next_report(session, frame)
            case Moderate():
                await self.moderate(session, frame)
            case _:
                return False
        return True

    async def _member(self, room: str, handle: str) -> dict[str, Any]:
        members = await self.chat.broker.members(room)
        raw = members.get(handle)
        if raw is None:
            raise RequestFailed(ErrorCode.NOT_FOUND, "That person isn't in this room any more.")
        data: dict[str, Any] = msgpack.unpackb(raw, raw=False)
        return data

    async def mute(self, session: Session, frame: Mute) -> None:
        self.chat.member_handle(session, frame.room)
        target = await self._member(frame.room, frame.handle)
        if target.get("s") == session.id:
            raise RequestFailed(ErrorCode.INVALID_FRAME, "You can't mute yourself.")
        session.muted.add(str(target.get("s")))
        await self.chat.persist(session)
        self.count("mute")
        log.info("muted", session=session.id)
        session.send(Done(action="mute", ref=frame.ref))

    async def block(self, session: Session, frame: Block) -> None:
        self.chat.member_handle(session, frame.room)
        support = self.chat.support
        pair = await support.store.pair_of(frame.room) if support is not None else None
        if support is None or pair is None:
            raise RequestFailed(
                ErrorCode.INVALID_FRAME, "Blocking is for one-to-one chats. In a room, use mute."
            )
        other = pair.listener if session.id == pair.seeker else pair.seeker
        session.muted.add(other)
        self.count("block")
        log.info("blocked", session=session.id)
        await support.end_for(session, frame.room, ref=frame.ref, text=BLOCKED_TEXT)
        await self.chat.persist(session)

    async def report(self, session: Session, frame: Report) -> None:
        reporter_handle = self.chat.member_handle(session, frame.room)
        if frame.reason not in REASONS:
            raise RequestFailed(
                ErrorCode.INVALID_FRAME, "Please pick one of the reasons in the list."
            )
        history = await self.chat.broker.history(frame.room, 0)
        messages: list[dict[str, Any]] = []
        for entry in history:
            data: dict[str, Any] = msgpack.unpackb(entry.payload, raw=False)
            data["seq"] = entry.seq
            messages.append(data)
        target: dict[str, Any] | None = None
        if frame.id is not None:
            target = next((m for m in messages if m.get("id") == frame.id), None)
            if target is None:
                raise RequestFailed(
                    ErrorCode.NOT_FOUND,
                    "We couldn't find that message any more. You can report the person instead.",
                )
            before = [m for m in messages if m["seq"] < target["seq"]]
        else:
            before = messages
        handle = target["handle"] if target is not None else frame.handle
        if not handle:
            raise RequestFailed(ErrorCode.INVALID_FRAME, "Please say which message or person.")
        if handle == reporter_handle:
            raise RequestFailed(ErrorCode.INVALID_FRAME, "You can't report yourself.")
        members = await self.chat.broker.members(frame.room)
        reported = members.get(handle)
        reported_session = (
            msgpack.unpackb(reported, raw=False).get("s")
            if reported is not None
            else (target or {}).get("_s")
        )

        def shown(m: dict[str, Any]) -> dict[str, Any]:
            who = "(reporter)" if m.get("handle") == reporter_handle else m.get("handle", "")
            return {
                "handle": who,
                "role": m.get("role", ""),
                "text": m.get("text", ""),
                "ts": m.get("ts", 0),
            }

        report_id = secrets.token_hex(8)
        record = {
            "id": report_id,
            "room": frame.room,
            "reason": frame.reason,
            "handle": handle,
            "note": (frame.note or "")[:MAX_NOTE] or None,
            "message": shown(target) if target is not None else None,
            "context": [shown(m) for m in before[-CONTEXT_MESSAGES:]],
            "target": reported_session,
            "expires": int((self._clock() + self.retention) * 1000),
        }
        await self.store.add(report_id, msgpack.packb(record))
        self.count("report")
        log.info("reported", room=frame.room, reason=frame.reason, report=report_id)
        session.send(Done(action="report", ref=frame.ref))

    def _require_staff(self, session: Session, room: str | None = None) -> None:
        if session.role == "moderator":
            return
        if session.role != "listener":
            raise RequestFailed(ErrorCode.FORBIDDEN, "Only listeners and moderators can do that.")
        if room is not None and room not in session.rooms:
            raise RequestFailed(ErrorCode.FORBIDDEN, "You can do that only in rooms you're in.")

    async def remove(self, session: Session, frame: Remove) -> None:
        self._require_staff(session, frame.room)
        target = await self._member(frame.room, frame.handle)
        if target.get("role") in STAFF:
            raise RequestFailed(ErrorCode.FORBIDDEN, "Listeners can't remove other listeners.")
        await self.broadcast(
            {"a": "remove", "s": target.get("s"), "room": frame.room, "cool": self.cooldown}
        )
        self.count("remove")
        log.info("removed", room=frame.room, by=session.id)
        session.send(Done(action="remove", ref=frame.ref))

    async def slow_mode(self, session: Session, frame: SlowMode) -> None:
        self._require_staff(session, frame.room)
        seconds = max(0, min(frame.seconds, 3600))
        await self.chat.broker.set_flag(frame.room, "slow", seconds)
        await self.chat.publish_event(frame.room, RoomMode(room=frame.room, slow=seconds))
        self.count("slow_mode")
        session.send(Done(action="slow_mode", ref=frame.ref))

    async def end_room(self, session: Session, frame: EndRoom) -> None:
        self._require_staff(session, frame.room)
        await self.chat.publish_event(
            frame.room, ChatEnded(room=frame.room, reason="room_ended", text=ROOM_ENDED_TEXT)
        )
        self.count("end_room")
        session.send(Done(action="end_room", ref=frame.ref))

    async def next_report(self, session: Session, frame: NextReport) -> None:
        if session.role != "moderator":
            raise RequestFailed(ErrorCode.FORBIDDEN, "Only moderators can read reports.")
        taken = await self.store.next()
        if taken is None:
            raise RequestFailed(ErrorCode.QUEUE_EMPTY, "There are no open reports.")
        _, raw = taken
        data = msgpack.unpackb(raw, raw=False)

        def message(m: dict[str, Any]) -> ReportedMessage:
            return ReportedMessage(m["handle"], m["role"], m["text"], int(m["ts"]))

        session.send(
            ReportItem(
                id=data["id"],
                room=data["room"],
                reason=data["reason"],
                handle=data["handle"],
                context=tuple(message(m) for m in data["context"]),
                expires=data["expires"],
                message=message(data["message"]) if data.get("message") else None,
                note=data.get("note"),
                ref=frame.ref,
            )
        )

    async def moderate(self, session: Session, frame: Moderate) -> None:
        if session.role != "moderator":
            raise RequestFailed(ErrorCode.FORBIDDEN, "Only moderators can act on reports.")
        raw = await self.store.get(frame.report)
        if raw is None:
            raise RequestFailed(ErrorCode.NOT_FOUND, "That report has expired or was closed.")
        data = msgpack.unpackb(raw, raw=False)
        target = data.get("target")
        if frame.action == "remove" and target:
            await self.broadcast({"a": "remove", "s": target, "room": "*", "cool": self.cooldown})
        elif frame.action == "suspend" and target:
            minutes = max(1, min(frame.minutes or 60, 7 * 24 * 60))
            await self.broadcast(
                {"a": "suspend", "s": target, "until": self._clock() + minutes * 60}
            )
        elif frame.action != "dismiss":
            raise RequestFailed(
                ErrorCode.INVALID_FRAME, "The action must be remove, suspend or dismiss."
            )
        await self.store.close_report(frame.report)
        self.count(f"moderate_{frame.action}")
        log.info("moderated", report=frame.report, action=frame.action)
        session.send(Done(action=frame.action, ref=frame.ref))

    # ------------------------------------------------------------------ hooks

    def check_can_say(self, session: Session, room: str) -> None:
        """Suspension and slow mode, checked before a message is accepted."""
        now = self._clock()
        if session.suspended_until > now:
            raise RequestFailed(
                ErrorCode.SUSPENDED,
                SUSPENDED_TEXT,
                retry_after=int((session.suspended_until - now) * 1000),
            )
        slow = self.chat.hub.slow.get(room, 0)
        if slow and session.role == "seeker":
            last = session.last_said.get(room, 0.0)
            wait = last + slow - now
            if wait > 0:
                raise RequestFailed(
                    ErrorCode.SLOW_MODE,
                    f"This room is in slow mode: one message every {slow} seconds. "
                    "Take a breath; you can send again in a moment.",
                    retry_after=int(wait * 1000) + 1,
                )
            session.last_said[room] = now

    def check_can_join(self, session: Session, room: str) -> None:
        until = session.cooldowns.get(topic_of(room), 0.0)
        now = self._clock()
        if until > now:
            raise RequestFailed(
                ErrorCode.COOLDOWN,
                "You can come back to this topic's rooms a little later. Other topics are open.",
                retry_after=int((until - now) * 1000),
            )

    async def apply(self, message: dict[str, Any]) -> None:
        """A moderation action from ``@mod``: carry it out if this node holds the session."""
        session = self.chat.sessions.get(str(message.get("s")))
        if session is None:
            return
        if message.get("a") == "suspend":
            session.suspended_until = float(message["until"])
            session.send(Notice(code="suspended", text=SUSPENDED_TEXT, level="warning"))
        elif message.get("a") == "remove":
            room = message["room"]
            rooms = list(session.rooms) if room == "*" else [room]
            for r in rooms:
                if r not in session.rooms:
                    continue
                session.cooldowns[topic_of(r)] = self._clock() + float(message["cool"])
                session.send(ChatEnded(room=r, reason="removed", text=REMOVED_TEXT))
                await self.chat.leave_room(session, r)
        await self.chat.persist(session)
