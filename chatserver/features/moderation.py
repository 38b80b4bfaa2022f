"""Moderation: what seekers, listeners and moderators can do to keep rooms safe.

Seekers mute (their choice, kept across resume) and report (blocking ends a one-to-one
chat, so it is :mod:`chatserver.features.support`'s). Listeners remove participants
from rooms they serve, set slow mode and end rooms. Moderators drain the report queue
and remove or suspend sessions. Actions on a session travel on ``@mod`` as typed control
messages, which every node hears, so they reach it on whatever node it sits (or waits,
detached, for its resume); a session that no living node holds gets them when it is
resumed (:mod:`chatserver.features.moderation_pending`). Nothing here logs text or
identities beyond random session ids.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

import msgpack
import structlog

from chatserver.context import NodeContext
from chatserver.control import MOD_CHANNEL
from chatserver.envelopes import Control, MemberRecord, RemoveMember, Suspend, sender_of, unpack_raw
from chatserver.features.moderation_pending import Action, PendingActions
from chatserver.moderation.store import ReportStore
from chatserver.routing import Feature, RequestFailed, Router
from chatserver.session import Session
from protocol import ErrorCode, ServerFrame
from protocol.messages import (
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


def topic_of(room: str) -> str:
    """The topic of a group room id (``anxiety-2``, ``anxiety@es-2`` -> ``anxiety``)."""
    base = room.rsplit("-", 1)[0] if room.rsplit("-", 1)[-1].isdigit() else room
    return base.split("@", 1)[0]


class Moderation(Feature):
    def __init__(
        self,
        ctx: NodeContext,
        store: ReportStore,
        *,
        cooldown: float = 900.0,
        retention: float = 72 * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ctx = ctx
        self.store = store
        self.cooldown = cooldown
        self.retention = retention
        self._clock = clock
        self.pending = PendingActions(ctx.sessions)
        #: session id -> frames about actions carried out while it was resumed here
        self._after_resume: dict[str, list[ServerFrame]] = {}

    def register(self, router: Router) -> None:
        router.frame(Mute, self.mute)
        router.frame(Report, self.report)
        router.frame(Remove, self.remove)
        router.frame(SlowMode, self.slow_mode)
        router.frame(EndRoom, self.end_room)
        router.frame(NextReport, self.next_report)
        router.frame(Moderate, self.moderate)
        router.control(RemoveMember, self.removed)
        router.control(Suspend, self.suspended)
        router.events.say_checks.append(self.check_can_say)
        router.events.join_checks.append(self.check_can_join)
        router.events.adopted.append(self.adopted)
        router.events.resumed.append(self.resumed)
        router.events.ended.append(self._ended)

    async def close(self) -> None:
        await self.store.aclose()

    async def broadcast(self, message: Control) -> None:
        """Announce an action to every node, noted first for a session nobody holds."""
        if isinstance(message, RemoveMember | Suspend):
            await self.pending.keep(message)
        await self.ctx.control.announce(MOD_CHANNEL, message)

    def count(self, kind: str) -> None:
        self.ctx.metrics.moderation.labels(kind).inc()

    # ------------------------------------------------------------------ frames

    async def _member(self, room: str, handle: str) -> MemberRecord:
        members = await self.ctx.broker.members(room)
        raw = members.get(handle)
        if raw is None:
            raise RequestFailed(ErrorCode.NOT_FOUND, "That person isn't in this room any more.")
        return MemberRecord.decode(raw)

    async def mute(self, session: Session, frame: Mute) -> None:
        self.ctx.rooms.member_handle(session, frame.room)
        target = await self._member(frame.room, frame.handle)
        if target.session == session.id:
            raise RequestFailed(ErrorCode.INVALID_FRAME, "You can't mute yourself.")
        session.mute(str(target.session))
        await self.ctx.sessions.persist(session)
        self.count("mute")
        log.info("muted", session=session.id)
        session.send(Done(action="mute", ref=frame.ref))

    async def report(self, session: Session, frame: Report) -> None:
        reporter_handle = self.ctx.rooms.member_handle(session, frame.room)
        if frame.reason not in REASONS:
            raise RequestFailed(
                ErrorCode.INVALID_FRAME, "Please pick one of the reasons in the list."
            )
        target, before = await self._reported_message(frame)
        handle = target["handle"] if target is not None else frame.handle
        if not handle:
            raise RequestFailed(ErrorCode.INVALID_FRAME, "Please say which message or person.")
        if handle == reporter_handle:
            raise RequestFailed(ErrorCode.INVALID_FRAME, "You can't report yourself.")
        members = await self.ctx.broker.members(frame.room)
        reported = members.get(handle)
        reported_session = (
            MemberRecord.decode(reported).session
            if reported is not None
            else sender_of(target or {})
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

    async def _reported_message(
        self, frame: Report
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The message a report names (None: it names a person) and what came before."""
        messages: list[dict[str, Any]] = []
        for entry in await self.ctx.broker.history(frame.room, 0):
            data = unpack_raw(entry.payload)
            data["seq"] = entry.seq
            messages.append(data)
        if frame.id is None:
            return None, messages
        target = next((m for m in messages if m.get("id") == frame.id), None)
        if target is None:
            raise RequestFailed(
                ErrorCode.NOT_FOUND,
                "We couldn't find that message any more. You can report the person instead.",
            )
        return target, [m for m in messages if m["seq"] < target["seq"]]

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
        if target.role in STAFF:
            raise RequestFailed(ErrorCode.FORBIDDEN, "Listeners can't remove other listeners.")
        await self.broadcast(RemoveMember(str(target.session), frame.room, self.cooldown))
        self.count("remove")
        log.info("removed", room=frame.room, by=session.id)
        session.send(Done(action="remove", ref=frame.ref))

    async def slow_mode(self, session: Session, frame: SlowMode) -> None:
        self._require_staff(session, frame.room)
        seconds = max(0, min(frame.seconds, 3600))
        await self.ctx.broker.set_flag(frame.room, "slow", seconds)
        await self.ctx.rooms.publish_event(frame.room, RoomMode(room=frame.room, slow=seconds))
        self.count("slow_mode")
        session.send(Done(action="slow_mode", ref=frame.ref))

    async def end_room(self, session: Session, frame: EndRoom) -> None:
        self._require_staff(session, frame.room)
        await self.ctx.rooms.publish_event(
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
        if frame.action in ("remove", "suspend") and not target:
            raise RequestFailed(ErrorCode.NOT_FOUND, "That person isn't here any more.")
        if frame.action == "remove" and target:
            await self.broadcast(RemoveMember(str(target), "*", self.cooldown))
        elif frame.action == "suspend" and target:
            minutes = max(1, min(frame.minutes or 60, 7 * 24 * 60))
            await self.broadcast(Suspend(str(target), self._clock() + minutes * 60))
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
        slow = self.ctx.hub.slow.get(room, 0)
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
            session.said(room, now)

    def check_can_join(self, session: Session, room: str) -> None:
        until = session.cooldowns.get(topic_of(room), 0.0)
        now = self._clock()
        if until > now:
            raise RequestFailed(
                ErrorCode.COOLDOWN,
                "You can come back to this topic's rooms a little later. Other topics are open.",
                retry_after=int((until - now) * 1000),
            )

    async def suspended(self, message: Suspend) -> None:
        """A suspension from ``@mod``: carry it out if this node holds the session."""
        session = self.ctx.sessions.get(message.session)
        if session is None:
            return
        await self._carry_out(session, message, session.send)
        await self.ctx.sessions.persist(session)
        await self.pending.done(message)

    async def removed(self, message: RemoveMember) -> None:
        """A removal from ``@mod``: carry it out if this node holds the session."""
        session = self.ctx.sessions.get(message.session)
        if session is None:
            return
        await self._carry_out(session, message, session.send)
        await self.ctx.sessions.persist(session)
        await self.pending.done(message)

    async def _carry_out(
        self, session: Session, message: Action, tell: Callable[[ServerFrame], None]
    ) -> None:
        if isinstance(message, Suspend):
            session.suspend(message.until)
            if message.until > self._clock():
                tell(Notice(code="suspended", text=SUSPENDED_TEXT, level="warning"))
            return
        rooms = list(session.rooms) if message.room == "*" else [message.room]
        for room in rooms:
            if room not in session.rooms:
                continue
            session.cool_down(topic_of(room), self._clock() + message.cooldown)
            tell(ChatEnded(room=room, reason="removed", text=REMOVED_TEXT))
            await self.ctx.rooms.leave_room(session, room)

    async def adopted(self, session: Session) -> None:
        """Resumed here from a snapshot: actions noted while no node held it are carried
        out before ``resumed`` (its rooms then leave out those it was removed from); the
        person hears of them just after."""
        told: list[ServerFrame] = []
        for message in await self.pending.waiting_for(session.id, list(session.rooms)):
            await self._carry_out(session, message, told.append)
        if told:
            self._after_resume[session.id] = told

    def resumed(self, session: Session) -> None:
        for frame in self._after_resume.pop(session.id, ()):
            session.send(frame)

    async def _ended(self, session: Session) -> None:
        self._after_resume.pop(session.id, None)
