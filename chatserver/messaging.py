"""The path of a message: checks, the safety pipeline, then the broker, and what each
safety verdict means on the wire (a crisis card, an escalation, a hold, a redaction).
Also the two other room events a participant sends: typing and consent."""

from __future__ import annotations

import hashlib
import typing
from typing import TYPE_CHECKING

import msgpack
import structlog

from chatserver.chat import Chat, RequestFailed, now_ms, pack
from chatserver.hub import CONSENT, MARKER
from chatserver.safety.base import FilterInput
from chatserver.session import Session, new_message_id
from protocol import ErrorCode
from protocol.messages import (
    Ack,
    Consent,
    ConsentGiven,
    Crisis,
    Escalation,
    Held,
    Message,
    Notice,
    Resource,
    Say,
    Typing,
    TypingEvent,
)

if TYPE_CHECKING:
    from chatserver.safety.pipeline import Pipeline, PipelineResult

log = structlog.get_logger("chatserver.messaging")

CRISIS_TEXT = (
    "It sounds like you're going through something really painful right now. You don't have "
    "to face it alone: you can reach someone at any of these, right now."
)


class Messaging:
    def __init__(self, chat: Chat, pipeline: Pipeline | None) -> None:
        self.chat = chat
        self.pipeline = pipeline
        chat.messaging = self

    async def say(self, session: Session, frame: Say) -> None:
        handle = self.chat.member_handle(session, frame.room)
        marker = message_marker(session.id, frame.cid) if frame.cid is not None else None
        again = marker is not None and bool(frame.resend)
        if again:
            assert marker is not None
            # already relayed: acknowledge it again, before any check could refuse it
            # (slow mode would, for a message that was in fact accepted)
            first = await self._first_copy(frame.room, marker)
            if first is not None:
                self._ack_again(session, frame, *first)
                return
        text = frame.text
        if len(text) > self.chat.config.max_text:
            raise RequestFailed(
                ErrorCode.TOO_LARGE,
                f"That message is longer than {self.chat.config.max_text} characters. "
                "Could you split it into a few shorter ones?",
            )
        if not text.strip():
            raise RequestFailed(ErrorCode.INVALID_FRAME, "That message is empty.")
        if self.chat.moderation is not None:
            self.chat.moderation.check_can_say(session, frame.room)
        cw = frame.cw
        result = None
        if self.pipeline is not None:
            result = await self.pipeline.run(
                FilterInput(
                    text=text,
                    role=session.role,
                    recent=tuple(session.recent.get(frame.room, ())),
                    lang=session.locale,
                    room_consent=bool(self.chat.hub.consented.get(frame.room)),
                    confirmed_warning=frame.cw,
                )
            )
            self._count(result)
            if result.block:
                raise RequestFailed(
                    ErrorCode.INVALID_FRAME,
                    result.notices[0] if result.notices else "That message can't be sent here.",
                )
            if result.hold:
                session.remember(frame.room, text)
                session.send(
                    Held(
                        room=frame.room,
                        reason=_reason(result, "trauma_dump"),
                        category=_category(result),
                        text=_notice(result, "trauma_dump")
                        or "This message describes painful details. Could you add a content "
                        "warning, so others can choose when to read it? You can also edit it.",
                        ref=frame.ref,
                    )
                )
                return
            text = result.text
            cw = result.content_warning or cw
        session.remember(frame.room, frame.text)
        started = self.chat.clock()
        message = Message(
            room=frame.room,
            id=new_message_id(),
            seq=0,
            handle=handle,
            role=session.role,
            text=text,
            ts=now_ms(),
            cw=cw,
        )
        payload = pack(message, session.id, marker)
        if again:
            assert marker is not None
            seq, first_payload = await self.chat.broker.publish_once(
                frame.room, payload, marker_bytes(marker)
            )
            if first_payload is not None:  # the first copy landed meanwhile
                self._ack_again(session, frame, seq, first_payload)
                return
            self.chat.metrics.resends.labels("relayed").inc()
        else:
            seq = await self.chat.broker.publish(frame.room, payload, sequenced=True)
        self.chat.metrics.relay_latency.observe(self.chat.clock() - started)
        self.chat.metrics.messages.inc()
        session.send(Ack(room=frame.room, id=message.id, seq=seq, ref=frame.ref))
        if result is not None:
            await self._after_filters(session, frame.room, handle, message.id, result)

    async def _first_copy(self, room: str, marker: str) -> tuple[int, bytes] | None:
        needle = marker_bytes(marker)
        for entry in reversed(await self.chat.broker.history(room, 0)):
            if needle in entry.payload:
                return entry.seq, entry.payload
        return None

    def _ack_again(self, session: Session, frame: Say, seq: int, payload: bytes) -> None:
        """The message was relayed before its ack was lost: the same ack again, and the
        crisis card to a seeker at risk, which was likely lost with that connection."""
        self.chat.metrics.resends.labels("already_relayed").inc()
        first = msgpack.unpackb(payload, raw=False)
        session.send(Ack(room=frame.room, id=str(first["id"]), seq=seq, ref=frame.ref))
        if session.at_risk and session.role == "seeker":
            session.send(
                Crisis(text=CRISIS_TEXT, resources=self.resources(session.locale), room=frame.room)
            )
        log.info("resend_deduplicated", session=session.id, room=frame.room)

    async def _after_filters(
        self, session: Session, room: str, handle: str, message_id: str, result: PipelineResult
    ) -> None:
        if "pii" in result.labels:
            session.send(
                Notice(
                    code="redacted",
                    text=_notice(result, "pii")
                    or "We removed contact details from your message to protect your anonymity.",
                    room=room,
                )
            )
        if result.at_risk and session.role == "seeker":
            session.at_risk = True
            session.send(
                Crisis(text=CRISIS_TEXT, resources=self.resources(session.locale), room=room)
            )
            await self.chat.publish_event(
                room,
                Escalation(
                    room=room, handle=handle, reason=_reason(result, "crisis"), id=message_id
                ),
            )
            if self.chat.support is not None:
                await self.chat.support.mark_at_risk(session)
            log.info("escalated", session=session.id, room=room)

    def resources(self, locale: str | None) -> tuple[Resource, ...]:
        from chatserver.safety.resources import resources_for

        return tuple(
            Resource(name=r.name, phone=r.phone, sms=r.sms, url=r.url)
            for r in resources_for(locale)
        )

    def _count(self, result: PipelineResult) -> None:
        action = result.action.value
        for label in result.labels or ("none",):
            self.chat.metrics.filter_verdicts.labels(label, action).inc()

    async def typing(self, session: Session, frame: Typing) -> None:
        handle = self.chat.member_handle(session, frame.room)
        payload = pack(TypingEvent(room=frame.room, handle=handle, active=frame.active), session.id)
        await self.chat.broker.publish(frame.room, payload, sequenced=False)

    async def consent(self, session: Session, frame: Consent) -> None:
        handle = self.chat.member_handle(session, frame.room)
        await self.chat.broker.set_flag(frame.room, CONSENT + handle, 1)
        await self.chat.publish_event(frame.room, ConsentGiven(room=frame.room, handle=handle))


def message_marker(session_id: str, cid: str) -> str:
    """What a client-named message carries so a copy sent again is recognised: a digest of
    the session and the client's id (neither appears in the room's history)."""
    digest = hashlib.blake2b(f"{session_id}\x00{cid}".encode(), digest_size=8)
    return digest.hexdigest()


def marker_bytes(marker: str) -> bytes:
    """The marker as it appears inside a MessagePack payload: key, then value."""
    return typing.cast(bytes, msgpack.packb(MARKER)) + typing.cast(bytes, msgpack.packb(marker))


def _reason(result: PipelineResult, label: str) -> str:
    for verdict in result.verdicts:
        if label in verdict.labels:
            return verdict.reason
    return label


def _category(result: PipelineResult) -> str:
    for verdict in result.verdicts:
        if verdict.category:
            return verdict.category
    return result.content_warning or "difficult_content"


def _notice(result: PipelineResult, label: str) -> str | None:
    for verdict in result.verdicts:
        if label in verdict.labels and verdict.notice:
            return verdict.notice
    return None
